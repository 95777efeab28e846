/**
 * Test PKI for the Gatekeeper provider tests, made with openssl as Gatekeeper's cert-controller makes its own: a CA
 * (`O=gatekeeper, CN=gatekeeper-ca`) and a leaf whose CN and only DNS SAN is the webhook Service's name, with
 * extended key usage serverAuth + clientAuth (open-policy-agent/cert-controller@5bfb84d4:pkg/rotator/rotator.go).
 * Plus an HTTPS client that presents such a leaf, and a ProviderRequest builder.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { type Agent, request } from 'node:https'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'

/** Gatekeeper's client certificate name in its default namespace and Service. */
export const GATEKEEPER_SAN = 'gatekeeper-webhook-service.gatekeeper-system.svc'

export interface TestCA {
  readonly cert: string
  readonly key: string
  readonly dir: string
  readonly name: string
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' })
}

/** A P-256 CA valid for a day: `<name>-ca.crt` / `<name>-ca.key` in `dir`. */
export function makeCA(dir: string, name: string): TestCA {
  const cert = join(dir, `${name}-ca.crt`)
  const key = join(dir, `${name}-ca.key`)
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/O=${name}/CN=${name}-ca`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    key,
    '-out',
    cert,
  ])
  return { cert, key, dir, name }
}

/** A leaf signed by `ca`: `<file>.crt` / `<file>.key`; DNS SAN `san`, EKU as given (default serverAuth,clientAuth). */
export function issueLeaf(
  ca: TestCA,
  file: string,
  options: { readonly san?: string; readonly eku?: string } = {},
): { cert: string; key: string } {
  const san = options.san ?? GATEKEEPER_SAN
  const cert = join(ca.dir, `${file}.crt`)
  const key = join(ca.dir, `${file}.key`)
  const csr = join(ca.dir, `${file}.csr`)
  const ext = join(ca.dir, `${file}.ext`)
  writeFileSync(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${options.eku ?? 'serverAuth,clientAuth'}`,
      `subjectAltName=DNS:${san}`,
      '',
    ].join('\n'),
  )
  openssl([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    `/CN=${san}`,
    '-keyout',
    key,
    '-out',
    csr,
  ])
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    ext,
    '-out',
    cert,
  ])
  return { cert, key }
}

export interface ClientResult {
  readonly status: number
  readonly contentType: string | undefined
  readonly text: string
  /** Whether the TLS session was resumed (only possible with a shared `agent`). */
  readonly reused: boolean
  // biome-ignore lint/suspicious/noExplicitAny: parsed response JSON, inspected by the tests
  json(): any
}

/**
 * One request trusting `caFile`, presenting `client` when given: on a fresh connection without session reuse, or
 * through `agent` (which then holds the TLS options and may resume sessions).
 */
export function mtlsRequest(
  url: string,
  options: {
    readonly caFile: string
    readonly client?: { readonly cert: string; readonly key: string }
    readonly method?: string
    readonly body?: string
    readonly agent?: Agent
  },
): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'POST',
        ...(options.agent
          ? { agent: options.agent }
          : {
              ca: readFileSync(options.caFile),
              ...(options.client
                ? { cert: readFileSync(options.client.cert), key: readFileSync(options.client.key) }
                : {}),
              agent: false,
              // Gatekeeper's client insists on TLS 1.3 (frameworks constraint/pkg/externaldata/request.go).
              minVersion: 'TLSv1.3' as const,
            }),
        headers: options.body !== undefined ? { 'content-type': 'application/json' } : {},
        timeout: 60_000,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            text,
            reused: (res.socket as TLSSocket).isSessionReused(),
            json: () => JSON.parse(text),
          })
        })
      },
    )
    req.on('timeout', () => req.destroy(new Error('request timed out')))
    req.on('error', reject)
    req.end(options.body)
  })
}

/** A ProviderRequest as Gatekeeper marshals it. */
export function providerRequest(keys: readonly string[]): string {
  return JSON.stringify({
    apiVersion: 'externaldata.gatekeeper.sh/v1beta1',
    kind: 'ProviderRequest',
    request: { keys },
  })
}

/**
 * Test helpers for the webhook: a self-signed loopback certificate (and a directory holding it beside the policies),
 * the options of a loopback server, and a small HTTPS client trusting it (presenting a client certificate when asked).
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { type Agent, request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SecureVersion, TLSSocket } from 'node:tls'
import { makeSelfSignedCert } from '../support/tls-cert.js'

/** Write `<name>.crt` / `<name>.key` (P-256, SAN IP:127.0.0.1, one day) into `dir`; returns their paths. */
export function makeLoopbackCert(dir: string, name = 'tls'): { cert: string; key: string } {
  return makeSelfSignedCert(dir, { name, commonName: `countersign-webhook-${name}` })
}

/** A webhook's files: a new temporary directory with `tls.crt` / `tls.key` ({@link makeLoopbackCert}) and `policies/`. */
export interface WebhookDir {
  readonly dir: string
  readonly tls: { cert: string; key: string }
  /** The empty `policies` directory in `dir`. */
  readonly policyDir: string
}

/** Make a {@link WebhookDir} in the system's temporary directory, its name starting with `prefix`. */
export function makeWebhookDir(prefix: string): WebhookDir {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const tls = makeLoopbackCert(dir)
  const policyDir = join(dir, 'policies')
  mkdirSync(policyDir)
  return { dir, tls, policyDir }
}

/** The `startAdmissionServer` options of a server on a random loopback port serving `tls`, deciding by `policyDir`. */
export function loopbackServerOptions(
  tls: { readonly cert: string; readonly key: string },
  policyDir?: string,
): { tlsCertFile: string; tlsKeyFile: string; port: number; host: string; policyPaths?: string[] } {
  const server = { tlsCertFile: tls.cert, tlsKeyFile: tls.key, port: 0, host: '127.0.0.1' }
  return policyDir === undefined ? server : { ...server, policyPaths: [policyDir] }
}

export interface HTTPSResult {
  readonly status: number
  readonly text: string
  readonly headers: Record<string, string | string[] | undefined>
  /** SHA-256 fingerprint of the server certificate seen on this connection. */
  readonly peerFingerprint: string
  /** Whether the TLS session was resumed (only possible through a shared `agent`). */
  readonly reused: boolean
  // biome-ignore lint/suspicious/noExplicitAny: parsed response JSON, inspected by the tests
  json(): any
}

export interface HTTPSRequestOptions {
  method?: string
  body?: string | Uint8Array
  caFiles: readonly string[]
  timeoutMs?: number
  /** A client certificate and its key (PEM files) to present. */
  client?: { readonly cert: string; readonly key: string }
  /** The lowest TLS version to offer. */
  minVersion?: SecureVersion
  /** Send through this agent instead: it then holds every TLS option (`caFiles`, `client` and `minVersion` go unused). */
  agent?: Agent
}

/**
 * One request on a fresh connection, trusting only the PEM certificates in `caFiles`, or through `agent` (which may
 * keep connections alive and resume TLS sessions).
 */
export function httpsRequest(url: string, options: HTTPSRequestOptions): Promise<HTTPSResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ...(options.agent
          ? { agent: options.agent }
          : {
              ca: options.caFiles.map((f) => readFileSync(f)),
              ...(options.client
                ? { cert: readFileSync(options.client.cert), key: readFileSync(options.client.key) }
                : {}),
              ...(options.minVersion ? { minVersion: options.minVersion } : {}),
              agent: false,
            }),
        headers: options.body !== undefined ? { 'content-type': 'application/json' } : {},
        timeout: options.timeoutMs ?? 20_000,
      },
      (res) => {
        // Read now: a keep-alive agent takes the socket back once the body has been read.
        const socket = res.socket as TLSSocket
        const peer = socket.getPeerCertificate()
        const reused = socket.isSessionReused()
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({
            status: res.statusCode ?? 0,
            text,
            headers: res.headers,
            peerFingerprint: peer.fingerprint256 ?? '',
            reused,
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

/** Parse one sample of a Prometheus exposition (`name{labels} value`); 0 when absent. */
export function metricValue(text: string, sample: string): number {
  for (const line of text.split('\n')) if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1))
  return 0
}

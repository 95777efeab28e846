/**
 * A local Sigstore stack for interop tests: mock Fulcio (`/api/v2/signingCert`), Rekor v1 (`/api/v1/log/entries`)
 * and an RFC 3161 TSA (`/api/v1/timestamp`) on one loopback port, built from the request handlers `@sigstore/mock`
 * publishes (sigstore-js's own mock server is not published), plus the trusted root that describes them.
 * Recipe and caveats: shared/specs/sigstore-mock-recipe.md.
 */
import { createHash, generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  fulcioHandler,
  type HandlerFn,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
} from '@sigstore/mock'
import { HashAlgorithm, PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs'

/** The OIDC issuer the tokens of {@link SigstoreMock.identityToken} name (becomes the certificate's issuer). */
export const MOCK_OIDC_ISSUER = 'https://oauth2.sigstore.dev/auth'
/** The email the tokens carry; the mock Fulcio puts it in the leaf as a URI-type SAN. */
export const MOCK_IDENTITY = 'alice@example.com'

export interface SigstoreMock {
  /** `http://127.0.0.1:PORT`: Fulcio, Rekor and TSA URL alike. */
  readonly url: string
  /** trusted_root.json (protobuf-JSON) naming the mock CA, CT log, Rekor and TSA. */
  readonly trustedRootJSON: string
  /** Where trustedRootJSON was written (a fresh temporary directory, removed by close). */
  readonly trustedRootPath: string
  /** Every request served, e.g. `POST /api/v1/log/entries 201`. */
  readonly requests: readonly string[]
  /** An unsigned OIDC token (the mock Fulcio decodes it without checking a signature). */
  identityToken(claims?: Record<string, unknown>): string
  /** Answer the next `count` POSTs to `path` (e.g. `/api/v2/signingCert`) with `status` (default 500). */
  failNext(path: string, count: number, status?: number): void
  close(): Promise<void>
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

export interface SigstoreMockOptions {
  /**
   * Freeze the services' clock (certificate validity, SCT, integrated time, TSA genTime) at this instant instead
   * of reading the wall clock per request. Tests use it for reproducible times: the mock TSA writes genTime's
   * milliseconds as DER requires, without trailing zeros (".12"), which some parsers refuse, so a free-running
   * clock would make such a verifier fail at random.
   */
  readonly clock?: Date
  /** The token claim the mock Fulcio puts in the SAN (default `email`). */
  readonly fulcioSubjectClaim?: string
}

/** Start the stack on 127.0.0.1 with a random port; the caller must `close()` it. */
export async function startSigstoreMock(options: SigstoreMockOptions = {}): Promise<SigstoreMock> {
  const { clock } = options
  const routes = new Map<string, HandlerFn>()
  const requests: string[] = []
  const faults = new Map<string, { count: number; status: number }>()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const fault = req.method === 'POST' ? faults.get(req.url ?? '') : undefined
      if (fault !== undefined && fault.count > 0) {
        fault.count--
        requests.push(`${req.method} ${req.url} ${fault.status}`)
        res
          .writeHead(fault.status, { 'Content-Type': 'application/json' })
          .end('{"code":13,"message":"injected fault"}')
        return
      }
      const fn = req.method === 'POST' ? routes.get(req.url ?? '') : undefined
      if (!fn) {
        requests.push(`${req.method} ${req.url} 404`)
        res.writeHead(404).end('not found')
        return
      }
      fn(Buffer.concat(chunks).toString('utf8')).then(
        ({ statusCode, response, contentType }) => {
          requests.push(`${req.method} ${req.url} ${statusCode}`)
          res.writeHead(statusCode, { 'Content-Type': contentType ?? 'text/plain' })
          res.end(
            typeof response === 'string'
              ? response
              : Buffer.from(response.buffer, response.byteOffset, response.byteLength),
          )
        },
        (e: unknown) => {
          requests.push(`${req.method} ${req.url} 500`)
          res.writeHead(500).end(String(e))
        },
      )
    })
  })
  // Listen first: the Rekor checkpoint origin is the URL host (with port), and sigstore-js matches the
  // checkpoint signer name against the trusted root's baseUrl, so the URL must be known before the log exists.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  // One P-256 key for the CA, CT log, Rekor and TSA, as sigstore-js's mock server does.
  const keyPair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  // Validity starts a minute back so a verifier's clock a little behind ours still sees the services as valid.
  const start = new Date((clock ?? new Date()).getTime() - 60_000)
  const ctlog = await initializeCTLog(keyPair, clock)
  const ca = await initializeCA(keyPair, ctlog, clock)
  const tlog = await initializeTLog(url, keyPair, clock)
  const tsa = await initializeTSA(keyPair, clock)
  // strict: reject malformed requests instead of answering them; subjectClaim: the token claim that becomes the SAN.
  for (const h of [
    fulcioHandler(ca, { strict: true, subjectClaim: options.fulcioSubjectClaim ?? 'email' }),
    rekorHandler(tlog, { strict: true }),
    tsaHandler(tsa, { strict: true }),
  ]) {
    routes.set(h.path, h.fn)
  }

  const log = (spki: Buffer) => ({
    baseUrl: url,
    hashAlgorithm: HashAlgorithm.SHA2_256,
    publicKey: { rawBytes: spki, keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256, validFor: { start } },
    logId: { keyId: createHash('sha256').update(spki).digest() },
    checkpointKeyId: undefined,
    operator: 'sigstore.mock',
  })
  const authority = (certs: ArrayBufferView[]) => ({
    subject: { commonName: 'sigstore', organization: 'sigstore.mock' },
    uri: url,
    certChain: { certificates: certs.map((c) => ({ rawBytes: Buffer.from(c.buffer, c.byteOffset, c.byteLength) })) },
    validFor: { start },
    operator: 'sigstore.mock',
  })
  const trustedRootJSON = JSON.stringify(
    TrustedRoot.toJSON({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [log(tlog.publicKey)],
      ctlogs: [log(ctlog.publicKey)],
      certificateAuthorities: [authority([ca.rootCertificate])],
      // The TSA chain lists the signing certificate first, then its root.
      timestampAuthorities: [authority([tsa.intCertificate, tsa.rootCertificate])],
    }),
    null,
    2,
  )
  const dir = mkdtempSync(join(tmpdir(), 'sigstore-mock-'))
  const trustedRootPath = join(dir, 'trusted_root.json')
  writeFileSync(trustedRootPath, trustedRootJSON)

  return {
    url,
    trustedRootJSON,
    trustedRootPath,
    requests,
    identityToken(claims = {}) {
      const now = Math.floor(Date.now() / 1000)
      const body = {
        iss: MOCK_OIDC_ISSUER,
        sub: 'alice',
        aud: 'sigstore',
        email: MOCK_IDENTITY,
        email_verified: true,
        iat: now,
        exp: now + 600,
        ...claims,
      }
      return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(body)}.`
    },
    failNext(path, count, status = 500) {
      faults.set(path, { count, status })
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

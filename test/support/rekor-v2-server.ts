/**
 * A local Rekor v2 ("rekor-tiles") for integration tests, faithful where clients and verifiers can tell:
 *
 * - `POST /api/v2/log/entries` takes protobuf JSON `{"hashedRekordRequestV002": …}` only (any other spec, including
 *   the deprecated `dsseRequestV002`, is 400 "invalid type, must be hashedrekord"; unknown fields are 400 as the
 *   strict grpc-gateway unmarshaler has it), checks keyDetails against the key and the signature over the digest
 *   (400 "invalid hashedrekord request"), stores the entry as rekor-tiles does — protojson of
 *   `{kind, apiVersion, spec: {hashedRekordV002: {data: {algorithm, digest}, signature}}}` through RFC 8785 — in a
 *   real RFC 6962 tree, refuses a duplicate with 409 and `x-log-index`, and answers 201 with the
 *   `TransparencyLogEntry` (EmitUnpopulated: `integratedTime "0"`, `inclusionPromise null`) whose proof is for the
 *   checkpoint it just signed (rekor-tiles `internal/server/service.go`, `pkg/types/hashedrekord`, `internal/tessera`);
 * - the checkpoint is a C2SP signed note with origin = URL host (no scheme), signed with Ed25519 under the C2SP key
 *   ID `SHA-256(origin ‖ 0x0A ‖ 0x01 ‖ key)`; `GET /api/v2/checkpoint` serves the latest one.
 *
 * Tiles are not served. Accepted schemes: rekor-tiles' default set (ECDSA P-256/384/521, RSA PKCS#1 v1.5
 * 2048–4096, Ed25519ph).
 */
import {
  constants,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  publicDecrypt,
  sign,
  X509Certificate,
} from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { eddsa } from '@noble/curves/abstract/edwards.js'
import { ed25519 } from '@noble/curves/ed25519.js'
import { p256, p384, p521 } from '@noble/curves/nist.js'
import { sha512 } from '@noble/hashes/sha2.js'

export interface RekorV2ServerOptions {
  /** The instant the trusted-root entry's validity starts from (minus a minute); default now. */
  readonly clock?: Date
}

/** A response the fault hook serves instead of (or after) the log's own. */
export interface FaultResponse {
  readonly status: number
  readonly body?: string | Uint8Array
  readonly headers?: Readonly<Record<string, string>>
}

export interface RekorV2Request {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/**
 * Fault injection: `before` may answer a request instead of the log (nothing is logged); `after` sees the log's
 * answer (the entry is already logged) and may replace it, e.g. with a tampered entry.
 */
export interface RekorV2Fault {
  readonly before?: (request: RekorV2Request) => FaultResponse | undefined
  readonly after?: (request: RekorV2Request, response: FaultResponse & { body: string }) => FaultResponse | undefined
}

export interface RekorV2Server {
  /** `http://127.0.0.1:PORT` (the log's base URL). */
  readonly url: string
  /** The checkpoint origin and signer name: `127.0.0.1:PORT`. */
  readonly origin: string
  /** A protobuf-JSON `tlogs[]` item for a trusted root: baseUrl, Ed25519 key (PKIX_ED25519), C2SP key ID as logId. */
  readonly trustedRootTlog: Record<string, unknown>
  /** Canonicalized bodies in log order. */
  readonly entries: readonly Uint8Array[]
  /** Every request served, e.g. `POST /api/v2/log/entries 201`. */
  readonly requests: readonly string[]
  /** Install (or with no argument remove) fault hooks. */
  fault(hooks?: RekorV2Fault): void
  close(): Promise<void>
}

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}
const leafHash = (body: Uint8Array) => sha256(Uint8Array.of(0), body)
const nodeHash = (l: Uint8Array, r: Uint8Array) => sha256(Uint8Array.of(1), l, r)
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64')

/** Largest power of two smaller than n (n > 1). */
const split = (n: number) => 2 ** Math.floor(Math.log2(n - 1))

/** RFC 6962 §2.1 Merkle tree hash of leaves[lo, hi). */
function treeHash(leaves: readonly Uint8Array[], lo: number, hi: number): Uint8Array {
  const n = hi - lo
  if (n === 0) return sha256()
  if (n === 1) return leaves[lo]!
  const k = split(n)
  return nodeHash(treeHash(leaves, lo, lo + k), treeHash(leaves, lo + k, hi))
}

/** RFC 6962 §2.1.1 PATH(m, D[lo:hi]): the audit path, leaf to root. */
function auditPath(leaves: readonly Uint8Array[], m: number, lo: number, hi: number): Uint8Array[] {
  const n = hi - lo
  if (n <= 1) return []
  const k = split(n)
  return m < k
    ? [...auditPath(leaves, m, lo, lo + k), treeHash(leaves, lo + k, hi)]
    : [...auditPath(leaves, m - k, lo + k, hi), treeHash(leaves, lo, lo + k)]
}

/** RFC 8785 for JSON whose leaves are all ASCII strings (what a hashedrekord body holds): sorted keys, no spaces. */
function canonical(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`
  }
  throw new Error('unexpected JSON value in a hashedrekord body')
}

class BadRequest extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** protojson `bytes`: standard or URL-safe base64, padding optional. */
function bytesField(v: unknown): Uint8Array {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw new BadRequest('invalid bytes field')
  return new Uint8Array(Buffer.from(v, 'base64'))
}

/** The strict unmarshaler (`DiscardUnknown: false`) refuses fields a message does not have. */
function only(o: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new BadRequest(`unknown field "${k}"`)
}

interface Scheme {
  readonly hash: 'SHA2_256' | 'SHA2_384' | 'SHA2_512'
  readonly size: number
  verify(key: KeyObject, digest: Uint8Array, signature: Uint8Array): boolean
}

function ecdsa(curve: typeof p256, crv: string, hash: Scheme['hash'], size: number): Scheme {
  return {
    hash,
    size,
    verify(key, digest, signature) {
      const jwk = key.export({ format: 'jwk' })
      if (jwk.kty !== 'EC' || jwk.crv !== crv) return false
      const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')])
      try {
        return curve.verify(signature, digest, point, { prehash: false, format: 'der', lowS: false })
      } catch {
        return false
      }
    },
  }
}

// DigestInfo prefix of SHA-256 (RFC 8017 §9.2 note 1).
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex')

function rsa(bits: number): Scheme {
  return {
    hash: 'SHA2_256',
    size: 32,
    verify(key, digest, signature) {
      if (key.asymmetricKeyType !== 'rsa' || key.asymmetricKeyDetails?.modulusLength !== bits) return false
      try {
        const info = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature)
        return info.equals(Buffer.concat([SHA256_DIGEST_INFO, digest]))
      } catch {
        return false
      }
    },
  }
}

// Ed25519ph over a digest the client computed: noble's Ed25519ph with the SHA-512 prehash already applied.
const dom2 = (data: Uint8Array, ctx: Uint8Array, phflag: boolean) =>
  new Uint8Array(
    Buffer.concat([Buffer.from('SigEd25519 no Ed25519 collisions'), Buffer.of(phflag ? 1 : 0, ctx.length), ctx, data]),
  )
const ed25519phDigest = eddsa(ed25519.Point, sha512, {
  domain: dom2,
  prehash: Object.assign((m: Uint8Array) => m, { outputLen: 64, blockLen: 128 }),
})

const SCHEMES: Readonly<Record<string, Scheme>> = {
  PKIX_ECDSA_P256_SHA_256: ecdsa(p256, 'P-256', 'SHA2_256', 32),
  PKIX_ECDSA_P384_SHA_384: ecdsa(p384, 'P-384', 'SHA2_384', 48),
  PKIX_ECDSA_P521_SHA_512: ecdsa(p521, 'P-521', 'SHA2_512', 64),
  PKIX_RSA_PKCS1V15_2048_SHA256: rsa(2048),
  PKIX_RSA_PKCS1V15_3072_SHA256: rsa(3072),
  PKIX_RSA_PKCS1V15_4096_SHA256: rsa(4096),
  PKIX_ED25519_PH: {
    hash: 'SHA2_512',
    size: 64,
    verify(key, digest, signature) {
      if (key.asymmetricKeyType !== 'ed25519' || signature.length !== 64) return false
      const raw = new Uint8Array(key.export({ format: 'der', type: 'spki' }).subarray(-32))
      try {
        return ed25519phDigest.verify(signature, digest, raw, { zip215: false })
      } catch {
        return false
      }
    },
  },
}

/** rekor-tiles `hashedrekord.ToLogEntry`: validate, verify the signature, and build the stored entry. */
function toLogEntry(request: unknown): Record<string, unknown> {
  if (!isObject(request)) throw new BadRequest('invalid request')
  only(request, ['hashedRekordRequestV002', 'dsseRequestV002'])
  const hr = request.hashedRekordRequestV002
  if (!isObject(hr)) throw new BadRequest('invalid type, must be hashedrekord')
  only(hr, ['digest', 'signature'])
  const digest = bytesField(hr.digest ?? '')
  const sig = hr.signature
  if (!isObject(sig)) throw new BadRequest('missing signature')
  only(sig, ['content', 'verifier'])
  const content = bytesField(sig.content ?? '')
  if (content.length === 0) throw new BadRequest('missing signature')
  if (digest.length === 0) throw new BadRequest('missing digest')
  const v = sig.verifier
  if (!isObject(v)) throw new BadRequest('missing verifier')
  only(v, ['keyDetails', 'publicKey', 'x509Certificate'])
  const scheme =
    typeof v.keyDetails === 'string' && Object.hasOwn(SCHEMES, v.keyDetails) ? SCHEMES[v.keyDetails] : undefined
  if (!scheme) throw new BadRequest('unsupported key details')
  if ((v.publicKey === undefined) === (v.x509Certificate === undefined)) {
    throw new BadRequest('must contain either a public key or X.509 certificate')
  }
  const holder = (v.publicKey ?? v.x509Certificate) as unknown
  if (!isObject(holder)) throw new BadRequest('invalid verifier')
  only(holder, ['rawBytes'])
  const raw = bytesField(holder.rawBytes ?? '')
  if (raw.length === 0) throw new BadRequest('missing raw bytes')
  let key: KeyObject
  try {
    key =
      v.publicKey !== undefined
        ? createPublicKey({ key: Buffer.from(raw), format: 'der', type: 'spki' })
        : new X509Certificate(Buffer.from(raw)).publicKey
  } catch {
    throw new BadRequest('parsing verifier')
  }
  if (digest.length !== scheme.size) throw new BadRequest('digest length does not match the algorithm')
  if (!scheme.verify(key, digest, content)) throw new BadRequest('verifying signature')
  // protojson re-encodes bytes as standard padded base64, so the stored body does not depend on how they were sent.
  const verifier = {
    keyDetails: v.keyDetails as string,
    [v.publicKey !== undefined ? 'publicKey' : 'x509Certificate']: { rawBytes: b64(raw) },
  }
  return {
    apiVersion: '0.0.2',
    kind: 'hashedrekord',
    spec: {
      hashedRekordV002: {
        data: { algorithm: scheme.hash, digest: b64(digest) },
        signature: { content: b64(content), verifier },
      },
    },
  }
}

/** Start the log on 127.0.0.1 with a random port; the caller must `close()` it. */
export async function startRekorV2Server(options: RekorV2ServerOptions = {}): Promise<RekorV2Server> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }))
  const rawKey = spki.subarray(-32)
  const entries: Uint8Array[] = []
  const leaves: Uint8Array[] = []
  const byLeaf = new Map<string, number>()
  const requests: string[] = []
  let hooks: RekorV2Fault | undefined
  let origin = ''
  let keyId = new Uint8Array()

  const checkpoint = (size: number): string => {
    const note = `${origin}\n${size}\n${b64(treeHash(leaves, 0, size))}\n`
    const signature = new Uint8Array(sign(null, Buffer.from(note), privateKey))
    const line = `\u2014 ${origin} ${b64(new Uint8Array([...keyId.subarray(0, 4), ...signature]))}\n`
    return `${note}\n${line}`
  }

  const grpcError = (status: number, code: number, message: string): FaultResponse & { body: string } => ({
    status,
    body: JSON.stringify({ code, message, details: [] }),
    headers: { 'Content-Type': 'application/json' },
  })

  const handle = (req: RekorV2Request): FaultResponse & { body: string } => {
    if (req.method === 'GET' && req.url === '/api/v2/checkpoint') {
      return { status: 200, body: checkpoint(leaves.length), headers: { 'Content-Type': 'text/plain; charset=utf-8' } }
    }
    if (req.url !== '/api/v2/log/entries') return grpcError(404, 5, 'Not Found')
    if (req.method !== 'POST') return grpcError(405, 12, 'Method Not Allowed')
    let entry: Record<string, unknown>
    try {
      entry = toLogEntry(JSON.parse(req.body))
    } catch (e) {
      // rekor-tiles logs the cause and answers with a generic message.
      const message =
        e instanceof BadRequest && e.message === 'invalid type, must be hashedrekord'
          ? e.message
          : 'invalid hashedrekord request'
      return grpcError(400, 3, message)
    }
    const body = new Uint8Array(Buffer.from(canonical(entry)))
    const leaf = leafHash(body)
    const known = byLeaf.get(b64(leaf))
    if (known !== undefined) {
      const error = grpcError(409, 6, `an equivalent entry already exists in the log with index ${known}`)
      return { ...error, headers: { ...error.headers, 'x-log-index': String(known) } }
    }
    const index = leaves.length
    entries.push(body)
    leaves.push(leaf)
    byLeaf.set(b64(leaf), index)
    const size = leaves.length
    const tle = {
      logIndex: String(index),
      logId: { keyId: b64(keyId) },
      kindVersion: { kind: 'hashedrekord', version: '0.0.2' },
      integratedTime: '0',
      inclusionPromise: null,
      inclusionProof: {
        logIndex: String(index),
        rootHash: b64(treeHash(leaves, 0, size)),
        treeSize: String(size),
        hashes: auditPath(leaves, index, 0, size).map(b64),
        checkpoint: { envelope: checkpoint(size) },
      },
      canonicalizedBody: b64(body),
    }
    return { status: 201, body: JSON.stringify(tle), headers: { 'Content-Type': 'application/json' } }
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const request: RekorV2Request = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      let out: FaultResponse | undefined = hooks?.before?.(request)
      if (out === undefined) {
        const normal = handle(request)
        out = hooks?.after?.(request, normal) ?? normal
      }
      requests.push(`${request.method} ${request.url} ${out.status}`)
      res.writeHead(out.status, out.headers ?? {})
      res.end(typeof out.body === 'string' || out.body === undefined ? (out.body ?? '') : Buffer.from(out.body))
    })
  })
  // Listen first: the origin (and so the key ID) is the URL host with its port.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  origin = new URL(url).host
  // C2SP signed-note key ID for Ed25519 (rekor-tiles pkg/note): SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key).
  keyId = sha256(Buffer.from(origin), Uint8Array.of(0x0a, 0x01), rawKey)
  const start = new Date((options.clock ?? new Date()).getTime() - 60_000)

  return {
    url,
    origin,
    entries,
    requests,
    trustedRootTlog: {
      baseUrl: url,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: b64(spki), keyDetails: 'PKIX_ED25519', validFor: { start: start.toISOString() } },
      logId: { keyId: b64(keyId) },
    },
    fault(h) {
      hooks = h
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

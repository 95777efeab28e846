/**
 * A local Rekor v1 on a loopback `node:http` server that behaves like sigstore/rekor where clients can tell:
 *
 * - `POST /api/v1/log/entries` checks the submitted signature (400 when it does not verify, as Rekor's entry types
 *   do), stores the canonical body Rekor would (hashedrekord 0.0.1 with the key re-encoded as PEM; dsse 0.0.1
 *   rewritten to `{envelopeHash, payloadHash, signatures[{signature, verifier}]}`; intoto 0.0.2 without the payload
 *   and with the server's payload hash) as RFC 8785 JSON, appends its leaf to a real RFC 6962 tree, and answers 201
 *   with `ETag`/`Location` and a `LogEntry` carrying a SET and an inclusion proof under a signed checkpoint
 *   (origin `"<host> - <treeID>"`); a duplicate is 409 with `Location` of the existing entry.
 * - `GET /api/v1/log/entries/{uuid}` (64 or 80 hex) and `?logIndex=N` (global index), `POST /api/v1/index/retrieve`
 *   (hash, x509 publicKey, email, subject, and/or; index keys as Rekor's `IndexKeys`), `GET /api/v1/log`,
 *   `GET /api/v1/log/publicKey`.
 *
 * Sources: rekor `pkg/api/entries.go`, `pkg/api/index.go`, `pkg/types/{hashedrekord/v0.0.1,dsse/v0.0.1,
 * intoto/v0.0.2}/entry.go`, `pkg/util/{checkpoint,signed_note}.go`, `pkg/sharding/sharding.go`.
 *
 * Not modelled: algorithm allow-lists, Ed25519ph hashedrekord entries (the signature is over a digest, which
 * node:crypto cannot verify), ssh/pgp/minisign/tuf keys, attestation storage, `entries/retrieve`, consistency proofs.
 */
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  publicDecrypt,
  randomBytes,
  sign,
  constants as sslConstants,
  verify,
  X509Certificate,
} from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { p256, p384, p521 } from '@noble/curves/nist.js'
import canonicalize from 'canonicalize'

/** A stored entry. */
export interface RekorServerEntry {
  /** 80 hex: `%016x` tree ID + leaf hash. */
  readonly uuid: string
  readonly leafHash: Buffer
  /** The canonical body (the Merkle leaf). */
  readonly body: Buffer
  readonly kind: string
  readonly apiVersion: string
  readonly integratedTime: number
  /** Global (virtual) index: `globalIndexOffset + shardIndex`. */
  readonly logIndex: number
  /** Index in this shard's tree. */
  readonly shardIndex: number
  readonly signedEntryTimestamp: Buffer
  /** Search index keys, as Rekor's `IndexKeys()` computes them for the kind. */
  readonly indexKeys: readonly string[]
}

/** The next `times` requests (matching `path`, when given) are answered with `status` and `body`. */
export interface RekorFault {
  readonly status: number
  readonly times?: number
  readonly body?: string
  readonly headers?: Readonly<Record<string, string>>
  /** Only requests whose path starts with this. */
  readonly path?: string
}

export interface RekorServerOptions {
  /** Listen port (default: a free one). */
  readonly port?: number
  /** The log's P-256 key (default: a fresh one). */
  readonly key?: KeyObject
  /** Integrated time source (default: the wall clock). */
  readonly clock?: Date | (() => Date)
  /** Entries in earlier (inactive) shards: global index = offset + index in this tree (default 0). */
  readonly globalIndexOffset?: number
  /** Checkpoint hostname (default: the URL host with port, which sigstore-js matches against the tlog baseUrl). */
  readonly hostname?: string
}

export interface RekorServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string
  /** DER SubjectPublicKeyInfo of the log key. */
  readonly publicKeySPKI: Buffer
  /** SHA-256 of the SPKI, hex (the LogEntry `logID`). */
  readonly logID: string
  /** Decimal tree ID of the (only) shard. */
  readonly treeID: string
  /** A protobuf-JSON trusted-root `tlogs[]` item for this log. */
  readonly trustedRootTlog: Record<string, unknown>
  readonly entries: readonly RekorServerEntry[]
  /** Every request served, e.g. `POST /api/v1/log/entries 201`. */
  readonly requests: readonly string[]
  /** Make the next requests fail (see {@link RekorFault}). */
  fault(fault: RekorFault): void
  close(): Promise<void>
}

class HTTPError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

const badRequest = (message: string): never => {
  throw new HTTPError(400, message)
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest()
const MAX_REQUEST_BYTES = 10 * 1024 * 1024

// ---------------------------------------------------------------------------------------------------------------
// RFC 6962 Merkle tree

function nodeHash(left: Buffer, right: Buffer): Buffer {
  return sha256(Buffer.concat([Buffer.of(1), left, right]))
}

function leafHash(body: Buffer): Buffer {
  return sha256(Buffer.concat([Buffer.of(0), body]))
}

/** Largest power of two smaller than n (n ≥ 2). */
function split(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

function treeHead(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return sha256(Buffer.alloc(0))
  if (leaves.length === 1) return leaves[0]!
  const k = split(leaves.length)
  return nodeHash(treeHead(leaves.slice(0, k)), treeHead(leaves.slice(k)))
}

/** RFC 6962 PATH(m, D[n]): audit path from leaf m to the root, leaf side first. */
function auditPath(m: number, leaves: readonly Buffer[]): Buffer[] {
  if (leaves.length <= 1) return []
  const k = split(leaves.length)
  if (m < k) return [...auditPath(m, leaves.slice(0, k)), treeHead(leaves.slice(k))]
  return [...auditPath(m - k, leaves.slice(k)), treeHead(leaves.slice(0, k))]
}

// ---------------------------------------------------------------------------------------------------------------
// Keys as Rekor's pkg/pki/x509 reads them

interface RekorKey {
  readonly key: KeyObject
  /** `CanonicalValue()`: the key or certificate(s) re-encoded as PEM. */
  readonly canonicalPEM: string
  /** `Subjects()`: the SANs of the (first) certificate. */
  readonly subjects: readonly string[]
}

function pemBlocks(text: string): { label: string; der: Buffer }[] {
  const out: { label: string; der: Buffer }[] = []
  const re = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]*?)-----END \1-----/g
  for (const m of text.matchAll(re)) out.push({ label: m[1]!, der: Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64') })
  return out
}

function toPEM(label: string, der: Buffer): string {
  const b64 = der.toString('base64')
  let out = `-----BEGIN ${label}-----\n`
  for (let i = 0; i < b64.length; i += 64) out += `${b64.slice(i, i + 64)}\n`
  return `${out}-----END ${label}-----\n`
}

function sans(cert: X509Certificate): string[] {
  // node formats SANs as `email:a@b, URI:https://…`; Rekor's GetSubjectAlternateNames returns the values.
  return (cert.subjectAltName ?? '')
    .split(/, (?=[A-Za-z ]+:)/)
    .map((s) => s.slice(s.indexOf(':') + 1))
    .filter((s) => s !== '')
}

/** x509.NewPublicKey: one PUBLIC KEY or CERTIFICATE block, or up to 10 certificates (a chain). */
function parseRekorKey(pem: Buffer): RekorKey {
  const text = pem.toString('utf8').trim()
  const blocks = pemBlocks(text)
  if (blocks.length === 0) badRequest('invalid public key: failure decoding PEM')
  try {
    if (blocks.length > 1) {
      if (blocks.length > 10 || blocks.some((b) => b.label !== 'CERTIFICATE')) badRequest('invalid certificate chain')
      const certs = blocks.map((b) => new X509Certificate(b.der))
      return {
        key: certs[0]!.publicKey,
        canonicalPEM: blocks.map((b) => toPEM('CERTIFICATE', b.der)).join(''),
        subjects: sans(certs[0]!),
      }
    }
    const block = blocks[0]!
    if (block.label === 'PUBLIC KEY') {
      const key = createPublicKey({ key: block.der, format: 'der', type: 'spki' })
      return { key, canonicalPEM: key.export({ type: 'spki', format: 'pem' }).toString(), subjects: [] }
    }
    if (block.label === 'CERTIFICATE') {
      const cert = new X509Certificate(block.der)
      return { key: cert.publicKey, canonicalPEM: toPEM('CERTIFICATE', block.der), subjects: sans(cert) }
    }
  } catch (e) {
    if (e instanceof HTTPError) throw e
    badRequest(`invalid public key: ${(e as Error).message}`)
  }
  return badRequest(`invalid public key: cannot handle type ${blocks[0]!.label}`)
}

const DIGEST_INFO: Record<string, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
}

/** hashedrekord: the signature is over a digest (`options.WithDigest`), verified without hashing again. */
function verifyDigestSignature(key: KeyObject, algorithm: string, digest: Buffer, signature: Buffer): boolean {
  if (key.asymmetricKeyType === 'ec') {
    const jwk = key.export({ format: 'jwk' })
    const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')])
    const curve = jwk.crv === 'P-256' ? p256 : jwk.crv === 'P-384' ? p384 : jwk.crv === 'P-521' ? p521 : undefined
    if (!curve) return false
    try {
      return curve.verify(signature, digest, point, { prehash: false, format: 'der', lowS: false })
    } catch {
      return false
    }
  }
  if (key.asymmetricKeyType === 'rsa') {
    try {
      const decoded = publicDecrypt({ key, padding: sslConstants.RSA_PKCS1_PADDING }, signature)
      return decoded.equals(Buffer.concat([DIGEST_INFO[algorithm]!, digest]))
    } catch {
      return false
    }
  }
  return badRequest(`the local Rekor cannot verify ${key.asymmetricKeyType} hashedrekord signatures`)
}

/** DSSE signatures: Rekor loads every verifier with SHA-256 (`signature.LoadVerifier(key, crypto.SHA256)`). */
function verifyMessageSignature(key: KeyObject, message: Buffer, signature: Buffer): boolean {
  try {
    return verify(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', message, key, signature)
  } catch {
    return false
  }
}

function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8')
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload])
}

// ---------------------------------------------------------------------------------------------------------------
// Entry types

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') badRequest(`${what} is missing`)
  return v as string
}

/** Go's base64.StdEncoding (strfmt.Base64). */
function b64(v: unknown, what: string): Buffer {
  const s = str(v, what)
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) badRequest(`${what} is not base64`)
  return Buffer.from(s, 'base64')
}

/** DSSE payloads and signatures: go-securesystemslib accepts standard or URL-safe base64. */
function dsseB64(v: unknown, what: string): Buffer {
  const s = typeof v === 'string' ? v : badRequest(`${what} is missing`)
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) badRequest(`${what} is not base64`)
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
}

const HASH_SIZES: Record<string, number> = { sha256: 32, sha384: 48, sha512: 64 }

function inTotoSubjectKeys(payloadType: string, payload: Buffer): string[] {
  if (payloadType !== 'application/vnd.in-toto+json') return []
  try {
    const statement = JSON.parse(payload.toString('utf8')) as {
      subject?: { digest?: Record<string, string> }[]
      predicate?: { materials?: { digest?: Record<string, string> }[] }
    }
    const keys: string[] = []
    for (const s of [...(statement.subject ?? []), ...(statement.predicate?.materials ?? [])]) {
      for (const [alg, d] of Object.entries(s.digest ?? {})) keys.push(`${alg}:${d}`)
    }
    return keys
  } catch {
    return []
  }
}

interface Canonical {
  readonly body: Record<string, unknown>
  readonly indexKeys: string[]
}

function hashedRekord(spec: Record<string, unknown>): Canonical {
  const signature = isObject(spec.signature) ? spec.signature : badRequest('missing signature')
  const sig = b64(signature.content, 'signature.content')
  const publicKey = isObject(signature.publicKey) ? signature.publicKey : badRequest('missing public key')
  const keyContent = b64(publicKey.content, 'signature.publicKey.content')
  const key = parseRekorKey(keyContent)
  const data = isObject(spec.data) ? spec.data : badRequest('missing data')
  const hash = isObject(data.hash) ? data.hash : badRequest('missing hash')
  const algorithm = str(hash.algorithm, 'hash algorithm') // required by the hashedrekord schema
  if (!(algorithm in HASH_SIZES)) badRequest(`unsupported hash algorithm ${algorithm}`)
  const value = str(hash.value, 'hash value')
  if (value.length !== HASH_SIZES[algorithm]! * 2 || !/^[0-9a-fA-F]+$/.test(value)) badRequest('invalid value for hash')
  if (!verifyDigestSignature(key.key, algorithm, Buffer.from(value, 'hex'), sig)) {
    badRequest('verifying signature: invalid signature when validating ASN.1 encoded signature')
  }
  return {
    body: {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm, value } },
        signature: {
          content: sig.toString('base64'),
          publicKey: { content: Buffer.from(key.canonicalPEM).toString('base64') },
        },
      },
    },
    indexKeys: [sha256(keyContent).toString('hex'), ...key.subjects, `${algorithm}:${value}`.toLowerCase()],
  }
}

function dsse(spec: Record<string, unknown>): Canonical {
  const proposed = isObject(spec.proposedContent)
    ? spec.proposedContent
    : badRequest('either proposedContent or envelopeHash, payloadHash, and signatures must be present')
  if (spec.envelopeHash !== undefined || spec.payloadHash !== undefined || spec.signatures !== undefined) {
    badRequest('either proposedContent or envelopeHash, payloadHash, and signatures must be present but not both')
  }
  const envelopeText = str(proposed.envelope, 'proposed content envelope')
  let env: unknown
  try {
    env = JSON.parse(envelopeText)
  } catch {
    badRequest('the envelope is not JSON')
  }
  if (!isObject(env)) return badRequest('the envelope is not an object')
  const payloadType = typeof env.payloadType === 'string' ? env.payloadType : badRequest('payloadType is missing')
  const payload = dsseB64(env.payload, 'payload')
  if (!Array.isArray(env.signatures) || env.signatures.length === 0) {
    badRequest('DSSE envelope must contain 1 or more signatures')
  }
  const sigs = (env.signatures as unknown[]).map((s) => {
    if (!isObject(s)) badRequest('malformed signature')
    return str((s as Record<string, unknown>).sig, 'signature')
  })
  if (!Array.isArray(proposed.verifiers) || proposed.verifiers.length === 0) badRequest('no verifiers')
  const keys = (proposed.verifiers as unknown[]).map((v, i) => parseRekorKey(b64(v, `verifiers[${i}]`)))
  // Every signature must verify under some verifier (Rekor's verifyEnvelope), and every verifier must verify one.
  const signer = new Map<string, RekorKey>()
  const message = pae(payloadType, payload)
  for (const key of keys) {
    const accepted = sigs.filter((s) => verifyMessageSignature(key.key, message, dsseB64(s, 'signature')))
    if (accepted.length === 0) badRequest('could not verify envelope: no valid signature for a verifier')
    for (const s of accepted) if (!signer.has(s)) signer.set(s, key)
  }
  if (sigs.some((s) => !signer.has(s))) badRequest('all signatures must have a key that verifies it')
  const sorted = [...signer.keys()].sort()
  const payloadHash = sha256(payload).toString('hex')
  const envelopeHash = sha256(Buffer.from(envelopeText, 'utf8')).toString('hex')
  return {
    body: {
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        envelopeHash: { algorithm: 'sha256', value: envelopeHash },
        payloadHash: { algorithm: 'sha256', value: payloadHash },
        signatures: sorted.map((s) => ({
          signature: s,
          verifier: Buffer.from(signer.get(s)!.canonicalPEM).toString('base64'),
        })),
      },
    },
    indexKeys: [
      ...sorted.flatMap((s) => {
        const key = signer.get(s)!
        return [`sha256:${sha256(key.canonicalPEM).toString('hex')}`, ...key.subjects]
      }),
      `sha256:${payloadHash}`,
      `sha256:${envelopeHash}`,
      ...inTotoSubjectKeys(payloadType, payload),
    ],
  }
}

function intoto(spec: Record<string, unknown>): Canonical {
  const content = isObject(spec.content) ? spec.content : badRequest('missing content or envelope')
  const envelope = isObject(content.envelope) ? content.envelope : badRequest('missing content or envelope')
  const payloadType = str(envelope.payloadType, 'missing payload type')
  // `payload` is bytes holding the DSSE base64 payload; `sig` likewise holds the DSSE base64 signature.
  const payloadB64 = b64(envelope.payload, 'envelope payload').toString('utf8')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payloadB64)) badRequest('could not decode envelope payload')
  const payload = Buffer.from(payloadB64, 'base64')
  if (!Array.isArray(envelope.signatures) || envelope.signatures.length === 0) badRequest('missing signatures')
  const message = pae(payloadType, payload)
  const stored = (envelope.signatures as unknown[]).map((s, i) => {
    if (!isObject(s)) return badRequest('malformed signature')
    const sigText = b64(s.sig, `signatures[${i}].sig`).toString('utf8')
    const keyContent = b64(s.publicKey, `signatures[${i}].publicKey`)
    const key = parseRekorKey(keyContent)
    if (!verifyMessageSignature(key.key, message, dsseB64(sigText, 'signature'))) {
      badRequest('all signatures must have a key that verifies it')
    }
    const keyid = typeof s.keyid === 'string' && s.keyid !== '' ? { keyid: s.keyid } : {}
    return { sig: { ...keyid, publicKey: s.publicKey as string, sig: s.sig as string }, key }
  })
  const hash = isObject(content.hash) ? content.hash : badRequest('missing envelope digest')
  if (hash.algorithm !== 'sha256' || typeof hash.value !== 'string') badRequest('error validating envelope digest')
  const payloadHash = sha256(payload).toString('hex')
  return {
    body: {
      apiVersion: '0.0.2',
      kind: 'intoto',
      spec: {
        content: {
          envelope: { payloadType, signatures: stored.map((s) => s.sig) },
          hash: { algorithm: 'sha256', value: hash.value },
          payloadHash: { algorithm: 'sha256', value: payloadHash },
        },
      },
    },
    indexKeys: [
      ...stored.flatMap((s) => [`sha256:${sha256(s.key.canonicalPEM).toString('hex')}`, ...s.key.subjects]),
      `sha256:${payloadHash}`,
      ...inTotoSubjectKeys(payloadType, payload),
    ],
  }
}

function canonicalEntry(proposed: unknown): Canonical {
  if (!isObject(proposed)) return badRequest('the proposed entry is not an object')
  const spec = isObject(proposed.spec) ? proposed.spec : badRequest('spec is missing')
  const kv = `${String(proposed.kind)}/${String(proposed.apiVersion)}`
  switch (kv) {
    case 'hashedrekord/0.0.1':
      return hashedRekord(spec)
    case 'dsse/0.0.1':
      return dsse(spec)
    case 'intoto/0.0.2':
      return intoto(spec)
    default:
      return badRequest(`unsupported entry kind/version ${kv}`)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The server

function prefixSHA(hash: string): string {
  if (hash.includes(':')) return hash
  const prefix = { 40: 'sha1:', 64: 'sha256:', 96: 'sha384:', 128: 'sha512:' }[hash.length] ?? ''
  return `${prefix}${hash}`
}

/** Start the log on 127.0.0.1; the caller must `close()` it. */
export async function startRekorServer(options: RekorServerOptions = {}): Promise<RekorServer> {
  const privateKey = options.key ?? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey
  const publicKey = createPublicKey(privateKey)
  if (publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new TypeError('the log key must be P-256')
  const spki = publicKey.export({ type: 'spki', format: 'der' })
  const logIDBytes = sha256(spki)
  const logID = logIDBytes.toString('hex')
  // A positive int64 like Trillian's tree IDs.
  const treeID = (randomBytes(8).readBigUInt64BE() >> 1n).toString()
  const treePrefix = BigInt(treeID).toString(16).padStart(16, '0')
  const offset = options.globalIndexOffset ?? 0
  const now = () => {
    const c = options.clock
    return c === undefined ? new Date() : typeof c === 'function' ? c() : c
  }
  const start = new Date(now().getTime() - 60_000)

  const entries: RekorServerEntry[] = []
  const byLeaf = new Map<string, RekorServerEntry>()
  const leaves: Buffer[] = []
  const requests: string[] = []
  const faults: { fault: RekorFault; left: number }[] = []
  let hostname = options.hostname ?? ''

  function checkpoint(): { text: string; size: number; root: Buffer } {
    const size = leaves.length
    const root = treeHead(leaves)
    const note = `${hostname} - ${treeID}\n${size}\n${root.toString('base64')}\n`
    const sig = sign('sha256', Buffer.from(note), privateKey)
    const line = `\u2014 ${hostname} ${Buffer.concat([logIDBytes.subarray(0, 4), sig]).toString('base64')}\n`
    return { text: `${note}\n${line}`, size, root }
  }

  function logEntryJSON(e: RekorServerEntry): Record<string, unknown> {
    const cp = checkpoint()
    return {
      [e.uuid]: {
        body: e.body.toString('base64'),
        integratedTime: e.integratedTime,
        logID,
        logIndex: e.logIndex,
        verification: {
          inclusionProof: {
            checkpoint: cp.text,
            hashes: auditPath(e.shardIndex, leaves).map((h) => h.toString('hex')),
            logIndex: e.shardIndex,
            rootHash: cp.root.toString('hex'),
            treeSize: cp.size,
          },
          signedEntryTimestamp: e.signedEntryTimestamp.toString('base64'),
        },
      },
    }
  }

  function create(proposed: unknown): { status: number; body: unknown; headers: Record<string, string> } {
    const canonical = canonicalEntry(proposed)
    const body = Buffer.from(canonicalize(canonical.body)!, 'utf8')
    const leaf = leafHash(body)
    const existing = byLeaf.get(leaf.toString('hex'))
    if (existing) {
      throw new HTTPError(
        409,
        `an equivalent entry already exists in the transparency log with UUID ${existing.uuid}`,
        { Location: `/api/v1/log/entries/${existing.uuid}` },
      )
    }
    const shardIndex = leaves.length
    const logIndex = offset + shardIndex
    const integratedTime = Math.floor(now().getTime() / 1000)
    const setPayload = canonicalize({ body: body.toString('base64'), integratedTime, logID, logIndex })!
    const entry: RekorServerEntry = {
      uuid: treePrefix + leaf.toString('hex'),
      leafHash: leaf,
      body,
      kind: canonical.body.kind as string,
      apiVersion: canonical.body.apiVersion as string,
      integratedTime,
      logIndex,
      shardIndex,
      signedEntryTimestamp: sign('sha256', Buffer.from(setPayload), privateKey),
      indexKeys: canonical.indexKeys,
    }
    leaves.push(leaf)
    entries.push(entry)
    byLeaf.set(leaf.toString('hex'), entry)
    return {
      status: 201,
      body: logEntryJSON(entry),
      headers: { ETag: entry.uuid, Location: `/api/v1/log/entries/${entry.uuid}` },
    }
  }

  function getByUUID(uuid: string): Record<string, unknown> {
    if (!/^(?:[0-9a-fA-F]{16})?[0-9a-fA-F]{64}$/.test(uuid)) badRequest('invalid UUID')
    const lower = uuid.toLowerCase()
    if (lower.length === 80 && lower.slice(0, 16) !== treePrefix) throw new HTTPError(404, 'entry not found')
    const e = byLeaf.get(lower.slice(-64))
    if (!e) throw new HTTPError(404, 'entry not found')
    return logEntryJSON(e)
  }

  function search(query: unknown): string[] {
    if (!isObject(query)) return badRequest('the query is not an object')
    const operator = query.operator === undefined || query.operator === '' ? 'or' : query.operator
    if (operator !== 'and' && operator !== 'or') badRequest('operator must be and or or')
    const lookups: string[] = []
    if (query.hash !== undefined && query.hash !== '') {
      const h = str(query.hash, 'hash')
      if (!/^(?:(?:sha512:)?[0-9a-fA-F]{128}|(?:sha256:)?[0-9a-fA-F]{64}|(?:sha1:)?[0-9a-fA-F]{40})$/.test(h)) {
        badRequest('invalid hash')
      }
      lookups.push(prefixSHA(h).toLowerCase())
    }
    if (query.publicKey !== undefined) {
      const pk = isObject(query.publicKey) ? query.publicKey : badRequest('malformed publicKey')
      if (pk.format !== 'x509') badRequest(`the local Rekor only searches x509 keys, not ${String(pk.format)}`)
      const key = parseRekorKey(b64(pk.content, 'publicKey.content'))
      lookups.push(sha256(key.canonicalPEM).toString('hex'))
    }
    if (query.email !== undefined && query.email !== '') lookups.push(str(query.email, 'email').toLowerCase())
    if (query.subject !== undefined && query.subject !== '') lookups.push(str(query.subject, 'subject').toLowerCase())
    if (lookups.length === 0) return []
    const matches = (k: string) => new Set(entries.filter((e) => e.indexKeys.includes(k)).map((e) => e.uuid))
    const sets = lookups.map(matches)
    const hit = (uuid: string) => (operator === 'and' ? sets.every((s) => s.has(uuid)) : sets.some((s) => s.has(uuid)))
    return entries.filter((e) => hit(e.uuid)).map((e) => e.uuid)
  }

  function route(
    req: IncomingMessage,
    raw: Buffer,
  ): { status: number; body: unknown; headers?: Record<string, string> } {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const parseBody = () => {
      try {
        return JSON.parse(raw.toString('utf8')) as unknown
      } catch {
        return badRequest('the request body is not JSON')
      }
    }
    if (url.pathname === '/api/v1/log/entries') {
      if (req.method === 'POST') return create(parseBody())
      if (req.method === 'GET') {
        const index = url.searchParams.get('logIndex')
        if (index === null || !/^[0-9]{1,15}$/.test(index)) badRequest('logIndex must be a non-negative integer')
        const e = entries.find((x) => x.logIndex === Number(index))
        if (!e) throw new HTTPError(404, 'entry not found')
        return { status: 200, body: logEntryJSON(e) }
      }
    }
    const m = /^\/api\/v1\/log\/entries\/([^/]+)$/.exec(url.pathname)
    if (m && req.method === 'GET') return { status: 200, body: getByUUID(m[1]!) }
    if (url.pathname === '/api/v1/index/retrieve' && req.method === 'POST')
      return { status: 200, body: search(parseBody()) }
    if (url.pathname === '/api/v1/log' && req.method === 'GET') {
      const cp = checkpoint()
      return {
        status: 200,
        body: { rootHash: cp.root.toString('hex'), signedTreeHead: cp.text, treeID, treeSize: cp.size },
      }
    }
    if (url.pathname === '/api/v1/log/publicKey' && req.method === 'GET') {
      return { status: 200, body: publicKey.export({ type: 'spki', format: 'pem' }).toString() }
    }
    throw new HTTPError(404, 'path not found')
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = typeof body === 'string' ? body : JSON.stringify(body)
    const type = typeof body === 'string' ? 'application/x-pem-file' : 'application/json'
    res.writeHead(status, { 'Content-Type': type, ...headers }).end(text)
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size <= MAX_REQUEST_BYTES) chunks.push(c)
    })
    req.on('end', () => {
      const line = `${req.method} ${req.url}`
      const i = faults.findIndex((f) => f.fault.path === undefined || (req.url ?? '').startsWith(f.fault.path))
      if (i >= 0) {
        const f = faults[i]!
        if (--f.left <= 0) faults.splice(i, 1)
        requests.push(`${line} ${f.fault.status}`)
        res
          .writeHead(f.fault.status, { 'Content-Type': 'application/json', ...(f.fault.headers ?? {}) })
          .end(f.fault.body ?? JSON.stringify({ code: f.fault.status, message: 'injected fault' }))
        return
      }
      try {
        if (size > MAX_REQUEST_BYTES) throw new HTTPError(413, 'request body too large')
        const out = route(req, Buffer.concat(chunks))
        requests.push(`${line} ${out.status}`)
        send(res, out.status, out.body, out.headers)
      } catch (e) {
        const status = e instanceof HTTPError ? e.status : 500
        const message = e instanceof Error ? e.message : String(e)
        requests.push(`${line} ${status}`)
        send(res, status, { code: status, message }, e instanceof HTTPError ? e.headers : {})
      }
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  if (hostname === '') hostname = new URL(url).host

  return {
    url,
    publicKeySPKI: spki,
    logID,
    treeID,
    trustedRootTlog: {
      baseUrl: url,
      hashAlgorithm: 'SHA2_256',
      publicKey: {
        rawBytes: spki.toString('base64'),
        keyDetails: 'PKIX_ECDSA_P256_SHA_256',
        validFor: { start: start.toISOString() },
      },
      logId: { keyId: logIDBytes.toString('base64') },
    },
    entries,
    requests,
    fault(fault) {
      faults.push({ fault, left: fault.times ?? 1 })
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * Verify blob signatures as `cosign verify-blob` does: by key offline (`--insecure-ignore-tlog`), or through the
 * Sigstore verifier by certificate identity (keyless) or by key with the transparency log. Reads a raw signature, a
 * Sigstore bundle with a `messageSignature` (v0.1–v0.3), or cosign's older `{"base64Signature": …}` bundle
 * (docs/formats.md §Blob bundles).
 * @module
 */
import { type Bundle, type BundleContent, parseBundle } from '../bundle/bundle.js'
import { CountersignError } from '../errors.js'
import { equalBytes, fromBase64, fromUtf8 } from '../internal/bytes.js'
import { isJSONObject } from '../internal/json.js'
import { assertJSONText, MAX_JSON_DEPTH } from '../internal/json-shape.js'
import { decodePEM } from '../internal/pem.js'
import { parsePublicKey } from '../keys/parse-public.js'
import type { HashAlgorithm, PublicKey } from '../keys/types.js'
import { assertPublicKey, verifySignature } from '../keys/verify.js'
import { type SigstoreVerificationOptions, verificationMode, verifySigstoreBundle } from '../verifier/sigstore-check.js'
import type { BundleVerificationResult } from '../verifier/verify-bundle.js'
import type { CertificateIdentity } from '../x509/identity.js'
import { type LegacyBlobBundle, parseLegacyBlobBundle } from './legacy-blob-bundle.js'
import { defaultHashForKey, hashBytes, hashForDigestName } from './message-digest.js'

/**
 * Options for {@link verifyBlob}. Give `signature` or `bundle` (a Sigstore bundle, or cosign's older blob bundle,
 * optionally with `signature` overriding its `base64Signature`, as cosign does).
 *
 * Exported from `countersign/blob`.
 */
export interface VerifyBlobOptions extends SigstoreVerificationOptions {
  /** Public keys; the blob verifies when any of them verifies the signature. Empty for keyless (`identity`). */
  readonly keys: readonly PublicKey[]
  /** The signature: raw bytes, or standard base64 text (line breaks allowed, as Go's decoder allows them). */
  readonly signature?: Uint8Array | string
  /** Bundle file contents (bytes or text) or its parsed JSON. */
  readonly bundle?: Uint8Array | string | Readonly<Record<string, unknown>>
  /**
   * How to read `bundle`: `auto` (default: a `mediaType` means a Sigstore bundle, otherwise cosign's older format),
   * `sigstore`, or `legacy` (cosign's `--new-bundle-format=false`).
   */
  readonly bundleFormat?: 'auto' | 'sigstore' | 'legacy'
  /**
   * Hash for ECDSA/RSA (cosign's `--signature-digest-algorithm`). Default: the bundle's `messageDigest` algorithm,
   * then the key's own hash (SHA-384 for P-384, SHA-512 for P-521, else SHA-256), then SHA-256 (signatures older
   * cosign made with P-384/P-521 keys), the way sigstore-go's compatibility verifier tries them.
   */
  readonly hash?: HashAlgorithm
}

/**
 * What {@link verifyBlob} checked.
 *
 * Exported from `countersign/blob`.
 */
export interface VerifyBlobResult {
  /** Where the signature came from. */
  readonly source: 'signature' | 'bundle' | 'legacy-bundle'
  /** Index into `options.keys` of the key that verified it; -1 for keyless. */
  readonly keyIndex: number
  /** What the Sigstore verifier proved (keyless, or a key with the transparency log). */
  readonly verification?: BundleVerificationResult
  /** The signer's certificate identity (keyless). */
  readonly identity?: CertificateIdentity
  /** The verified signature bytes. */
  readonly signature: Uint8Array
  /** The parsed Sigstore bundle (`source: 'bundle'`). */
  readonly bundle?: Bundle
  /** The parsed older bundle (`source: 'legacy-bundle'`). */
  readonly legacyBundle?: LegacyBlobBundle
}

/** Go's `base64.StdEncoding.DecodeString`: padded standard alphabet, CR/LF ignored; undefined when it would fail. */
function decodeGoBase64(text: string): Uint8Array | undefined {
  const s = text.replace(/[\r\n]/g, '')
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined
  return fromBase64(s)
}

/**
 * Read a `--signature` file (or value) the way `cosign verify-blob` does: text that decodes as base64 is the
 * base64 signature, anything else is the raw signature bytes.
 *
 * @param content - The file contents or the flag value's bytes.
 * @returns The signature bytes.
 * @throws {CountersignError} ERR_INVALID_INPUT when it is empty.
 * @example
 * ```ts
 * import { decodeBlobSignature } from 'countersign/blob'
 * const signature = decodeBlobSignature(await readFile('artifact.sig'))
 * ```
 *
 * Exported from `countersign/blob`.
 */
export function decodeBlobSignature(content: Uint8Array): Uint8Array {
  if (!(content instanceof Uint8Array)) throw new TypeError('content must be a Uint8Array')
  let text: string | undefined
  try {
    text = fromUtf8(content)
  } catch {
    text = undefined
  }
  const decoded = text === undefined ? undefined : decodeGoBase64(text)
  const signature = decoded ?? content
  if (signature.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'signature is empty')
  return signature
}

function signatureFromOption(value: Uint8Array | string): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'signature is empty')
    return value
  }
  if (typeof value !== 'string') throw new TypeError('signature must be a Uint8Array or a base64 string')
  const decoded = decodeGoBase64(value.trim())
  if (!decoded || decoded.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'signature is not valid base64')
  return decoded
}

/** Go's verifier messages per key type, which cosign prints on failure. */
function failureMessage(key: PublicKey | undefined): string {
  switch (key?.algorithm) {
    case 'rsa':
      return 'crypto/rsa: verification error'
    case 'ed25519':
      return 'failed to verify signature'
    default:
      return 'invalid signature when validating ASN.1 encoded signature'
  }
}

/**
 * Try each key, and for ECDSA/RSA each candidate hash, over the blob bytes. Ed25519 is pure Ed25519 (how
 * `verify-blob` loads Ed25519 keys); Ed25519ph only where a bundle says the message was hashed with SHA-512.
 */
async function verifyWithKeys(
  keys: readonly PublicKey[],
  data: Uint8Array,
  signature: Uint8Array,
  hashes: (key: PublicKey) => readonly HashAlgorithm[],
  ed25519ph: boolean,
): Promise<number> {
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    if (key.algorithm === 'ed25519') {
      if (await verifySignature(key, data, signature)) return i
      if (ed25519ph && (await verifySignature(key, data, signature, { ed25519ph: true }))) return i
      continue
    }
    for (const hash of hashes(key)) if (await verifySignature(key, data, signature, { hash })) return i
  }
  return -1
}

function candidateHashes(explicit: HashAlgorithm | undefined, recorded: HashAlgorithm | undefined) {
  return (key: PublicKey): HashAlgorithm[] =>
    explicit ? [explicit] : [...new Set([...(recorded ? [recorded] : []), defaultHashForKey(key), 'sha256' as const])]
}

/** Largest bundle read from bytes or text, as `parseBundle` (docs/formats.md §Input limits). */
const MAX_BYTES = 128 * 1024 * 1024

function parseJSONBundle(input: Uint8Array | string | Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (!(input instanceof Uint8Array) && typeof input !== 'string') {
    if (!isJSONObject(input)) throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle is not a JSON object')
    return input
  }
  // Bounded before parsing: a deep body is slow to parse (docs/formats.md §Input limits); parseBundle walks it.
  assertJSONText(input, { code: 'ERR_BUNDLE_INVALID', what: 'bundle', maxDepth: MAX_JSON_DEPTH, maxBytes: MAX_BYTES })
  let doc: unknown
  try {
    doc = JSON.parse(typeof input === 'string' ? input : fromUtf8(input, 'bundle'))
  } catch (cause) {
    throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle is not valid JSON', { cause })
  }
  if (!isJSONObject(doc)) throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle is not a JSON object')
  return doc
}

/**
 * The message digest as the bundle states it. protojson leaves defaults out, so cosign's pure-Ed25519 bundles
 * carry `"messageDigest":{}`; a digest without a usable algorithm is refused rather than guessed.
 */
function recordedDigest(doc: Record<string, unknown>): { hash: HashAlgorithm; digest: Uint8Array } | undefined {
  const ms = doc.messageSignature
  if (!isJSONObject(ms) || ms.messageDigest === undefined || ms.messageDigest === null) return undefined
  const md = ms.messageDigest
  if (!isJSONObject(md)) throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle messageDigest is not an object')
  if (md.digest === undefined || md.digest === '') return undefined
  if (typeof md.digest !== 'string')
    throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle messageDigest is malformed')
  const name = typeof md.algorithm === 'string' ? md.algorithm : 'HASH_ALGORITHM_UNSPECIFIED'
  const hash = hashForDigestName(name)
  if (!hash) {
    throw new CountersignError(
      'ERR_UNSUPPORTED_ALGORITHM',
      `could not verify message digest algorithm: unsupported digest algorithm ${name}`,
    )
  }
  let digest: Uint8Array
  try {
    digest = fromBase64(md.digest)
  } catch (cause) {
    throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle messageDigest is malformed', { cause })
  }
  return { hash, digest }
}

/** A Sigstore bundle checked offline with the given keys (`--insecure-ignore-tlog`); no log or certificate checks. */
async function verifyBundleByKey(
  data: Uint8Array,
  doc: Record<string, unknown>,
  options: VerifyBlobOptions,
): Promise<VerifyBlobResult> {
  const bundle = messageSignatureBundle(doc, options)
  if (bundle.verificationMaterial.type !== 'publicKey') {
    // sigstore-go refuses certificate material under a key policy with the same words.
    throw new CountersignError(
      'ERR_SIGNATURE_INVALID',
      'failed to verify signature: expected key signature, not certificate',
    )
  }
  const recorded = recordedDigest(doc)
  const signature = bundle.content.signature
  // The hint is unauthenticated (and cosign ignores it with --key): every given key is tried.
  const keyIndex = await verifyWithKeys(
    options.keys,
    data,
    signature,
    candidateHashes(options.hash, recorded?.hash),
    recorded?.hash === 'sha512',
  )
  if (keyIndex < 0) {
    throw new CountersignError(
      'ERR_SIGNATURE_INVALID',
      `failed to verify signature: could not verify message: ${failureMessage(options.keys[0])}`,
    )
  }
  // The digest never vouches for the blob (the signature above did); a stated one must still be the blob's.
  if (recorded && !equalBytes(await hashBytes(recorded.hash, data), recorded.digest)) {
    throw new CountersignError(
      'ERR_CLAIMS_INVALID',
      'failed to verify signature: artifact digest does not match message digest',
    )
  }
  return { source: 'bundle', keyIndex, signature, bundle }
}

/** The `cert` field: base64 of PEM (or PEM itself), holding a certificate or, from cosign v3, a public key. */
function legacyMaterial(cert: string): { type: 'publicKey'; key: PublicKey } | { type: 'certificate' } {
  const bytes = decodeGoBase64(cert)
  let pem: string
  try {
    pem = bytes ? fromUtf8(bytes) : cert
    const block = decodePEM(pem)
    if (block.label === 'CERTIFICATE') return { type: 'certificate' }
    return { type: 'publicKey', key: parsePublicKey(pem) }
  } catch (cause) {
    throw new CountersignError(
      'ERR_BUNDLE_INVALID',
      'loading verifier from bundle: cert is neither a certificate nor a public key',
      {
        cause,
      },
    )
  }
}

async function verifyLegacyBundle(
  data: Uint8Array,
  doc: Record<string, unknown>,
  options: VerifyBlobOptions,
): Promise<VerifyBlobResult> {
  const legacy = parseLegacyBlobBundle(doc)
  if (legacy.cert !== undefined) {
    const material = legacyMaterial(legacy.cert)
    // cosign would verify with a key found here instead of --key; we verify with --key and demand they agree.
    if (material.type === 'publicKey' && !options.keys.some((k) => equalBytes(k.spki, material.key.spki))) {
      throw new CountersignError(
        'ERR_SIGNATURE_INVALID',
        'the public key in the bundle does not match the provided key',
      )
    }
    // A certificate is keyless material; with --key, cosign verifies with the key and leaves the certificate to
    // the transparency-log check, which --insecure-ignore-tlog skips.
  }
  let signature: Uint8Array
  if (options.signature !== undefined) {
    signature = signatureFromOption(options.signature)
  } else {
    const decoded = decodeGoBase64(legacy.base64Signature)
    if (!decoded || decoded.length === 0)
      throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle base64Signature is not valid base64')
    signature = decoded
  }
  const keyIndex = await verifyWithKeys(options.keys, data, signature, candidateHashes(options.hash, undefined), false)
  if (keyIndex < 0) throw new CountersignError('ERR_SIGNATURE_INVALID', failureMessage(options.keys[0]))
  return { source: 'legacy-bundle', keyIndex, signature, legacyBundle: legacy }
}

/** Keyless, or a key with the transparency log: a Sigstore bundle checked with the Sigstore verifier. */
async function verifyWithSigstore(
  data: Uint8Array,
  options: VerifyBlobOptions,
  mode: 'key-tlog' | 'keyless',
): Promise<VerifyBlobResult> {
  const doc = options.bundle === undefined ? undefined : parseJSONBundle(options.bundle)
  if (doc === undefined || options.bundleFormat === 'legacy' || doc.mediaType === undefined) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      'verification with a certificate identity or the transparency log needs a Sigstore bundle (--bundle)',
    )
  }
  const bundle = messageSignatureBundle(doc, options)
  const r = await verifySigstoreBundle(bundle, data, options, mode)
  return {
    source: 'bundle',
    keyIndex: r.keyIndex ?? -1,
    signature: bundle.content.signature,
    bundle,
    ...(r.result ? { verification: r.result } : {}),
    ...(r.identity ? { identity: r.identity } : {}),
  }
}

/**
 * Verify a blob signature, as `cosign verify-blob` does: with a certificate identity (keyless) or a key with the
 * transparency log, a Sigstore bundle is required and verified with the Sigstore verifier against `trustedRoot`
 * (certificate chain, SCTs, identity, transparency log, timestamps). With a key and `insecureIgnoreTlog`
 * (`cosign verify-blob --key … --insecure-ignore-tlog`):
 *
 * - The signature is always checked over the blob bytes with the given keys; a bundle's `publicKey.hint` and
 *   `messageDigest` are never trusted for that. A stated `messageDigest` must still equal the blob's digest.
 * - Sigstore bundles v0.1–v0.3 with a `messageSignature` and `publicKey` material. DSSE bundles are attestations
 *   (`verify-blob-attestation`); certificate material is keyless and refused under a key.
 * - cosign's older `{"base64Signature","cert","rekorBundle"}` bundle: `signature` overrides `base64Signature` as in
 *   cosign; a public key in `cert` must be one of `keys` (cosign would silently verify with it instead); a
 *   certificate in `cert` is ignored under a key; `rekorBundle` is ignored under `insecureIgnoreTlog`.
 * - Ed25519 signatures are pure Ed25519 (what `sign-blob` makes without a transparency log).
 *
 * @param data - The blob.
 * @param options - Keys or an identity with a trusted root, the signature or bundle, and the tlog/SCT options.
 * @returns Which key verified what.
 * @throws {TypeError} when arguments have the wrong type.
 * @throws {CountersignError} ERR_TLOG_REQUIRED for a key without `insecureIgnoreTlog` or `trustedRoot`; the Sigstore
 *   verifier's codes (ERR_POLICY_DENIED, ERR_CERT_CHAIN_INVALID, …) in keyless mode; ERR_INVALID_INPUT without keys or
 *   without a signature/bundle; ERR_BUNDLE_INVALID for malformed bundles and DSSE bundles; ERR_SIGNATURE_INVALID
 *   when no key verifies; ERR_CLAIMS_INVALID when the signature verifies but `messageDigest` is not the blob's;
 *   ERR_UNSUPPORTED_ALGORITHM for a `messageDigest` algorithm other than SHA2_256/384/512.
 * @example
 * ```ts
 * import { verifyBlob } from 'countersign/blob'
 * import { parsePublicKey } from 'countersign/keys'
 * await verifyBlob(bytes, { keys: [parsePublicKey(pem)], bundle: await readFile('artifact.sigstore.json'), insecureIgnoreTlog: true })
 * ```
 *
 * Exported from `countersign/blob`.
 */
export async function verifyBlob(data: Uint8Array, options: VerifyBlobOptions): Promise<VerifyBlobResult> {
  if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array')
  if (typeof options !== 'object' || options === null || !Array.isArray(options.keys)) {
    throw new TypeError('options.keys must be an array of PublicKey')
  }
  for (const key of options.keys) assertPublicKey(key)
  const mode = verificationMode(options)
  if (mode !== 'key-offline') return verifyWithSigstore(data, options, mode)
  if (options.bundle === undefined) {
    if (options.signature === undefined) {
      throw new CountersignError('ERR_INVALID_INPUT', "missing flag '--signature': give a signature or a bundle")
    }
    const signature = signatureFromOption(options.signature)
    const keyIndex = await verifyWithKeys(
      options.keys,
      data,
      signature,
      candidateHashes(options.hash, undefined),
      false,
    )
    if (keyIndex < 0) throw new CountersignError('ERR_SIGNATURE_INVALID', failureMessage(options.keys[0]))
    return { source: 'signature', keyIndex, signature }
  }
  const doc = parseJSONBundle(options.bundle)
  const format = options.bundleFormat ?? 'auto'
  if (format === 'sigstore' || (format === 'auto' && doc.mediaType !== undefined)) {
    return verifyBundleByKey(data, doc, options)
  }
  if (format === 'legacy' || Object.keys(doc).some((k) => k.toLowerCase() === 'base64signature')) {
    return verifyLegacyBundle(data, doc, options)
  }
  throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle is neither a Sigstore bundle nor a cosign blob bundle')
}

/** A bundle whose content is a message signature. */
type MessageSignatureBundle = Bundle & { readonly content: Extract<BundleContent, { type: 'messageSignature' }> }

/** The Sigstore bundle of a blob verification: no detached --signature beside it, and a message signature inside. */
function messageSignatureBundle(doc: Record<string, unknown>, options: VerifyBlobOptions): MessageSignatureBundle {
  if (options.signature !== undefined) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      'unsupported: signature may not be provided using --signature when using --new-bundle-format',
    )
  }
  const bundle = parseBundle(doc)
  if (bundle.content.type === 'dsseEnvelope') {
    throw new CountersignError(
      'ERR_BUNDLE_INVALID',
      'bundle holds a DSSE envelope (an attestation), not a message signature; verify it with verify-blob-attestation',
      { details: { content: 'dsseEnvelope' } },
    )
  }
  return bundle as MessageSignatureBundle
}

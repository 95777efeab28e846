/**
 * The Rekor v2 (rekor-tiles) write request: a `hashedRekordRequestV002` for a message signature or a DSSE envelope,
 * with the signer's `keyDetails`. Rekor v2 accepts only hashedrekord 0.0.2 (rekor-tiles `internal/server/service.go`:
 * anything else is "invalid type, must be hashedrekord"), so a DSSE envelope is logged as a hashedrekord over the
 * digest of its PAE with the envelope's signature (client spec §4.4; sigstore-go `pkg/sign/transparency.go`).
 *
 * @module
 */
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js'
import type { BundleContent } from '../bundle/bundle.js'
import type { SigningAlgorithm } from '../contracts/signer.js'
import type { LogSigner } from '../contracts/transparency-log.js'
import { dssePAE } from '../dsse/pae.js'
import { CountersignError } from '../errors.js'
import { toBase64 } from '../internal/bytes.js'
import { parseSPKI } from '../keys/parse-public.js'
import type { PublicKey } from '../keys/types.js'
import { parseCertificate } from '../x509/certificate.js'
import type { RekorDigestAlgorithm } from './body.js'

/** protobuf-specs `HashAlgorithm` names by digest. */
const HASH_NAMES: Readonly<Record<RekorDigestAlgorithm, string>> = {
  sha256: 'SHA2_256',
  sha384: 'SHA2_384',
  sha512: 'SHA2_512',
}
const DIGEST_SIZE: Readonly<Record<RekorDigestAlgorithm, number>> = { sha256: 32, sha384: 48, sha512: 64 }

/** The key and hash a signing scheme needs, and the protobuf-specs `PublicKeyDetails` it is logged as. */
interface Scheme {
  readonly key: PublicKey['algorithm']
  readonly hash: RekorDigestAlgorithm
  readonly keyDetails: (key: PublicKey) => string
}

const RSA_SIZES = new Set([2048, 3072, 4096])

// rekor-tiles `internal/algorithmregistry`: the only schemes a Rekor v2 log can be configured to accept. Pure
// Ed25519 has no digest to sign (the server refuses it), and RSA-PSS is not in the allowed set.
const SCHEMES: Partial<Readonly<Record<SigningAlgorithm, Scheme>>> = {
  'ecdsa-p256-sha256': { key: 'ecdsa-p256', hash: 'sha256', keyDetails: () => 'PKIX_ECDSA_P256_SHA_256' },
  'ecdsa-p384-sha384': { key: 'ecdsa-p384', hash: 'sha384', keyDetails: () => 'PKIX_ECDSA_P384_SHA_384' },
  'ecdsa-p521-sha512': { key: 'ecdsa-p521', hash: 'sha512', keyDetails: () => 'PKIX_ECDSA_P521_SHA_512' },
  ed25519ph: { key: 'ed25519', hash: 'sha512', keyDetails: () => 'PKIX_ED25519_PH' },
  'rsa-pkcs1v15-sha256': {
    key: 'rsa',
    hash: 'sha256',
    keyDetails: (k) => {
      if (!RSA_SIZES.has(k.rsaBits ?? 0)) unsupported(`RSA keys of ${k.rsaBits} bits cannot be logged on Rekor v2`)
      return `PKIX_RSA_PKCS1V15_${k.rsaBits}_SHA256`
    },
  },
}

function unsupported(message: string): never {
  throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', message)
}

function invalid(message: string): never {
  throw new CountersignError('ERR_INVALID_INPUT', message)
}

function digest(algorithm: RekorDigestAlgorithm, data: Uint8Array): Uint8Array {
  return algorithm === 'sha256' ? sha256(data) : algorithm === 'sha384' ? sha384(data) : sha512(data)
}

/**
 * A hashedrekord 0.0.2 request with what it will be checked against.
 *
 * Exported from `countersign/rekor`.
 */
export interface HashedRekordRequestV002 {
  /** The request body for `POST /api/v2/log/entries` (protobuf JSON of `CreateEntryRequest`). */
  readonly request: { readonly hashedRekordRequestV002: Record<string, unknown> }
  /** The logged digest: of the artifact (message signature) or of the DSSE PAE. */
  readonly digest: { readonly algorithm: RekorDigestAlgorithm; readonly digest: Uint8Array }
  /** protobuf-specs `PublicKeyDetails` name sent as `keyDetails`. */
  readonly keyDetails: string
}

function signerKey(signer: LogSigner): PublicKey {
  try {
    return signer.type === 'certificate' ? parseSPKI(parseCertificate(signer.certificate).spki) : parseSPKI(signer.spki)
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', `the signer's ${signer.type} does not parse`, { cause })
  }
}

/** The bundle's `messageDigest` is the only digest a writer has of a message signature's artifact. */
function messageDigest(content: Extract<BundleContent, { type: 'messageSignature' }>, hash: RekorDigestAlgorithm) {
  const md = content.messageDigest
  if (md === undefined) invalid('a message signature needs its messageDigest to be logged on Rekor v2')
  if (md.algorithm !== HASH_NAMES[hash]) {
    // rekor-tiles derives the digest algorithm from keyDetails and checks the digest length against it.
    invalid(`the messageDigest is ${md.algorithm}, the signing algorithm needs ${HASH_NAMES[hash]}`)
  }
  if (md.digest.length !== DIGEST_SIZE[hash]) invalid('the messageDigest has the wrong length')
  return md.digest
}

/**
 * Build the Rekor v2 `hashedRekordRequestV002` for a bundle's content: digest (of the artifact, from
 * `messageDigest`, or of the DSSE PAE), signature, and verifier (`x509Certificate` or `publicKey` DER with
 * `keyDetails` from the signer's algorithm and key).
 *
 * @param content - A message signature with its `messageDigest`, or a DSSE envelope with exactly one signature.
 * @param signer - The leaf certificate or public key, and the signing algorithm.
 * @returns The request and the digest it logs.
 * @throws {CountersignError} ERR_UNSUPPORTED_ALGORITHM for a scheme Rekor v2 cannot log (pure Ed25519, RSA-PSS, RSA
 *   sizes other than 2048/3072/4096); ERR_INVALID_INPUT for a key that does not match the algorithm, a missing or
 *   mismatched `messageDigest`, or a DSSE envelope without exactly one signature.
 * @example
 * ```ts
 * import { hashedRekordRequestV002 } from 'countersign/rekor'
 * const { request } = hashedRekordRequestV002(bundle.content, { type: 'certificate', certificate, algorithm })
 * await fetch(`${logURL}/api/v2/log/entries`, { method: 'POST', body: JSON.stringify(request) })
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function hashedRekordRequestV002(content: BundleContent, signer: LogSigner): HashedRekordRequestV002 {
  const scheme = SCHEMES[signer.algorithm]
  if (scheme === undefined) {
    if (signer.algorithm === 'ed25519') {
      unsupported('Rekor v2 cannot log pure Ed25519 signatures (hashedrekord needs a prehash): sign with ed25519ph')
    }
    unsupported(`Rekor v2 cannot log ${signer.algorithm} signatures`)
  }
  const key = signerKey(signer)
  if (key.algorithm !== scheme.key) invalid(`the signer's key is ${key.algorithm}, not a key for ${signer.algorithm}`)
  const keyDetails = scheme.keyDetails(key)

  let signature: Uint8Array
  let logged: Uint8Array
  if (content.type === 'messageSignature') {
    signature = content.signature
    logged = messageDigest(content, scheme.hash)
  } else {
    const { envelope } = content
    if (envelope.signatures.length !== 1) invalid('a DSSE envelope to log must have exactly one signature')
    signature = envelope.signatures[0]!.sig
    logged = digest(scheme.hash, dssePAE(envelope.payloadType, envelope.payload))
  }
  if (signature.length === 0) invalid('the signature is empty')
  const verifier =
    signer.type === 'certificate'
      ? { keyDetails, x509Certificate: { rawBytes: toBase64(signer.certificate) } }
      : { keyDetails, publicKey: { rawBytes: toBase64(signer.spki) } }
  return {
    request: {
      hashedRekordRequestV002: { digest: toBase64(logged), signature: { content: toBase64(signature), verifier } },
    },
    digest: { algorithm: scheme.hash, digest: logged },
    keyDetails,
  }
}

/**
 * Certificate signatures: map the signatureAlgorithm OID to a {@link verifySignature} call on the issuer's key.
 * Parsed issuer keys are cached per certificate object (and Web Crypto keys per parsed key by `src/keys`).
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { type DERNode, parseDER, readChildren, readOID, readSequence } from '../internal/der.js'
import { merged } from '../internal/merged.js'
import { parsePublicKey } from '../keys/parse-public.js'
import type { HashAlgorithm, PublicKey, VerifyOptions } from '../keys/types.js'
import { type SignatureBackend, verifySignature } from '../keys/verify.js'
import type { Certificate } from './certificate.js'

const ECDSA: Readonly<Record<string, HashAlgorithm>> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
}
const RSA_PKCS1: Readonly<Record<string, HashAlgorithm>> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
}
const HASH_OIDS: Readonly<Record<string, HashAlgorithm>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
}
const OID_RSA_PSS = '1.2.840.113549.1.1.10'
const OID_MGF1 = '1.2.840.113549.1.1.8'
const OID_ED25519 = '1.3.101.112'

function unsupported(message: string): never {
  throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', message)
}

function hashFromAlgorithmIdentifier(node: DERNode | undefined, what: string): HashAlgorithm {
  const [oid] = readSequence(node, what)
  const hash = HASH_OIDS[readOID(oid, what)]
  return hash ?? unsupported(`unsupported ${what}`)
}

// RSASSA-PSS-params (RFC 4055): we accept only MGF1 with the same hash and a trailer of 1; the salt length is left
// to verifySignature, which tries the lengths signers use.
function pssOptions(algorithmIdentifier: Uint8Array): VerifyOptions {
  const [, params] = readSequence(parseDER(algorithmIdentifier), 'RSA-PSS AlgorithmIdentifier')
  let hash: HashAlgorithm = 'sha256'
  let mgfHash: HashAlgorithm | undefined
  if (params === undefined) unsupported('RSA-PSS without parameters (SHA-1) is not supported')
  let sawHash = false
  for (const field of readSequence(params, 'RSASSA-PSS-params')) {
    const [inner] = readChildren(field)
    if (field.tag === 0xa0) {
      hash = hashFromAlgorithmIdentifier(inner, 'PSS hash')
      sawHash = true
    } else if (field.tag === 0xa1) {
      const [mgf, mgfParams] = readSequence(inner, 'PSS mask generation')
      if (readOID(mgf) !== OID_MGF1) unsupported('unsupported PSS mask generation function')
      mgfHash = hashFromAlgorithmIdentifier(mgfParams, 'MGF1 hash')
    } else if (field.tag === 0xa3) {
      if (inner?.value.length !== 1 || inner.value[0] !== 1) unsupported('unsupported PSS trailer field')
    }
  }
  if (!sawHash || mgfHash !== hash) unsupported('RSA-PSS must use one SHA-2 hash for the digest and MGF1')
  return { hash, rsaPadding: 'pss' }
}

/** How to verify a signature made with the given AlgorithmIdentifier, or an ERR_UNSUPPORTED_ALGORITHM. */
export function signatureScheme(
  oid: string,
  algorithmIdentifier: Uint8Array,
): { family: 'ecdsa' | 'rsa' | 'ed25519'; options: VerifyOptions } {
  if (Object.hasOwn(ECDSA, oid)) return { family: 'ecdsa', options: { hash: ECDSA[oid]! } }
  if (Object.hasOwn(RSA_PKCS1, oid))
    return { family: 'rsa', options: { hash: RSA_PKCS1[oid]!, rsaPadding: 'pkcs1v15' } }
  if (oid === OID_RSA_PSS) return { family: 'rsa', options: pssOptions(algorithmIdentifier) }
  if (oid === OID_ED25519) return { family: 'ed25519', options: {} }
  return unsupported(`unsupported certificate signature algorithm ${oid}`)
}

const keyCache = new WeakMap<Certificate, PublicKey>()

/**
 * The certificate's public key, parsed once per certificate object.
 *
 * @throws {CountersignError} ERR_KEY_INVALID / ERR_UNSUPPORTED_ALGORITHM for a key countersign does not accept.
 */
export function certificatePublicKey(cert: Certificate): PublicKey {
  let key = keyCache.get(cert)
  if (key === undefined) {
    key = parsePublicKey(cert.spki)
    keyCache.set(cert, key)
  }
  return key
}

/**
 * Whether `child`'s signature verifies with `issuer`'s public key. An algorithm that does not fit the issuer's key
 * type is `false`, not an error (a mismatch is just a bad signature).
 */
export async function isSignedBy(
  child: Certificate,
  issuer: Certificate,
  backend?: SignatureBackend,
): Promise<boolean> {
  const scheme = signatureScheme(child.signatureAlgorithm, child.signatureAlgorithmRaw)
  const key = certificatePublicKey(issuer)
  const family = key.algorithm.startsWith('ecdsa') ? 'ecdsa' : key.algorithm
  if (family !== scheme.family) return false
  return verifySignature(key, child.tbs, child.signature, merged(scheme.options, { backend }))
}

/** A {@link KMSSigner} over Vault's transit sign endpoint. @module */
import { CountersignError } from '../../errors.js'
import { fromBase64, toBase64 } from '../../internal/bytes.js'
import { curveForAlgorithm } from '../../keys/algorithms.js'
import { ecdsaDERToP1363 } from '../../keys/ecdsa-der.js'
import type { PublicKey } from '../../keys/types.js'
import { sha2Digest } from '../../keys/webcrypto.js'
import { kmsSignerFromSignFunction } from '../kms-signer.js'
import type { KMSSigner } from '../types.js'
import type { VaultClient } from './client.js'
import { invalidResponse } from './http.js'
import { KEY_TYPES, type TransitKey } from './key-info.js'

const HASHES = { 'sha2-256': 'sha256', 'sha2-384': 'sha384', 'sha2-512': 'sha512' } as const

/** Vault prefixes signatures with the key version that made them (sigstore's prefixRegex `^vault:v[0-9]+:`). */
const SIGNATURE = /^vault:v([0-9]{1,15}):([A-Za-z0-9+/]+={0,2})$/

/** Check the shape of a signature so a garbled answer fails here, not at verification. */
function checkSignature(publicKey: PublicKey, signature: Uint8Array): boolean {
  const curve = curveForAlgorithm(publicKey.algorithm)
  if (curve !== undefined) {
    try {
      ecdsaDERToP1363(signature, curve.size)
      return true
    } catch {
      return false
    }
  }
  if (publicKey.algorithm === 'ed25519') return signature.length === 64
  return signature.length === Math.ceil((publicKey.rsaBits ?? 0) / 8)
}

/**
 * A signer for one version of a transit key. The version is pinned when the signer is made (the latest unless the
 * caller chose one), so the public key it reports is the one its signatures verify with even if the key is rotated
 * meanwhile. Internal: made by the provider.
 */
export function createTransitSigner(client: VaultClient, uri: string, key: TransitKey, version: number): KMSSigner {
  const { algorithm, hash } = KEY_TYPES[key.type]
  const publicKey = key.versions.find((v) => v.version === version)!.publicKey
  const path = `${client.config.transitPath}/sign/${encodeURIComponent(key.name)}${hash ? `/${hash}` : ''}`
  const what = `signing with transit key "${key.name}"`

  return kmsSignerFromSignFunction(uri, algorithm, publicKey, async (data, signal) => {
    signal?.throwIfAborted()
    // As sigstore: hash locally and send the digest with prehashed=true; RSA asks for PKCS#1 v1.5 (Vault's default
    // is PSS); ECDSA asks for ASN.1 DER. Ed25519 keys sign the message itself.
    const json =
      hash === undefined
        ? { input: toBase64(data), prehashed: false, key_version: version }
        : {
            // Web Crypto beyond a few KiB: sign-blob hands over the whole file.
            input: toBase64(await sha2Digest(HASHES[hash], data)),
            prehashed: true,
            key_version: version,
            ...(publicKey.algorithm === 'rsa' ? { signature_algorithm: 'pkcs1v15' } : { marshaling_algorithm: 'asn1' }),
          }
    const body = (await client.call({
      method: 'POST',
      path,
      json,
      what,
      ...(signal ? { signal } : {}),
    })) as { data?: { signature?: unknown } } | undefined
    const encoded = body?.data?.signature
    if (typeof encoded !== 'string') throw invalidResponse(what, 'no signature')
    const m = SIGNATURE.exec(encoded)
    if (m === null) throw invalidResponse(what, 'a signature not of the form vault:vN:<base64>')
    if (Number(m[1]) !== version) {
      throw new CountersignError(
        'ERR_KMS',
        `HashiCorp Vault signed with version ${m[1]} of transit key "${key.name}" instead of version ${version}`,
        { details: { provider: 'hashivault', reason: 'key-version-mismatch' } },
      )
    }
    const signature = fromBase64(m[2]!)
    if (!checkSignature(publicKey, signature)) throw invalidResponse(what, `a malformed ${algorithm} signature`)
    return signature
  })
}

/**
 * A signer's key material as a bundle and a log see it. One place for the rules every signing path shares: a key is
 * named by its hint, a certificate signer by its leaf only (sigstore-go writes only the leaf into v0.3 bundles), and
 * an empty chain is refused. Internal (not re-exported).
 * @module
 */

import type { KeyMaterial } from '../contracts/signer.js'
import { CountersignError } from '../errors.js'
import { keyHint } from '../keys/key-info.js'
import { parsePublicKey } from '../keys/parse-public.js'
import type { BundleVerificationMaterial } from './bundle.js'

/**
 * The leaf certificate of an `x509` key material.
 *
 * @throws {CountersignError} ERR_KEY_INVALID when the signer reported an empty chain.
 * @example
 * ```ts
 * const leaf = leafCertificate(await signer.keyMaterial())
 * ```
 */
export function leafCertificate(material: Extract<KeyMaterial, { type: 'x509' }>): Uint8Array {
  const leaf = material.chain[0]
  if (!leaf) throw new CountersignError('ERR_KEY_INVALID', 'signer reported an empty certificate chain')
  return leaf
}

/**
 * A bundle's `verificationMaterial` for a signer: the key hint cosign writes (base64 SHA-256 of the SPKI, recomputed
 * when the signer gives none), or the leaf certificate.
 *
 * @example
 * ```ts
 * const verificationMaterial = bundleVerificationMaterial(await signer.keyMaterial())
 * ```
 */
export function bundleVerificationMaterial(material: KeyMaterial): BundleVerificationMaterial {
  if (material.type === 'public-key') {
    return { type: 'publicKey', hint: material.hint ?? keyHint(parsePublicKey(material.spki)) }
  }
  return { type: 'certificate', certificate: leafCertificate(material) }
}

/**
 * The verification material of a witnessed signature as cosign v1/v2 stores it on a legacy `.sig`/`.att` layer:
 * `dev.sigstore.cosign/certificate` and `chain` (PEM), `dev.sigstore.cosign/bundle` (the Rekor v1 SET with its entry)
 * and `dev.sigstore.cosign/rfc3161timestamp`, in the JSON shapes cosign's Go structs marshal to.
 *
 * @module
 */

import { leafCertificate } from '../bundle/verification-material.js'
import type { KeyMaterial } from '../contracts/signer.js'
import type { WitnessResult } from '../contracts/witness-result.js'
import { CountersignError } from '../errors.js'
import { toBase64, toHex } from '../internal/bytes.js'
import { goMarshal, goObject } from '../internal/go-json.js'
import { encodePEM } from '../internal/pem.js'
import {
  BUNDLE_ANNOTATION,
  CERTIFICATE_ANNOTATION,
  CHAIN_ANNOTATION,
  RFC3161_TIMESTAMP_ANNOTATION,
} from './annotations.js'
import { rfc3161TimestampValue } from './go-payloads.js'

/**
 * Layer annotations for a legacy signature: certificate and chain for certificate signers, the Rekor bundle of the
 * first entry with a SET (legacy layers can only carry Rekor v1 evidence), the first RFC 3161 timestamp.
 *
 * @param material - The signer's key material.
 * @param witnessed - What {@link witnessSignature} returned (omit when nothing was logged).
 * @returns The annotations to add next to the signature annotation.
 * @throws {CountersignError} ERR_TLOG_REQUIRED when entries were logged but none is a Rekor v1 entry with a SET.
 * @example
 * ```ts
 * import { legacyWitnessAnnotations } from 'countersign/witness'
 * const annotations = { ...legacyWitnessAnnotations(await signer.keyMaterial(), witnessed) }
 * ```
 *
 * Exported from `countersign/witness`.
 */
export function legacyWitnessAnnotations(
  material: KeyMaterial,
  witnessed: WitnessResult | undefined,
): Record<string, string> {
  const out: Record<string, string> = {}
  if (material.type === 'x509') {
    out[CERTIFICATE_ANNOTATION] = encodePEM('CERTIFICATE', leafCertificate(material))
    // cosign v3 takes both annotations from its v0.3 bundle, which holds only the leaf, so the chain annotation is
    // written, and empty; verifiers find the intermediates in the trusted root.
    out[CHAIN_ANNOTATION] = ''
  }
  if (witnessed === undefined) return out
  if (witnessed.verifiedEntries.length > 0) {
    const withSET = witnessed.verifiedEntries.find((v) => v.entry.inclusionPromise !== undefined)
    if (withSET === undefined) {
      throw new CountersignError(
        'ERR_TLOG_REQUIRED',
        'legacy signatures can only carry a Rekor v1 entry (with a signed entry timestamp); use the bundle format for Rekor v2',
      )
    }
    const e = withSET.entry
    out[BUNDLE_ANNOTATION] = goMarshal(
      goObject([
        ['SignedEntryTimestamp', toBase64(e.inclusionPromise!.signedEntryTimestamp)],
        [
          'Payload',
          goObject([
            ['body', toBase64(e.canonicalizedBody)],
            ['integratedTime', Number(e.integratedTime)],
            ['logIndex', Number(e.logIndex)],
            ['logID', toHex(e.logId)],
          ]),
        ],
      ]),
    )
  }
  const [timestamp] = witnessed.rfc3161Timestamps
  if (timestamp !== undefined) {
    out[RFC3161_TIMESTAMP_ANNOTATION] = goMarshal(rfc3161TimestampValue(timestamp))
  }
  return out
}

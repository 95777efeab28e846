/** Annotation keys cosign uses on legacy signature layers (docs/formats.md §Legacy layer annotations). @module */
import { CountersignError } from '../errors.js'

/** Layer annotation holding the base64 DER signature. Exported from `countersign/signature`. */
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature'
/** Layer annotation holding the PEM signing certificate. Exported from `countersign/signature`. */
export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate'
/** Layer annotation holding the PEM certificate chain. Exported from `countersign/signature`. */
export const CHAIN_ANNOTATION = 'dev.sigstore.cosign/chain'
/** Layer annotation holding the Rekor bundle (SET). Exported from `countersign/signature`. */
export const BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle'
/** Layer annotation holding an RFC 3161 timestamp. Exported from `countersign/signature`. */
export const RFC3161_TIMESTAMP_ANNOTATION = 'dev.sigstore.cosign/rfc3161timestamp'

/**
 * Parse cosign `-a key=value` flags into a map: split on the first `=`, later keys win, empty key rejected.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for an entry without `=` or with an empty key.
 *
 * @example
 * ```ts
 * import { parseAnnotationFlags } from 'countersign/signature'
 * parseAnnotationFlags(['env=prod', 'team=a=b']) // { env: 'prod', team: 'a=b' }
 * ```
 *
 * Exported from `countersign/signature`.
 */
export function parseAnnotationFlags(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const flag of flags) {
    const eq = flag.indexOf('=')
    if (eq <= 0) throw new CountersignError('ERR_INVALID_INPUT', `unable to parse annotation: ${flag}`)
    out[flag.slice(0, eq)] = flag.slice(eq + 1)
  }
  return out
}

/**
 * cosign's annotation claim: every required key is present in `actual` with an equal value, compared as strings
 * (cosign formats decoded JSON values with `fmt.Sprint`). Used for the legacy payload's `optional` and the bundle
 * statement subject's `annotations`.
 *
 * @example
 * ```ts
 * import { hasAnnotations } from 'countersign/signature'
 * hasAnnotations({ env: 'prod', n: 1 }, { env: 'prod', n: '1' }) // true
 * ```
 *
 * Exported from `countersign/signature`.
 */
export function hasAnnotations(
  actual: Readonly<Record<string, unknown>> | null | undefined,
  required: Readonly<Record<string, string>> | undefined,
): boolean {
  return Object.entries(required ?? {}).every(([k, v]) => {
    const got = actual?.[k]
    return got !== undefined && got !== null && String(got) === v
  })
}

/**
 * Audit events: every sign, verify and attest reports what happened to an optional listener, so applications can
 * log or count signatures made and verification failures without parsing errors.
 * @module
 */

/**
 * The outcome of one operation as an audit event. `keys` are Sigstore key hints (base64 SHA-256 of the SPKI), the
 * same value bundles carry in `verificationMaterial.publicKey.hint`.
 *
 * Exported from `countersign/verify` (and `countersign/sign`).
 */
export type AuditEvent =
  | {
      readonly type: 'sign' | 'attest'
      readonly time: Date
      /** The image as given (registry/repository[:tag][@digest]). */
      readonly reference: string
      /** The signed manifest digest (absent when the image could not be resolved). */
      readonly digest?: string
      readonly format?: 'bundle' | 'legacy'
      readonly predicateType?: string
      readonly keys: readonly string[]
      readonly outcome: 'success' | 'failure'
      /** Error code and message on failure. */
      readonly reasons: readonly string[]
    }
  | {
      readonly type: 'verify' | 'verify-attestation'
      readonly time: Date
      readonly reference: string
      readonly digest?: string
      /** Hints of the keys that verified at least one signature. */
      readonly keys: readonly string[]
      readonly outcome: 'verified' | 'rejected'
      /** How many signatures were found and how many verified. */
      readonly signatures: number
      readonly verified: number
      /** Every failure reason (per signature), or the error that stopped verification. */
      readonly reasons: readonly string[]
    }

/**
 * Receives {@link AuditEvent}s. Called synchronously after the operation settles; a listener that throws does not
 * change the operation's result (the error is swallowed), so auditing can never turn a failure into a success or
 * the reverse.
 *
 * @example
 * ```ts
 * import { verifyImage, type AuditListener } from 'countersign/verify'
 * let failures = 0
 * const onAudit: AuditListener = (e) => { if (e.outcome === 'rejected') failures++ }
 * await verifyImage(ref, { store, keys, insecureIgnoreTlog: true, onAudit }).catch(() => {})
 * ```
 *
 * Exported from `countersign/verify` (and `countersign/sign`).
 */
export type AuditListener = (event: AuditEvent) => void

/** Deliver an event, isolating the caller from listener failures. */
export function emitAudit(listener: AuditListener | undefined, event: AuditEvent): void {
  if (!listener) return
  try {
    listener(event)
  } catch {
    // A broken logger must not alter a verification verdict.
  }
}

/** `CODE: message` for an error, for audit reasons. */
export function errorReason(e: unknown): string {
  const code = (e as { code?: unknown })?.code
  const message = e instanceof Error ? e.message : String(e)
  return typeof code === 'string' ? `${code}: ${message}` : message
}

/**
 * Audit events: every sign, verify and attest reports what happened to an optional listener, so applications can
 * log or count signatures made and verification failures without parsing errors.
 * @module
 */

import type { Signer } from '../contracts/signer.js'
import { keyHint } from '../keys/key-info.js'
import { parsePublicKey } from '../keys/parse-public.js'
import type { PublicKey } from '../keys/types.js'
import { referenceToString } from '../oci/reference.js'
import type { Reference } from '../oci/types.js'

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

/** The parts of a signature or attestation check the audit needs. */
interface CheckLike {
  readonly reasons: readonly string[]
  readonly keyIndex?: number
}

/** Run a verification and report it: verified with the verifying keys' hints, or rejected with every reason. */
export async function auditVerification<
  R extends { readonly digest: string; readonly checks: readonly CheckLike[]; readonly verified: readonly CheckLike[] },
>(
  listener: AuditListener | undefined,
  type: 'verify' | 'verify-attestation',
  ref: Reference,
  keys: readonly PublicKey[],
  run: () => Promise<R>,
): Promise<R> {
  if (!listener) return run()
  const base = { type, reference: referenceToString(ref) }
  try {
    const result = await run()
    const used = new Set(result.verified.map((c) => c.keyIndex).filter((i): i is number => i !== undefined))
    emitAudit(listener, {
      ...base,
      time: new Date(),
      digest: result.digest,
      keys: [...used].map((i) => keyHint(keys[i]!)),
      outcome: 'verified',
      signatures: result.checks.length,
      verified: result.verified.length,
      reasons: result.checks.flatMap((c) => c.reasons),
    })
    return result
  } catch (e) {
    const details = (e as { details?: { checks?: unknown; digest?: unknown } }).details
    const checks = (Array.isArray(details?.checks) ? details.checks : []) as readonly CheckLike[]
    emitAudit(listener, {
      ...base,
      time: new Date(),
      ...(typeof details?.digest === 'string' ? { digest: details.digest } : {}),
      keys: [],
      outcome: 'rejected',
      signatures: checks.length,
      verified: 0,
      reasons: checks.length > 0 ? checks.flatMap((c) => c.reasons) : [errorReason(e)],
    })
    throw e
  }
}

/** Run a signing operation and report it with the signer's key hint. */
export async function auditSigning<R extends { readonly digest: string; readonly format: 'bundle' | 'legacy' }>(
  listener: AuditListener | undefined,
  type: 'sign' | 'attest',
  ref: Reference,
  signer: Signer,
  run: () => Promise<R>,
  extra?: { readonly predicateType?: (result: R | undefined) => string | undefined },
): Promise<R> {
  if (!listener) return run()
  const keys = async () => {
    try {
      const m = await signer.keyMaterial()
      return m.type === 'public-key' ? [m.hint ?? keyHint(parsePublicKey(m.spki))] : []
    } catch {
      return []
    }
  }
  const base = { type, reference: referenceToString(ref) }
  try {
    const result = await run()
    const predicateType = extra?.predicateType?.(result)
    emitAudit(listener, {
      ...base,
      time: new Date(),
      digest: result.digest,
      format: result.format,
      ...(predicateType ? { predicateType } : {}),
      keys: await keys(),
      outcome: 'success',
      reasons: [],
    })
    return result
  } catch (e) {
    const digest = ref.digest ?? (e as { details?: { digest?: unknown } }).details?.digest
    emitAudit(listener, {
      ...base,
      time: new Date(),
      ...(typeof digest === 'string' ? { digest } : {}),
      keys: await keys(),
      outcome: 'failure',
      reasons: [errorReason(e)],
    })
    throw e
  }
}

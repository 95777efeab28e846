/**
 * The messages between a {@link createVerifierPool} pool and its worker threads, and the worker's side: a verifier
 * created once per thread from the trusted root's JSON, answering one message per bundle. Everything that crosses
 * the thread boundary is structured-cloneable data (no functions, no class instances).
 *
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads'
import { CountersignError, type ErrorCode, isCountersignError } from '../errors.js'
import type { PublicKey } from '../keys/types.js'
import { parseTrustedRoot } from '../trust/trusted-root.js'
import type { ArtifactInput } from '../verifier/signature.js'
import { createVerifier } from '../verifier/verifier.js'
import type { BundleVerificationResult, BundleVerifierOptions } from '../verifier/verify-bundle.js'
import type { CertificateIdentity, IdentityPolicy } from '../x509/identity.js'
import { nodeSignatureBackend } from './signature-backend.js'

/** Marks a worker started by the pool (the module that starts it is loaded in the worker too). */
export const POOL_MARK = 'countersignVerifierPool'

/** What a worker is started with. */
export interface PoolWorkerData {
  readonly [POOL_MARK]: true
  readonly trustedRoot: Uint8Array
  readonly options: PoolVerifierOptions
}

/**
 * The verifier options a pool passes to its threads: {@link BundleVerifierOptions} without the signature backend
 * (each thread uses node:crypto) and with the clock as a fixed time.
 *
 * @example
 * ```ts
 * import type { PoolVerifierOptions } from 'countersign/node'
 * const options: PoolVerifierOptions = { tlogThreshold: 1, ctlogThreshold: 1 }
 * ```
 *
 * Exported from `countersign/node`.
 */
export type PoolVerifierOptions = Omit<BundleVerifierOptions, 'signatureBackend'>

/**
 * The policy of one pooled verification: as `BundlePolicy`, but a managed key must be given as a key (a lookup
 * function cannot cross threads).
 *
 * @example
 * ```ts
 * import type { PoolBundlePolicy } from 'countersign/node'
 * const policy: PoolBundlePolicy = { identity: { subject: 'me@example.com', issuer: 'https://accounts.google.com' } }
 * ```
 *
 * Exported from `countersign/node`.
 */
export interface PoolBundlePolicy {
  readonly identity?: IdentityPolicy
  readonly key?: PublicKey
  readonly keyValidFor?: { readonly start?: Date; readonly end?: Date }
}

/**
 * What a pooled verification returns: the facts of `BundleVerificationResult` as plain data (the parsed bundle stays
 * in the worker).
 *
 * @example
 * ```ts
 * import type { PooledVerificationResult } from 'countersign/node'
 * const show = (r: PooledVerificationResult) => r.signer.type === 'certificate' ? r.signer.identity.subject : r.signer.hint
 * ```
 *
 * Exported from `countersign/node`.
 */
export interface PooledVerificationResult {
  readonly signer:
    | { readonly type: 'certificate'; readonly identity: CertificateIdentity; readonly certificate: Uint8Array }
    | { readonly type: 'key'; readonly hint: string }
  readonly tlogEntries: readonly {
    readonly logIndex: bigint
    readonly logId: Uint8Array
    readonly kind: string
    readonly version: string
    readonly integratedTime?: Date
  }[]
  readonly timestamps: readonly { readonly time: Date; readonly signingCertificate: Uint8Array }[]
  /** Every verified time (integrated times and RFC 3161 times). */
  readonly verifiedTimes: readonly Date[]
}

/** Main thread → worker. */
export interface PoolRequest {
  readonly id: number
  readonly bundle: Uint8Array
  readonly artifact: ArtifactInput | undefined
  readonly policy: PoolBundlePolicy
}

/** Worker → main thread. */
export type PoolResponse =
  | { readonly id: number; readonly result: PooledVerificationResult }
  | {
      readonly id: number
      readonly error: {
        readonly code: ErrorCode
        readonly message: string
        readonly details?: Readonly<Record<string, unknown>>
      }
    }

/** The plain-data facts of a verification result. */
export function pooledResult(r: BundleVerificationResult): PooledVerificationResult {
  return {
    signer:
      r.signer.type === 'certificate'
        ? { type: 'certificate', identity: r.signer.identity, certificate: r.signer.certificate.raw }
        : { type: 'key', hint: r.signer.hint },
    tlogEntries: r.tlogEntries.map((t) => ({
      logIndex: t.entry.logIndex,
      logId: t.entry.logId,
      kind: t.entry.kindVersion.kind,
      version: t.entry.kindVersion.version,
      ...(t.integratedTime !== undefined ? { integratedTime: t.integratedTime } : {}),
    })),
    timestamps: r.timestamps.map((t) => ({ time: t.time, signingCertificate: t.signingCertificate })),
    verifiedTimes: r.verifiedTimes,
  }
}

/** An error as it crosses back: code, message and details survive; anything else becomes ERR_INVALID_INPUT. */
export function errorMessage(id: number, error: unknown): PoolResponse {
  if (isCountersignError(error)) {
    return {
      id,
      error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
    }
  }
  return { id, error: { code: 'ERR_INVALID_INPUT', message: (error as Error)?.message ?? String(error) } }
}

/** The error a pooled verification rejects with, rebuilt on the main thread. */
export function errorFromMessage(error: Extract<PoolResponse, { error: unknown }>['error']): CountersignError {
  return new CountersignError(error.code, error.message, error.details ? { details: error.details } : {})
}

/** The worker's loop: one verifier for the thread, one answer per request (several may be in flight). */
export function runPoolWorker(): void {
  const data = workerData as PoolWorkerData
  const port = parentPort
  if (port === null) return
  let verifier: ReturnType<typeof createVerifier> | undefined
  let setupError: unknown
  try {
    verifier = createVerifier(parseTrustedRoot(data.trustedRoot), {
      ...data.options,
      signatureBackend: nodeSignatureBackend,
    })
  } catch (error) {
    setupError = error
  }
  port.on('message', (request: PoolRequest) => {
    if (verifier === undefined) {
      port.postMessage(errorMessage(request.id, setupError))
      return
    }
    verifier.verify(request.bundle, request.artifact, request.policy).then(
      (result) => port.postMessage({ id: request.id, result: pooledResult(result) } satisfies PoolResponse),
      (error: unknown) => port.postMessage(errorMessage(request.id, error)),
    )
  })
}

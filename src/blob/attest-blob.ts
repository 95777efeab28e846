/**
 * Attest blobs, as `cosign attest-blob` does: an in-toto statement about the blob's SHA-256 (subject name = the
 * file's base name), signed as DSSE and wrapped in a Sigstore bundle v0.3, logged and timestamped like any signature.
 * @module
 */
import { createAttestationStatement, type PredicateInput } from '../attestation/predicates.js'
import { serializeBundle } from '../bundle/bundle.js'
import { bundleVerificationMaterial } from '../bundle/verification-material.js'
import type { Signer } from '../contracts/signer.js'
import type { WitnessResult } from '../contracts/witness-result.js'
import type { DSSEEnvelope } from '../dsse/envelope.js'
import { signDSSE } from '../dsse/sign.js'
import { CountersignError } from '../errors.js'
import { fromUtf8, toHex } from '../internal/bytes.js'
import type { AbortSignalLike } from '../internal/host-types.js'
import { isJSONObject } from '../internal/json.js'
import { BUNDLE_V03_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE } from '../oci/media-types.js'
import { checkTransparencyOptions, type TransparencyOptions, witnessForSigning } from '../witness/signing.js'
import { hashBytes } from './message-digest.js'

/**
 * Options of {@link attestBlob}.
 *
 * Exported from `countersign/blob`.
 */
export interface AttestBlobOptions extends TransparencyOptions {
  /** The subject's `name` (cosign: the artifact path's base name). */
  readonly subjectName: string
  /** cosign's `--type` alias or a predicate type URI (default `custom`). */
  readonly predicateType?: string
  /** The predicate file; required unless `statement` is given. */
  readonly predicate?: PredicateInput
  /** A complete in-toto statement to sign instead (cosign's `--statement`); it must parse as JSON with a `predicateType`. */
  readonly statement?: Uint8Array
  /** `custom` predicates: their `Timestamp` (default now). */
  readonly timestamp?: Date
  readonly signal?: AbortSignalLike
}

/**
 * What {@link attestBlob} produced.
 *
 * Exported from `countersign/blob`.
 */
export interface AttestBlobResult {
  readonly predicateType: string
  /** The signed statement (the DSSE payload). */
  readonly statement: Uint8Array
  readonly envelope: DSSEEnvelope
  /** Sigstore bundle v0.3 JSON with the DSSE envelope and, when witnessed, its log entries and timestamps. */
  readonly bundle: Uint8Array
  readonly witnessed?: WitnessResult
}

function statementPredicateType(statement: Uint8Array): string {
  let doc: unknown
  try {
    doc = JSON.parse(fromUtf8(statement, 'statement'))
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', 'invalid statement: not JSON', { cause })
  }
  if (!isJSONObject(doc) || typeof doc.predicateType !== 'string') {
    throw new CountersignError('ERR_INVALID_INPUT', 'invalid statement: no predicateType')
  }
  return doc.predicateType
}

/**
 * Attest a blob: build cosign's statement about `data` (or take `statement` as given), sign it as DSSE with payload
 * type `application/vnd.in-toto+json`, witness it (`witness`, unless `tlogUpload: false`) and return the bundle.
 *
 * @param data - The blob (ignored with `statement`).
 * @param signer - Any {@link Signer}.
 * @param options - Subject name, predicate, transparency.
 * @returns The statement, envelope and bundle.
 * @throws {CountersignError} ERR_INVALID_INPUT for a bad predicate type, predicate or statement; ERR_TLOG_REQUIRED
 *   without `witness.transparencyLogs` unless `tlogUpload: false`; service and verification errors of the witness.
 * @example
 * ```ts
 * import { attestBlob } from 'countersign/blob'
 * const { bundle } = await attestBlob(bytes, signer, {
 *   subjectName: 'app.tar.gz', predicateType: 'slsaprovenance1', predicate: provenanceJSON, tlogUpload: false,
 * })
 * ```
 *
 * Exported from `countersign/blob`.
 */
export async function attestBlob(
  data: Uint8Array,
  signer: Signer,
  options: AttestBlobOptions,
): Promise<AttestBlobResult> {
  if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array')
  checkTransparencyOptions(options)
  const call = options.signal ? { signal: options.signal } : {}
  let predicateType: string
  let statement: Uint8Array
  if (options.statement !== undefined) {
    statement = options.statement
    predicateType = statementPredicateType(statement)
  } else {
    if (options.predicate === undefined) throw new CountersignError('ERR_INVALID_INPUT', 'predicate cannot be empty')
    ;({ predicateType, statement } = createAttestationStatement({
      type: options.predicateType ?? 'custom',
      predicate: options.predicate,
      subjectName: options.subjectName,
      digest: `sha256:${toHex(await hashBytes('sha256', data))}`,
      ...(options.timestamp ? { timestamp: options.timestamp } : {}),
    }))
  }
  const envelope = await signDSSE(statement, IN_TOTO_PAYLOAD_TYPE, signer, call)
  const keyMaterial = await signer.keyMaterial(call)
  const content = { type: 'dsseEnvelope', envelope } as const
  const witnessed = await witnessForSigning(content, keyMaterial, signer.algorithm, options, call, 'dsse')
  const bundle = serializeBundle({
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: bundleVerificationMaterial(keyMaterial),
    tlogEntries: witnessed?.tlogEntries ?? [],
    ...(witnessed?.timestampVerificationData ? { timestampVerificationData: witnessed.timestampVerificationData } : {}),
    content,
  })
  return { predicateType, statement, envelope, bundle, ...(witnessed ? { witnessed } : {}) }
}

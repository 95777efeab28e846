/**
 * The transparency step every signing path shares (image signatures, attestations, blobs): which logs and timestamp
 * authorities to use under `tlogUpload`, and the witness call itself, made after signing and before anything is
 * written, so a failing or lying service leaves the registry untouched.
 * @module
 */
import type { BundleContent } from '../bundle/bundle.js'
import { leafCertificate } from '../bundle/verification-material.js'
import type { KeyMaterial, SigningAlgorithm } from '../contracts/signer.js'
import type { LogSigner } from '../contracts/transparency-log.js'
import type { WitnessResult } from '../contracts/witness-result.js'
import { CountersignError } from '../errors.js'
import { type WitnessOptions, witnessSignature } from './witness.js'

/**
 * Transparency options of the signing functions (`signImage`, `attestImage`, `signBlob`, `attestBlob`).
 *
 * Exported from `countersign/sign`.
 */
export interface TransparencyOptions {
  /**
   * Log the signature in the transparency logs of `witness` (cosign's `--tlog-upload`, default `true`). With
   * `false`, nothing is logged; timestamp authorities in `witness` are still asked.
   */
  readonly tlogUpload?: boolean
  /**
   * The services that witness the signature and the trusted root their answers are verified with. Required unless
   * `tlogUpload: false`; `createSigstoreServices` in `countersign/witness` builds them from a signing config.
   */
  readonly witness?: Omit<WitnessOptions, 'signal'>
}

/**
 * Refuse a configuration that cannot log before any network call: uploading requested but no log given.
 *
 * @example
 * ```ts
 * checkTransparencyOptions(options)
 * ```
 */
export function checkTransparencyOptions(options: TransparencyOptions): void {
  if (options.tlogUpload === false) return
  if ((options.witness?.transparencyLogs?.length ?? 0) === 0) {
    throw new CountersignError(
      'ERR_TLOG_REQUIRED',
      'no transparency log is configured: pass witness.transparencyLogs (e.g. from createSigstoreServices) or tlogUpload: false (--tlog-upload=false)',
    )
  }
}

/** The log-side view of a signer: its leaf certificate or public key, and its scheme. */
export function logSignerFor(material: KeyMaterial, algorithm: SigningAlgorithm): LogSigner {
  if (material.type === 'public-key') return { type: 'publicKey', spki: material.spki, algorithm }
  return { type: 'certificate', certificate: leafCertificate(material), algorithm }
}

/**
 * Witness `content` as `options` say, or return undefined when there is nothing to do (no upload, no TSA).
 *
 * @example
 * ```ts
 * const witnessed = await witnessForSigning(content, material, signer.algorithm, options, call)
 * ```
 */
export async function witnessForSigning(
  content: BundleContent,
  material: KeyMaterial,
  algorithm: SigningAlgorithm,
  options: TransparencyOptions,
  call: { readonly signal?: AbortSignal },
  dsseEntryKind?: 'dsse' | 'intoto',
): Promise<WitnessResult | undefined> {
  checkTransparencyOptions(options)
  const w = options.witness
  const logs = options.tlogUpload === false ? [] : (w?.transparencyLogs ?? [])
  const tsas = w?.timestampAuthorities ?? []
  if (w === undefined || (logs.length === 0 && tsas.length === 0)) return undefined
  return witnessSignature(content, logSignerFor(material, algorithm), {
    ...w,
    transparencyLogs: logs,
    timestampAuthorities: tsas,
    ...(dsseEntryKind ? { dsseEntryKind: w.dsseEntryKind ?? dsseEntryKind } : {}),
    ...(call.signal ? { signal: call.signal } : {}),
  })
}

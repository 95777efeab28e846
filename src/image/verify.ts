/**
 * Verify image signatures by key or by certificate identity (keyless) in both storage forms: Sigstore bundle
 * referrers first (cosign v3), then the legacy `.sig` tag, with a result per signature saying which form it came from.
 * @module
 */
import type { Statement } from '../attestation/statement.js'
import type { Bundle } from '../bundle/bundle.js'
import { CountersignError, isCountersignError } from '../errors.js'
import { boundedJoin } from '../internal/bounded-text.js'
import type { HashAlgorithm, PublicKey, VerifyOptions } from '../keys/types.js'
import { repositoryName } from '../oci/reference.js'
import type { Descriptor, OCIStore, Reference, Repository, StoreCallOptions } from '../oci/types.js'
import { attachmentReference } from '../signature/cosign-tags.js'
import type { SimpleSigningPayload } from '../signature/simple-signing.js'
import { type SigstoreVerificationOptions, verificationMode } from '../verifier/sigstore-check.js'
import type { Certificate } from '../x509/certificate.js'
import type { CertificateIdentity } from '../x509/identity.js'
import { type AuditListener, auditVerification } from './audit.js'
import { checkBundles } from './bundle/verify.js'
import { checkLegacySignatures } from './legacy/verify.js'
import { isRegistryUnavailable } from './registry-failure.js'
import { resolveDigest } from './resolve.js'

/** cosign's default attachment size limit (`COSIGN_MAX_ATTACHMENT_SIZE`, 128 MiB). Exported from `countersign/verify`. */
export const DEFAULT_MAX_PAYLOAD_BYTES: number = 128 * 1024 * 1024

/**
 * Options for {@link verifyImage}.
 *
 * Exported from `countersign/verify`.
 */
export interface VerifyImageOptions extends StoreCallOptions, SigstoreVerificationOptions {
  /** Where the image and its signatures live. */
  readonly store: OCIStore
  /** Public keys; a signature passes when any of them verifies it. Empty for keyless (`identity`). */
  readonly keys: readonly PublicKey[]
  /**
   * Which storage forms to accept: `any` (default; bundles first, then legacy), `bundle` or `legacy` (the
   * `signatureFormat` of a ClusterImagePolicy).
   */
  readonly signatureFormat?: 'any' | 'bundle' | 'legacy'
  /** Look for signatures in another repository (cosign's `COSIGN_REPOSITORY`). */
  readonly signatureRepository?: Repository
  /**
   * Annotations every accepted signature must carry with equal string values (`-a k=v`): in the payload's
   * `optional` (legacy) or the statement subject's `annotations` (bundle).
   */
  readonly annotations?: Readonly<Record<string, string>>
  /** Hash for ECDSA/RSA verification (cosign's `--signature-digest-algorithm`); default sha256. */
  readonly hash?: HashAlgorithm
  /** Extra verification options (e.g. `ed25519ph`). */
  readonly verifyOptions?: VerifyOptions
  /** Refuse payload layers and bundles larger than this (default 128 MiB). */
  readonly maxPayloadBytes?: number
  /** Signatures fetched and checked concurrently (cosign's `--max-workers`, default 10). */
  readonly maxWorkers?: number
  /** Receives one audit event when the call settles (verified or rejected). */
  readonly onAudit?: AuditListener
}

/**
 * The outcome for one signature.
 *
 * Exported from `countersign/verify`.
 */
export interface SignatureCheck {
  /** Which storage form the signature came from. */
  readonly format: 'bundle' | 'legacy'
  /** The `.sig` layer (legacy) or the bundle blob (bundle). */
  readonly layer: Descriptor
  /** The referrer manifest holding the bundle (bundle form). */
  readonly referrer?: Descriptor
  /** True when the signature verified under some key and every claim held. */
  readonly verified: boolean
  /** Index into `options.keys` of the key that verified the signature. */
  readonly keyIndex?: number
  /** The signing certificate (keyless). */
  readonly certificate?: Certificate
  /** The identity the certificate was issued to (keyless; legacy signatures take the issuer from extension .1.1). */
  readonly identity?: CertificateIdentity
  /** The signed bytes: the simple-signing payload (legacy) or the in-toto statement (bundle). */
  readonly payload?: Uint8Array
  /** The parsed simple-signing payload (legacy). */
  readonly claims?: SimpleSigningPayload
  /** The parsed statement (bundle). */
  readonly statement?: Statement
  /** The parsed bundle (bundle). */
  readonly bundle?: Bundle
  /** Why it failed, in cosign's words; empty when verified. */
  readonly reasons: readonly string[]
}

/**
 * A referrer that was not a usable bundle (not a bundle manifest, unparsable, older than v0.3), skipped as cosign does.
 *
 * Exported from `countersign/verify`.
 */
export interface SkippedReferrer {
  readonly descriptor: Descriptor
  readonly reason: string
}

/**
 * What {@link verifyImage} found.
 *
 * Exported from `countersign/verify`.
 */
export interface VerifyImageResult {
  /** The image digest the signatures were checked against. */
  readonly digest: string
  /** Where legacy signatures live (`…:sha256-<hex>.sig`), whether or not any were there. */
  readonly signatureReference: Reference
  /** Signatures that verified (at least one, or the call throws). */
  readonly verified: readonly SignatureCheck[]
  /** Every signature with its outcome, bundles first. */
  readonly checks: readonly SignatureCheck[]
  /** Referrers that were not usable bundles. */
  readonly skipped: readonly SkippedReferrer[]
}

/**
 * Verify an image's signatures by key or by certificate identity (keyless). Bundle referrers are read first, as cosign
 * v3 does; the legacy `.sig` image is checked when no bundle verified. (cosign stops at bundles when any exist;
 * countersign also accepts a valid legacy signature then, so images signed by both cosign generations verify during
 * a migration.) Signed bytes are verified as received, never re-serialised.
 *
 * Modes (docs/formats.md §Verification modes): a key with `insecureIgnoreTlog` checks signatures only (legacy:
 * signature, `docker-manifest-digest`, annotations; bundle: DSSE signature, in-toto subject digest, subject
 * annotations). A key without it, or an `identity` (keyless), needs `trustedRoot`: bundles go through
 * {@link verifyBundle} with the image digest as the artifact, legacy layers through their `bundle` (SET),
 * `certificate`, `chain` and `rfc3161timestamp` annotations; then the same claims are checked.
 *
 * @throws {CountersignError} ERR_OCI_NOT_FOUND (image tag missing, `details.target` `image`), ERR_NO_SIGNATURES (no
 *   bundle and no `.sig`), ERR_NO_MATCHING_SIGNATURES (none verified; `details.checks` has every reason),
 *   ERR_TLOG_REQUIRED (a key, no `insecureIgnoreTlog`, no `trustedRoot`), ERR_INVALID_INPUT (key and identity,
 *   neither, or an incomplete keyless policy).
 *
 * @example
 * ```ts
 * import { verifyImage } from 'countersign/verify'
 * import { parsePublicKey } from 'countersign/keys'
 * const result = await verifyImage(ref, { store, keys: [parsePublicKey(pem)], insecureIgnoreTlog: true })
 * console.log(result.verified.map((c) => c.format))
 * ```
 *
 * Exported from `countersign/verify`.
 */
export async function verifyImage(ref: Reference, options: VerifyImageOptions): Promise<VerifyImageResult> {
  return auditVerification(options.onAudit, 'verify', ref, options.keys, () => verifyUnaudited(ref, options))
}

async function verifyUnaudited(ref: Reference, options: VerifyImageOptions): Promise<VerifyImageResult> {
  verificationMode(options)
  const call: StoreCallOptions = options.signal ? { signal: options.signal } : {}
  const digest = await resolveDigest(ref, options.store, undefined, call)
  const format = options.signatureFormat ?? 'any'
  const checks: SignatureCheck[] = []
  let skipped: readonly SkippedReferrer[] = []

  if (format !== 'legacy') {
    try {
      const found = await checkBundles(options.signatureRepository ?? ref, digest, options, call)
      checks.push(...found.checks)
      skipped = found.skipped
    } catch (e) {
      // cosign falls back to the legacy form when listing bundles fails; aborts and registry failures (network,
      // 429/5xx after retries) still surface: they say nothing about which signatures exist.
      if (format === 'bundle' || isCountersignError(e, 'ERR_ABORTED') || isRegistryUnavailable(e)) throw e
      skipped = [{ descriptor: { mediaType: '', digest: '', size: 0 }, reason: (e as Error).message }]
    }
  }
  let signatureReference: Reference | undefined
  if (format !== 'bundle' && !checks.some((c) => c.verified)) {
    const legacy = await checkLegacySignatures(ref, digest, options, call)
    signatureReference = legacy?.sigRef
    if (legacy) checks.push(...legacy.checks)
  }
  signatureReference ??= attachmentReference(ref, digest, 'sig', options.signatureRepository)
  if (checks.length === 0)
    throw new CountersignError('ERR_NO_SIGNATURES', 'no signatures found', { details: { digest } })
  const verified = checks.filter((c) => c.verified)
  if (verified.length === 0) {
    // An image may carry any number of signatures: the first checks are listed, then a count.
    const reasons = boundedJoin(checks, '\n ', { format: (c) => c.reasons.join('; ') })
    throw new CountersignError('ERR_NO_MATCHING_SIGNATURES', `no matching signatures: ${reasons}`, {
      details: { digest, reference: repositoryName(ref), checks },
    })
  }
  return { digest, signatureReference, verified, checks, skipped }
}

export type { SignatureBackend } from '../keys/verify.js'
export type { ArtifactInput } from '../verifier/signature.js'
export type { SigstoreVerificationOptions } from '../verifier/sigstore-check.js'
export { type BundleVerifier, createVerifier } from '../verifier/verifier.js'
export {
  type BundlePolicy,
  type BundleVerificationResult,
  type BundleVerifierOptions,
  type VerifyBundleOptions,
  verifyBundle,
} from '../verifier/verify-bundle.js'
export type { AuditEvent, AuditListener } from './audit.js'

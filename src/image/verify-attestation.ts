/**
 * Verify image attestations by key or by certificate identity (keyless) in both storage forms: Sigstore bundle
 * referrers (cosign v3) and the DSSE layers of the legacy `.att` tag, with a result per attestation and cosign's
 * `--type` filter (docs/formats.md §Attestation verification; cosign `cmd/cosign/cli/verify/verify_attestation.go`,
 * `pkg/cosign/verify.go`).
 * @module
 */

import { PREDICATE_TYPE_ALIASES } from '../attestation/predicates.js'
import { parseStatement, type Statement, statementHasSubjectDigest } from '../attestation/statement.js'
import type { Bundle } from '../bundle/bundle.js'
import { type DSSEEnvelope, parseDSSEEnvelope, serializeDSSEEnvelopeBytes } from '../dsse/envelope.js'
import { verifyDSSE } from '../dsse/verify.js'
import { CountersignError, isCountersignError } from '../errors.js'
import { boundedJoin } from '../internal/bounded-text.js'
import { mapLimit } from '../internal/concurrency.js'
import type { HashAlgorithm, PublicKey, VerifyOptions } from '../keys/types.js'
import { IN_TOTO_PAYLOAD_TYPE } from '../oci/media-types.js'
import { repositoryName } from '../oci/reference.js'
import type { Descriptor, OCIStore, Reference, Repository, StoreCallOptions } from '../oci/types.js'
import { attachmentReference } from '../signature/cosign-tags.js'
import { signatureLayers } from '../signature/signature-image.js'
import { type SigstoreVerificationOptions, verificationMode } from '../verifier/sigstore-check.js'
import type { Certificate } from '../x509/certificate.js'
import type { CertificateIdentity } from '../x509/identity.js'
import { type AuditListener, auditVerification } from './audit.js'
import { checkBundles } from './bundle/verify.js'
import { checkLegacySigstore } from './legacy/sigstore-annotations.js'
import { fetchLayerOrReason, isRegistryUnavailable } from './registry-failure.js'
import { resolveDigest } from './resolve.js'
import { checkSigner } from './signer-check.js'
import { DEFAULT_MAX_PAYLOAD_BYTES, type SignatureCheck, type SkippedReferrer } from './verify.js'

/**
 * Options for {@link verifyImageAttestations}.
 *
 * Exported from `countersign/verify-attestation`.
 */
export interface VerifyImageAttestationsOptions extends StoreCallOptions, SigstoreVerificationOptions {
  /** Where the image and its attestations live. */
  readonly store: OCIStore
  /** Public keys; an attestation passes when any of them verifies its DSSE signature. Empty for keyless. */
  readonly keys: readonly PublicKey[]
  /**
   * Keep only attestations of this predicate type (cosign's `--type`: an alias such as `custom` or
   * `slsaprovenance1`, or a URI used verbatim). Default: no filter (the CLI defaults to `custom`, as cosign).
   */
  readonly predicateType?: string
  /** Look for attestations in another repository (cosign's `COSIGN_REPOSITORY`). */
  readonly signatureRepository?: Repository
  /** Which storage forms to read: `any` (default: bundles, then the `.att` tag), `bundle` or `legacy`. */
  readonly signatureFormat?: 'any' | 'bundle' | 'legacy'
  /**
   * Check that a statement subject carries the image digest (cosign's `--check-claims`, default true). Bundles are
   * always checked: cosign's bundle verifier requires it whatever the flag says.
   */
  readonly checkClaims?: boolean
  /** Hash for ECDSA/RSA verification (cosign's `--signature-digest-algorithm`); default sha256. */
  readonly hash?: HashAlgorithm
  /** Extra verification options (e.g. `ed25519ph`). */
  readonly verifyOptions?: VerifyOptions
  /** Refuse envelope layers and bundles larger than this (default 128 MiB). */
  readonly maxPayloadBytes?: number
  /** Attestations fetched and checked concurrently (cosign's `--max-workers`, default 10). */
  readonly maxWorkers?: number
  /** Receives one audit event when the call settles (verified or rejected). */
  readonly onAudit?: AuditListener
}

/**
 * The outcome for one attestation.
 *
 * Exported from `countersign/verify-attestation`.
 */
export interface AttestationCheck {
  /** Which storage form it came from. */
  readonly format: 'bundle' | 'legacy'
  /** The `.att` layer (legacy) or the bundle blob (bundle). */
  readonly layer: Descriptor
  /** The referrer manifest holding the bundle (bundle form). */
  readonly referrer?: Descriptor
  /** True when the DSSE signature verified under some key and the subject claim held. */
  readonly verified: boolean
  /** Index into `options.keys` of the key that verified it. */
  readonly keyIndex?: number
  /** The signing certificate (keyless). */
  readonly certificate?: Certificate
  /** The identity the certificate was issued to (keyless). */
  readonly identity?: CertificateIdentity
  /** The envelope, its payload decoded. */
  readonly envelope?: DSSEEnvelope
  /**
   * The envelope JSON as cosign prints it: the `.att` layer bytes as received (legacy), or the bundle's envelope
   * in cosign v3's key order (bundle; cosign re-marshals it too).
   */
  readonly envelopeJSON?: Uint8Array
  /** The statement bytes (the DSSE payload), verified as received. */
  readonly payload?: Uint8Array
  /** The parsed statement. */
  readonly statement?: Statement
  /** The statement's predicate type. */
  readonly predicateType?: string
  /** The parsed bundle (bundle form). */
  readonly bundle?: Bundle
  /** Why it failed, in cosign's words; empty when verified. */
  readonly reasons: readonly string[]
}

/**
 * What {@link verifyImageAttestations} found.
 *
 * Exported from `countersign/verify-attestation`.
 */
export interface VerifyImageAttestationsResult {
  /** The image digest the attestations were checked against. */
  readonly digest: string
  /** Where legacy attestations live (`…:sha256-<hex>.att`), whether or not any were there. */
  readonly attestationReference: Reference
  /** Attestations that verified and match `predicateType` (at least one, or the call throws). */
  readonly verified: readonly AttestationCheck[]
  /** Every attestation with its outcome, bundles first, whatever its predicate type. */
  readonly checks: readonly AttestationCheck[]
  /** Referrers that were not DSSE bundles (other artifacts, unparsable or older than v0.3). */
  readonly skipped: readonly SkippedReferrer[]
}

/**
 * Verify an image's attestations by key, as `cosign verify-attestation --key` does. Bundle referrers holding a DSSE
 * envelope are read first, then the layers of the `.att` image (cosign v3 reads the `.att` tag only when no bundle
 * exists; countersign reads both, so attestations written by either cosign generation verify). Per attestation:
 * the payload type must be `application/vnd.in-toto+json`, the DSSE signature over the PAE of the exact payload
 * must verify with a key, and a statement subject must carry the image's sha256 digest. Then `predicateType`
 * filters what verified. Both envelope key orders and Statement v0.1 and v1 are read; nothing is re-serialised
 * before verification. Keyless (`identity` + `trustedRoot`) and key-with-log verification check bundles with the
 * Sigstore verifier (as `verifyImage` does); legacy `.att` layers are then refused (not implemented yet).
 *
 * @throws {CountersignError} ERR_OCI_NOT_FOUND (image missing, `details.target` `image`); ERR_NO_SIGNATURES (`no
 *   matching attestations: no attestations found`); ERR_NO_MATCHING_SIGNATURES (`no matching attestations: …`, none
 *   verified; `details.checks`); ERR_CLAIMS_INVALID (`none of the attestations matched the predicate type: <t>,
 *   found: <types>`); ERR_TLOG_REQUIRED; ERR_INVALID_INPUT (no keys and no identity, or both).
 *
 * @example
 * ```ts
 * import { verifyImageAttestations } from 'countersign/verify-attestation'
 * import { parsePublicKey } from 'countersign/keys'
 * const result = await verifyImageAttestations(ref, {
 *   store, keys: [parsePublicKey(pem)], predicateType: 'slsaprovenance1', insecureIgnoreTlog: true,
 * })
 * for (const a of result.verified) console.log(a.format, a.statement?.predicate)
 * ```
 *
 * Exported from `countersign/verify-attestation`.
 */
export async function verifyImageAttestations(
  ref: Reference,
  options: VerifyImageAttestationsOptions,
): Promise<VerifyImageAttestationsResult> {
  return auditVerification(options.onAudit, 'verify-attestation', ref, options.keys, () =>
    verifyUnaudited(ref, options),
  )
}

async function verifyUnaudited(
  ref: Reference,
  options: VerifyImageAttestationsOptions,
): Promise<VerifyImageAttestationsResult> {
  verificationMode(options)
  const call: StoreCallOptions = options.signal ? { signal: options.signal } : {}
  const digest = await resolveDigest(ref, options.store, undefined, call)
  const format = options.signatureFormat ?? 'any'
  const checks: AttestationCheck[] = []
  const skipped: SkippedReferrer[] = []

  if (format !== 'legacy') {
    try {
      const found = await checkBundles(options.signatureRepository ?? ref, digest, options, call)
      skipped.push(...found.skipped)
      for (const c of found.checks) {
        if (c.bundle?.content.type !== 'dsseEnvelope') skipped.push({ descriptor: c.referrer!, reason: c.reasons[0]! })
        else checks.push(fromBundleCheck(c, c.bundle.content.envelope))
      }
    } catch (e) {
      // As for signatures: a failing referrers lookup falls back to the legacy form; aborts and registry failures
      // (network, 429/5xx after retries) surface.
      if (format === 'bundle' || isCountersignError(e, 'ERR_ABORTED') || isRegistryUnavailable(e)) throw e
      skipped.push({ descriptor: { mediaType: '', digest: '', size: 0 }, reason: (e as Error).message })
    }
  }
  const attRef = attachmentReference(ref, digest, 'att', options.signatureRepository)
  if (format !== 'bundle') checks.push(...(await checkLegacyAttestations(attRef, digest, options, call)))

  if (checks.length === 0) {
    throw new CountersignError('ERR_NO_SIGNATURES', 'no matching attestations: no attestations found', {
      details: { digest },
    })
  }
  const passed = checks.filter((c) => c.verified)
  if (passed.length === 0) {
    // An image may carry any number of attestations: the first checks are listed, then a count.
    const reasons = boundedJoin(checks, '\n ', { format: (c) => c.reasons.join('; ') })
    throw new CountersignError('ERR_NO_MATCHING_SIGNATURES', `no matching attestations: ${reasons}`, {
      details: { digest, reference: repositoryName(ref), checks },
    })
  }
  let verified = passed
  if (options.predicateType !== undefined) {
    const t = options.predicateType
    const uri = Object.hasOwn(PREDICATE_TYPE_ALIASES, t) ? PREDICATE_TYPE_ALIASES[t]! : t
    verified = passed.filter((c) => c.predicateType === uri)
    if (verified.length === 0) {
      const found = boundedJoin(passed, ',', { format: (c) => c.predicateType ?? '' })
      throw new CountersignError(
        'ERR_CLAIMS_INVALID',
        `none of the attestations matched the predicate type: ${t}, found: ${found}`,
        { details: { digest, predicateType: uri, found: passed.map((c) => c.predicateType), checks } },
      )
    }
  }
  return { digest, attestationReference: attRef, verified, checks, skipped }
}

function fromBundleCheck(c: SignatureCheck, envelope: DSSEEnvelope): AttestationCheck {
  return {
    format: 'bundle',
    layer: c.layer,
    ...(c.referrer ? { referrer: c.referrer } : {}),
    verified: c.verified,
    ...(c.keyIndex !== undefined ? { keyIndex: c.keyIndex } : {}),
    ...(c.certificate ? { certificate: c.certificate } : {}),
    ...(c.identity ? { identity: c.identity } : {}),
    envelope,
    envelopeJSON: serializeDSSEEnvelopeBytes(envelope, 'v3'),
    ...(c.payload ? { payload: c.payload } : {}),
    ...(c.statement ? { statement: c.statement, predicateType: c.statement.predicateType } : {}),
    ...(c.bundle ? { bundle: c.bundle } : {}),
    reasons: c.reasons,
  }
}

/** Check every layer of the `.att` image; none when there is no `.att` tag. */
async function checkLegacyAttestations(
  attRef: Reference,
  digest: string,
  options: VerifyImageAttestationsOptions,
  call: StoreCallOptions,
): Promise<readonly AttestationCheck[]> {
  let layers: readonly Descriptor[]
  try {
    layers = signatureLayers((await options.store.fetchManifest(attRef, call)).manifest)
  } catch (e) {
    if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) return []
    throw e
  }
  return mapLimit(layers, options.maxWorkers ?? 10, (layer) => checkLayer(layer, attRef, digest, options, call))
}

async function checkLayer(
  layer: Descriptor,
  attRef: Reference,
  digest: string,
  options: VerifyImageAttestationsOptions,
  call: StoreCallOptions,
): Promise<AttestationCheck> {
  const fail = (reason: string, found?: Partial<AttestationCheck>): AttestationCheck => ({
    format: 'legacy',
    layer,
    ...found,
    verified: false,
    reasons: [reason],
  })
  const maxSize = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES
  const fetched = await fetchLayerOrReason(options.store, attRef, layer, maxSize, call)
  if ('reason' in fetched) return fail(fetched.reason)
  const envelopeJSON = fetched.bytes
  let envelope: DSSEEnvelope
  try {
    envelope = parseDSSEEnvelope(envelopeJSON)
  } catch (e) {
    return fail((e as Error).message, { envelopeJSON })
  }
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return fail(`invalid payloadType ${envelope.payloadType} on envelope. Expected ${IN_TOTO_PAYLOAD_TYPE}`, {
      envelopeJSON,
      envelope,
    })
  }
  const payload = envelope.payload
  const who = await checkSigner(verificationMode(options), {
    byKey: () => verifyDSSE(envelope, options.keys, { hash: options.hash ?? 'sha256', ...options.verifyOptions }),
    keyFailure: 'failed to verify signature',
    // The `.att` layer's cosign annotations: Rekor bundle (dsse/intoto entry), certificate and chain, timestamp.
    bySigstore: (mode) => checkLegacySigstore(layer.annotations, { type: 'dsse', envelope }, options, mode),
  })
  if ('reason' in who) return fail(who.reason, { envelopeJSON, envelope, payload })
  const signer = who.signer
  const { keyIndex } = signer
  let statement: Statement
  try {
    statement = parseStatement(payload)
  } catch (e) {
    return fail((e as Error).message, {
      envelopeJSON,
      envelope,
      payload,
      ...(keyIndex !== undefined ? { keyIndex } : {}),
    })
  }
  const found = { envelopeJSON, envelope, payload, ...signer, statement, predicateType: statement.predicateType }
  // cosign's IntotoSubjectClaimVerifier compares only `digest.sha256`.
  if (options.checkClaims !== false && !statementHasSubjectDigest(statement, digest)) {
    return fail('no matching subject digest found', found)
  }
  return { format: 'legacy', layer, ...found, verified: true, reasons: [] }
}

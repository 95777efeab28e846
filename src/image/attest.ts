/**
 * Attest container images with any signer (a key, a KMS key, or keyless through Fulcio), in either storage form
 * cosign uses: a Sigstore bundle stored as an OCI 1.1 referrer (cosign v3's default) or a DSSE layer of the legacy
 * `sha256-<hex>.att` image.
 * @module
 */

import { createAttestationStatement, type PredicateInput } from '../attestation/predicates.js'
import type { KeyMaterial, Signer } from '../contracts/signer.js'
import type { WitnessResult } from '../contracts/witness-result.js'
import type { DSSEEnvelope } from '../dsse/envelope.js'
import { signDSSE } from '../dsse/sign.js'
import { IN_TOTO_PAYLOAD_TYPE } from '../oci/media-types.js'
import { repositoryName } from '../oci/reference.js'
import type { OCIStore, Reference, Repository, StoreCallOptions } from '../oci/types.js'
import { checkTransparencyOptions, type TransparencyOptions, witnessForSigning } from '../witness/signing.js'
import { type AuditListener, auditSigning } from './audit.js'
import { attestBundle } from './bundle/attest.js'
import { attestLegacy } from './legacy/attest.js'
import { resolveDescriptor, resolveDigest } from './resolve.js'

/**
 * Options for {@link attestImage}.
 *
 * Exported from `countersign/attest`.
 */
export interface AttestImageOptions extends StoreCallOptions, TransparencyOptions {
  /** Where the image and its attestations live: a registry client or an OCI layout. */
  readonly store: OCIStore
  /**
   * cosign's `--type`: an alias (`custom` (default), `slsaprovenance`, `slsaprovenance02`, `slsaprovenance1`,
   * `spdx`, `spdxjson`, `cyclonedx`, `vuln`, `openvex`, `link`) or a predicate type URI used verbatim.
   */
  readonly predicateType?: string
  /** The predicate, as cosign reads `--predicate FILE`: the file's bytes or text, or parsed JSON. */
  readonly predicate: PredicateInput
  /** Storage form; default `bundle`, as cosign v3 (`--new-bundle-format=false` → `legacy`). */
  readonly format?: 'bundle' | 'legacy'
  /**
   * Legacy form: drop the `.att` layers whose statement has the same predicate type (cosign's `--replace`). cosign
   * v3 ignores `--replace` for bundles, and so does this (every bundle is its own referrer; a warning is given).
   */
  readonly replace?: boolean
  /** Keep attestations in another repository (cosign's `COSIGN_REPOSITORY`). */
  readonly signatureRepository?: Repository
  /**
   * Bundle form: the referrer's `org.opencontainers.image.created` (default now). Legacy form: the `.att` image
   * config's `created` (cosign's `--record-creation-timestamp`; default: kept from the existing image, else Go's
   * zero time). With `replace`, cosign rebuilds the `.att` image from scratch and ignores it, as does this.
   */
  readonly created?: Date
  /** `custom` predicates: their `Timestamp` (default now). */
  readonly timestamp?: Date
  /** Legacy form: Docker schema 2 media types (cosign's `COSIGN_DOCKER_MEDIA_TYPES=1`). */
  readonly dockerMediaTypes?: boolean
  /** Receives warnings (attesting by tag; `replace` with the bundle form). */
  readonly onWarning?: (message: string) => void
  /** Receives one audit event when the call settles. */
  readonly onAudit?: AuditListener
}

/**
 * What {@link attestImage} did.
 *
 * Exported from `countersign/attest`.
 */
export interface AttestImageResult {
  /** Which storage form was written. */
  readonly format: 'bundle' | 'legacy'
  /** The attested manifest digest. */
  readonly digest: string
  /** The predicate type URI. */
  readonly predicateType: string
  /** The in-toto statement bytes (the DSSE payload). */
  readonly statement: Uint8Array
  /** The signed envelope. */
  readonly envelope: DSSEEnvelope
  /** Where it went: the `.att` tag (legacy) or the referrer manifest by digest (bundle). */
  readonly attestationReference: Reference
  /** Digest of the manifest now holding the attestation. */
  readonly attestationManifestDigest: string
  /** The `.att` layer bytes: the envelope JSON in cosign v3's key order (legacy form). */
  readonly layer?: Uint8Array
  /** The bundle JSON as stored (bundle form). */
  readonly bundle?: Uint8Array
  /** Legacy form with `replace`: how many earlier layers with the same predicate type were dropped. */
  readonly replaced?: number
  /** What the transparency logs and timestamp authorities vouched for (verified), when any were used. */
  readonly witnessed?: WitnessResult
}

/**
 * A signed attestation before it is stored: what both storage forms write.
 *
 * Exported from `countersign/attest`.
 */
export interface SignedAttestation {
  readonly predicateType: string
  readonly statement: Uint8Array
  readonly envelope: DSSEEnvelope
  readonly material: KeyMaterial
  readonly witnessed?: WitnessResult
}

/**
 * Attest an image by key, as `cosign attest --key … --type … --predicate …` does. A tag is resolved to a digest
 * first (with a warning). The statement is cosign's (in-toto Statement v0.1, subject `registry/repository` with the
 * image's sha256, predicate by type), signed as DSSE with payload type `application/vnd.in-toto+json`. The bundle
 * form writes a new referrer per attestation, annotated `dev.sigstore.bundle.predicateType`; the legacy form
 * appends a layer to the `.att` image (or, with `replace`, drops the layers of the same predicate type), with the
 * same protection against concurrent writers as legacy signing.
 *
 * With `tlogUpload` (the default) the envelope is logged and timestamped by `witness` first, as in `signImage`.
 *
 * @throws {CountersignError} ERR_TLOG_REQUIRED without `witness.transparencyLogs` unless `tlogUpload: false`; ERR_INVALID_INPUT for an invalid
 *   predicate type or predicate; ERR_OCI_NOT_FOUND (`details.target` `image`) when the image is missing.
 *
 * @example
 * ```ts
 * import { attestImage } from 'countersign/attest'
 * import { createRegistryClient, parseReference } from 'countersign/oci'
 * import { createKeySigner } from 'countersign/signers'
 * await attestImage(parseReference('ghcr.io/acme/app@sha256:…'), createKeySigner(key), {
 *   store: createRegistryClient(),
 *   predicateType: 'slsaprovenance1',
 *   predicate: await readFile('provenance.json'),
 *   tlogUpload: false,
 * })
 * ```
 *
 * Exported from `countersign/attest`.
 */
export async function attestImage(
  ref: Reference,
  signer: Signer,
  options: AttestImageOptions,
): Promise<AttestImageResult> {
  return auditSigning(options.onAudit, 'attest', ref, signer, () => attestUnaudited(ref, signer, options), {
    predicateType: (r) => r?.predicateType,
  })
}

async function attestUnaudited(
  ref: Reference,
  signer: Signer,
  options: AttestImageOptions,
): Promise<AttestImageResult> {
  checkTransparencyOptions(options)
  const call: StoreCallOptions = options.signal ? { signal: options.signal } : {}
  // Check the type and predicate before any registry traffic.
  const sign = async (digest: string): Promise<SignedAttestation> => {
    const { predicateType, statement } = createAttestationStatement({
      type: options.predicateType ?? 'custom',
      predicate: options.predicate,
      subjectName: repositoryName(ref),
      digest,
      ...(options.timestamp ? { timestamp: options.timestamp } : {}),
    })
    const envelope = await signDSSE(statement, IN_TOTO_PAYLOAD_TYPE, signer, call)
    const material = await signer.keyMaterial(call)
    // Logged before anything is stored, as a Rekor dsse entry in both forms (cosign v3 signs both through
    // sigstore-go's SignData; its `--rekor-entry-type intoto` is deprecated; `witness.dsseEntryKind` still selects it).
    const content = { type: 'dsseEnvelope', envelope } as const
    const witnessed = await witnessForSigning(content, material, signer.algorithm, options, call, 'dsse')
    return { predicateType, statement, envelope, material, ...(witnessed ? { witnessed } : {}) }
  }
  createAttestationStatement({
    type: options.predicateType ?? 'custom',
    predicate: options.predicate,
    subjectName: repositoryName(ref),
    digest: `sha256:${'0'.repeat(64)}`,
  })
  if (options.format === 'legacy') {
    const digest = await resolveDigest(ref, options.store, options.onWarning, call)
    return attestLegacy(ref, digest, await sign(digest), options, call)
  }
  if (options.replace) {
    options.onWarning?.('--replace has no effect on the bundle format (as in cosign v3): earlier attestations stay')
  }
  const subject = await resolveDescriptor(ref, options.store, options.onWarning, call)
  return attestBundle(ref, subject, await sign(subject.digest), signer, options, call)
}

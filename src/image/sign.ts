/**
 * Sign container images with any signer (a key, a KMS key, or keyless through Fulcio), in either storage form cosign
 * uses: a Sigstore bundle stored as an OCI 1.1 referrer (cosign v3's default) or the legacy simple-signing layer of
 * the `sha256-<hex>.sig` image.
 * @module
 */

import type { Signer } from '../contracts/signer.js'
import type { WitnessResult } from '../contracts/witness-result.js'
import { CountersignError } from '../errors.js'
import { isImageIndex } from '../oci/manifest.js'
import { isIndexMediaType, isManifestMediaType } from '../oci/media-types.js'
import type { OCIStore, Reference, Repository, StoreCallOptions } from '../oci/types.js'
import { checkTransparencyOptions, type TransparencyOptions } from '../witness/signing.js'
import { type AuditListener, auditSigning } from './audit.js'
import { signBundle } from './bundle/sign.js'
import { signLegacy } from './legacy/sign.js'
import { resolveDescriptor, resolveDigest } from './resolve.js'

/**
 * The two storage forms of image signatures: `bundle` (cosign v3 default: Sigstore bundle v0.3 as an OCI 1.1
 * referrer) and `legacy` (cosign v1/v2: simple-signing payload in the `.sig` tag).
 *
 * Exported from `countersign/sign`.
 */
export type SignatureFormat = 'bundle' | 'legacy'

/**
 * Options for {@link signImage}.
 *
 * Exported from `countersign/sign`.
 */
export interface SignImageOptions extends StoreCallOptions, TransparencyOptions {
  /** Where the image and its signatures live: a registry client or an OCI layout. */
  readonly store: OCIStore
  /** Storage form; default `bundle`, as cosign v3 (`--new-bundle-format=false` → `legacy`). */
  readonly format?: SignatureFormat
  /** Keep signatures in another repository (cosign's `COSIGN_REPOSITORY`). */
  readonly signatureRepository?: Repository
  /** `-a key=value` annotations: the payload's `optional` (legacy) or the statement subject's `annotations` (bundle). */
  readonly annotations?: Readonly<Record<string, string>>
  /** Legacy form: override the payload's `docker-reference` (default: `registry/repository` of `ref`). */
  readonly identity?: string
  /** Legacy form: Docker schema 2 media types (cosign's `COSIGN_DOCKER_MEDIA_TYPES=1`). */
  readonly dockerMediaTypes?: boolean
  /** Creation time: the bundle referrer's `org.opencontainers.image.created`, or the legacy image's `created`. */
  readonly created?: Date
  /** Receives warnings (e.g. signing by tag). */
  readonly onWarning?: (message: string) => void
  /** Receives one audit event when the call settles (one per call, also with `recursive`). */
  readonly onAudit?: AuditListener
  /**
   * For an image index, also sign every platform manifest it lists (and, for nested indexes, theirs), as cosign's
   * `sign --recursive`; the index itself is always signed, first. Default false: only the given digest.
   */
  readonly recursive?: boolean
}

/**
 * What {@link signImage} did.
 *
 * Exported from `countersign/sign`.
 */
export interface SignImageResult {
  /** Which storage form was written. */
  readonly format: SignatureFormat
  /** The signed manifest digest. */
  readonly digest: string
  /** Where the signature went: the `.sig` tag (legacy) or the referrer manifest by digest (bundle). */
  readonly signatureReference: Reference
  /** The exact bytes signed: the simple-signing payload (legacy) or the in-toto statement (bundle, DSSE payload). */
  readonly payload: Uint8Array
  /** The signature (DER for ECDSA); for bundles, over the DSSE PAE of `payload`. */
  readonly signature: Uint8Array
  /** True when an equal signature by the same key already existed, so nothing was written (legacy only). */
  readonly deduplicated: boolean
  /** Digest of the signature manifest now in the registry. */
  readonly signatureManifestDigest: string
  /** The bundle JSON as stored (bundle form). */
  readonly bundle?: Uint8Array
  /** What the transparency logs and timestamp authorities vouched for (verified), when any were used. */
  readonly witnessed?: WitnessResult
  /** With `recursive`: the results for every manifest below the index, parents before their children. */
  readonly children?: readonly SignImageResult[]
}

/**
 * Sign an image with any {@link Signer} (a key, a KMS, or keyless through Fulcio). Tags are resolved to a digest first (with a warning). The bundle form writes a new referrer
 * manifest per signature; the legacy form appends to the `.sig` image with cosign's dedupe rules. Blobs are always
 * uploaded before the manifest, and concurrent signers do not lose each other's signatures (see the two forms).
 *
 * With `tlogUpload` (the default) the signature is logged in `witness.transparencyLogs` and timestamped by
 * `witness.timestampAuthorities` before anything is written; every answer is verified against `witness.trustedRoot`
 * and lands in the bundle (bundle form) or the layer annotations cosign uses (legacy form).
 *
 * @throws {CountersignError} ERR_TLOG_REQUIRED without `witness.transparencyLogs` unless `tlogUpload: false`;
 *   service and verification errors of the witness step (nothing is written then); ERR_OCI_NOT_FOUND (`details.target`
 *   `image`) when the image is missing.
 *
 * @example
 * ```ts
 * import { signImage } from 'countersign/sign'
 * import { createRegistryClient, parseReference } from 'countersign/oci'
 * import { createKeySigner } from 'countersign/signers'
 * const store = createRegistryClient()
 * await signImage(parseReference('ghcr.io/acme/app@sha256:…'), createKeySigner(key), { store, tlogUpload: false })
 * ```
 *
 * Exported from `countersign/sign`.
 */
export async function signImage(ref: Reference, signer: Signer, options: SignImageOptions): Promise<SignImageResult> {
  return auditSigning(options.onAudit, 'sign', ref, signer, () => signUnaudited(ref, signer, options))
}

async function signUnaudited(ref: Reference, signer: Signer, options: SignImageOptions): Promise<SignImageResult> {
  checkTransparencyOptions(options)
  const call = options.signal ? { signal: options.signal } : {}
  if (options.recursive === true) return signTree(ref, signer, options, call, 0)
  if (options.format === 'legacy') {
    return signLegacy(ref, await resolveDigest(ref, options.store, options.onWarning, call), signer, options, call)
  }
  const subject = await resolveDescriptor(ref, options.store, options.onWarning, call)
  return signBundle(ref, subject, signer, options, call)
}

/** Indexes nested deeper than this are refused under `recursive` (a registry could serve an endless chain). */
const MAX_INDEX_DEPTH = 8

/** `recursive` signing: this manifest first, then (for an index) each child manifest by digest, depth first. */
async function signTree(
  ref: Reference,
  signer: Signer,
  options: SignImageOptions,
  call: StoreCallOptions,
  depth: number,
): Promise<SignImageResult> {
  const subject = await resolveDescriptor(ref, options.store, depth === 0 ? options.onWarning : undefined, call)
  const own =
    options.format === 'legacy'
      ? await signLegacy(ref, subject.digest, signer, options, call)
      : await signBundle(ref, subject, signer, options, call)
  if (!isIndexMediaType(subject.mediaType)) return own
  if (depth >= MAX_INDEX_DEPTH) {
    throw new CountersignError('ERR_OCI_MANIFEST_INVALID', `image indexes nested deeper than ${MAX_INDEX_DEPTH}`)
  }
  const { manifest } = await options.store.fetchManifest({ ...repoOf(ref), digest: subject.digest }, call)
  const children: SignImageResult[] = []
  if (isImageIndex(manifest)) {
    for (const child of manifest.manifests) {
      if (!isManifestMediaType(child.mediaType) && !isIndexMediaType(child.mediaType)) continue
      const result = await signTree({ ...repoOf(ref), digest: child.digest }, signer, options, call, depth + 1)
      children.push(result, ...(result.children ?? []))
    }
  }
  return { ...own, children }
}

function repoOf(ref: Reference): Repository {
  return { registry: ref.registry, repository: ref.repository }
}

export type { TransparencyOptions } from '../witness/signing.js'
export type { AuditEvent, AuditListener } from './audit.js'

/**
 * Sign container images, by key, in either storage form cosign uses: a Sigstore bundle stored as an OCI 1.1
 * referrer (cosign v3's default) or the legacy simple-signing layer of the `sha256-<hex>.sig` image.
 * @module
 */
import { CountersignError } from './errors.js'
import type { OCIStore, Reference, Repository, StoreCallOptions } from './oci/types.js'
import { resolveDescriptor, resolveDigest } from './resolve.js'
import { signBundle } from './sign-bundle.js'
import { signLegacy } from './sign-legacy.js'
import type { Signer } from './signers/signer.js'

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
export interface SignImageOptions extends StoreCallOptions {
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
  /**
   * Upload to a transparency log. Rekor support arrives with keyless signing; until then this must be
   * `false`, as with cosign's `--tlog-upload=false`. Default `true`.
   */
  readonly tlogUpload?: boolean
  /** Legacy form: Docker schema 2 media types (cosign's `COSIGN_DOCKER_MEDIA_TYPES=1`). */
  readonly dockerMediaTypes?: boolean
  /** Creation time: the bundle referrer's `org.opencontainers.image.created`, or the legacy image's `created`. */
  readonly created?: Date
  /** Receives warnings (e.g. signing by tag). */
  readonly onWarning?: (message: string) => void
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
}

/**
 * Sign an image by key. Tags are resolved to a digest first (with a warning). The bundle form writes a new referrer
 * manifest per signature; the legacy form appends to the `.sig` image with cosign's dedupe rules. Blobs are always
 * uploaded before the manifest, and concurrent signers do not lose each other's signatures (see the two forms).
 *
 * @throws {CountersignError} ERR_TLOG_REQUIRED unless `tlogUpload: false`; ERR_OCI_NOT_FOUND (`details.target`
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
  if (options.tlogUpload !== false) {
    throw new CountersignError(
      'ERR_TLOG_REQUIRED',
      'uploading to the transparency log is not supported yet; pass --tlog-upload=false (tlogUpload: false) to sign without it',
    )
  }
  const call = options.signal ? { signal: options.signal } : {}
  if (options.format === 'legacy') {
    return signLegacy(ref, await resolveDigest(ref, options.store, options.onWarning, call), signer, options, call)
  }
  const subject = await resolveDescriptor(ref, options.store, options.onWarning, call)
  return signBundle(ref, subject, signer, options, call)
}

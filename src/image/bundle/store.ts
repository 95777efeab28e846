/**
 * Store a signed DSSE envelope the way cosign v3 does for both `sign` and `attest`: a Sigstore bundle v0.3 with the
 * signer's key material, pushed as an OCI 1.1 referrer of the image (docs/formats.md §Bundle referrers). When the
 * registry fails once the referrer push began, the image's referrers are listed again and decide the outcome.
 * @module
 */
import { serializeBundle } from '../../bundle/bundle.js'
import { bundleVerificationMaterial } from '../../bundle/verification-material.js'
import type { KeyMaterial } from '../../contracts/signer.js'
import type { WitnessResult } from '../../contracts/witness-result.js'
import type { DSSEEnvelope } from '../../dsse/envelope.js'
import { sha256Digest } from '../../oci/digest.js'
import { BUNDLE_V03_MEDIA_TYPE, OCI_EMPTY_MEDIA_TYPE, OCI_IMAGE_MANIFEST_MEDIA_TYPE } from '../../oci/media-types.js'
import { listReferrers, pushReferrer } from '../../oci/referrers.js'
import type { Descriptor, OCIStore, Repository, StoreCallOptions } from '../../oci/types.js'
import {
  buildBundleReferrerManifest,
  bundleReferrerAnnotations,
  EMPTY_JSON_BLOB,
} from '../../signature/bundle-referrer.js'
import { isRegistryUnavailable } from '../registry-failure.js'

/** Where the bundle went: its bytes, and the referrer manifest's digest in `target`. */
export interface StoredDSSEBundle {
  readonly bundle: Uint8Array
  readonly manifestDigest: string
}

/**
 * Serialise `envelope` as a bundle and push it (blobs first, then the referrer manifest) into `target`. When the
 * registry fails (network, 429/5xx after retries) while the referrer is pushed or indexed, the referrers of
 * `subject` are listed again: if ours is there, it is stored (with `onWarning`); otherwise the failure is thrown.
 */
export async function storeDSSEBundle(
  store: OCIStore,
  target: Repository,
  subject: Descriptor,
  envelope: DSSEEnvelope,
  keyMaterial: KeyMaterial,
  predicateType: string,
  created: Date,
  call: StoreCallOptions,
  witnessed?: WitnessResult,
  onWarning?: (message: string) => void,
): Promise<StoredDSSEBundle> {
  const bundle = serializeBundle({
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: bundleVerificationMaterial(keyMaterial),
    tlogEntries: witnessed?.tlogEntries ?? [],
    ...(witnessed?.timestampVerificationData ? { timestampVerificationData: witnessed.timestampVerificationData } : {}),
    content: { type: 'dsseEnvelope', envelope },
  })
  const [emptyConfig, bundleDescriptor] = await Promise.all([
    store.pushBlob(target, EMPTY_JSON_BLOB, OCI_EMPTY_MEDIA_TYPE, call),
    store.pushBlob(target, bundle, BUNDLE_V03_MEDIA_TYPE, call),
  ])
  const subjectDescriptor = { mediaType: subject.mediaType, size: subject.size, digest: subject.digest }
  const manifest = buildBundleReferrerManifest({
    bundle: bundleDescriptor,
    emptyConfig,
    subject: subjectDescriptor,
    predicateType,
    created,
  })
  try {
    const pushed = await pushReferrer(store, target, manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE, {
      subject: subjectDescriptor,
      artifactType: BUNDLE_V03_MEDIA_TYPE,
      annotations: bundleReferrerAnnotations(predicateType, created),
      ...(onWarning !== undefined ? { onWarning } : {}),
      ...call,
    })
    return { bundle, manifestDigest: pushed.digest }
  } catch (e) {
    if (!isRegistryUnavailable(e)) throw e
    const manifestDigest = await sha256Digest(manifest)
    if (!(await isListed(store, target, subject.digest, manifestDigest, call))) throw e
    onWarning?.(
      `the registry failed while storing the bundle referrer ${manifestDigest} (${(e as Error).message}); the image's referrers list it, so it is stored`,
    )
    return { bundle, manifestDigest }
  }
}

/** Whether the referrers of `subjectDigest` in `target` list `digest`; false when they cannot be listed either. */
async function isListed(
  store: OCIStore,
  target: Repository,
  subjectDigest: string,
  digest: string,
  call: StoreCallOptions,
): Promise<boolean> {
  try {
    return (await listReferrers(store, target, subjectDigest, call)).some((d) => d.digest === digest)
  } catch {
    return false
  }
}

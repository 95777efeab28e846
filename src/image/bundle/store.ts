/**
 * Store a signed DSSE envelope the way cosign v3 does for both `sign` and `attest`: a Sigstore bundle v0.3 with the
 * signer's key material, pushed as an OCI 1.1 referrer of the image (docs/formats.md §Bundle referrers).
 * @module
 */
import { serializeBundle } from '../../bundle/bundle.js'
import { bundleVerificationMaterial } from '../../bundle/verification-material.js'
import type { KeyMaterial } from '../../contracts/signer.js'
import type { WitnessResult } from '../../contracts/witness-result.js'
import type { DSSEEnvelope } from '../../dsse/envelope.js'
import { BUNDLE_V03_MEDIA_TYPE, OCI_EMPTY_MEDIA_TYPE, OCI_IMAGE_MANIFEST_MEDIA_TYPE } from '../../oci/media-types.js'
import { pushReferrer } from '../../oci/referrers.js'
import type { Descriptor, OCIStore, Repository, StoreCallOptions } from '../../oci/types.js'
import {
  buildBundleReferrerManifest,
  bundleReferrerAnnotations,
  EMPTY_JSON_BLOB,
} from '../../signature/bundle-referrer.js'

/** Where the bundle went: its bytes, and the referrer manifest's digest in `target`. */
export interface StoredDSSEBundle {
  readonly bundle: Uint8Array
  readonly manifestDigest: string
}

/** Serialise `envelope` as a bundle and push it (blobs first, then the referrer manifest) into `target`. */
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
  const pushed = await pushReferrer(store, target, manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE, {
    subject: subjectDescriptor,
    artifactType: BUNDLE_V03_MEDIA_TYPE,
    annotations: bundleReferrerAnnotations(predicateType, created),
    ...call,
  })
  return { bundle, manifestDigest: pushed.digest }
}

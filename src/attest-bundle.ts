/**
 * Bundle-form attestations (cosign v3 default, cosign.md §2.6): the signed DSSE envelope in a Sigstore bundle v0.3,
 * stored as an OCI 1.1 referrer of the image annotated with the predicate type.
 * @module
 */
import type { AttestImageOptions, AttestImageResult, SignedAttestation } from './attest.js'
import { BUNDLE_V03_MEDIA_TYPE, type BundleVerificationMaterial, serializeBundle } from './bundle/bundle.js'
import { keyHint } from './keys/key-info.js'
import { parsePublicKey } from './keys/parse-public.js'
import { OCI_EMPTY_MEDIA_TYPE, OCI_IMAGE_MANIFEST_MEDIA_TYPE } from './oci/media-types.js'
import { pushReferrer } from './oci/referrers.js'
import type { Descriptor, Reference, Repository, StoreCallOptions } from './oci/types.js'
import { buildBundleReferrerManifest, bundleReferrerAnnotations, EMPTY_JSON_BLOB } from './signature/bundle-referrer.js'
import type { KeyMaterial, Signer } from './signers/signer.js'

/**
 * Store `signed` as a bundle referrer of `subject`. Each attestation is its own manifest, so concurrent writers
 * never overwrite each other; only the referrers fallback index is read-modify-write, which `pushReferrer` repairs.
 * Like cosign v3, nothing is replaced: older attestations of the same type stay referrers.
 */
export async function attestBundle(
  ref: Reference,
  subject: Descriptor,
  signed: SignedAttestation,
  signer: Signer,
  options: AttestImageOptions,
  call: StoreCallOptions,
): Promise<AttestImageResult> {
  const { store } = options
  const bundle = serializeBundle({
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: material(await signer.keyMaterial(call)),
    tlogEntries: [],
    content: { type: 'dsseEnvelope', envelope: signed.envelope },
  })
  const target: Repository = options.signatureRepository ?? ref
  const [emptyConfig, bundleDescriptor] = await Promise.all([
    store.pushBlob(target, EMPTY_JSON_BLOB, OCI_EMPTY_MEDIA_TYPE, call),
    store.pushBlob(target, bundle, BUNDLE_V03_MEDIA_TYPE, call),
  ])
  const subjectDescriptor = { mediaType: subject.mediaType, size: subject.size, digest: subject.digest }
  const created = options.created ?? new Date()
  const manifest = buildBundleReferrerManifest({
    bundle: bundleDescriptor,
    emptyConfig,
    subject: subjectDescriptor,
    predicateType: signed.predicateType,
    created,
  })
  const pushed = await pushReferrer(store, target, manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE, {
    subject: subjectDescriptor,
    artifactType: BUNDLE_V03_MEDIA_TYPE,
    annotations: bundleReferrerAnnotations(signed.predicateType, created),
    ...call,
  })
  return {
    format: 'bundle',
    digest: subject.digest,
    predicateType: signed.predicateType,
    statement: signed.statement,
    envelope: signed.envelope,
    attestationReference: { registry: target.registry, repository: target.repository, digest: pushed.digest },
    attestationManifestDigest: pushed.digest,
    bundle,
  }
}

/** The bundle's verification material: the key hint, or the leaf certificate (cosign writes only the leaf). */
function material(m: KeyMaterial): BundleVerificationMaterial {
  if (m.type === 'public-key') return { type: 'publicKey', hint: m.hint ?? keyHint(parsePublicKey(m.spki)) }
  return { type: 'certificate', certificate: m.chain[0]! }
}

/**
 * Bundle-form signing (cosign v3 default, cosign.md §2.6): an in-toto statement about the image digest, signed as
 * DSSE, wrapped in a Sigstore bundle v0.3 and stored as an OCI 1.1 referrer of the image.
 * @module
 */
import { COSIGN_SIGN_PREDICATE_TYPE, createStatement } from './attestation/statement.js'
import { BUNDLE_V03_MEDIA_TYPE, type BundleVerificationMaterial, serializeBundle } from './bundle/bundle.js'
import { IN_TOTO_PAYLOAD_TYPE } from './dsse/envelope.js'
import { signDSSE } from './dsse/sign.js'
import { keyHint } from './keys/key-info.js'
import { parsePublicKey } from './keys/parse-public.js'
import { OCI_EMPTY_MEDIA_TYPE, OCI_IMAGE_MANIFEST_MEDIA_TYPE } from './oci/media-types.js'
import { pushReferrer } from './oci/referrers.js'
import type { Descriptor, Reference, Repository, StoreCallOptions } from './oci/types.js'
import type { SignImageOptions, SignImageResult } from './sign.js'
import { buildBundleReferrerManifest, bundleReferrerAnnotations, EMPTY_JSON_BLOB } from './signature/bundle-referrer.js'
import type { KeyMaterial, Signer } from './signers/signer.js'

/**
 * Sign `subject` (the image manifest's descriptor) in the bundle form. Each signature is its own manifest, so
 * concurrent signers never overwrite each other; only the referrers fallback index (registries without the
 * Referrers API) is read-modify-write, and `pushReferrer` re-reads and repairs it.
 */
export async function signBundle(
  ref: Reference,
  subject: Descriptor,
  signer: Signer,
  options: SignImageOptions,
  call: StoreCallOptions,
): Promise<SignImageResult> {
  const { store } = options
  const hex = subject.digest.slice(subject.digest.indexOf(':') + 1)
  const statement = createStatement(
    [
      {
        digest: { [subject.digest.slice(0, subject.digest.indexOf(':'))]: hex },
        annotations: options.annotations ?? {},
      },
    ],
    COSIGN_SIGN_PREDICATE_TYPE,
    {},
  )
  const envelope = await signDSSE(statement, IN_TOTO_PAYLOAD_TYPE, signer, call)
  const bundle = serializeBundle({
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: material(await signer.keyMaterial(call)),
    tlogEntries: [],
    content: { type: 'dsseEnvelope', envelope },
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
    predicateType: COSIGN_SIGN_PREDICATE_TYPE,
    created,
  })
  const pushed = await pushReferrer(store, target, manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE, {
    subject: subjectDescriptor,
    artifactType: BUNDLE_V03_MEDIA_TYPE,
    annotations: bundleReferrerAnnotations(COSIGN_SIGN_PREDICATE_TYPE, created),
    ...call,
  })
  return {
    format: 'bundle',
    digest: subject.digest,
    signatureReference: { registry: target.registry, repository: target.repository, digest: pushed.digest },
    payload: statement,
    signature: envelope.signatures[0]!.sig,
    deduplicated: false,
    signatureManifestDigest: pushed.digest,
    bundle,
  }
}

function material(m: KeyMaterial): BundleVerificationMaterial {
  if (m.type === 'public-key') return { type: 'publicKey', hint: m.hint ?? keyHint(parsePublicKey(m.spki)) }
  // cosign writes only the leaf for Fulcio certificates in v0.3 bundles.
  return { type: 'certificate', certificate: m.chain[0]! }
}

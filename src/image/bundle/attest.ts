/**
 * Bundle-form attestations (cosign v3 default, docs/formats.md §Bundle referrers): the signed DSSE envelope in a
 * Sigstore bundle v0.3, stored as an OCI 1.1 referrer of the image annotated with the predicate type.
 * @module
 */

import type { Signer } from '../../contracts/signer.js'
import type { Descriptor, Reference, Repository, StoreCallOptions } from '../../oci/types.js'
import type { AttestImageOptions, AttestImageResult, SignedAttestation } from '../attest.js'
import { storeDSSEBundle } from './store.js'

/**
 * Store `signed` as a bundle referrer of `subject`. Each attestation is its own manifest, so concurrent writers
 * never overwrite each other; only the referrers fallback index is read-modify-write, which `pushReferrer` repairs.
 * Like cosign v3, nothing is replaced: older attestations of the same type stay referrers.
 */
export async function attestBundle(
  ref: Reference,
  subject: Descriptor,
  signed: SignedAttestation,
  _signer: Signer,
  options: AttestImageOptions,
  call: StoreCallOptions,
): Promise<AttestImageResult> {
  const { store } = options
  const target: Repository = options.signatureRepository ?? ref
  const { bundle, manifestDigest } = await storeDSSEBundle(
    store,
    target,
    subject,
    signed.envelope,
    signed.material,
    signed.predicateType,
    options.created ?? new Date(),
    call,
    signed.witnessed,
    options.onWarning,
  )
  return {
    format: 'bundle',
    digest: subject.digest,
    predicateType: signed.predicateType,
    statement: signed.statement,
    envelope: signed.envelope,
    attestationReference: { registry: target.registry, repository: target.repository, digest: manifestDigest },
    attestationManifestDigest: manifestDigest,
    bundle,
    ...(signed.witnessed ? { witnessed: signed.witnessed } : {}),
  }
}

/**
 * Bundle-form signing (cosign v3 default, docs/formats.md §Bundle referrers): an in-toto statement about the image
 * digest, signed as DSSE, wrapped in a Sigstore bundle v0.3 and stored as an OCI 1.1 referrer of the image.
 * @module
 */

import { COSIGN_SIGN_PREDICATE_TYPE, createStatement } from '../../attestation/statement.js'
import type { Signer } from '../../contracts/signer.js'
import { signDSSE } from '../../dsse/sign.js'
import { IN_TOTO_PAYLOAD_TYPE } from '../../oci/media-types.js'
import type { Descriptor, Reference, Repository, StoreCallOptions } from '../../oci/types.js'
import { witnessForSigning } from '../../witness/signing.js'
import type { SignImageOptions, SignImageResult } from '../sign.js'
import { storeDSSEBundle } from './store.js'

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
  const material = await signer.keyMaterial(call)
  const content = { type: 'dsseEnvelope', envelope } as const
  const witnessed = await witnessForSigning(content, material, signer.algorithm, options, call, 'dsse')
  const target: Repository = options.signatureRepository ?? ref
  const { bundle, manifestDigest } = await storeDSSEBundle(
    store,
    target,
    subject,
    envelope,
    material,
    COSIGN_SIGN_PREDICATE_TYPE,
    options.created ?? new Date(),
    call,
    witnessed,
    options.onWarning,
  )
  return {
    format: 'bundle',
    digest: subject.digest,
    signatureReference: { registry: target.registry, repository: target.repository, digest: manifestDigest },
    payload: statement,
    signature: envelope.signatures[0]!.sig,
    deduplicated: false,
    signatureManifestDigest: manifestDigest,
    bundle,
    ...(witnessed ? { witnessed } : {}),
  }
}

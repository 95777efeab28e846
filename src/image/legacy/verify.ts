/**
 * Legacy (`.sig` tag) verification (docs/formats.md §Legacy-format checks): by key, or with the Sigstore annotations
 * (SET, certificate, chain, RFC 3161) for keyless and key-with-log verification.
 * @module
 */
import { isCountersignError } from '../../errors.js'
import { fromBase64 } from '../../internal/bytes.js'
import { mapLimit } from '../../internal/concurrency.js'
import type { VerifyOptions } from '../../keys/types.js'
import { verifySignature } from '../../keys/verify.js'
import type { Descriptor, Reference, StoreCallOptions } from '../../oci/types.js'
import { hasAnnotations, SIGNATURE_ANNOTATION } from '../../signature/annotations.js'
import { attachmentReference } from '../../signature/cosign-tags.js'
import { signatureLayers } from '../../signature/signature-image.js'
import { parseSimpleSigningPayload, type SimpleSigningPayload } from '../../signature/simple-signing.js'
import { verificationMode } from '../../verifier/sigstore-check.js'
import { fetchLayerOrReason } from '../registry-failure.js'
import { checkSigner } from '../signer-check.js'
import { DEFAULT_MAX_PAYLOAD_BYTES, type SignatureCheck, type VerifyImageOptions } from '../verify.js'
import { checkLegacySigstore } from './sigstore-annotations.js'

/** Check every layer of the `.sig` image of `digest`; `undefined` when there is no `.sig` tag. */
export async function checkLegacySignatures(
  ref: Reference,
  digest: string,
  options: VerifyImageOptions,
  call: StoreCallOptions,
): Promise<{ readonly sigRef: Reference; readonly checks: readonly SignatureCheck[] } | undefined> {
  const sigRef = attachmentReference(ref, digest, 'sig', options.signatureRepository)
  let layers: readonly Descriptor[]
  try {
    layers = signatureLayers((await options.store.fetchManifest(sigRef, call)).manifest)
  } catch (e) {
    if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) return undefined
    throw e
  }
  // Bounded like cosign's --max-workers (default 10): a .sig may hold up to 1000 layers of up to 128 MiB each.
  const checks = await mapLimit(layers, options.maxWorkers ?? 10, (layer) =>
    checkLayer(layer, digest, sigRef, options, call),
  )
  return { sigRef, checks }
}

async function checkLayer(
  layer: Descriptor,
  digest: string,
  sigRef: Reference,
  options: VerifyImageOptions,
  call: StoreCallOptions,
): Promise<SignatureCheck> {
  const fail = (reason: string, found?: Partial<SignatureCheck>): SignatureCheck => ({
    format: 'legacy',
    layer,
    ...found,
    verified: false,
    reasons: [reason],
  })
  const sigB64 = layer.annotations?.[SIGNATURE_ANNOTATION]
  if (!sigB64) return fail('signature annotation missing')
  let signature: Uint8Array
  try {
    // Go's base64 decoder skips \r and \n, so cosign accepts an annotation that kept a file's trailing newline.
    signature = fromBase64(sigB64.replace(/[\r\n]/g, ''))
  } catch {
    return fail('signature annotation is not valid base64')
  }
  const maxSize = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES
  const fetched = await fetchLayerOrReason(options.store, sigRef, layer, maxSize, call)
  if ('reason' in fetched) return fail(fetched.reason)
  const payload = fetched.bytes
  const verifyOptions: VerifyOptions = { hash: options.hash ?? 'sha256', ...options.verifyOptions }
  const who = await checkSigner(verificationMode(options), {
    byKey: async () => {
      for (let i = 0; i < options.keys.length; i++) {
        if (await verifySignature(options.keys[i]!, payload, signature, verifyOptions)) return i
      }
      return -1
    },
    keyFailure: 'invalid signature when validating ASN.1 encoded signature',
    bySigstore: (mode) =>
      checkLegacySigstore(layer.annotations, { type: 'simple-signing', payload, signature }, options, mode),
  })
  if ('reason' in who) return fail(who.reason, { payload })
  const signer = who.signer
  let claims: SimpleSigningPayload
  try {
    claims = parseSimpleSigningPayload(payload)
  } catch (e) {
    return fail((e as Error).message, { payload, ...signer })
  }
  const found = { payload, claims, ...signer }
  const claimed = claims.critical.image['docker-manifest-digest']
  if (claimed !== digest) return fail(`invalid or missing digest in claim: ${claimed}`, found)
  if (!hasAnnotations(claims.optional, options.annotations)) return fail('missing or incorrect annotation', found)
  return { format: 'legacy', layer, ...found, verified: true, reasons: [] }
}

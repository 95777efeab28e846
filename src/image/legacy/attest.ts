/**
 * Legacy (`.att` tag) attestations (docs/formats.md §Legacy attestation image): the DSSE envelope JSON becomes a
 * layer of the attestation image at `sha256-<hex>.att`, appended to what is there or, with `replace`, replacing the
 * layers of the same predicate type (cosign `pkg/cosign/remote` ReplaceOp, `pkg/oci/mutate` ReplaceSignatures).
 * @module
 */

import { parseDSSEEnvelope, serializeDSSEEnvelopeBytes } from '../../dsse/envelope.js'
import { CountersignError } from '../../errors.js'
import { fromUtf8 } from '../../internal/bytes.js'
import { isJSONObject } from '../../internal/json.js'
import { sha256Digest } from '../../oci/digest.js'
import { DSSE_ENVELOPE_MEDIA_TYPE } from '../../oci/media-types.js'
import type { Descriptor, OCIStore, Reference, StoreCallOptions } from '../../oci/types.js'
import { SIGNATURE_ANNOTATION } from '../../signature/annotations.js'
import { attachmentReference } from '../../signature/cosign-tags.js'
import { legacyWitnessAnnotations } from '../../signature/witness-annotations.js'
import type { AttestImageOptions, AttestImageResult, SignedAttestation } from '../attest.js'
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../verify.js'
import { type AttachmentPlan, type AttachmentSnapshot, writeAttachmentImage } from './attachment-write.js'

/** Layer annotation naming the attestation's predicate type. */
export const PREDICATE_TYPE_ANNOTATION = 'predicateType'

/**
 * Add `signed` to the `.att` image of `digest`. cosign's dedupe never matches an attestation (their signature
 * annotation is empty), so every call adds a layer; with `replace` the result is the new layer followed by the
 * earlier layers of other predicate types, in a freshly built image (no history or `created` carried over).
 */
export async function attestLegacy(
  ref: Reference,
  digest: string,
  signed: SignedAttestation,
  options: AttestImageOptions,
  call: StoreCallOptions,
): Promise<AttestImageResult> {
  const { store } = options
  // cosign v3 writes json.Marshal of the protobuf envelope: payload, payloadType, signatures[{sig}].
  const envelopeBytes = serializeDSSEEnvelopeBytes(signed.envelope, 'v3')
  const attRef = attachmentReference(ref, digest, 'att', options.signatureRepository)
  const layer: Descriptor = {
    mediaType: DSSE_ENVELOPE_MEDIA_TYPE,
    size: envelopeBytes.length,
    digest: await sha256Digest(envelopeBytes),
    annotations: {
      [SIGNATURE_ANNOTATION]: '',
      [PREDICATE_TYPE_ANNOTATION]: signed.predicateType,
      ...legacyWitnessAnnotations(signed.material, signed.witnessed),
    },
  }
  await store.pushBlob(attRef, envelopeBytes, DSSE_ENVELOPE_MEDIA_TYPE, call)

  const typeCache = new Map<string, unknown>()
  let replaced = 0
  const plan = async (existing: AttachmentSnapshot | undefined): Promise<AttachmentPlan> => {
    if (!options.replace) {
      const created = options.created
        ? options.created.toISOString().replace(/\.\d{3}Z$/, 'Z')
        : existing?.config.created
      return {
        layers: [...(existing?.layers ?? []), layer],
        history: existing?.config.history ?? [],
        ...(created ? { created } : {}),
      }
    }
    const kept: Descriptor[] = []
    for (const l of existing?.layers ?? []) {
      if (!typeCache.has(l.digest)) typeCache.set(l.digest, await statementPredicateType(store, attRef, l, call))
      if (typeCache.get(l.digest) !== signed.predicateType) kept.push(l)
    }
    replaced = (existing?.layers.length ?? 0) - kept.length
    return { layers: [layer, ...kept], history: [] }
  }
  const manifestDigest = await writeAttachmentImage(store, attRef, {
    ...call,
    ...(options.dockerMediaTypes ? { dockerMediaTypes: true } : {}),
    plan,
    written: (layers) => layers.some((l) => l.digest === layer.digest),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  })
  return {
    format: 'legacy',
    digest,
    predicateType: signed.predicateType,
    statement: signed.statement,
    envelope: signed.envelope,
    attestationReference: attRef,
    attestationManifestDigest: manifestDigest,
    layer: envelopeBytes,
    ...(options.replace ? { replaced } : {}),
    ...(signed.witnessed ? { witnessed: signed.witnessed } : {}),
  }
}

/**
 * The `predicateType` of the statement in an existing `.att` layer, read from the envelope as cosign's ReplaceOp
 * reads it. Like cosign, a layer that cannot be read fails the whole `replace` rather than being dropped silently.
 */
async function statementPredicateType(
  store: OCIStore,
  ref: Reference,
  layer: Descriptor,
  call: StoreCallOptions,
): Promise<unknown> {
  const bytes = await store.fetchBlob(ref, layer.digest, { ...call, maxSize: DEFAULT_MAX_PAYLOAD_BYTES })
  let statement: unknown
  try {
    statement = JSON.parse(fromUtf8(parseDSSEEnvelope(bytes).payload, 'statement'))
  } catch (cause) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      `cannot replace: the .att layer ${layer.digest} is not a DSSE envelope holding a JSON statement`,
      { cause },
    )
  }
  if (!isJSONObject(statement) || !Object.hasOwn(statement, 'predicateType')) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      `cannot replace: could not find 'predicateType' in the statement of .att layer ${layer.digest}`,
    )
  }
  return statement.predicateType
}

/** DSSE envelopes: parse (both key orders cosign writes) and serialise. @module */
import { CountersignError } from '../errors.js'
import { fromBase64, fromUtf8, toBase64, utf8 } from '../internal/bytes.js'
import { goMarshal, goObject } from '../internal/go-json.js'
import { assertJSONShape, assertJSONText, MAX_JSON_DEPTH } from '../internal/json-shape.js'

/**
 * Most signatures read from one envelope. Each is tried against every key, so thousands of copies of one signature
 * made a 1 MB envelope cost seconds (issue 14); cosign, in-toto and Sigstore write one, multi-party envelopes a few.
 *
 * @example
 * ```ts
 * if (signatures.length > MAX_DSSE_SIGNATURES) throw new Error('too many signatures')
 * ```
 */
export const MAX_DSSE_SIGNATURES = 32

/** Largest envelope read from bytes: the registry client's blob limit (docs/formats.md §Input limits). */
const MAX_ENVELOPE_BYTES = 128 * 1024 * 1024
const LIMITS = { code: 'ERR_DSSE_INVALID', what: 'DSSE envelope', maxDepth: MAX_JSON_DEPTH } as const

/**
 * One DSSE signature.
 *
 * Exported from `countersign/dsse`.
 */
export interface DSSESignature {
  /** Raw signature bytes (DER for ECDSA). */
  readonly sig: Uint8Array
  readonly keyid?: string
}

/**
 * A DSSE envelope with its payload decoded. Signatures are checked over {@link dssePAE} of these exact bytes.
 *
 * Exported from `countersign/dsse`.
 */
export interface DSSEEnvelope {
  readonly payloadType: string
  readonly payload: Uint8Array
  readonly signatures: readonly DSSESignature[]
}

/**
 * Read an envelope from its JSON form (an object already parsed, or bytes). Either key order is accepted; payload
 * and signatures are standard or URL-safe base64, as go-securesystemslib accepts.
 *
 * @throws {CountersignError} ERR_DSSE_INVALID for a missing/ill-typed field or bad base64.
 * @example
 * ```ts
 * import { parseDSSEEnvelope } from 'countersign/dsse'
 * const env = parseDSSEEnvelope(bytes)
 * ```
 *
 * Exported from `countersign/dsse`.
 */
export function parseDSSEEnvelope(input: Uint8Array | unknown): DSSEEnvelope {
  let doc = input
  if (input instanceof Uint8Array) {
    assertJSONText(input, { ...LIMITS, maxBytes: MAX_ENVELOPE_BYTES })
    try {
      doc = JSON.parse(fromUtf8(input, 'DSSE envelope'))
    } catch (cause) {
      throw new CountersignError('ERR_DSSE_INVALID', 'DSSE envelope is not valid JSON', { cause })
    }
  }
  assertJSONShape(doc, LIMITS)
  const d = doc as { payloadType?: unknown; payload?: unknown; signatures?: unknown }
  if (typeof d !== 'object' || d === null || typeof d.payloadType !== 'string' || typeof d.payload !== 'string') {
    throw new CountersignError('ERR_DSSE_INVALID', 'DSSE envelope needs string payloadType and payload')
  }
  if (!Array.isArray(d.signatures)) throw new CountersignError('ERR_DSSE_INVALID', 'DSSE envelope has no signatures')
  if (d.signatures.length > MAX_DSSE_SIGNATURES) {
    throw new CountersignError(
      'ERR_DSSE_INVALID',
      `DSSE envelope has ${d.signatures.length} signatures (at most ${MAX_DSSE_SIGNATURES})`,
      { details: { reason: 'too-many-signatures' } },
    )
  }
  try {
    return {
      payloadType: d.payloadType,
      payload: fromBase64(d.payload),
      signatures: d.signatures.map((s: { sig?: unknown; keyid?: unknown }) => {
        if (typeof s?.sig !== 'string' || s.sig === '') {
          throw new CountersignError('ERR_DSSE_INVALID', 'DSSE signature must have a non-empty sig')
        }
        return { sig: fromBase64(s.sig), ...(typeof s.keyid === 'string' && s.keyid !== '' ? { keyid: s.keyid } : {}) }
      }),
    }
  } catch (cause) {
    if (cause instanceof CountersignError && cause.code === 'ERR_DSSE_INVALID') throw cause
    throw new CountersignError('ERR_DSSE_INVALID', 'DSSE envelope has invalid base64', { cause })
  }
}

/**
 * The envelope as JSON in Go struct order. `v3` (default) is what cosign v3 / sigstore-go write:
 * `{"payload","payloadType","signatures":[{"sig"}]}` with an empty keyid omitted; `v2` is go-securesystemslib's
 * `{"payloadType","payload","signatures":[{"keyid":"","sig"}]}` used by cosign v2's `.att` layers.
 *
 * @example
 * ```ts
 * import { serializeDSSEEnvelope } from 'countersign/dsse'
 * const json = serializeDSSEEnvelope(env) // string
 * ```
 *
 * Exported from `countersign/dsse`.
 */
export function serializeDSSEEnvelope(env: DSSEEnvelope, options?: { readonly order?: 'v3' | 'v2' }): string {
  return goMarshal(dsseEnvelopeJSON(env, options?.order ?? 'v3'), { escapeHTML: false })
}

/** The envelope as an ordered JSON value (for embedding in a bundle). */
export function dsseEnvelopeJSON(env: DSSEEnvelope, order: 'v3' | 'v2' = 'v3') {
  if (order === 'v2') {
    return goObject([
      ['payloadType', env.payloadType],
      ['payload', toBase64(env.payload)],
      [
        'signatures',
        env.signatures.map((s) =>
          goObject([
            ['keyid', s.keyid ?? ''],
            ['sig', toBase64(s.sig)],
          ]),
        ),
      ],
    ])
  }
  return goObject([
    ['payload', toBase64(env.payload)],
    ['payloadType', env.payloadType],
    [
      'signatures',
      env.signatures.map((s) =>
        goObject([
          ['sig', toBase64(s.sig)],
          ['keyid', s.keyid || undefined],
        ]),
      ),
    ],
  ])
}

/** Bytes of {@link serializeDSSEEnvelope}. */
export function serializeDSSEEnvelopeBytes(env: DSSEEnvelope, order: 'v3' | 'v2' = 'v3'): Uint8Array {
  return utf8(serializeDSSEEnvelope(env, { order }))
}

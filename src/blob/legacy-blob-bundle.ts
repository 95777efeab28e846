/**
 * cosign's older blob bundle file, `{"base64Signature":"…","cert":"…","rekorBundle":{…}}` (`pkg/cosign/fetch.go`
 * `LocalSignedPayload`), written by `sign-blob --bundle` before cosign v3 and by v3 with `--new-bundle-format=false`.
 * @module
 */
import { CountersignError } from '../errors.js'
import { fromUtf8, utf8 } from '../internal/bytes.js'
import { goMarshal, goObject } from '../internal/go-json.js'
import { isJSONObject } from '../internal/json.js'
import { assertJSONShape, assertJSONText, MAX_JSON_DEPTH } from '../internal/json-shape.js'

/**
 * cosign's older blob bundle, with its fields as stored.
 *
 * - `base64Signature`: the signature, standard base64.
 * - `cert`: base64 of a PEM block. cosign v2 writes the Fulcio certificate here (nothing for a key); cosign v3 with
 *   `--new-bundle-format=false` writes the signer's public key PEM when there is no certificate.
 * - `rekorBundle`: the Rekor entry (`SignedEntryTimestamp`, `Payload{body,integratedTime,logIndex,logID}`), kept as
 *   received; it is only read once transparency-log verification exists.
 *
 * Exported from `countersign/blob`.
 */
export interface LegacyBlobBundle {
  readonly base64Signature: string
  readonly cert?: string
  readonly rekorBundle?: unknown
}

/** Go's encoding/json matches field names case-insensitively when no exact match exists; so do we. */
function field(doc: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(doc, name)) return doc[name]
  const lower = name.toLowerCase()
  const key = Object.keys(doc).find((k) => k.toLowerCase() === lower)
  return key === undefined ? undefined : doc[key]
}

/** Largest bundle read from bytes or text, as `parseBundle` (docs/formats.md §Input limits). */
const MAX_BYTES = 128 * 1024 * 1024

/**
 * Parse cosign's older blob bundle from JSON bytes, text or an already parsed object.
 *
 * @param input - The bundle file contents.
 * @returns The fields as stored.
 * @throws {CountersignError} ERR_BUNDLE_INVALID when it is not JSON, not an object, has no non-empty string
 *   `base64Signature`, or has a `cert` that is not a string.
 * @example
 * ```ts
 * import { parseLegacyBlobBundle } from 'countersign/blob'
 * const { base64Signature } = parseLegacyBlobBundle(await readFile('artifact.bundle'))
 * ```
 *
 * Exported from `countersign/blob`.
 */
export function parseLegacyBlobBundle(input: Uint8Array | string | unknown): LegacyBlobBundle {
  let doc = input
  const limits = { code: 'ERR_BUNDLE_INVALID', what: 'bundle', maxDepth: MAX_JSON_DEPTH } as const
  if (input instanceof Uint8Array || typeof input === 'string') {
    assertJSONText(input, { ...limits, maxBytes: MAX_BYTES })
    try {
      doc = JSON.parse(typeof input === 'string' ? input : fromUtf8(input, 'bundle'))
    } catch (cause) {
      throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle is not valid JSON', { cause })
    }
  }
  if (!isJSONObject(doc)) throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle is not a JSON object')
  assertJSONShape(doc, limits)
  const sig = field(doc, 'base64Signature')
  if (typeof sig !== 'string' || sig === '') {
    throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle has no base64Signature')
  }
  const cert = field(doc, 'cert')
  if (cert !== undefined && cert !== null && typeof cert !== 'string') {
    throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle cert is not a string')
  }
  const rekorBundle = field(doc, 'rekorBundle')
  return {
    base64Signature: sig,
    ...(typeof cert === 'string' && cert !== '' ? { cert } : {}),
    ...(rekorBundle !== undefined && rekorBundle !== null ? { rekorBundle } : {}),
  }
}

/** Go's `RekorBundle` struct order, when the value has that shape; anything else is written as given. */
function rekorBundleJSON(value: unknown): unknown {
  if (!isJSONObject(value) || !isJSONObject(value.Payload)) return value
  const p = value.Payload
  return goObject([
    ['SignedEntryTimestamp', value.SignedEntryTimestamp],
    [
      'Payload',
      goObject([
        ['body', p.body],
        ['integratedTime', p.integratedTime],
        ['logIndex', p.logIndex],
        ['logID', p.logID],
      ]),
    ],
  ])
}

/**
 * Serialise cosign's older blob bundle exactly as Go's `json.Marshal` of `LocalSignedPayload` does: fields
 * `base64Signature`, `cert` (omitted when empty), `rekorBundle` (omitted when absent), compact, HTML-safe escaping.
 *
 * @param bundle - The fields; `cert` is base64 of a PEM block (see {@link LegacyBlobBundle}).
 * @returns The JSON bytes.
 * @example
 * ```ts
 * import { serializeLegacyBlobBundle } from 'countersign/blob'
 * import { publicKeyToPEM } from 'countersign/keys'
 * const pem = new TextEncoder().encode(publicKeyToPEM(key.publicKey))
 * const bytes = serializeLegacyBlobBundle({ base64Signature: b64(signature), cert: b64(pem) })
 * ```
 *
 * Exported from `countersign/blob`.
 */
export function serializeLegacyBlobBundle(bundle: LegacyBlobBundle): Uint8Array {
  if (typeof bundle?.base64Signature !== 'string') throw new TypeError('bundle.base64Signature must be a string')
  return utf8(
    goMarshal(
      goObject([
        ['base64Signature', bundle.base64Signature],
        ['cert', bundle.cert || undefined],
        ['rekorBundle', bundle.rekorBundle === undefined ? undefined : rekorBundleJSON(bundle.rekorBundle)],
      ]),
    ),
  )
}

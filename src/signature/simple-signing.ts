/** cosign's "simple signing" payload: build it byte-for-byte as cosign does, and parse it as cosign verify does. @module */
import { CountersignError } from '../errors.js'
import { fromUtf8, utf8 } from '../internal/bytes.js'
import { type GoJSONValue, goMarshal, goObject } from '../internal/go-json.js'
import { isJSONObject } from '../internal/json.js'

/**
 * `critical.type` of every cosign image signature payload.
 *
 * Exported from `countersign/signature`.
 */
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature'

/**
 * The parsed payload (see docs/formats.md §Simple signing payload). `optional` is `null` when the signer gave no
 * annotations.
 *
 * Exported from `countersign/signature`.
 */
export interface SimpleSigningPayload {
  readonly critical: {
    readonly identity: { readonly 'docker-reference': string }
    readonly image: { readonly 'docker-manifest-digest': string }
    readonly type: string
  }
  readonly optional: Readonly<Record<string, unknown>> | null
}

/**
 * Build the payload bytes cosign signs for an image: compact JSON in Go's key order, Go escaping, map keys sorted,
 * and `"optional":null` when there are no annotations.
 *
 * @param identity The `docker-reference`, normally `registry/repository` without tag or digest.
 * @param digest The image manifest digest, `sha256:<hex>`.
 * @param annotations Values for `optional` (cosign's `-a key=value` gives strings); empty or absent → `null`.
 *
 * @example
 * ```ts
 * import { createSimpleSigningPayload } from 'countersign/signature'
 * const bytes = createSimpleSigningPayload('index.docker.io/library/ubuntu', 'sha256:…', { env: 'prod' })
 * ```
 *
 * Exported from `countersign/signature`.
 */
export function createSimpleSigningPayload(
  identity: string,
  digest: string,
  annotations?: Readonly<Record<string, GoJSONValue>> | null,
): Uint8Array {
  const optional = annotations && Object.keys(annotations).length > 0 ? annotations : null
  return utf8(
    goMarshal(
      goObject([
        [
          'critical',
          goObject([
            ['identity', goObject([['docker-reference', identity]])],
            ['image', goObject([['docker-manifest-digest', digest]])],
            ['type', COSIGN_SIGNATURE_TYPE],
          ]),
        ],
        ['optional', optional],
      ]),
    ),
  )
}

/**
 * Parse a payload the way `cosign verify` reads it: the JSON must be an object with a string
 * `critical.image.docker-manifest-digest`; `type` and `docker-reference` are read but not enforced
 * (cosign's SimpleClaimVerifier does not check them either).
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when the bytes are not such a JSON object.
 *
 * @example
 * ```ts
 * import { parseSimpleSigningPayload } from 'countersign/signature'
 * const p = parseSimpleSigningPayload(layerBytes)
 * console.log(p.critical.image['docker-manifest-digest'])
 * ```
 *
 * Exported from `countersign/signature`.
 */
export function parseSimpleSigningPayload(bytes: Uint8Array): SimpleSigningPayload {
  let doc: unknown
  try {
    doc = JSON.parse(fromUtf8(bytes, 'signature payload'))
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', 'signature payload is not valid JSON', { cause })
  }
  const critical = isJSONObject(doc) ? doc.critical : undefined
  const image = isJSONObject(critical) ? critical.image : undefined
  const digest = isJSONObject(image) ? image['docker-manifest-digest'] : undefined
  if (!isJSONObject(doc) || !isJSONObject(critical) || typeof digest !== 'string') {
    throw new CountersignError('ERR_INVALID_INPUT', 'signature payload has no critical.image.docker-manifest-digest')
  }
  const identity = isJSONObject(critical.identity) ? critical.identity['docker-reference'] : undefined
  const optional = doc.optional
  return {
    critical: {
      identity: { 'docker-reference': typeof identity === 'string' ? identity : '' },
      image: { 'docker-manifest-digest': digest },
      type: typeof critical.type === 'string' ? critical.type : '',
    },
    optional: isJSONObject(optional) ? optional : null,
  }
}

/**
 * An RFC 3161 timestamp client: send a request for the digest of a signature, check that the answer is a granted
 * TimeStampResp for exactly that request, and return its DER for the bundle.
 *
 * Sigstore bundles store the whole TimeStampResp in `rfc3161Timestamps[].signedTimestamp`, not just the token:
 * sigstore-go (`pkg/sign/timestamping.go`) and sigstore-js (`packages/sign/src/witness/tsa`) both store the response
 * body as received, sigstore-go's verifier parses it with `timestamp.ParseResponse`, and the conformance Rekor v2
 * bundles carry `SEQUENCE { PKIStatusInfo, ContentInfo }`.
 *
 * @module
 */

import type { TimestampAuthorityClient } from '../contracts/timestamp-authority.js'
import { CountersignError } from '../errors.js'
import { clipReason, redactingErrors, type SecretSet } from '../http/redact.js'
import { createServiceHTTP, type ServiceClientOptions } from '../http/service.js'
import { equalBytes, fromUtf8 } from '../internal/bytes.js'
import {
  type DERNode,
  parseDER,
  readBitString,
  readChildren,
  readSequence,
  readSmallInteger,
  TAG,
} from '../internal/der.js'
import type { HashAlgorithm } from '../keys/types.js'
import { digest } from './algorithms.js'
import { parseTimestamp, type TimestampToken } from './parse.js'
import { DIGEST_OIDS, encodeTimestampRequest, encodeTimestampRequestJSON, type TimestampRequest } from './request.js'

/**
 * Options of {@link createTimestampClient}.
 *
 * Exported from `countersign/timestamp`.
 */
export interface TimestampClientOptions extends ServiceClientOptions {
  /** The full timestamping URL, e.g. `https://timestamp.sigstore.dev/api/v1/timestamp` (cosign `--timestamp-server-url`). */
  readonly url: string
  /**
   * Request form: `der` (default) posts a DER TimeStampReq as `application/timestamp-query`, which every RFC 3161
   * TSA and cosign use; `json` posts the JSON form only Sigstore's timestamp-authority accepts.
   */
  readonly format?: 'der' | 'json'
  /** The message imprint's hash (default `sha256`, as cosign and sigstore-go). */
  readonly hashAlgorithm?: HashAlgorithm
  /** Ask the TSA to embed its signing certificate (`certReq`, default true, as cosign). */
  readonly certificates?: boolean
  /** Request this TSA policy OID (`reqPolicy`); default none, the TSA picks. */
  readonly policy?: string
}

// A TimeStampResp with a chain of a few certificates is a few KiB.
const MAX_RESPONSE_BYTES = 256 * 1024
const DEFAULT_TIMEOUT_MS = 30_000

/** PKIStatus names (RFC 3161 §2.4.2 / RFC 4210). */
const STATUS_NAMES = [
  'granted',
  'grantedWithMods',
  'rejection',
  'waiting',
  'revocationWarning',
  'revocationNotification',
]
/** PKIFailureInfo bits RFC 3161 §2.4.2 defines. */
const FAILURE_BITS: Readonly<Record<number, string>> = {
  0: 'badAlg',
  2: 'badRequest',
  5: 'badDataFormat',
  14: 'timeNotAvailable',
  15: 'unacceptedPolicy',
  16: 'unacceptedExtension',
  17: 'addInfoNotAvailable',
  25: 'systemFailure',
}

function responseError(url: string, reason: string, message: string, cause?: unknown): never {
  throw new CountersignError('ERR_TIMESTAMP_HTTP', `timestamp authority ${url}: ${message}`, {
    details: { reason },
    ...(cause === undefined ? {} : { cause }),
  })
}

const CLIP = 200

function freeText(node: DERNode, secrets: SecretSet): string {
  const parts: string[] = []
  for (const s of readChildren(node)) {
    try {
      parts.push(fromUtf8(s.value))
    } catch {
      parts.push('?')
    }
  }
  // The TSA's text goes into a message: secrets redacted before it is cut, no control characters, bounded.
  return clipReason(parts.join('; '), secrets, CLIP, { trim: false })
}

/** The PKIStatusInfo of a TimeStampResp: status, the TSA's text and failure bits, read leniently for the message. */
function readStatus(
  der: Uint8Array,
  secrets: SecretSet,
): { status: number; text: string; failures: string[] } | undefined {
  const ctx = { code: 'ERR_TIMESTAMP_HTTP', what: 'TimeStampResp' } as const
  try {
    const [info] = readSequence(parseDER(der, ctx), 'TimeStampResp', ctx)
    if (info?.tag !== TAG.SEQUENCE) return undefined // not a TimeStampResp (a bare token starts with its OID)
    const [statusNode, ...rest] = readSequence(info, 'PKIStatusInfo', ctx)
    const status = readSmallInteger(statusNode, 'PKIStatus', ctx)
    let text = ''
    const failures: string[] = []
    for (const node of rest) {
      if (node.tag === TAG.SEQUENCE) text = freeText(node, secrets)
      else if (node.tag === TAG.BIT_STRING) {
        const { bytes } = readBitString(node, 'PKIFailureInfo', ctx)
        for (let bit = 0; bit < bytes.length * 8; bit++) {
          if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) failures.push(FAILURE_BITS[bit] ?? `bit ${bit}`)
        }
      }
    }
    return { status, text, failures }
  } catch {
    return undefined
  }
}

function randomNonce(bits: number): bigint {
  const bytes = new Uint8Array(8)
  globalThis.crypto.getRandomValues(bytes)
  let n = 0n
  for (const b of bytes) n = (n << 8n) | BigInt(b)
  n &= (1n << BigInt(bits)) - 1n
  return n === 0n ? 1n : n
}

/**
 * Check a TSA's answer against the request: a TimeStampResp (not a bare token), status granted, the same message
 * imprint (algorithm and digest) and the same nonce.
 */
function checkResponse(url: string, body: Uint8Array, request: TimestampRequest, secrets: SecretSet): TimestampToken {
  const status = readStatus(body, secrets)
  if (status === undefined) responseError(url, 'invalid-response', 'the answer is not an RFC 3161 TimeStampResp')
  if (status.status !== 0 && status.status !== 1) {
    const name = STATUS_NAMES[status.status] ?? `status ${status.status}`
    const why = [status.text, status.failures.join(', ')].filter((s) => s !== '').join(' – ')
    throw new CountersignError(
      'ERR_TIMESTAMP_HTTP',
      `timestamp authority ${url} refused the request (${name}${why ? `: ${why}` : ''})`,
      { details: { reason: 'status', status: status.status, failInfo: status.failures, statusString: status.text } },
    )
  }
  let token: TimestampToken
  try {
    token = parseTimestamp(body)
  } catch (cause) {
    responseError(url, 'invalid-response', 'the answer is not a valid RFC 3161 timestamp', cause)
  }
  if (token.messageImprint.hashAlgorithm !== DIGEST_OIDS[request.hashAlgorithm]) {
    responseError(url, 'imprint-mismatch', 'the timestamp is for another hash algorithm than requested')
  }
  if (!equalBytes(token.messageImprint.hash, request.digest)) {
    responseError(url, 'imprint-mismatch', 'the timestamp is for other data than requested')
  }
  // RFC 3161 §2.4.2: a nonce in the request must be repeated; a missing or different one may be a replayed answer.
  if (token.nonce !== request.nonce) responseError(url, 'nonce-mismatch', 'the timestamp does not repeat the nonce')
  return token
}

/**
 * An RFC 3161 timestamp authority client. `timestamp(signature)` asks for a timestamp over `H(signature)` with a
 * fresh random nonce (63 bits; 53 in the JSON form, whose numbers other JSON readers may round) and `certReq`,
 * checks the answer (HTTP status; PKIStatus granted — a refusal's error says the TSA's statusString and failInfo;
 * message imprint and nonce as requested) and returns the TimeStampResp DER as received, which is what Sigstore
 * bundles store. It does not check who signed it: verify the result with `verifyTimestamp` against a trusted root.
 *
 * @param options - TSA URL, request form, hash, certReq, and HTTP options (retries on 5xx/429, 30 s timeout).
 * @returns A {@link TimestampAuthorityClient}.
 * @throws {CountersignError} from `timestamp`: ERR_TIMESTAMP_HTTP (`details.status` for HTTP failures,
 *   `details.reason` `status` | `invalid-response` | `imprint-mismatch` | `nonce-mismatch` | `size-limit`),
 *   ERR_NETWORK, ERR_ABORTED.
 * @example
 * ```ts
 * import { createTimestampClient, verifyTimestamp } from 'countersign/timestamp'
 * const tsa = createTimestampClient({ url: 'https://timestamp.sigstore.dev/api/v1/timestamp' })
 * const der = await tsa.timestamp(signatureBytes)
 * await verifyTimestamp(der, signatureBytes, { trustedRoot })
 * ```
 *
 * Exported from `countersign/timestamp`.
 */
export function createTimestampClient(options: TimestampClientOptions): TimestampAuthorityClient {
  let url: string
  try {
    const u = new URL(options.url)
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError('not http(s)')
    url = u.href
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', 'timestamp authority URL must be an http(s) URL', { cause })
  }
  const format = options.format ?? 'der'
  const hashAlgorithm = options.hashAlgorithm ?? 'sha256'
  if (!Object.hasOwn(DIGEST_OIDS, hashAlgorithm)) {
    throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `unsupported timestamp hash ${String(hashAlgorithm)}`)
  }
  if (options.policy !== undefined && !/^[0-2](\.(0|[1-9][0-9]{0,15}))+$/.test(options.policy)) {
    throw new CountersignError('ERR_INVALID_INPUT', 'timestamp policy must be a dotted OID')
  }
  const http = createServiceHTTP('timestamp authority', 'ERR_TIMESTAMP_HTTP', {
    ...options,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  })
  const where = (() => {
    const u = new URL(url)
    return `${u.origin}${u.pathname}`
  })()

  async function timestamp(signature: Uint8Array, call: { readonly signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const request: TimestampRequest = {
      hashAlgorithm,
      digest: await digest(hashAlgorithm, signature),
      nonce: randomNonce(format === 'json' ? 53 : 63),
      certificates: options.certificates ?? true,
      ...(options.policy === undefined ? {} : { policy: options.policy }),
    }
    const res = await http({
      method: 'POST',
      url,
      ...(format === 'json'
        ? { body: encodeTimestampRequestJSON(request), contentType: 'application/json' }
        : { body: encodeTimestampRequest(request), contentType: 'application/timestamp-query' }),
      headers: { Accept: 'application/timestamp-reply' },
      maxBytes: MAX_RESPONSE_BYTES,
      ...(call.signal ? { signal: call.signal } : {}),
    })
    checkResponse(where, res.body, request, http.secrets)
    return res.body.slice()
  }

  return Object.freeze({ url, timestamp: redactingErrors(timestamp, http.secrets) })
}

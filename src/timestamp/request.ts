/**
 * RFC 3161 requests: the DER `TimeStampReq` a TSA takes as `application/timestamp-query`, and the JSON form
 * Sigstore's timestamp-authority also accepts (`timestamp-authority:pkg/api/timestamp.go`).
 *
 * @module
 */
import { toBase64, utf8 } from '../internal/bytes.js'
import { encodeInteger, encodeNull, encodeOctetString, encodeOID, encodeSequence } from '../internal/der.js'
import type { HashAlgorithm } from '../keys/types.js'

/** Digest OIDs (NIST hash algorithms, RFC 5758 §2). */
export const DIGEST_OIDS: Readonly<Record<HashAlgorithm, string>> = Object.freeze({
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
})

/** BOOLEAN TRUE: DER allows only 0xff. */
const DER_TRUE = Uint8Array.of(0x01, 0x01, 0xff)

/**
 * What a timestamp request asks for.
 *
 * Exported from `countersign/timestamp`.
 */
export interface TimestampRequest {
  readonly hashAlgorithm: HashAlgorithm
  /** The message imprint: the digest of the timestamped data (for Sigstore, of the signature bytes). */
  readonly digest: Uint8Array
  /** A positive nonce the response must repeat (RFC 3161 §2.4.2). */
  readonly nonce: bigint
  /** Ask the TSA to embed its signing certificate (`certReq`). */
  readonly certificates: boolean
  /** A TSA policy OID to request (`reqPolicy`); omitted by default. */
  readonly policy?: string
}

/**
 * Encode a DER `TimeStampReq` (RFC 3161 §2.4.1): version 1, messageImprint, reqPolicy when given, nonce, and
 * certReq only when true (DEFAULT FALSE is omitted in DER). The hash AlgorithmIdentifier carries NULL parameters,
 * as OpenSSL writes them.
 *
 * @param request - Digest, algorithm, nonce and options.
 * @returns The DER bytes to POST as `application/timestamp-query`.
 * @example
 * ```ts
 * import { encodeTimestampRequest } from 'countersign/timestamp'
 * const tsq = encodeTimestampRequest({ hashAlgorithm: 'sha256', digest, nonce: 42n, certificates: true })
 * ```
 *
 * Exported from `countersign/timestamp`.
 */
export function encodeTimestampRequest(request: TimestampRequest): Uint8Array {
  if (request.nonce <= 0n) throw new RangeError('nonce must be positive')
  return encodeSequence(
    encodeInteger(1),
    encodeSequence(
      encodeSequence(encodeOID(DIGEST_OIDS[request.hashAlgorithm]), encodeNull()),
      encodeOctetString(request.digest),
    ),
    ...(request.policy === undefined ? [] : [encodeOID(request.policy)]),
    encodeInteger(request.nonce),
    ...(request.certificates ? [DER_TRUE] : []),
  )
}

/**
 * Encode the JSON request of Sigstore's timestamp-authority (`POST /api/v1/timestamp`, `application/json`):
 * `{artifactHash, hashAlgorithm, nonce, certificates, tsaPolicyOID?}`. The nonce is a JSON number (a Go `big.Int`
 * on the server), written from the bigint so no precision is lost.
 *
 * @param request - Digest, algorithm, nonce and options.
 * @returns The UTF-8 JSON body.
 * @example
 * ```ts
 * import { encodeTimestampRequestJSON } from 'countersign/timestamp'
 * const body = encodeTimestampRequestJSON({ hashAlgorithm: 'sha256', digest, nonce: 42n, certificates: true })
 * ```
 *
 * Exported from `countersign/timestamp`.
 */
export function encodeTimestampRequestJSON(request: TimestampRequest): Uint8Array {
  if (request.nonce <= 0n) throw new RangeError('nonce must be positive')
  const fields = [
    `"artifactHash":${JSON.stringify(toBase64(request.digest))}`,
    `"hashAlgorithm":${JSON.stringify(request.hashAlgorithm)}`,
    `"nonce":${request.nonce.toString(10)}`,
    `"certificates":${request.certificates}`,
    ...(request.policy === undefined ? [] : [`"tsaPolicyOID":${JSON.stringify(request.policy)}`]),
  ]
  return utf8(`{${fields.join(',')}}`)
}

import type { AbortSignalLike } from '../internal/host-types.js'
/**
 * The timestamp-authority contract: what signing asks of an RFC 3161 TSA. The TSA client implements it;
 * `witnessSignature` drives it and verifies the tokens it returns before anything reaches a bundle.
 *
 * @module
 */

/**
 * An RFC 3161 timestamp authority.
 *
 * @example
 * ```ts
 * import { createTimestampClient } from 'countersign/timestamp'
 * const tsa: TimestampAuthorityClient = createTimestampClient({ url: 'https://timestamp.sigstore.dev/api/v1/timestamp' })
 * const der = await tsa.timestamp(signatureBytes)
 * ```
 *
 * Exported from `countersign/witness`.
 */
export interface TimestampAuthorityClient {
  /** The full timestamping URL. */
  readonly url: string
  /**
   * Timestamp `signature` (the message imprint is its hash) and return the DER bytes a bundle stores in
   * `timestampVerificationData.rfc3161Timestamps[].signedTimestamp`. The caller verifies them.
   */
  timestamp(signature: Uint8Array, options?: { readonly signal?: AbortSignalLike }): Promise<Uint8Array>
}

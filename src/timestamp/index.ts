/**
 * RFC 3161 timestamps as Sigstore uses them: parse a TimeStampResp or TimeStampToken, verify it against the
 * timestamped data (the signature bytes) and the timestamp authorities of a trusted root, and enforce a threshold;
 * request timestamps from a TSA (`createTimestampClient`, DER or Sigstore JSON requests).
 *
 * Exported from `countersign/timestamp`.
 * @module
 */
export type { TimestampFailureReason } from './algorithms.js'
export { createTimestampClient, type TimestampClientOptions } from './client.js'
export { parseTimestamp, type TimestampAttribute, type TimestampSigner, type TimestampToken } from './parse.js'
export { encodeTimestampRequest, encodeTimestampRequestJSON, type TimestampRequest } from './request.js'
export {
  MAX_TIMESTAMPS,
  type TimestampFailure,
  type VerifyTimestampsOptions,
  type VerifyTimestampsResult,
  verifyTimestamps,
} from './thresholds.js'
export { type VerifiedTimestamp, type VerifyTimestampOptions, verifyTimestamp } from './verify.js'

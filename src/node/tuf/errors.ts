/**
 * tuf-js failures as coded errors. tuf-js throws its own classes (and wraps some in a `RuntimeError` whose message
 * carries the original), so the class name is tried first, then the message — each refusal gets its own code.
 * @module
 */
import { CountersignError, type ErrorCode } from '../../errors.js'
import { clipText, MAX_ITEM_LENGTH } from '../../internal/bounded-text.js'

/** The code for a tuf-js error class name or message (`undefined`: not a TUF refusal). */
function codeFor(name: string, message: string): ErrorCode | undefined {
  switch (name) {
    case 'BadVersionError':
    case 'EqualVersionError':
      return 'ERR_TUF_ROLLBACK'
    case 'ExpiredMetadataError':
      return 'ERR_TUF_EXPIRED'
    case 'UnsignedMetadataError':
      return 'ERR_TUF_THRESHOLD'
    case 'LengthOrHashMismatchError':
    case 'DownloadLengthMismatchError':
      return 'ERR_TUF_TARGET_MISMATCH'
    case 'DownloadHTTPError':
    case 'DownloadError':
      return 'ERR_TUF_UNAVAILABLE'
  }
  // Wrapped errors keep only the message ("Unable to load snapshot metadata error Error: …").
  if (/is expired/.test(message)) return 'ERR_TUF_EXPIRED'
  if (/less than current version|Expected version \d+, got|does not match snapshot version|doesn't match/.test(message))
    return 'ERR_TUF_ROLLBACK'
  if (/was signed by \d+\/\d+ keys|failed to verify .* signature|no signature for key/.test(message))
    return 'ERR_TUF_THRESHOLD'
  if (/Expected (length|hash)|Max length reached/.test(message)) return 'ERR_TUF_TARGET_MISMATCH'
  if (/Failed to download/.test(message)) return 'ERR_TUF_UNAVAILABLE'
  return undefined
}

/**
 * `e` (thrown while updating from `mirror`) as a {@link CountersignError}: a coded error passes through; a tuf-js
 * refusal gets its code; anything else is `ERR_TUF_INVALID` (malformed metadata, wrong type, missing target).
 *
 * @example
 * ```ts
 * try { await updater.refresh() } catch (e) { throw tufError(e, mirror) }
 * ```
 */
export function tufError(e: unknown, mirror: string): CountersignError {
  if (e instanceof CountersignError) return e
  const error = e instanceof Error ? e : new Error(String(e))
  const name = error.constructor?.name ?? 'Error'
  const message = clipText(error.message, MAX_ITEM_LENGTH)
  const code = codeFor(name, error.message) ?? 'ERR_TUF_INVALID'
  return new CountersignError(code, `TUF repository ${mirror}: ${message}`, { cause: e, details: { mirror } })
}

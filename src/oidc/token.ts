/**
 * OIDC identity tokens as Sigstore uses them: decode the JWT claims, check expiry and audience, and find the
 * principal Fulcio's proof of possession signs. The JWT signature is NOT verified here: the token goes to Fulcio,
 * which verifies it against the issuer's keys; locally we only need its claims, and a forged token gains nothing
 * because Fulcio refuses it.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { fromBase64, fromUtf8 } from '../internal/bytes.js'

/**
 * The claims of an identity token, decoded and checked (not signature-verified).
 *
 * Exported from `countersign/oidc`.
 */
export interface IdentityToken {
  /** The token as given (whitespace trimmed). Secret: never log it. */
  readonly raw: string
  /** `iss`. */
  readonly issuer: string
  /** `sub`. */
  readonly subject: string
  /** `aud`, always as a list. */
  readonly audience: readonly string[]
  /** `exp`. */
  readonly expiresAt: Date
  /** `iat`. */
  readonly issuedAt: Date
  /** `email`, when the token carries one. */
  readonly email?: string
  /** `email_verified` (true/false, or the strings "true"/"false" some issuers send). */
  readonly emailVerified?: boolean
  /** Every claim of the payload. */
  readonly claims: Readonly<Record<string, unknown>>
  /**
   * What Fulcio's proof of possession signs: the email when the token has one (it must then be verified by the
   * issuer), otherwise `sub` (sigstore-go `oauthflow.SubjectFromUnverifiedToken`, sigstore-js `extractJWTSubject`).
   */
  readonly challenge: string
}

/**
 * Options for {@link parseIdentityToken}.
 *
 * Exported from `countersign/oidc`.
 */
export interface ParseIdentityTokenOptions {
  /** The audience the token must be issued for (default `sigstore`, what Fulcio requires). */
  readonly audience?: string
  /** The clock (default the current time). */
  readonly now?: Date
  /** Tolerance for `exp` and `nbf` against our clock (default 60 s). */
  readonly clockSkewSeconds?: number
}

/**
 * The longest token accepted: larger than any real ID token (GitHub's are 1–2 KiB), small enough to bound the work
 * a hostile value can cause.
 *
 * Exported from `countersign/oidc`.
 */
export const MAX_IDENTITY_TOKEN_LENGTH = 64 * 1024

function tokenError(message: string, reason: string): CountersignError {
  // The message names the problem and, at most, non-secret claim values; never the token or its payload.
  return new CountersignError('ERR_OIDC_TOKEN', `identity token ${message}`, { details: { reason } })
}

function decodeSegment(segment: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(segment)) throw tokenError(`${what} is not base64url`, 'malformed')
  let value: unknown
  try {
    value = JSON.parse(fromUtf8(fromBase64(segment)))
  } catch {
    throw tokenError(`${what} is not base64url-encoded JSON`, 'malformed')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw tokenError(`${what} is not a JSON object`, 'malformed')
  }
  return value as Record<string, unknown>
}

function numericDate(claims: Record<string, unknown>, name: string): Date {
  const v = claims[name]
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1e11) {
    throw tokenError(`has no valid "${name}" claim`, 'claims')
  }
  return new Date(v * 1000)
}

function nonEmptyString(claims: Record<string, unknown>, name: string): string {
  const v = claims[name]
  if (typeof v !== 'string' || v === '') throw tokenError(`has no "${name}" claim`, 'claims')
  return v
}

/** Go's `stringAsBool` in sigstore/sigstore accepts these spellings; anything else is not a boolean. */
function emailVerifiedClaim(v: unknown): boolean | undefined {
  if (v === true || v === 'true' || v === 'True') return true
  if (v === false || v === 'false' || v === 'False') return false
  return undefined
}

/**
 * Decode an OIDC identity token (a JWS compact JWT) and check what a Sigstore client can check without the
 * issuer's keys: the claims Fulcio requires (`iss`, `sub`, `aud`, `exp`, `iat`), the audience, expiry (and `nbf`),
 * and, when the token has an `email`, that the issuer verified it. The signature is not verified (Fulcio does).
 *
 * @param jwt - The token; surrounding whitespace (a trailing newline from a file) is ignored.
 * @param options - Expected audience, clock and skew.
 * @returns The decoded token with the proof-of-possession `challenge`.
 * @throws {CountersignError} ERR_OIDC_TOKEN (`details.reason`: `malformed`, `too-large`, `claims`, `audience`,
 *   `expired`, `not-yet-valid`, `email-unverified`); the message never contains the token.
 * @example
 * ```ts
 * import { parseIdentityToken } from 'countersign/oidc'
 * const token = parseIdentityToken(process.env.SIGSTORE_ID_TOKEN ?? '', { now: new Date() })
 * console.log(`signing as ${token.challenge} (${token.issuer})`)
 * ```
 *
 * Exported from `countersign/oidc`.
 */
export function parseIdentityToken(jwt: string, options: ParseIdentityTokenOptions = {}): IdentityToken {
  if (typeof jwt !== 'string') throw new TypeError('identity token must be a string')
  const audience = options.audience ?? 'sigstore'
  const now = options.now ?? new Date()
  const skew = (options.clockSkewSeconds ?? 60) * 1000
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new TypeError('options.now must be a valid Date')
  if (!Number.isFinite(skew) || skew < 0) throw new RangeError('clockSkewSeconds must be a non-negative number')

  if (jwt.length > MAX_IDENTITY_TOKEN_LENGTH) {
    throw tokenError(`is larger than ${MAX_IDENTITY_TOKEN_LENGTH} characters`, 'too-large')
  }
  const raw = jwt.trim()
  if (raw === '') throw tokenError('is empty', 'malformed')
  const parts = raw.split('.')
  // JWS compact: header.payload.signature. Five parts would be an encrypted JWT, which Fulcio cannot read.
  if (parts.length !== 3) throw tokenError('is not a JWT (expected three dot-separated parts)', 'malformed')
  const header = decodeSegment(parts[0]!, 'header')
  if (typeof header.alg !== 'string') throw tokenError('header has no "alg"', 'malformed')
  const claims = decodeSegment(parts[1]!, 'payload')
  if (parts[2] !== '' && !/^[A-Za-z0-9_-]+={0,2}$/.test(parts[2]!)) {
    throw tokenError('signature is not base64url', 'malformed')
  }

  const issuer = nonEmptyString(claims, 'iss')
  const subject = nonEmptyString(claims, 'sub')
  const aud = claims.aud
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined
  if (audiences === undefined || audiences.length === 0 || !audiences.every((a) => typeof a === 'string')) {
    throw tokenError('has no valid "aud" claim', 'claims')
  }
  const expiresAt = numericDate(claims, 'exp')
  const issuedAt = numericDate(claims, 'iat')
  if (!audiences.includes(audience)) {
    throw tokenError(`is not issued for the audience ${JSON.stringify(audience)}`, 'audience')
  }
  if (now.getTime() > expiresAt.getTime() + skew) {
    throw tokenError(`expired at ${expiresAt.toISOString()}`, 'expired')
  }
  if (claims.nbf !== undefined) {
    const notBefore = numericDate(claims, 'nbf')
    if (now.getTime() < notBefore.getTime() - skew) {
      throw tokenError(`is not valid before ${notBefore.toISOString()}`, 'not-yet-valid')
    }
  }

  let email: string | undefined
  let emailVerified: boolean | undefined
  if (claims.email !== undefined && claims.email !== '') {
    if (typeof claims.email !== 'string') throw tokenError('has a non-string "email" claim', 'claims')
    email = claims.email
    emailVerified = emailVerifiedClaim(claims.email_verified)
    // Fulcio refuses unverified emails for email issuers; sigstore-go and sigstore-js refuse before asking.
    if (emailVerified !== true) throw tokenError('has an email the issuer has not verified', 'email-unverified')
  }

  return Object.freeze({
    raw,
    issuer,
    subject,
    audience: Object.freeze([...(audiences as string[])]),
    expiresAt,
    issuedAt,
    ...(email !== undefined ? { email, emailVerified: true } : {}),
    claims: Object.freeze({ ...claims }),
    challenge: email ?? subject,
  })
}

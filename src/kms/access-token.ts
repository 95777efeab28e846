import type { AbortSignalLike } from '../internal/host-types.js'
/**
 * OAuth 2.0 access tokens for the cloud KMS providers (Google Cloud KMS, Azure Key Vault): the shape a credential
 * source returns and a cache that reuses a token until shortly before it expires. Shared by the providers. The
 * public subpaths call these `BearerToken` and `BearerTokenSource`; inside the package they are `AccessToken` and
 * `AccessTokenSource`, so they are never mistaken for the registry token of `countersign/oci` (also public as
 * `BearerToken`, with an always-known expiry).
 *
 * @module
 */

/**
 * An OAuth 2.0 access token for a cloud KMS API, sent as `Authorization: Bearer …`, and when it stops being valid.
 * Not the registry token of `countersign/oci`, whose `BearerToken` always carries its expiry.
 *
 * @example
 * ```ts
 * import type { BearerToken } from 'countersign/kms/gcp'
 * const token: BearerToken = { token: accessToken, expiresAt: Date.now() + 3_600_000 }
 * ```
 *
 * Exported from `countersign/kms/gcp` and `countersign/kms/azure` as `BearerToken`.
 */
export interface AccessToken {
  /** The token. Secret: never log it or put it in an error. */
  readonly token: string
  /** Expiry in milliseconds since the epoch; absent when unknown (the token is then used until a 401). */
  readonly expiresAt?: number
}

/**
 * Produces access tokens (a credential chain, a metadata server, a fixed token). Called again whenever the cached
 * token is about to expire or the service rejected it.
 *
 * @example
 * ```ts
 * import type { BearerTokenSource } from 'countersign/kms/gcp'
 * const source: BearerTokenSource = async () => ({ token: await myVault.read('gcp-token') })
 * ```
 *
 * Exported from `countersign/kms/gcp` and `countersign/kms/azure` as `BearerTokenSource`.
 */
export type AccessTokenSource = (options: { readonly signal?: AbortSignalLike }) => Promise<AccessToken>

/**
 * An {@link AccessTokenSource} wrapped with a cache; `invalidate()` forgets the token after a 401.
 *
 * @example
 * ```ts
 * const token: CachedAccessToken = cacheAccessToken(source)
 * headers.Authorization = `Bearer ${await token.get({ signal })}`
 * ```
 */
export interface CachedAccessToken {
  get(options: { readonly signal?: AbortSignalLike }): Promise<string>
  invalidate(): void
}

/** Refresh this long before expiry (google-auth-library refreshes 5 minutes early; MSAL similarly). */
const REFRESH_MARGIN_MS = 5 * 60_000

/**
 * Cache `source`: one request in flight at a time, reuse until five minutes (or half the lifetime, for short-lived
 * tokens) before `expiresAt`.
 *
 * @example
 * ```ts
 * const token = cacheAccessToken(options.credentials ?? staticAccessToken(options.accessToken), options.now)
 * ```
 */
export function cacheAccessToken(source: AccessTokenSource, now: () => number = Date.now): CachedAccessToken {
  let cached: { token: string; refreshAt: number } | undefined
  let pending: Promise<string> | undefined
  return {
    async get(options) {
      if (cached && now() < cached.refreshAt) return cached.token
      pending ??= (async () => {
        try {
          const got = await source(options)
          const issued = now()
          const lifetime = got.expiresAt === undefined ? Number.POSITIVE_INFINITY : got.expiresAt - issued
          cached = {
            token: got.token,
            refreshAt: issued + Math.max(0, lifetime - Math.min(REFRESH_MARGIN_MS, lifetime / 2)),
          }
          return got.token
        } finally {
          pending = undefined
        }
      })()
      return pending
    },
    invalidate() {
      cached = undefined
    },
  }
}

/**
 * A source answering with one fixed token (an explicit `accessToken` option or an environment variable).
 *
 * @example
 * ```ts
 * const source = staticAccessToken(env.GOOGLE_OAUTH_ACCESS_TOKEN)
 * ```
 */
export function staticAccessToken(token: string): AccessTokenSource {
  return async () => ({ token })
}

/**
 * Read an OAuth 2.0 token response (`access_token`, `expires_in` as a number or — from Azure IMDS — a numeric
 * string, or Azure's `expires_on` epoch seconds). Returns undefined when `access_token` is missing.
 *
 * @example
 * ```ts
 * accessTokenFromResponse({ access_token: 'ya29.x', expires_in: 3599 }, Date.now()) // { token, expiresAt }
 * ```
 */
export function accessTokenFromResponse(doc: Record<string, unknown>, now: number): AccessToken | undefined {
  const token = doc.access_token
  if (typeof token !== 'string' || token === '' || /[\s\u0000-\u001f\u007f]/.test(token)) return undefined
  const num = (v: unknown): number | undefined => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,12}$/.test(v) ? Number(v) : Number.NaN
    return Number.isFinite(n) && n >= 0 ? n : undefined
  }
  const expiresIn = num(doc.expires_in)
  const expiresOn = num(doc.expires_on)
  const expiresAt =
    expiresIn !== undefined ? now + expiresIn * 1000 : expiresOn !== undefined ? expiresOn * 1000 : undefined
  return { token, ...(expiresAt !== undefined ? { expiresAt } : {}) }
}

/**
 * OAuth bearer tokens for the cloud KMS providers (Google Cloud KMS, Azure Key Vault): the shape a credential source
 * returns and a cache that reuses a token until shortly before it expires. Shared by the providers; never exported
 * from the package on its own.
 *
 * @module
 */

/**
 * An access token and when it stops being valid.
 *
 * Exported from `countersign/kms/gcp` and `countersign/kms/azure`.
 */
export interface BearerToken {
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
 * Exported from `countersign/kms/gcp` and `countersign/kms/azure`.
 */
export type BearerTokenSource = (options: { readonly signal?: AbortSignal }) => Promise<BearerToken>

/** A {@link BearerTokenSource} wrapped with a cache; `invalidate()` forgets the token after a 401. */
export interface CachedBearerToken {
  get(options: { readonly signal?: AbortSignal }): Promise<string>
  invalidate(): void
}

/** Refresh this long before expiry (google-auth-library refreshes 5 minutes early; MSAL similarly). */
const REFRESH_MARGIN_MS = 5 * 60_000

/**
 * Cache `source`: one request in flight at a time, reuse until five minutes (or half the lifetime, for short-lived
 * tokens) before `expiresAt`.
 */
export function cacheBearerToken(source: BearerTokenSource, now: () => number = Date.now): CachedBearerToken {
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

/** A source answering with one fixed token (an explicit `accessToken` option or an environment variable). */
export function staticBearerToken(token: string): BearerTokenSource {
  return async () => ({ token })
}

/**
 * Read an OAuth 2.0 token response (`access_token`, `expires_in` as a number or — from Azure IMDS — a numeric
 * string, or Azure's `expires_on` epoch seconds). Returns undefined when `access_token` is missing.
 */
export function bearerFromTokenResponse(doc: Record<string, unknown>, now: number): BearerToken | undefined {
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

/** Where the Vault token comes from: an explicit token, an AppRole login (cached for its lease), env, a fallback. @module */
import { CountersignError } from '../../errors.js'
import type { HashiVaultKMSOptions } from './config.js'
import { invalidResponse, type VaultHTTP } from './http.js'

/** Supplies the token for each request. Internal. */
export interface VaultTokens {
  /** The token to send; logs in with AppRole when needed. */
  token(signal?: AbortSignal): Promise<string>
  /** Forget `token` after Vault refused it; true when a fresh one can be had (an AppRole login). */
  invalidate(token: string): boolean
  /** Every secret known so far, to keep out of error messages. */
  secrets(): readonly string[]
}

interface CachedLogin {
  readonly token: string
  /** Milliseconds since the epoch; Infinity for tokens without a lease. */
  readonly expiresAt: number
}

/** Renew this long before the lease ends, so a token never expires between our check and Vault's. */
const EXPIRY_MARGIN_MS = 30_000

function noToken(): CountersignError {
  return new CountersignError(
    'ERR_INVALID_INPUT',
    'no Vault token: set VAULT_TOKEN (or BAO_TOKEN), configure AppRole, or log in with `vault login`',
    { details: { provider: 'hashivault', reason: 'no-credentials' } },
  )
}

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v !== ''
}

/** The token chain of {@link HashiVaultKMSOptions}. */
export function createVaultTokens(options: HashiVaultKMSOptions, http: VaultHTTP): VaultTokens {
  const env = options.env ?? {}
  const now = options.now ?? Date.now
  const appRole = options.appRole
  if (appRole !== undefined && (!isNonEmptyString(appRole.roleId) || !isNonEmptyString(appRole.secretId))) {
    throw new TypeError('appRole needs a non-empty roleId and secretId')
  }
  const fixed = [options.token, env.VAULT_TOKEN, env.BAO_TOKEN].find(isNonEmptyString)
  const known = new Set<string>()
  if (appRole !== undefined) known.add(appRole.secretId)
  // The client's secret set learns every token as it becomes known, so no error built from an answer quotes one.
  http.secrets.add(fixed, appRole?.secretId)
  let cached: CachedLogin | undefined
  let pending: Promise<CachedLogin> | undefined
  let fallback: Promise<string> | undefined

  const doLogin = async (signal?: AbortSignal): Promise<CachedLogin> => {
    const mount = (appRole!.mountPath ?? 'approle').split('/').filter(Boolean).map(encodeURIComponent).join('/')
    const what = 'the AppRole login'
    const body = (await http({
      method: 'POST',
      path: `auth/${mount}/login`,
      json: { role_id: appRole!.roleId, secret_id: appRole!.secretId },
      what,
      secrets: [appRole!.secretId],
      ...(signal ? { signal } : {}),
    })) as { auth?: { client_token?: unknown; lease_duration?: unknown } } | undefined
    const token = body?.auth?.client_token
    const lease = body?.auth?.lease_duration
    if (!isNonEmptyString(token)) throw invalidResponse(what, 'no client_token')
    known.add(token)
    http.secrets.addTemporary(token)
    if (lease !== undefined && (typeof lease !== 'number' || !Number.isFinite(lease) || lease < 0)) {
      throw invalidResponse(what, 'an invalid lease_duration')
    }
    // lease_duration 0 means the token does not expire (Vault's convention for non-expiring tokens).
    const ms = typeof lease === 'number' && lease > 0 ? lease * 1000 : Number.POSITIVE_INFINITY
    return { token, expiresAt: now() + Math.max(ms - Math.min(EXPIRY_MARGIN_MS, ms / 10), 0) }
  }

  return {
    async token(signal) {
      if (isNonEmptyString(options.token)) return options.token
      if (appRole !== undefined) {
        if (cached !== undefined && now() < cached.expiresAt) return cached.token
        if (pending === undefined) {
          // Concurrent callers share one login; a failed login is not kept, so the next call tries again.
          const p: Promise<CachedLogin> = doLogin(signal)
            .then((c) => {
              cached = c
              return c
            })
            .finally(() => {
              if (pending === p) pending = undefined
            })
          pending = p
        }
        return (await pending).token
      }
      if (fixed !== undefined) return fixed
      if (options.tokenSource !== undefined) {
        fallback ??= options.tokenSource().then((t) => {
          if (!isNonEmptyString(t)) throw noToken()
          known.add(t)
          http.secrets.add(t)
          return t
        })
        fallback.catch(() => {
          fallback = undefined
        })
        return fallback
      }
      throw noToken()
    },
    invalidate(token) {
      if (appRole === undefined || isNonEmptyString(options.token)) return false
      if (cached?.token === token) cached = undefined
      return true
    },
    secrets() {
      const out = [...known]
      if (fixed !== undefined) out.push(fixed)
      return out
    },
  }
}

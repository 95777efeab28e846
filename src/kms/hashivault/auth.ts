/**
 * Where the Vault token comes from: a chain of sources asked in order until one has a token or a login (explicit
 * options, `VAULT_TOKEN`/`BAO_TOKEN`, then the caller's sources: in Node, the auth method of `VAULT_AUTH_METHOD`,
 * the token helper, `~/.vault-token`). A login token is renewed before its lease ends, or replaced by a new login
 * when it cannot be renewed (see `lease.ts`); a token given as such is used as given.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import { noCredentialsError, type TriedCredentialSource } from '../credential-chain.js'
import type {
  HashiVaultCredential,
  HashiVaultCredentialSource,
  HashiVaultKMSOptions,
  HashiVaultLogin,
} from './config.js'
import type { VaultHTTP } from './http.js'
import { leaseFromLogin, leaseFromRenewal, leaseRetryLater, type VaultLease } from './lease.js'
import { checkLogin, describeLogin, renewSelf, vaultLogin } from './login.js'

/** Supplies the token for each request. Internal. */
export interface VaultTokens {
  /** The token to send; logs in, renews or logs in again when needed. */
  token(signal?: AbortSignal): Promise<string>
  /** Forget `token` after Vault refused it; true when a fresh one can be had (a login). */
  invalidate(token: string): boolean
  /** The secrets in use now, to keep out of error messages. */
  secrets(): readonly string[]
}

/** The source the chain settled on. */
type Settled =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'login'; readonly login: HashiVaultLogin; lease?: VaultLease }

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v !== ''
}

function fixed(source: string, token: string, detail: string): HashiVaultCredentialSource {
  return { source, resolve: async () => ({ token, detail }) }
}

function loginSource(login: HashiVaultLogin): HashiVaultCredentialSource {
  return { source: `${login.method} auth`, resolve: async () => ({ login }) }
}

/** The chain of {@link HashiVaultKMSOptions}, in its documented order. */
function sourcesOf(options: HashiVaultKMSOptions): HashiVaultCredentialSource[] {
  const env = options.env ?? {}
  const sources: HashiVaultCredentialSource[] = []
  if (isNonEmptyString(options.token)) sources.push(fixed('token option', options.token, 'token'))
  if (options.appRole !== undefined) sources.push(loginSource({ method: 'approle', ...options.appRole }))
  if (options.login !== undefined) sources.push(loginSource(options.login))
  sources.push({
    source: 'environment',
    resolve: async () => {
      if (isNonEmptyString(env.VAULT_TOKEN)) return { token: env.VAULT_TOKEN, detail: 'VAULT_TOKEN' }
      if (isNonEmptyString(env.BAO_TOKEN)) return { token: env.BAO_TOKEN, detail: 'BAO_TOKEN' }
      return { skip: 'VAULT_TOKEN and BAO_TOKEN not set' }
    },
  })
  sources.push(...(options.credentialSources ?? []))
  const tokenSource = options.tokenSource
  if (tokenSource !== undefined) {
    sources.push({
      source: 'token source',
      resolve: async () => {
        const t = await tokenSource()
        return isNonEmptyString(t) ? { token: t } : { skip: 'gave no token' }
      },
    })
  }
  return sources
}

function noCredentials(tried: readonly TriedCredentialSource[]): CountersignError {
  const e = noCredentialsError('Vault', tried)
  return new CountersignError(e.code, e.message, { details: { provider: 'hashivault', reason: 'no-credentials' } })
}

/** The token chain of {@link HashiVaultKMSOptions}. */
export function createVaultTokens(options: HashiVaultKMSOptions, http: VaultHTTP): VaultTokens {
  const now = options.now ?? Date.now
  if (options.appRole !== undefined) checkLogin({ method: 'approle', ...options.appRole })
  if (options.login !== undefined) checkLogin(options.login)
  const sources = sourcesOf(options)
  // Configured secrets are known from the start, so no error built from an answer can quote them.
  http.secrets.add(options.token, options.env?.VAULT_TOKEN, options.env?.BAO_TOKEN, options.appRole?.secretId)
  if (options.login?.method === 'approle') http.secrets.add(options.login.secretId)
  let settled: Settled | undefined
  let settling: Promise<Settled> | undefined
  let refreshing: Promise<string> | undefined

  const settle = async (signal?: AbortSignal): Promise<Settled> => {
    const tried: TriedCredentialSource[] = []
    for (const s of sources) {
      const found: HashiVaultCredential = await s.resolve(signal ? { signal } : undefined)
      if ('skip' in found) {
        tried.push({ source: s.source, reason: found.skip })
        continue
      }
      let result: Settled
      let detail = found.detail
      if ('token' in found) {
        if (!isNonEmptyString(found.token)) throw new TypeError(`the ${s.source} credential source gave an empty token`)
        http.secrets.add(found.token)
        result = { kind: 'token', token: found.token }
      } else {
        checkLogin(found.login)
        if (found.login.method === 'approle') http.secrets.add(found.login.secretId)
        result = { kind: 'login', login: found.login }
        const from = found.login.method === 'approle' ? undefined : found.login.jwtSource
        detail ??= `${describeLogin(found.login)}${from ? `, JWT from ${from}` : ''}`
      }
      options.onCredentialSource?.({ provider: 'vault', source: s.source, ...(detail ? { detail } : {}) })
      return result
    }
    throw noCredentials(tried)
  }

  /** A new lease for a login source: renew when Vault allows it, else (or when renewal fails) log in again. */
  const refresh = async (state: Settled & { kind: 'login' }, signal?: AbortSignal): Promise<string> => {
    const current = state.lease
    const t = now()
    try {
      if (current?.renewable && t < current.expiresAt) {
        try {
          state.lease = leaseFromRenewal(current, await renewSelf(http, current.token, signal), now())
          return state.lease.token
        } catch {
          // A revoked token or a renewal refused: a new login is the way back (as Vault's lifetime watcher ends).
        }
      }
      state.lease = leaseFromLogin(await vaultLogin(http, state.login, signal), now())
      return state.lease.token
    } catch (error) {
      // Vault unreachable for a moment: a token that still works is used, and the refresh tried again later.
      if (!signal?.aborted && current !== undefined && now() < current.expiresAt) {
        state.lease = leaseRetryLater(current, now())
        return current.token
      }
      throw error
    }
  }

  return {
    async token(signal) {
      if (settled === undefined) {
        if (settling === undefined) {
          // Concurrent callers share one settling; a failure is not kept, so the next call tries again.
          const p = settle(signal).finally(() => {
            if (settling === p) settling = undefined
          })
          settling = p
        }
        settled = await settling
      }
      const state = settled
      if (state.kind === 'token') return state.token
      if (state.lease !== undefined && now() < state.lease.refreshAt) return state.lease.token
      if (refreshing === undefined) {
        const p = refresh(state, signal).finally(() => {
          if (refreshing === p) refreshing = undefined
        })
        refreshing = p
      }
      return refreshing
    },
    invalidate(token) {
      if (settled?.kind !== 'login') return false
      // Vault refused the token (revoked, or expired earlier than its lease said): the next call logs in again.
      if (settled.lease?.token === token) settled.lease = undefined
      return true
    },
    secrets() {
      if (settled === undefined) return []
      return settled.kind === 'token' ? [settled.token] : settled.lease ? [settled.lease.token] : []
    },
  }
}

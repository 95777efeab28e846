/**
 * Vault auth-method logins and token renewal over the Vault HTTP API:
 *
 * - JWT/OIDC auth: `POST /v1/auth/<mount>/login {"role", "jwt"}` (Vault docs "JWT/OIDC auth method (API)", Login).
 * - Kubernetes auth: `POST /v1/auth/<mount>/login {"role", "jwt"}` with the service-account token (Vault docs
 *   "Kubernetes auth method (API)", Login; `api/auth/kubernetes` in hashicorp/vault).
 * - AppRole: `POST /v1/auth/<mount>/login {"role_id", "secret_id"}`.
 * - `POST /v1/auth/token/renew-self` with the token itself (Vault docs "Token auth method (API)", Renew a token (self)).
 *
 * Each answers `auth: {client_token, lease_duration, renewable}`. The JWT and the secret ID go into the client's
 * secret set before the request, so no error (Vault's reason included) can quote them. Internal.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import type { HashiVaultLogin } from './config.js'
import { invalidResponse, type VaultHTTP } from './http.js'
import type { VaultAuth } from './lease.js'

function invalid(message: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', message, { details: { provider: 'hashivault', reason: 'login' } })
}

/** The mount path as a URL path, segment by segment; `..` and empty mounts are refused. */
export function mountPath(login: HashiVaultLogin): string {
  const raw = login.mountPath ?? login.method
  const segments = raw.split('/').filter((s) => s !== '')
  if (segments.length === 0 || segments.some((s) => s === '.' || s === '..')) {
    throw invalid(`the ${login.method} auth mount ${JSON.stringify(raw)} is not a mount path`)
  }
  return segments.map(encodeURIComponent).join('/')
}

/** A non-secret description of the login, for reports and messages: `role "ci" at auth/jwt`. */
export function describeLogin(login: HashiVaultLogin): string {
  const at = `auth/${mountPath(login)}`
  if (login.method === 'approle') return at
  return login.role ? `role "${login.role}" at ${at}` : at
}

/** Check a login's shape once, before any request (programmer errors are TypeErrors). */
export function checkLogin(login: HashiVaultLogin): void {
  if (login.method === 'approle') {
    if (
      typeof login.roleId !== 'string' ||
      login.roleId === '' ||
      typeof login.secretId !== 'string' ||
      !login.secretId
    ) {
      throw new TypeError('appRole needs a non-empty roleId and secretId')
    }
    return
  }
  if (login.method !== 'jwt' && login.method !== 'kubernetes') {
    throw new TypeError(`unknown Vault login method ${JSON.stringify((login as { method?: unknown }).method)}`)
  }
  if (login.method === 'kubernetes' && (typeof login.role !== 'string' || login.role === '')) {
    throw new TypeError('a Kubernetes auth login needs a role')
  }
  if (login.role !== undefined && typeof login.role !== 'string') throw new TypeError('role must be a string')
  if (typeof login.jwt !== 'string' && typeof login.jwt !== 'function') {
    throw new TypeError('a JWT login needs a jwt (a string or a function returning one)')
  }
}

/** Vault's `auth` block of a login or renewal answer, checked. */
function authOf(body: unknown, what: string): VaultAuth {
  const auth = (
    body as { auth?: { client_token?: unknown; lease_duration?: unknown; renewable?: unknown } } | undefined
  )?.auth
  const token = auth?.client_token
  if (typeof token !== 'string' || token === '') throw invalidResponse(what, 'no client_token')
  const lease = auth?.lease_duration ?? 0
  if (typeof lease !== 'number' || !Number.isSafeInteger(lease) || lease < 0) {
    throw invalidResponse(what, 'an invalid lease_duration')
  }
  return { token, leaseSeconds: lease, renewable: auth?.renewable === true }
}

/**
 * Log in; the issued token joins the secret set before it is returned.
 *
 * @throws {CountersignError} ERR_KMS with Vault's reason (a wrong role: `role "x" could not be found`), never the
 *   JWT or the secret ID; ERR_INVALID_INPUT for an empty JWT.
 */
export async function vaultLogin(http: VaultHTTP, login: HashiVaultLogin, signal?: AbortSignal): Promise<VaultAuth> {
  const path = `auth/${mountPath(login)}/login`
  const what = `the ${login.method} login (${describeLogin(login)})`
  let json: Record<string, string>
  let secret: string
  if (login.method === 'approle') {
    secret = login.secretId
    json = { role_id: login.roleId, secret_id: login.secretId }
  } else {
    const raw = typeof login.jwt === 'string' ? login.jwt : await login.jwt(signal ? { signal } : undefined)
    if (typeof raw !== 'string' || raw.trim() === '') {
      throw invalid(`the JWT for ${what} is empty${login.jwtSource ? ` (${login.jwtSource})` : ''}`)
    }
    secret = raw.trim()
    // A JWT lives about an hour: short-lived in the set, like the tokens it buys.
    http.secrets.addTemporary(secret)
    json = { jwt: secret, ...(login.role ? { role: login.role } : {}) }
  }
  const body = await http({ method: 'POST', path, json, what, secrets: [secret], ...(signal ? { signal } : {}) })
  const auth = authOf(body, what)
  http.secrets.addTemporary(auth.token)
  return auth
}

/** Renew the token's lease with the token itself (`auth/token/renew-self`). */
export async function renewSelf(http: VaultHTTP, token: string, signal?: AbortSignal): Promise<VaultAuth> {
  const what = 'renewing the Vault token'
  const body = await http({
    method: 'POST',
    path: 'auth/token/renew-self',
    json: {},
    token,
    what,
    secrets: [token],
    ...(signal ? { signal } : {}),
  })
  const auth = authOf(body, what)
  if (auth.token !== token) throw invalidResponse(what, 'another token')
  return auth
}

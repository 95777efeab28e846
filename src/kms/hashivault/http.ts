/**
 * Requests to the Vault HTTP API, with Vault's `{"errors": [...]}` bodies turned into ERR_KMS. Vault's reason is
 * redacted against the client's secret set (the token, an AppRole secret ID, every token a login issued) before it
 * is clipped into a message.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import { clipReason, redactError, type SecretSet } from '../../http/redact.js'
import { createServiceHTTP } from '../../http/service.js'
import { fromUtf8 } from '../../internal/bytes.js'
import type { KMSCallOptions } from '../types.js'
import type { VaultConfig } from './config.js'

/** One Vault API call. `path` is below `/v1/`, already encoded. */
export interface VaultRequest {
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly json?: unknown
  /** Sent as `X-Vault-Token` (absent for logins). */
  readonly token?: string
  /** What the call does, for messages: `reading transit key "release"`. */
  readonly what: string
  /** Strings that must never appear in an error (the token, an AppRole secret). */
  readonly secrets?: readonly string[]
  readonly signal?: AbortSignal
}

/** Sends {@link VaultRequest}s; resolves with the parsed JSON body (`undefined` for 204). */
export type VaultHTTP = ((request: VaultRequest) => Promise<unknown>) & { readonly secrets: SecretSet }

/** Every error status comes back to us, after the helper's retries, so the message can use Vault's own reason. */
const ERROR_STATUSES: readonly number[] = Array.from({ length: 200 }, (_, i) => 400 + i)
const MAX_REASON = 300

function vaultReason(body: Uint8Array, secrets: SecretSet): string {
  let text: string
  try {
    text = fromUtf8(body)
  } catch {
    return ''
  }
  let reason = text
  try {
    const doc = JSON.parse(text) as { errors?: unknown }
    if (Array.isArray(doc?.errors)) reason = doc.errors.filter((e): e is string => typeof e === 'string').join('; ')
  } catch {
    // Not JSON (a proxy's page): keep the text, clipped.
  }
  return clipReason(reason, secrets, MAX_REASON)
}

function statusError(status: number, reason: string, request: VaultRequest): CountersignError {
  const because = reason ? `: ${reason}` : ''
  let message: string
  let kind: string
  if (status === 403) {
    kind = 'permission-denied'
    message = `HashiCorp Vault refused ${request.what} (HTTP 403${because}); check the token and its policy`
  } else if (status === 404) {
    kind = 'not-found'
    message = `HashiCorp Vault: ${request.what} failed: not found (HTTP 404${because})`
  } else if (status === 429) {
    kind = 'throttled'
    message = `HashiCorp Vault throttled ${request.what} (HTTP 429${because}) and retries ran out`
  } else if (status >= 500) {
    kind = 'unavailable'
    message = `HashiCorp Vault failed ${request.what} (HTTP ${status}${because})`
  } else {
    kind = 'rejected'
    message = `HashiCorp Vault rejected ${request.what} (HTTP ${status}${because})`
  }
  return new CountersignError('ERR_KMS', message, {
    details: { provider: 'hashivault', status, reason: kind, retryable: status === 429 || status >= 500 },
  })
}

/** A malformed answer from Vault (or something posing as it). */
export function invalidResponse(what: string, problem: string, cause?: unknown): CountersignError {
  return new CountersignError('ERR_KMS', `HashiCorp Vault answered ${what} with ${problem}`, {
    ...(cause !== undefined ? { cause } : {}),
    details: { provider: 'hashivault', reason: 'invalid-response' },
  })
}

/** Build the request function for one Vault server. */
export function createVaultHTTP(config: VaultConfig, options: KMSCallOptions): VaultHTTP {
  const http = createServiceHTTP('HashiCorp Vault', 'ERR_KMS', options)
  const send = async (request: VaultRequest): Promise<unknown> => {
    const headers: Record<string, string> = {}
    if (request.token !== undefined) headers['X-Vault-Token'] = request.token
    if (config.namespace !== undefined) headers['X-Vault-Namespace'] = config.namespace
    let res: Awaited<ReturnType<typeof http>>
    try {
      res = await http({
        method: request.method,
        url: `${config.address}/v1/${request.path}`,
        ...(request.json !== undefined ? { json: request.json } : {}),
        headers,
        ...(request.secrets !== undefined ? { secrets: request.secrets } : {}),
        acceptStatus: ERROR_STATUSES,
        ...(request.signal ? { signal: request.signal } : {}),
      })
    } catch (cause) {
      // Network, abort and size-limit failures: the helper's messages hold no request data; add the provider.
      if (cause instanceof CountersignError && cause.code === 'ERR_KMS') {
        throw new CountersignError('ERR_KMS', http.secrets.redact(cause.message), {
          details: { ...cause.details, provider: 'hashivault' },
        })
      }
      throw cause
    }
    if (res.status >= 400) throw statusError(res.status, vaultReason(res.body, http.secrets), request)
    if (res.status === 204 || res.body.length === 0) return undefined
    try {
      return res.json()
    } catch (cause) {
      throw invalidResponse(request.what, 'a body that is not JSON', redactError(cause, http.secrets))
    }
  }
  return Object.assign(send, { secrets: http.secrets })
}

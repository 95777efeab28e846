/**
 * Google access tokens without Node: the JSON credential files `gcloud auth application-default login` and the IAM
 * console write (service account → a self-signed RS256 JWT exchanged at `token_uri`; authorized user → a refresh
 * token grant), and the GCE/GKE metadata server. Reading the files from disk is `countersign/node`'s job.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import type { ServiceClientOptions } from '../../http/service.js'
import { toBase64, utf8 } from '../../internal/bytes.js'
import { isJSONObject } from '../../internal/json.js'
import { parsePrivateKey } from '../../keys/parse-private.js'
import { signData } from '../../keys/sign.js'
import type { PrivateKey } from '../../keys/types.js'
import type { AccessTokenSource } from '../access-token.js'
import { accessTokenOf, askMetadataServer, badResponse, createCloudHTTP } from '../cloud-http.js'
import type { KMSEnvironment } from '../types.js'

/** The scope Cloud KMS accepts (what the Go client requests). */
export const GCP_CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform'
/** Google's token endpoint, for `authorized_user` files that do not name one. */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token'
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
const ASSERTION_LIFETIME_S = 3600
const PROVIDER = 'gcpkms'

/**
 * Options for the Google credential sources.
 *
 * Exported from `countersign/kms/gcp`.
 */
export interface GCPCredentialOptions extends ServiceClientOptions {
  /** Current time in milliseconds (default `Date.now`); JWT `iat`/`exp` and token expiry use it. */
  readonly now?: () => number
  /** OAuth scopes (default cloud-platform). */
  readonly scopes?: readonly string[]
}

function base64url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function credentialError(message: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', message, { details: { provider: PROVIDER } })
}

function field(doc: Record<string, unknown>, name: string, type: string): string {
  const v = doc[name]
  if (typeof v !== 'string' || v === '') throw credentialError(`Google ${type} credentials lack "${name}"`)
  return v
}

/** A token endpoint from a credential file: https, or http on a loopback host (emulators and tests). */
function tokenURL(value: unknown, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value === 'string') {
    try {
      const u = new URL(value)
      const loopback = u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]'
      if (u.protocol === 'https:' || (u.protocol === 'http:' && loopback)) return u.toString()
    } catch {
      // Reported below.
    }
  }
  throw credentialError('Google credentials have an invalid "token_uri"')
}

async function exchange(
  url: string,
  form: Record<string, string>,
  options: GCPCredentialOptions & { readonly signal?: AbortSignal },
): Promise<{ token: string; expiresAt?: number }> {
  const http = createCloudHTTP(PROVIDER, 'Google OAuth token endpoint', options)
  const res = await http({
    method: 'POST',
    url,
    body: utf8(new URLSearchParams(form).toString()),
    contentType: 'application/x-www-form-urlencoded',
    // The signed assertion, or the client secret and refresh token of an authorized_user file.
    secrets: [form.assertion, form.client_secret, form.refresh_token],
    ...(options.signal ? { signal: options.signal } : {}),
  })
  return accessTokenOf(res, PROVIDER, 'Google token response', (options.now ?? Date.now)(), http.secrets)
}

/**
 * A token source for a Google credential file (`service_account` or `authorized_user`), as Application Default
 * Credentials read it. Other types (`external_account`, `impersonated_service_account`) are refused.
 *
 * @param json - The file's contents (text or parsed).
 * @param options - Fetch, retries and clock.
 * @returns A {@link AccessTokenSource | BearerTokenSource}; wrap it with the provider's cache (the provider does).
 * @throws {CountersignError} ERR_INVALID_INPUT for malformed files (messages never include the private key or
 *   secrets), ERR_UNSUPPORTED_ALGORITHM for other credential types.
 * @example
 * ```ts
 * import { createGCPCredentialsFromJSON, createGCPKMSProvider } from 'countersign/kms/gcp'
 * const credentials = createGCPCredentialsFromJSON(serviceAccountJSON)
 * const provider = createGCPKMSProvider({ credentials })
 * ```
 *
 * Exported from `countersign/kms/gcp`.
 */
export function createGCPCredentialsFromJSON(
  json: string | Record<string, unknown>,
  options: GCPCredentialOptions = {},
): AccessTokenSource {
  let doc: unknown = json
  if (typeof json === 'string') {
    try {
      doc = JSON.parse(json)
    } catch {
      throw credentialError('Google credentials are not valid JSON')
    }
  }
  if (!isJSONObject(doc)) throw credentialError('Google credentials must be a JSON object')
  const scope = (options.scopes ?? [GCP_CLOUD_PLATFORM_SCOPE]).join(' ')
  const now = options.now ?? Date.now
  switch (doc.type) {
    case 'service_account': {
      const email = field(doc, 'client_email', 'service account')
      const pem = field(doc, 'private_key', 'service account')
      const keyId = typeof doc.private_key_id === 'string' ? doc.private_key_id : undefined
      const url = tokenURL(doc.token_uri, GOOGLE_TOKEN_URL)
      let key: PrivateKey
      try {
        key = parsePrivateKey(pem)
      } catch (cause) {
        // The parser's message names no key bytes, but keep the cause out: this is a secret.
        throw new CountersignError('ERR_INVALID_INPUT', 'Google service account private_key is not a valid key', {
          details: { provider: PROVIDER, reason: cause instanceof CountersignError ? cause.code : 'invalid' },
        })
      }
      if (key.algorithm !== 'rsa') {
        throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', 'Google service account keys must be RSA (RS256)')
      }
      return async ({ signal }) => {
        const iat = Math.floor(now() / 1000)
        const header = { alg: 'RS256', typ: 'JWT', ...(keyId ? { kid: keyId } : {}) }
        const claims = { iss: email, scope, aud: url, iat, exp: iat + ASSERTION_LIFETIME_S }
        const input = `${base64url(utf8(JSON.stringify(header)))}.${base64url(utf8(JSON.stringify(claims)))}`
        const signature = await signData(key, utf8(input), { algorithm: 'rsa-pkcs1v15-sha256' })
        const assertion = `${input}.${base64url(signature)}`
        return exchange(url, { grant_type: JWT_BEARER_GRANT, assertion }, { ...options, ...(signal ? { signal } : {}) })
      }
    }
    case 'authorized_user': {
      const form = {
        grant_type: 'refresh_token',
        client_id: field(doc, 'client_id', 'authorized user'),
        client_secret: field(doc, 'client_secret', 'authorized user'),
        refresh_token: field(doc, 'refresh_token', 'authorized user'),
      }
      const url = tokenURL(doc.token_uri, GOOGLE_TOKEN_URL)
      return async ({ signal }) => exchange(url, form, { ...options, ...(signal ? { signal } : {}) })
    }
    default:
      throw new CountersignError(
        'ERR_UNSUPPORTED_ALGORITHM',
        `Google credentials of type ${JSON.stringify(String(doc.type)).slice(0, 60)} are not supported (service_account and authorized_user are)`,
        { details: { provider: PROVIDER } },
      )
  }
}

/**
 * A token source for the GCE/GKE/Cloud Run metadata server: `GET http://$GCE_METADATA_HOST/computeMetadata/v1/
 * instance/service-accounts/default/token` with `Metadata-Flavor: Google` (host default `metadata.google.internal`,
 * as Google's Go client). An unreachable server (not on Google Cloud) is reported as missing credentials.
 *
 * @param options - `env` (for `GCE_METADATA_HOST`), fetch, retries, clock.
 * @returns A {@link AccessTokenSource | BearerTokenSource}.
 * @example
 * ```ts
 * import { createGCPMetadataCredentials, createGCPKMSProvider } from 'countersign/kms/gcp'
 * const provider = createGCPKMSProvider({ credentials: createGCPMetadataCredentials({ env: process.env }) })
 * ```
 *
 * Exported from `countersign/kms/gcp`.
 */
export function createGCPMetadataCredentials(
  options: GCPCredentialOptions & { readonly env?: KMSEnvironment } = {},
): AccessTokenSource {
  const host = options.env?.GCE_METADATA_HOST || 'metadata.google.internal'
  if (!/^[A-Za-z0-9.\-[\]:]+$/.test(host)) throw credentialError('GCE_METADATA_HOST is not a host name')
  const url = `http://${host}/computeMetadata/v1/instance/service-accounts/default/token`
  // Off Google Cloud the name does not resolve: fail fast rather than after the default 30 s and 3 retries.
  const http = createCloudHTTP(PROVIDER, 'GCE metadata server', {
    timeoutMs: 5_000,
    retry: { attempts: 1 },
    ...options,
  })
  return async ({ signal }) => {
    const res = await askMetadataServer(
      http,
      { method: 'GET', url, headers: { 'Metadata-Flavor': 'Google' }, ...(signal ? { signal } : {}) },
      PROVIDER,
      'no Google credentials found: pass an access token, set GOOGLE_OAUTH_ACCESS_TOKEN or GOOGLE_APPLICATION_CREDENTIALS, or run on Google Cloud (the metadata server is unreachable)',
    )
    // A real metadata server says so; anything else answering on that name is not trusted with the request.
    if (res.headers.get('metadata-flavor') !== 'Google') {
      throw badResponse(PROVIDER, 'GCE metadata server answered without Metadata-Flavor: Google', res.status)
    }
    return accessTokenOf(res, PROVIDER, 'GCE metadata token response', (options.now ?? Date.now)(), http.secrets)
  }
}

/**
 * Google access tokens without Node: the JSON credential files Application Default Credentials reads
 * (`service_account` → a self-signed RS256 JWT exchanged at `token_uri`; `authorized_user` and
 * `external_account_authorized_user` → a refresh-token grant; `external_account` → workload identity federation;
 * `impersonated_service_account` → IAM impersonation paid for by its `source_credentials`), and the GCE/GKE metadata
 * server. Reading the files from disk (and running `credential_source.executable`) is `countersign/node`'s job.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import { toBase64, utf8 } from '../../internal/bytes.js'
import { isJSONObject } from '../../internal/json.js'
import { parsePrivateKey } from '../../keys/parse-private.js'
import { signData } from '../../keys/sign.js'
import type { PrivateKey } from '../../keys/types.js'
import type { AccessTokenSource } from '../access-token.js'
import { accessTokenOf, askMetadataServer, badResponse, createCloudHTTP } from '../cloud-http.js'
import type { KMSEnvironment } from '../types.js'
import type { GCPCredentialOptions } from './credential-options.js'
import { describeExternalAccount, externalAccountTokenSource, parseExternalAccount } from './external-account.js'
import { impersonatedEmail, impersonatedTokenSource, parseImpersonatedServiceAccount } from './impersonation.js'
import {
  credentialError,
  endpointURL,
  GCP_CLOUD_PLATFORM_SCOPE,
  GCP_PROVIDER,
  postForm,
  requiredString,
  type TokenRequestOptions,
  unsupportedCredential,
} from './token-endpoint.js'

export type { GCPCredentialOptions } from './credential-options.js'
export { GCP_CLOUD_PLATFORM_SCOPE } from './token-endpoint.js'
/** Google's token endpoint, for `authorized_user` files that do not name one. */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token'
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
const ASSERTION_LIFETIME_S = 3600
const PROVIDER = GCP_PROVIDER
/** `impersonated_service_account` files nest their source; gcloud writes one level, the Go client allows more. */
const MAX_NESTING = 3

function base64url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

async function exchange(
  url: string,
  form: Record<string, string>,
  options: GCPCredentialOptions & TokenRequestOptions,
  headers: Record<string, string> = {},
): Promise<{ token: string; expiresAt?: number }> {
  // The signed assertion, or the client secret and refresh token of an authorized_user file.
  const secrets = [form.assertion, form.client_secret, form.refresh_token]
  const { response, http } = await postForm(url, 'Google OAuth token endpoint', form, secrets, options, headers)
  return accessTokenOf(response, PROVIDER, 'Google token response', (options.now ?? Date.now)(), http.secrets)
}

function parseJSON(json: string | Record<string, unknown>): Record<string, unknown> {
  let doc: unknown = json
  if (typeof json === 'string') {
    try {
      doc = JSON.parse(json)
    } catch {
      throw credentialError('Google credentials are not valid JSON')
    }
  }
  if (!isJSONObject(doc)) throw credentialError('Google credentials must be a JSON object')
  return doc
}

/**
 * What a Google credential file is, safe to print (for `onCredentialSource`): its `type` and a detail such as the
 * service account, the federation source or the impersonated account. Never a key or token.
 */
export function describeGCPCredentials(json: string | Record<string, unknown>): { type: string; detail?: string } {
  const doc = parseJSON(json)
  const type = typeof doc.type === 'string' ? doc.type.slice(0, 60) : 'unknown'
  try {
    switch (doc.type) {
      case 'service_account':
        return typeof doc.client_email === 'string' ? { type, detail: doc.client_email.slice(0, 200) } : { type }
      case 'external_account':
        return { type, detail: describeExternalAccount(parseExternalAccount(doc)) }
      case 'impersonated_service_account': {
        const parsed = parseImpersonatedServiceAccount(doc)
        const source = describeGCPCredentials(parsed.sourceCredentials).type
        return { type, detail: `impersonating ${impersonatedEmail(parsed.url) ?? 'a service account'} with ${source}` }
      }
      default:
        return { type }
    }
  } catch {
    // Building the token source reports what is wrong with the file.
    return { type }
  }
}

/**
 * A token source for a Google credential file, as Application Default Credentials reads it
 * (`golang.org/x/oauth2/google`): `service_account`, `authorized_user`, `external_account` (workload or workforce
 * identity federation; `credential_source` `file`, `url` or `executable`, then the STS token exchange and optional
 * service account impersonation), `external_account_authorized_user` and `impersonated_service_account` (what
 * `gcloud auth application-default login --impersonate-service-account` writes). Credential sources that need the
 * host (a file, an executable) use `options.readFile` / `options.runExecutable`, which `countersign/node` supplies.
 *
 * @param json - The file's contents (text or parsed).
 * @param options - Fetch, retries, clock, the secret set, and the host hooks.
 * @returns A {@link AccessTokenSource | BearerTokenSource}; wrap it with the provider's cache (the provider does).
 * @throws {CountersignError} ERR_INVALID_INPUT for malformed files (messages never include the private key or
 *   secrets), ERR_UNSUPPORTED_ALGORITHM for other credential types and for AWS or X.509 credential sources.
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
  return credentialsFromDocument(parseJSON(json), options, 0)
}

function credentialsFromDocument(
  doc: Record<string, unknown>,
  options: GCPCredentialOptions,
  depth: number,
): AccessTokenSource {
  const scopes = options.scopes ?? [GCP_CLOUD_PLATFORM_SCOPE]
  const now = options.now ?? Date.now
  switch (doc.type) {
    case 'service_account': {
      const email = requiredString(doc, 'client_email', 'service account')
      const pem = requiredString(doc, 'private_key', 'service account')
      const keyId = typeof doc.private_key_id === 'string' ? doc.private_key_id : undefined
      const url = endpointURL(doc.token_uri, 'token_uri', GOOGLE_TOKEN_URL)
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
      const scope = scopes.join(' ')
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
        client_id: requiredString(doc, 'client_id', 'authorized user'),
        client_secret: requiredString(doc, 'client_secret', 'authorized user'),
        refresh_token: requiredString(doc, 'refresh_token', 'authorized user'),
      }
      options.secrets?.add(form.client_secret, form.refresh_token)
      const url = endpointURL(doc.token_uri, 'token_uri', GOOGLE_TOKEN_URL)
      return async ({ signal }) => exchange(url, form, { ...options, ...(signal ? { signal } : {}) })
    }
    case 'external_account_authorized_user': {
      // Workforce identity federation's `gcloud auth application-default login --login-config`: a refresh token
      // redeemed at the STS `token_url` with the client's Basic authentication (Go: externalaccountauthorizeduser).
      const what = 'external_account_authorized_user'
      const refresh = requiredString(doc, 'refresh_token', what)
      const id = requiredString(doc, 'client_id', what)
      const secret = requiredString(doc, 'client_secret', what)
      const url = endpointURL(doc.token_url, 'token_url')
      options.secrets?.add(secret, refresh)
      const headers = { Authorization: `Basic ${toBase64(utf8(`${id}:${secret}`))}` }
      return async ({ signal }) =>
        exchange(
          url,
          { grant_type: 'refresh_token', refresh_token: refresh },
          { ...options, ...(signal ? { signal } : {}) },
          headers,
        )
    }
    case 'external_account':
      return externalAccountTokenSource(parseExternalAccount(doc), options)
    case 'impersonated_service_account': {
      if (depth >= MAX_NESTING) throw credentialError('Google impersonated_service_account credentials nest too deeply')
      const parsed = parseImpersonatedServiceAccount(doc)
      const source = credentialsFromDocument(parsed.sourceCredentials, options, depth + 1)
      return impersonatedTokenSource(source, { url: parsed.url, scopes, delegates: parsed.delegates }, options)
    }
    default:
      throw unsupportedCredential(
        `Google credentials of type ${JSON.stringify(String(doc.type)).slice(0, 60)} are not supported (service_account, authorized_user, external_account, external_account_authorized_user and impersonated_service_account are)`,
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

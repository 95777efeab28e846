/**
 * The runtime-neutral half of an interactive OIDC login (authorization code + PKCE S256, RFC 6749/7636, OIDC Core
 * §3.1), as cosign (`sigstore/sigstore` `pkg/oauthflow`) and the sigstore-js CLI do it: discovery, an authorization
 * URL with `state` and `nonce`, the callback check and the code exchange of a public client (no secret). Opening a
 * browser and listening for the redirect is the caller's part (`loginInteractively` in `countersign/node`).
 *
 * The returned ID token's signature is not verified (cosign verifies it against the issuer's JWKS; here Fulcio does
 * when the token is used). What is checked locally: issuer, audience, expiry and the nonce bound to this login.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { redactError } from '../http/redact.js'
import { createServiceHTTP, type ServiceClientOptions } from '../http/service.js'
import { toArrayBufferView, toBase64, utf8 } from '../internal/bytes.js'
import type { AbortSignalLike, URLLike } from '../internal/host-types.js'
import { getSubtle } from '../keys/webcrypto.js'
import { parseIdentityToken } from './token.js'

/**
 * The public-good Sigstore issuer (Dex), cosign's `--oidc-issuer` default.
 *
 * Exported from `countersign/oidc`.
 */
export const SIGSTORE_OIDC_ISSUER = 'https://oauth2.sigstore.dev/auth'

/**
 * The endpoints of an OIDC provider (from its discovery document).
 *
 * Exported from `countersign/oidc`.
 */
export interface OIDCProviderMetadata {
  readonly issuer: string
  readonly authorizationEndpoint: string
  readonly tokenEndpoint: string
  /** `code_challenge_methods_supported`, when the provider advertises it. */
  readonly codeChallengeMethods?: readonly string[]
}

/**
 * Options of the login's HTTP calls.
 *
 * Exported from `countersign/oidc`.
 */
export interface OIDCRequestOptions extends ServiceClientOptions {
  readonly signal?: AbortSignalLike
}

function loginError(message: string, reason: string, extra?: Record<string, unknown>): CountersignError {
  return new CountersignError('ERR_OIDC_LOGIN', message, { details: { reason, ...extra } })
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]'])

/** https, or http to a loopback host (local providers and tests); anything else is refused. */
function checkEndpoint(value: unknown, what: string): string {
  if (typeof value !== 'string') throw loginError(`OIDC discovery: ${what} is missing`, 'discovery')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw loginError(`OIDC discovery: ${what} is not a URL`, 'discovery')
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    throw loginError(`OIDC discovery: ${what} must use https`, 'discovery')
  }
  return value
}

const withoutSlash = (s: string) => s.replace(/\/+$/, '')

/**
 * Fetch and check an issuer's discovery document (`<issuer>/.well-known/openid-configuration`). Its `issuer` must
 * equal the one asked for (OIDC Discovery §4.3), and endpoints must use https (http only on loopback).
 *
 * @param issuer - The issuer URL, e.g. {@link SIGSTORE_OIDC_ISSUER}.
 * @param options - HTTP options and an abort signal.
 * @returns The provider's endpoints.
 * @throws {CountersignError} ERR_OIDC_LOGIN (`details.reason` `discovery`, or `details.status` for HTTP failures);
 *   ERR_NETWORK / ERR_ABORTED.
 * @example
 * ```ts
 * import { discoverOIDCProvider } from 'countersign/oidc'
 * const provider = await discoverOIDCProvider('https://oauth2.sigstore.dev/auth')
 * ```
 *
 * Exported from `countersign/oidc`.
 */
export async function discoverOIDCProvider(
  issuer: string,
  options: OIDCRequestOptions = {},
): Promise<OIDCProviderMetadata> {
  const base = withoutSlash(checkEndpoint(issuer, 'issuer'))
  const { signal, ...httpOptions } = options
  const http = createServiceHTTP('OIDC discovery', 'ERR_OIDC_LOGIN', httpOptions)
  const res = await http({
    method: 'GET',
    url: `${base}/.well-known/openid-configuration`,
    maxBytes: 256 * 1024,
    ...(signal ? { signal } : {}),
  })
  const doc = res.json() as Record<string, unknown> | null
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw loginError('OIDC discovery document is not a JSON object', 'discovery')
  }
  if (typeof doc.issuer !== 'string' || withoutSlash(doc.issuer) !== base) {
    throw loginError(`OIDC discovery document names another issuer than ${base}`, 'discovery')
  }
  const methods = doc.code_challenge_methods_supported
  if (methods !== undefined && !(Array.isArray(methods) && methods.every((m) => typeof m === 'string'))) {
    throw loginError('OIDC discovery: code_challenge_methods_supported is not a list of strings', 'discovery')
  }
  return Object.freeze({
    issuer: doc.issuer,
    authorizationEndpoint: checkEndpoint(doc.authorization_endpoint, 'authorization_endpoint'),
    tokenEndpoint: checkEndpoint(doc.token_endpoint, 'token_endpoint'),
    ...(methods !== undefined ? { codeChallengeMethods: Object.freeze([...(methods as string[])]) } : {}),
  })
}

/**
 * One login attempt: the URL to open and the values the callback and the code exchange are checked against.
 *
 * Exported from `countersign/oidc`.
 */
export interface AuthorizationRequest {
  /** The authorization URL to open in a browser (safe to print: it carries no secret). */
  readonly url: string
  readonly issuer: string
  readonly tokenEndpoint: string
  readonly clientId: string
  readonly redirectUri: string
  readonly state: string
  readonly nonce: string
  /** The PKCE verifier (secret until the code is exchanged). */
  readonly codeVerifier: string
}

/**
 * Options for {@link createAuthorizationRequest}.
 *
 * Exported from `countersign/oidc`.
 */
export interface AuthorizationRequestOptions {
  /** Where the provider sends the browser back, e.g. `http://localhost:PORT/auth/callback`. */
  readonly redirectUri: string
  /** Default `sigstore` (cosign's `--oidc-client-id` default). */
  readonly clientId?: string
  /** Default `openid email` (cosign, sigstore-js). */
  readonly scope?: string
  /** More parameters, e.g. `{ connector_id: 'https://github.com/login/oauth' }` to pick Dex's GitHub connector. */
  readonly extraParams?: Readonly<Record<string, string>>
}

function base64url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function randomString(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)))
}

/**
 * Start a login: fresh `state`, `nonce` and PKCE verifier (32 random bytes each, RFC 7636 §4.1) and the
 * authorization URL (`response_type=code`, S256 challenge). Refused when the provider advertises PKCE methods
 * without S256 (cosign requires PKCE; a provider that advertises nothing is tried anyway, as cosign does for Azure).
 *
 * @param provider - From {@link discoverOIDCProvider}.
 * @param options - Redirect URI, client ID, scope.
 * @returns The request; open `url`, then pass the callback URL to {@link parseAuthorizationCallback}.
 * @throws {CountersignError} ERR_OIDC_LOGIN when the provider does not support S256.
 * @example
 * ```ts
 * import { createAuthorizationRequest, discoverOIDCProvider } from 'countersign/oidc'
 * const request = await createAuthorizationRequest(await discoverOIDCProvider(issuer), {
 *   redirectUri: 'http://localhost:8400/auth/callback',
 * })
 * console.log(request.url)
 * ```
 *
 * Exported from `countersign/oidc`.
 */
export async function createAuthorizationRequest(
  provider: OIDCProviderMetadata,
  options: AuthorizationRequestOptions,
): Promise<AuthorizationRequest> {
  if (provider.codeChallengeMethods !== undefined && !provider.codeChallengeMethods.includes('S256')) {
    throw loginError('the OIDC provider does not support PKCE with S256', 'pkce-unsupported')
  }
  const clientId = options.clientId ?? 'sigstore'
  const state = randomString(32)
  const nonce = randomString(32)
  const codeVerifier = randomString(32)
  const challenge = base64url(
    new Uint8Array(await getSubtle().digest('SHA-256', toArrayBufferView(utf8(codeVerifier)))),
  )
  const url = new URL(provider.authorizationEndpoint)
  const params: Record<string, string> = {
    ...(options.extraParams ?? {}),
    response_type: 'code',
    client_id: clientId,
    redirect_uri: options.redirectUri,
    scope: options.scope ?? 'openid email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  }
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v)
  return Object.freeze({
    url: url.href,
    issuer: provider.issuer,
    tokenEndpoint: provider.tokenEndpoint,
    clientId,
    redirectUri: options.redirectUri,
    state,
    nonce,
    codeVerifier,
  })
}

/** Printable, bounded text from a provider's error parameters. */
function clip(s: string): string {
  const clean = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean
}

/**
 * Check the redirect the provider sent the browser to and take the authorization code from it. The `state` must be
 * the request's (CSRF protection, RFC 6749 §10.12) before anything else is believed, including an error.
 *
 * @param callback - The full callback URL (or just its path and query).
 * @param request - The request being completed.
 * @returns The authorization code.
 * @throws {CountersignError} ERR_OIDC_LOGIN with `details.reason` `state-mismatch`, `denied` (an `error`
 *   parameter, e.g. `access_denied`, in `details.error`) or `no-code`.
 * @example
 * ```ts
 * import { parseAuthorizationCallback } from 'countersign/oidc'
 * const code = parseAuthorizationCallback(req.url, request)
 * ```
 *
 * Exported from `countersign/oidc`.
 */
export function parseAuthorizationCallback(callback: string | URLLike, request: AuthorizationRequest): string {
  let url: URL
  try {
    url = new URL(typeof callback === 'string' ? callback : callback.href, request.redirectUri)
  } catch {
    throw loginError('the login callback is not a URL', 'malformed-callback')
  }
  const params = url.searchParams
  if (params.get('state') !== request.state) {
    throw loginError(
      'the login callback does not carry this login\u2019s state (possible CSRF); try again',
      'state-mismatch',
    )
  }
  const error = params.get('error')
  if (error !== null) {
    const description = params.get('error_description')
    throw loginError(
      `the OIDC provider refused the login: ${clip(error)}${description ? ` (${clip(description)})` : ''}`,
      'denied',
      { error: clip(error) },
    )
  }
  const code = params.get('code')
  if (!code) throw loginError('the login callback carries no authorization code', 'no-code')
  return code
}

/**
 * Options for {@link exchangeAuthorizationCode}.
 *
 * Exported from `countersign/oidc`.
 */
export interface ExchangeAuthorizationCodeOptions extends OIDCRequestOptions {
  /** The clock for the ID token's expiry (default now). */
  readonly now?: Date
}

/**
 * Exchange the authorization code at the token endpoint (public client: `client_id` and `code_verifier`, no
 * secret) and return the ID token after checking its issuer, audience (the client ID), expiry and nonce.
 *
 * @param request - The request the code belongs to.
 * @param code - From {@link parseAuthorizationCallback}.
 * @param options - HTTP options, abort signal, clock.
 * @returns The raw ID token (secret).
 * @throws {CountersignError} ERR_OIDC_LOGIN (token endpoint refused, no `id_token`, issuer or nonce mismatch);
 *   ERR_OIDC_TOKEN (malformed or expired token); ERR_NETWORK / ERR_ABORTED. No error contains the code, the
 *   verifier or the token.
 * @example
 * ```ts
 * import { exchangeAuthorizationCode } from 'countersign/oidc'
 * const idToken = await exchangeAuthorizationCode(request, code)
 * ```
 *
 * Exported from `countersign/oidc`.
 */
export async function exchangeAuthorizationCode(
  request: AuthorizationRequest,
  code: string,
  options: ExchangeAuthorizationCodeOptions = {},
): Promise<string> {
  const { signal, now, ...httpOptions } = options
  const http = createServiceHTTP('OIDC token endpoint', 'ERR_OIDC_LOGIN', httpOptions)
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: request.redirectUri,
    client_id: request.clientId,
    code_verifier: request.codeVerifier,
  })
  let idToken: unknown
  try {
    const res = await http({
      method: 'POST',
      url: request.tokenEndpoint,
      body: utf8(form.toString()),
      contentType: 'application/x-www-form-urlencoded',
      maxBytes: 256 * 1024,
      // An authorization code is single-use: a repeated request could only fail or be replayed.
      retry: false,
      secrets: [code, request.codeVerifier],
      ...(signal ? { signal } : {}),
    })
    const doc = res.json() as { id_token?: unknown } | null
    idToken = typeof doc === 'object' && doc !== null ? doc.id_token : undefined
  } catch (error) {
    throw redactError(error, http.secrets)
  }
  if (typeof idToken === 'string') http.secrets.addTemporary(idToken)
  if (typeof idToken !== 'string' || idToken === '') {
    throw loginError('the OIDC token endpoint answered without an id_token', 'no-id-token')
  }
  const token = parseIdentityToken(idToken, { audience: request.clientId, ...(now ? { now } : {}) })
  if (withoutSlash(token.issuer) !== withoutSlash(request.issuer)) {
    throw loginError(
      `the ID token was issued by ${JSON.stringify(token.issuer)}, not ${request.issuer}`,
      'issuer-mismatch',
    )
  }
  if (token.claims.nonce !== request.nonce) {
    throw loginError('the ID token does not carry this login\u2019s nonce', 'nonce-mismatch')
  }
  return token.raw
}

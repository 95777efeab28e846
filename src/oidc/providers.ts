/**
 * Identity token sources: an explicit value, an environment variable (`SIGSTORE_ID_TOKEN`, which is also how
 * GitLab CI hands one over) and GitHub Actions' ambient credentials, plus cosign's detection order. Environment and
 * fetch are passed in, never read from globals.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { redactError } from '../http/redact.js'
import { createServiceHTTP, type ServiceClientOptions } from '../http/service.js'
import type { AbortSignalLike } from '../internal/host-types.js'

/**
 * Produces an identity token when asked (lazily, so a token is fetched only when a certificate is needed).
 *
 * Exported from `countersign/oidc`.
 */
export type IdentityTokenProvider = (options?: { readonly signal?: AbortSignalLike }) => Promise<string>

/**
 * Environment variables, e.g. `process.env` in Node or `Deno.env.toObject()`.
 *
 * Exported from `countersign/oidc`.
 */
export type Environment = Readonly<Record<string, string | undefined>>

/** The variable cosign and sigstore-js read an explicit token from. */
const SIGSTORE_ID_TOKEN = 'SIGSTORE_ID_TOKEN'
const GITHUB_REQUEST_URL = 'ACTIONS_ID_TOKEN_REQUEST_URL'
const GITHUB_REQUEST_TOKEN = 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'

function noToken(message: string, reason: string): CountersignError {
  return new CountersignError('ERR_OIDC_TOKEN', message, { details: { reason } })
}

/**
 * A provider that always returns `value` (cosign `--identity-token` with a value; read files yourself).
 *
 * @param value - The token.
 * @returns A provider.
 * @throws {CountersignError} ERR_OIDC_TOKEN (when called) if `value` is empty.
 * @example
 * ```ts
 * import { staticIdentityToken } from 'countersign/oidc'
 * const provider = staticIdentityToken(tokenFromFlag)
 * ```
 *
 * Exported from `countersign/oidc`.
 */
export function staticIdentityToken(value: string): IdentityTokenProvider {
  if (typeof value !== 'string') throw new TypeError('identity token must be a string')
  return async () => {
    const token = value.trim()
    if (token === '') throw noToken('the identity token is empty', 'empty')
    return token
  }
}

/**
 * Options for {@link environmentIdentityToken}.
 *
 * Exported from `countersign/oidc`.
 */
export interface EnvironmentIdentityTokenOptions {
  /** The variable (default `SIGSTORE_ID_TOKEN`). */
  readonly name?: string
}

/**
 * A provider reading `SIGSTORE_ID_TOKEN` (cosign's `envvar` provider). GitLab CI provides tokens this way: declare
 * `id_tokens: { SIGSTORE_ID_TOKEN: { aud: sigstore } }` in the job and GitLab sets the variable.
 *
 * @param env - The environment.
 * @param options - Another variable name.
 * @returns A provider; it throws ERR_OIDC_TOKEN when the variable is unset or empty at call time.
 * @example
 * ```ts
 * import { environmentIdentityToken } from 'countersign/oidc'
 * const provider = environmentIdentityToken(process.env)
 * ```
 *
 * Exported from `countersign/oidc`.
 */
export function environmentIdentityToken(
  env: Environment,
  options: EnvironmentIdentityTokenOptions = {},
): IdentityTokenProvider {
  const name = options.name ?? SIGSTORE_ID_TOKEN
  return async () => {
    const value = env[name]?.trim()
    if (!value) throw noToken(`${name} is not set`, 'unset')
    return value
  }
}

/**
 * Options for {@link githubActionsIdentityToken}.
 *
 * Exported from `countersign/oidc`.
 */
export interface GitHubActionsIdentityTokenOptions extends ServiceClientOptions {
  /** Must hold `ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN` (`permissions: id-token: write`). */
  readonly env: Environment
  /** The audience to request (default `sigstore`). */
  readonly audience?: string
}

/** Bounds the ambient endpoint's answer; a token is a few KiB. */
const MAX_RESPONSE_BYTES = 128 * 1024

/**
 * A provider for GitHub Actions' ambient OIDC credentials: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore`
 * with `Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answered with `{"value": "<JWT>"}` (cosign's
 * `github-actions` provider). Each call requests a fresh token.
 *
 * @param options - Environment, audience and HTTP options.
 * @returns A provider; it throws ERR_OIDC_TOKEN when the variables are missing or the endpoint fails
 *   (`details.status`), ERR_NETWORK / ERR_ABORTED for transport failures. Neither token appears in errors.
 * @example
 * ```ts
 * import { githubActionsIdentityToken } from 'countersign/oidc'
 * const provider = githubActionsIdentityToken({ env: process.env })
 * const jwt = await provider()
 * ```
 *
 * Exported from `countersign/oidc`.
 */
export function githubActionsIdentityToken(options: GitHubActionsIdentityTokenOptions): IdentityTokenProvider {
  const { env, audience = 'sigstore', ...httpOptions } = options
  const http = createServiceHTTP('GitHub Actions OIDC', 'ERR_OIDC_TOKEN', httpOptions)
  return async (callOptions) => {
    const requestURL = env[GITHUB_REQUEST_URL]
    const requestToken = env[GITHUB_REQUEST_TOKEN]
    if (!requestURL || !requestToken) {
      throw noToken(
        `GitHub Actions OIDC is not available (${GITHUB_REQUEST_URL} and ${GITHUB_REQUEST_TOKEN} must be set; the job needs "permissions: id-token: write")`,
        'unset',
      )
    }
    let url: URL
    try {
      url = new URL(requestURL)
    } catch {
      throw noToken(`${GITHUB_REQUEST_URL} is not a URL`, 'invalid-url')
    }
    // The variable already carries a query (api-version); cosign appends "&audience=", sigstore-js adds a parameter.
    url.searchParams.append('audience', audience)
    try {
      const res = await http({
        method: 'GET',
        url: url.href,
        headers: { Authorization: `bearer ${requestToken}` },
        maxBytes: MAX_RESPONSE_BYTES,
        ...(callOptions?.signal ? { signal: callOptions.signal } : {}),
      })
      const doc = res.json() as { value?: unknown } | null
      const value = typeof doc === 'object' && doc !== null ? doc.value : undefined
      if (typeof value !== 'string' || value.trim() === '') {
        throw noToken('GitHub Actions OIDC answered without a token ("value")', 'invalid-response')
      }
      // The caller's set (the CLI's) learns the issued token, so later errors (Fulcio's) cannot quote it.
      http.secrets.addTemporary(value.trim())
      return value.trim()
    } catch (error) {
      http.secrets.add(requestToken)
      throw redactError(error, http.secrets)
    }
  }
}

/**
 * Options for {@link detectIdentityToken}.
 *
 * Exported from `countersign/oidc`.
 */
export interface DetectIdentityTokenOptions extends ServiceClientOptions {
  readonly env: Environment
  /** The audience for providers that request one (default `sigstore`). */
  readonly audience?: string
}

/**
 * An ambient token source that applies in this environment.
 *
 * Exported from `countersign/oidc`.
 */
export interface DetectedIdentityToken {
  /** Which source applies first: `github-actions` or `environment` (`SIGSTORE_ID_TOKEN`). */
  readonly source: 'github-actions' | 'environment'
  /** Gets the token (network for GitHub Actions). */
  readonly getToken: IdentityTokenProvider
}

/**
 * Find an ambient identity token source the way cosign does (`pkg/providers`, GitHub first "since we might be
 * running in a GitHub self-hosted runner running in one of the other environments"): GitHub Actions when both of
 * its variables are set, then `SIGSTORE_ID_TOKEN`; when the GitHub request fails and `SIGSTORE_ID_TOKEN` is set,
 * that is used instead (cosign tries the next enabled provider). Detection only looks at the environment; no request
 * is made until `getToken()`.
 *
 * Note: sigstore-js races its two sources (`Promise.any`), so in practice it prefers `SIGSTORE_ID_TOKEN`.
 *
 * @param options - Environment, audience and HTTP options.
 * @returns The source, or undefined when none applies (then an interactive login or an explicit token is needed).
 * @example
 * ```ts
 * import { detectIdentityToken } from 'countersign/oidc'
 * const detected = detectIdentityToken({ env: process.env })
 * const jwt = detected ? await detected.getToken() : await loginInteractively({ output: console.error })
 * ```
 *
 * Exported from `countersign/oidc`.
 */
export function detectIdentityToken(options: DetectIdentityTokenOptions): DetectedIdentityToken | undefined {
  const { env } = options
  const fromEnv = env[SIGSTORE_ID_TOKEN]?.trim() ? environmentIdentityToken(env) : undefined
  if (env[GITHUB_REQUEST_URL] && env[GITHUB_REQUEST_TOKEN]) {
    const github = githubActionsIdentityToken(options)
    return Object.freeze({
      source: 'github-actions' as const,
      getToken: async (callOptions?: { readonly signal?: AbortSignalLike }) => {
        try {
          return await github(callOptions)
        } catch (error) {
          if (fromEnv === undefined || callOptions?.signal?.aborted) throw error
          return fromEnv()
        }
      },
    })
  }
  if (fromEnv !== undefined) return Object.freeze({ source: 'environment' as const, getToken: fromEnv })
  return undefined
}

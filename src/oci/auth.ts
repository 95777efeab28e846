/**
 * Registry authentication: `WWW-Authenticate` parsing, Basic and Bearer token flows (distribution token
 * spec, OAuth2 refresh-token grant for identity tokens), and a token cache with expiry. Every credential is added
 * to the client's secret set when it is resolved, and every token when it is issued, so that no error built from a
 * registry's or token server's answer can carry one.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { discardBody, readLimited } from '../http/body.js'
import { createSecretSet, type SecretSet } from '../http/redact.js'
import { fromUtf8, toBase64, utf8 } from '../internal/bytes.js'
import type { AbortSignalLike, RequestInitLike, ResponseLike } from '../internal/host-types.js'
import { registryError } from './registry-errors.js'

/**
 * Credentials for one registry: a username and password, an identity (refresh) token exchanged through the
 * OAuth2 refresh-token grant, or a registry token sent as-is as a Bearer token.
 *
 * Exported from `countersign/oci`.
 *
 * @example
 * ```ts
 * import type { Credential } from 'countersign/oci'
 * const c: Credential = { username: 'ci', password: 'secret' }
 * ```
 */
export type Credential = { username: string; password: string } | { identityToken: string } | { registryToken: string }

/**
 * Looks up credentials for a registry host (`ghcr.io`, `index.docker.io`, `localhost:5000`). Returns undefined
 * for anonymous access.
 *
 * Exported from `countersign/oci`.
 *
 * @example
 * ```ts
 * import type { CredentialProvider } from 'countersign/oci'
 * const creds: CredentialProvider = async (registry) =>
 *   registry === 'ghcr.io' ? { username: 'me', password: 'ghp_…' } : undefined
 * ```
 */
export type CredentialProvider = (registry: string, context?: CredentialContext) => Promise<Credential | undefined>

/**
 * What a {@link CredentialProvider} is told besides the registry: the repository being accessed, for stores
 * whose keys can be namespaced (podman's `auth.json` accepts `host/namespace` keys).
 *
 * @example
 * ```ts
 * const ctx: CredentialContext = { repository: 'org/app' }
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface CredentialContext {
  readonly repository?: string
}

/**
 * Combine credential providers: each is asked in order and the first defined answer wins (anonymous only when
 * all of them return undefined). An error from a provider propagates; it is not skipped.
 *
 * @example
 * ```ts
 * import { chainCredentials } from 'countersign/oci'
 * import { createDockerConfigCredentials, createPodmanAuthCredentials, createStaticCredentials } from 'countersign/node'
 * const credentials = chainCredentials(
 *   createStaticCredentials({ 'ghcr.io': { username: 'ci', password: token } }),
 *   createPodmanAuthCredentials(),
 *   createDockerConfigCredentials(),
 * )
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function chainCredentials(...providers: readonly CredentialProvider[]): CredentialProvider {
  return async (registry, context) => {
    for (const provider of providers) {
      const c = await provider(registry, context)
      if (c !== undefined) return c
    }
    return undefined
  }
}

/**
 * One challenge from a `WWW-Authenticate` header; scheme and parameter names are lower-cased.
 *
 * @example
 * ```ts
 * const [c]: AuthChallenge[] = parseWWWAuthenticate('Basic realm="r"')
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface AuthChallenge {
  readonly scheme: string
  readonly params: Readonly<Record<string, string>>
}

/**
 * The minimal fetch shape the auth code needs.
 *
 * @example
 * ```ts
 * const f: FetchLike = (url, init) => fetch(url, init)
 * ```
 *
 * Exported from `countersign/oci`.
 */
export type FetchLike = (url: string, init: RequestInitLike) => Promise<ResponseLike>

// RFC 7230 tchar.
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/

/**
 * Parse a `WWW-Authenticate` header value into challenges. Handles several challenges in one value (as
 * `Headers.get` joins repeated headers with `, `), quoted values containing commas, and backslash escapes.
 * Malformed input ends parsing; what was parsed so far is returned.
 *
 * @example
 * ```ts
 * import { parseWWWAuthenticate } from 'countersign/oci'
 * parseWWWAuthenticate('Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"')
 * // [{ scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry', scope: '…' } }]
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function parseWWWAuthenticate(header: string): AuthChallenge[] {
  const out: { scheme: string; params: Record<string, string> }[] = []
  let current: { scheme: string; params: Record<string, string> } | undefined
  let i = 0
  const n = header.length
  const skip = (chars: string) => {
    while (i < n && chars.includes(header[i]!)) i++
  }
  const token = () => {
    const start = i
    while (i < n && TCHAR.test(header[i]!)) i++
    return header.slice(start, i)
  }
  while (i < n) {
    skip(' \t,')
    if (i >= n) break
    const name = token()
    if (name === '') break
    skip(' \t')
    if (header[i] === '=' && current !== undefined) {
      i++
      skip(' \t')
      let value: string
      if (header[i] === '"') {
        i++
        value = ''
        let closed = false
        while (i < n) {
          const c = header[i]!
          if (c === '\\' && i + 1 < n) {
            value += header[i + 1]
            i += 2
          } else if (c === '"') {
            i++
            closed = true
            break
          } else {
            value += c
            i++
          }
        }
        if (!closed) break
      } else {
        value = token()
      }
      const key = name.toLowerCase()
      // defineProperty keeps a "__proto__" parameter an ordinary property.
      Object.defineProperty(current.params, key, { value, enumerable: true, writable: true, configurable: true })
    } else if (header[i] === '=') {
      break // a parameter with no challenge before it
    } else {
      current = { scheme: name.toLowerCase(), params: {} }
      out.push(current)
    }
  }
  return out
}

/**
 * A registry token from a distribution token server ({@link fetchBearerToken}), sent as `Authorization: Bearer …` to
 * the registry, and when it stops being used (milliseconds since the epoch; always known, `expires_in` defaults to
 * 60 s). Not the cloud-KMS OAuth token that `countersign/kms/gcp` and `countersign/kms/azure` also export as
 * `BearerToken` (whose expiry may be unknown).
 *
 * @example
 * ```ts
 * const { token, expiresAt }: BearerToken = await fetchBearerToken(challenge, options)
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface BearerToken {
  readonly token: string
  readonly expiresAt: number
}

/**
 * Options for {@link fetchBearerToken}.
 *
 * @example
 * ```ts
 * const o: FetchBearerTokenOptions = { registry: 'ghcr.io', scopes: ['repository:org/app:pull'], fetch }
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface FetchBearerTokenOptions {
  /** The registry host as in the reference (`ghcr.io`, `localhost:5000`), for realm validation. */
  readonly registry: string
  /** Token scopes, e.g. `repository:org/app:pull,push`. */
  readonly scopes: readonly string[]
  readonly credential?: Credential
  readonly fetch: FetchLike
  readonly signal?: AbortSignalLike
  /** Whether the registry itself is spoken to over plain HTTP (then an `http:` realm is allowed). */
  readonly plainHTTP?: boolean
  readonly userAgent?: string
  /** Clock for expiry; defaults to `Date.now`. */
  readonly now?: () => number
  /**
   * The secrets kept out of errors; the credential and the issued token are added to it. Default: a set of this
   * call's own (holding the credential).
   */
  readonly secrets?: SecretSet
}

const MAX_TOKEN_BODY_BYTES = 64 * 1024
const DEFAULT_TOKEN_LIFETIME_S = 60
const EXPIRY_MARGIN_MS = 5_000
const CLIENT_ID = 'countersign'

function unauthorized(message: string): CountersignError {
  return new CountersignError('ERR_OCI_UNAUTHORIZED', message)
}

function isPrivateAddress(hostname: string): boolean {
  const h = hostname.toLowerCase()
  if (h === 'localhost' || h.endsWith('.localhost')) return true
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h)
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])]
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168)
    )
  }
  if (h.startsWith('[')) {
    const v6 = h.slice(1, -1)
    return v6 === '::1' || v6 === '::' || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6) || v6.startsWith('::ffff:')
  }
  return false
}

function hostnameOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(0, registry.indexOf(']') + 1).toLowerCase()
  const colon = registry.lastIndexOf(':')
  return (colon >= 0 ? registry.slice(0, colon) : registry).toLowerCase()
}

/**
 * Validate a Bearer realm before sending anything (possibly credentials) to it: it must be https (http only
 * when the registry itself is plain HTTP) and, unless it is the registry's own host, must not point at a
 * loopback, private or link-local address (a hostile registry could otherwise aim us at internal services).
 */
function checkRealm(realm: string, registry: string, plainHTTP: boolean): URL {
  let url: URL
  try {
    url = new URL(realm)
  } catch {
    throw unauthorized('registry sent an auth challenge with an invalid realm URL')
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && plainHTTP)) {
    throw unauthorized(`refusing token realm with scheme ${url.protocol} for a registry spoken to over https`)
  }
  if (url.username !== '' || url.password !== '') throw unauthorized('refusing token realm with embedded credentials')
  if (url.hostname.toLowerCase() !== hostnameOf(registry) && isPrivateAddress(url.hostname)) {
    throw unauthorized(`refusing token realm on a private or loopback address (${url.hostname})`)
  }
  return url
}

function basicHeader(username: string, password: string): string {
  return `Basic ${toBase64(utf8(`${username}:${password}`))}`
}

/**
 * Add the secret parts of `credential` to `secrets`: the password and `user:password` (whose base64 a Basic header
 * carries), or the token.
 */
function rememberCredential(secrets: SecretSet, credential: Credential | undefined): void {
  if (typeof credential !== 'object' || credential === null) return
  const c = credential as { username?: unknown; password?: unknown; identityToken?: unknown; registryToken?: unknown }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
  const password = str(c.password)
  secrets.add(password, str(c.identityToken), str(c.registryToken))
  if (password !== undefined) secrets.add(`${str(c.username) ?? ''}:${password}`)
}

function checkTokenValue(token: unknown): string | undefined {
  // Visible ASCII only: the value goes into a header, and CR/LF would be header injection.
  return typeof token === 'string' && /^[\x21-\x7e]{1,16384}$/.test(token) ? token : undefined
}

/**
 * Obtain a Bearer token from the realm of a challenge (distribution token authentication). With a username and
 * password it sends them as Basic auth on `GET realm?service=…&scope=…`; with an identity token it uses the
 * OAuth2 `refresh_token` grant (`POST realm`, form-encoded) and falls back to GET when the server answers 404;
 * without credentials it asks anonymously. Accepts `token` or `access_token`; `expires_in` defaults to 60 s.
 *
 * @throws {CountersignError} ERR_OCI_UNAUTHORIZED when the token server refuses or the challenge is unusable,
 * ERR_OCI_HTTP for other token server failures.
 * @example
 * ```ts
 * import { fetchBearerToken, parseWWWAuthenticate } from 'countersign/oci'
 * const [challenge] = parseWWWAuthenticate(res.headers.get('www-authenticate') ?? '')
 * const { token } = await fetchBearerToken(challenge, { registry: 'ghcr.io', scopes: ['repository:org/app:pull'], fetch })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export async function fetchBearerToken(
  challenge: AuthChallenge,
  options: FetchBearerTokenOptions,
): Promise<BearerToken> {
  const realm = challenge.params.realm
  if (challenge.scheme !== 'bearer' || realm === undefined) throw unauthorized('not a Bearer challenge with a realm')
  const url = checkRealm(realm, options.registry, options.plainHTTP === true)
  const service = challenge.params.service
  const cred = options.credential
  const secrets = options.secrets ?? createSecretSet()
  rememberCredential(secrets, cred)
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (options.userAgent) headers['User-Agent'] = options.userAgent
  const what = `token request to ${url.origin}${url.pathname}`

  let res: Response | undefined
  if (cred !== undefined && 'identityToken' in cred) {
    const form = new URLSearchParams()
    form.set('grant_type', 'refresh_token')
    form.set('refresh_token', cred.identityToken)
    form.set('client_id', CLIENT_ID)
    if (service !== undefined) form.set('service', service)
    form.set('scope', options.scopes.join(' '))
    res = await options.fetch(url.href, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      signal: options.signal,
    })
    // Not every token server implements OAuth2 (distribution token spec: fall back to GET on 404); docker
    // also falls back when the POST is refused as a method.
    if (res.status === 404 || res.status === 405) {
      await discardBody(res)
      res = undefined
    }
  }
  if (res === undefined) {
    const get = new URL(url.href)
    if (service !== undefined) get.searchParams.set('service', service)
    for (const s of options.scopes) get.searchParams.append('scope', s)
    if (cred !== undefined && 'username' in cred) headers.Authorization = basicHeader(cred.username, cred.password)
    res = await options.fetch(get.href, { method: 'GET', headers, signal: options.signal })
  }
  if (res.status === 401 || res.status === 403) {
    await discardBody(res)
    throw unauthorized(`${what} was refused (HTTP ${res.status}); check the credentials for ${options.registry}`)
  }
  if (!res.ok) throw await registryError(res, { what, secrets })
  const body = await readLimited(res, MAX_TOKEN_BODY_BYTES, 'token response')
  let doc: unknown
  try {
    doc = JSON.parse(fromUtf8(body))
  } catch {
    throw new CountersignError('ERR_OCI_HTTP', `${what} returned a body that is not JSON`, {
      details: { status: res.status },
    })
  }
  const d = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>
  const token = checkTokenValue(d.token) ?? checkTokenValue(d.access_token)
  // Issued tokens expire (60 s by default); the set keeps only the latest ones.
  secrets.addTemporary(token)
  if (token === undefined) {
    throw new CountersignError('ERR_OCI_HTTP', `${what} returned no usable token`, { details: { status: res.status } })
  }
  const expiresIn =
    typeof d.expires_in === 'number' && Number.isFinite(d.expires_in) && d.expires_in > DEFAULT_TOKEN_LIFETIME_S
      ? Math.min(d.expires_in, 24 * 3600)
      : DEFAULT_TOKEN_LIFETIME_S
  const now = (options.now ?? Date.now)()
  return { token, expiresAt: now + expiresIn * 1000 }
}

/**
 * What a request needs authorisation for.
 *
 * @example
 * ```ts
 * const s: AuthScope = { registry: 'ghcr.io', repository: 'org/app', actions: 'pull' }
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface AuthScope {
  /** Registry host as in the reference (`index.docker.io`, `localhost:5000`). */
  readonly registry: string
  /** Repository path (`library/ubuntu`). */
  readonly repository: string
  /** `pull` for reads, `pull,push` for writes, `delete` for manifest deletes. */
  readonly actions: 'pull' | 'pull,push' | 'delete'
  /**
   * A repository on the same registry that a cross-repository mount reads from: the token then also asks for
   * `repository:<mountFrom>:pull`.
   */
  readonly mountFrom?: string
}

/** The token scopes `scope` needs. */
function scopeStrings(scope: AuthScope): string[] {
  const out = [`repository:${scope.repository}:${scope.actions}`]
  if (scope.mountFrom !== undefined && scope.mountFrom !== scope.repository) {
    out.push(`repository:${scope.mountFrom}:pull`)
  }
  return out
}

/** True when one scope a challenge asks for is already implied by the scopes we request. */
function coveredBy(asked: string, wanted: readonly string[]): boolean {
  return wanted.some((w) => {
    const colon = w.lastIndexOf(':')
    const prefix = w.slice(0, colon + 1)
    if (!asked.startsWith(prefix)) return false
    const have = w.slice(colon + 1).split(',')
    return asked
      .slice(prefix.length)
      .split(',')
      .every((a) => have.includes(a))
  })
}

/**
 * Options for {@link createAuthenticator}.
 *
 * @example
 * ```ts
 * const auth = createAuthenticator({ fetch, credentials })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface AuthenticatorOptions {
  readonly fetch: FetchLike
  readonly credentials?: CredentialProvider
  readonly userAgent?: string
  readonly now?: () => number
  /**
   * The secrets kept out of errors (the registry client passes its own); every credential is added when it is
   * looked up and every token when it is issued. Default: a set of the authenticator's own.
   */
  readonly secrets?: SecretSet
}

/**
 * Per-client authorisation state: caches credentials and Authorization headers.
 *
 * @example
 * ```ts
 * const header = auth.cached({ registry: 'ghcr.io', repository: 'org/app', actions: 'pull' })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface Authenticator {
  /** The Authorization header to send proactively for `scope`, if one is cached and unexpired. */
  cached(scope: AuthScope): string | undefined
  /**
   * Answer a 401: parse its `WWW-Authenticate`, obtain Basic or Bearer authorisation for `scope`, cache it and
   * return the header to retry with.
   */
  respond(
    scope: AuthScope,
    wwwAuthenticate: string | null,
    options: { readonly signal?: AbortSignalLike; readonly plainHTTP: boolean },
  ): Promise<string>
  /** Forget cached authorisation for `scope` (after it was refused). */
  invalidate(scope: AuthScope): void
}

/**
 * Create the authenticator the registry client uses. Basic and registry-token authorisation is cached per
 * registry and repository; Bearer tokens per registry, repository, actions and mount source until they expire
 * (a `pull,push` token also serves `pull`). Credentials are looked up once per registry and repository.
 *
 * @example
 * ```ts
 * import { createAuthenticator } from 'countersign/oci'
 * const auth = createAuthenticator({ fetch, credentials: async () => ({ username: 'u', password: 'p' }) })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const now = options.now ?? Date.now
  const secrets = options.secrets ?? createSecretSet()
  // Basic and registry-token headers, per registry and repository (credentials may be namespaced).
  const registryWide = new Map<string, string>()
  const wideKey = (s: AuthScope) => `${s.registry}\n${s.repository}`
  const bearer = new Map<string, BearerToken>()
  const creds = new Map<string, Promise<Credential | undefined>>()
  const key = (s: AuthScope, actions = s.actions) => `${s.registry}\n${s.repository}\n${actions}\n${s.mountFrom ?? ''}`

  // Per registry and repository: a provider may answer differently per namespace (podman auth.json).
  const credentialFor = (registry: string, repository: string): Promise<Credential | undefined> => {
    const k = `${registry}\n${repository}`
    let p = creds.get(k)
    if (p === undefined) {
      p = options.credentials ? options.credentials(registry, { repository }) : Promise.resolve(undefined)
      p = p.then((c) => {
        rememberCredential(secrets, c)
        return c
      })
      creds.set(k, p)
      p.catch(() => creds.delete(k))
    }
    return p
  }

  const fresh = (t: BearerToken | undefined) =>
    t !== undefined && now() < t.expiresAt - EXPIRY_MARGIN_MS ? t : undefined

  return {
    cached(scope) {
      const r = registryWide.get(wideKey(scope))
      if (r !== undefined) return r
      const t =
        fresh(bearer.get(key(scope))) ??
        (scope.actions === 'pull' ? fresh(bearer.get(key(scope, 'pull,push'))) : undefined)
      return t === undefined ? undefined : `Bearer ${t.token}`
    },
    async respond(scope, wwwAuthenticate, opts) {
      const challenges = parseWWWAuthenticate(wwwAuthenticate ?? '')
      const bearerChallenge = challenges.find((c) => c.scheme === 'bearer' && c.params.realm !== undefined)
      const basicChallenge = challenges.find((c) => c.scheme === 'basic')
      const credential = await credentialFor(scope.registry, scope.repository)
      if (credential !== undefined && 'registryToken' in credential) {
        const t = checkTokenValue(credential.registryToken)
        if (t === undefined) throw unauthorized(`the registry token for ${scope.registry} is not a valid header value`)
        const header = `Bearer ${t}`
        registryWide.set(wideKey(scope), header)
        return header
      }
      if (bearerChallenge !== undefined) {
        const scopes = scopeStrings(scope)
        for (const asked of (bearerChallenge.params.scope ?? '').split(' ')) {
          if (asked !== '' && !coveredBy(asked, scopes) && !scopes.includes(asked)) scopes.push(asked)
        }
        const token = await fetchBearerToken(bearerChallenge, {
          registry: scope.registry,
          scopes,
          ...(credential !== undefined ? { credential } : {}),
          fetch: options.fetch,
          ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
          plainHTTP: opts.plainHTTP,
          ...(options.userAgent !== undefined ? { userAgent: options.userAgent } : {}),
          now,
          secrets,
        })
        bearer.set(key(scope), token)
        return `Bearer ${token.token}`
      }
      if (basicChallenge !== undefined) {
        if (credential === undefined) throw unauthorized(`${scope.registry} requires credentials and none were found`)
        if (!('username' in credential)) {
          throw unauthorized(`${scope.registry} asks for Basic auth but only a token is configured`)
        }
        const header = basicHeader(credential.username, credential.password)
        registryWide.set(wideKey(scope), header)
        return header
      }
      throw unauthorized(`${scope.registry} answered 401 without a usable WWW-Authenticate challenge`)
    },
    invalidate(scope) {
      registryWide.delete(wideKey(scope))
      bearer.delete(key(scope))
      if (scope.actions === 'pull') bearer.delete(key(scope, 'pull,push'))
    },
  }
}

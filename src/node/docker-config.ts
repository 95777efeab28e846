/** Registry credentials from the Docker CLI configuration (`~/.docker/config.json`). @module */
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { CountersignError } from '../errors.js'
import { fromBase64, fromUtf8 } from '../internal/bytes.js'
import { isJSONObject } from '../internal/json.js'
import type { Credential, CredentialProvider } from '../oci/auth.js'
import { runCredentialHelper } from './credential-helper.js'

/**
 * Options for {@link createDockerConfigCredentials}.
 *
 * @example
 * ```ts
 * createDockerConfigCredentials({ configPath: '/ci/docker/config.json' })
 * ```
 *
 * Exported from `countersign/node`.
 */
export interface DockerConfigCredentialsOptions {
  /** The config file; defaults to `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
  readonly configPath?: string
  /** Environment for `DOCKER_CONFIG`, `HOME` and the helpers' `PATH`; defaults to `process.env`. */
  readonly env?: Record<string, string | undefined>
  /** Kill a credential helper that has not answered after this long; default 30 s. */
  readonly helperTimeoutMs?: number
}

const DOCKER_HUB = 'index.docker.io'
const DOCKER_HUB_ALIASES = new Set(['index.docker.io', 'docker.io', 'registry-1.docker.io'])
const DOCKER_HUB_SERVER_URL = 'https://index.docker.io/v1/'
const MAX_CONFIG_BYTES = 4 * 1024 * 1024

/**
 * Normalise a registry as written in a Docker config key or an image reference to the host[:port] used for
 * matching: scheme and path dropped (`https://index.docker.io/v1/` → `index.docker.io`), lower-cased, Docker
 * Hub aliases (`docker.io`, `registry-1.docker.io`) folded to `index.docker.io`.
 *
 * @example
 * ```ts
 * import { normalizeRegistryHost } from 'countersign/node'
 * normalizeRegistryHost('https://index.docker.io/v1/') // 'index.docker.io'
 * ```
 *
 * Exported from `countersign/node`.
 */
export function normalizeRegistryHost(key: string): string {
  let s = key.trim()
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(s)
  if (scheme) s = s.slice(scheme[0].length)
  const slash = s.indexOf('/')
  if (slash >= 0) s = s.slice(0, slash)
  s = s.toLowerCase()
  return DOCKER_HUB_ALIASES.has(s) ? DOCKER_HUB : s
}

function invalidConfig(message: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', message)
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

/** Decode one `auths` entry; the key is named in errors, the secret never. */
function credentialFromEntry(entry: unknown, key: string): Credential | undefined {
  if (!isJSONObject(entry)) return undefined
  const registryToken = str(entry.registrytoken)
  if (registryToken !== undefined) return { registryToken }
  const identityToken = str(entry.identitytoken)
  if (identityToken !== undefined) return { identityToken }
  const auth = str(entry.auth)
  if (auth !== undefined) {
    let decoded: string
    try {
      decoded = fromUtf8(fromBase64(auth.trim()))
    } catch {
      throw invalidConfig(`docker config: the "auth" value for ${JSON.stringify(key)} is not valid base64`)
    }
    const colon = decoded.indexOf(':')
    if (colon < 0)
      throw invalidConfig(`docker config: the "auth" value for ${JSON.stringify(key)} is not user:password`)
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
  }
  const username = str(entry.username)
  const password = str(entry.password)
  if (username !== undefined && password !== undefined) return { username, password }
  return undefined
}

/**
 * The key a registry is stored under (docker/cli `registry.GetAuthConfigKey`): Docker Hub's v1 URL for Docker Hub,
 * the host[:port] for every other registry. It is also what a credential helper is asked for.
 */
function dockerAuthKey(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_SERVER_URL : registry
}

/**
 * The `auths` key for `registry` (docker/cli credentials/file_store.go `Get`): the key spelled exactly as
 * {@link dockerAuthKey}, else the first key whose host[:port] (scheme and path dropped) is the registry's. A port
 * is part of the host, and hosts never match as substrings. Docker Hub's other spellings (`docker.io`,
 * `registry-1.docker.io`, with or without a scheme) are accepted for Docker Hub too, as podman does when it reads
 * this file (containers/image pkg/docker/config `normalizeAuthFileKey`); they name no other host.
 */
function authsKey(auths: Record<string, unknown>, registry: string): string | undefined {
  const exact = dockerAuthKey(registry)
  if (Object.hasOwn(auths, exact)) return exact
  return Object.keys(auths).find((key) => normalizeRegistryHost(key) === registry)
}

/**
 * The `credHelpers` value for `registry`, or undefined when no key names it. docker/cli configfile
 * `getConfiguredCredentialStore` looks the registry's key up as is: a host[:port] (Docker Hub: its v1 URL, or one
 * of its host names as podman writes them), never a URL or a path, so `https://gcr.io` is no helper key for
 * `gcr.io`. An empty value means "this registry uses the file, not `credsStore`", as in Docker.
 */
function credHelperFor(helpers: Record<string, unknown>, registry: string): string | undefined {
  const exact = dockerAuthKey(registry)
  const key = Object.hasOwn(helpers, exact)
    ? exact
    : Object.keys(helpers).find((k) => !k.includes('/') && normalizeRegistryHost(k) === registry)
  return key !== undefined && typeof helpers[key] === 'string' ? (helpers[key] as string) : undefined
}

/**
 * A {@link CredentialProvider} reading the Docker CLI configuration: `$DOCKER_CONFIG/config.json` or
 * `~/.docker/config.json`, read again on every lookup (a rotated Secret mount is picked up). Docker's rules decide
 * which registry gets what (docker/cli cli/config/configfile and credentials):
 * - the registry's key is its host[:port] (a port is part of the host: `host:5000` is not `host`); Docker Hub
 *   (`docker.io`, `index.docker.io`, `registry-1.docker.io`) is `https://index.docker.io/v1/`;
 * - `credHelpers` names a helper per registry key; otherwise `credsStore` is the default helper. When a helper
 *   serves the registry it alone answers (run as `docker-credential-<name> get` with the key on stdin): inline
 *   user names, passwords and identity tokens for that registry are not used, a `registrytoken` is;
 * - otherwise the `auths` entry for the key: spelled exactly, else any key whose host[:port] is the registry's once
 *   a scheme and path are dropped (`https://ghcr.io/v1/` is `ghcr.io`), holding base64 `auth`,
 *   `username`/`password`, `identitytoken` or `registrytoken`.
 *
 * Hosts are compared whole and case-insensitively, never as substrings: `evil.example` never matches a key for
 * `example`. A missing config file means anonymous.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT (from the provider) when the config is not valid JSON, an `auth`
 * value does not decode, or a helper fails; messages never contain secrets.
 * @example
 * ```ts
 * import { createDockerConfigCredentials } from 'countersign/node'
 * import { createRegistryClient } from 'countersign/oci'
 * const registry = createRegistryClient({ credentials: createDockerConfigCredentials() })
 * ```
 *
 * Exported from `countersign/node`.
 */
export function createDockerConfigCredentials(options: DockerConfigCredentialsOptions = {}): CredentialProvider {
  const env = options.env ?? process.env
  const timeoutMs = options.helperTimeoutMs ?? 30_000
  const configPath = () => {
    if (options.configPath !== undefined) return options.configPath
    const dir = env.DOCKER_CONFIG
    if (dir !== undefined && dir !== '') return join(dir, 'config.json')
    return join(env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir(), '.docker', 'config.json')
  }

  return async (registryInput: string) => {
    const path = configPath()
    let bytes: Uint8Array
    try {
      bytes = new Uint8Array(await readFile(path))
    } catch (e) {
      const code = (e as { code?: unknown }).code
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
      throw new CountersignError('ERR_INVALID_INPUT', `cannot read docker config ${path}`, { cause: e })
    }
    if (bytes.length > MAX_CONFIG_BYTES) throw invalidConfig(`docker config ${path} is too large`)
    let config: unknown
    try {
      config = JSON.parse(fromUtf8(bytes, 'docker config'))
    } catch {
      throw invalidConfig(`docker config ${path} is not valid JSON`)
    }
    if (!isJSONObject(config)) throw invalidConfig(`docker config ${path} must be a JSON object`)
    const registry = normalizeRegistryHost(registryInput)
    const auths = isJSONObject(config.auths) ? config.auths : {}
    const entryKey = authsKey(auths, registry)
    const helpers = isJSONObject(config.credHelpers) ? config.credHelpers : {}
    const helper = credHelperFor(helpers, registry) ?? str(config.credsStore) ?? ''
    if (helper === '') return entryKey === undefined ? undefined : credentialFromEntry(auths[entryKey], entryKey)
    // A helper serves this registry (docker/cli credentials/native_store.go `Get`): its answer replaces the file
    // entry's user name, password and identity token, so those are not used even when the helper has nothing. A
    // registry token written in the file survives, and a registry token is what a client sends first.
    const entry = entryKey === undefined ? undefined : auths[entryKey]
    const fileToken = isJSONObject(entry) ? str(entry.registrytoken) : undefined
    if (fileToken !== undefined) return { registryToken: fileToken }
    return runCredentialHelper(helper, dockerAuthKey(registry), env, timeoutMs)
  }
}

/**
 * A {@link CredentialProvider} over a fixed map from registry (host[:port], or a Docker-style URL key) to
 * credential, matched exactly after the same normalisation as {@link createDockerConfigCredentials}.
 *
 * @example
 * ```ts
 * import { createStaticCredentials } from 'countersign/node'
 * const creds = createStaticCredentials({ 'localhost:5000': { username: 'u', password: 'p' } })
 * ```
 *
 * Exported from `countersign/node`.
 */
export function createStaticCredentials(map: Readonly<Record<string, Credential>>): CredentialProvider {
  const table = new Map<string, Credential>()
  for (const [key, cred] of Object.entries(map)) {
    const host = normalizeRegistryHost(key)
    if (!table.has(host)) table.set(host, cred)
  }
  return async (registry: string) => table.get(normalizeRegistryHost(registry))
}

/** Registry credentials from podman / containers-auth.json (`REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR`, `~/.config`). @module */
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { CountersignError } from '../errors.js'
import { fromBase64, fromUtf8 } from '../internal/bytes.js'
import { isJSONObject } from '../internal/json.js'
import type { Credential, CredentialProvider } from '../oci/auth.js'
import { runCredentialHelper } from './credential-helper.js'
import { normalizeRegistryHost } from './docker-config.js'

/**
 * Options for {@link createPodmanAuthCredentials}.
 *
 * @example
 * ```ts
 * createPodmanAuthCredentials({ authFile: '/run/user/1000/containers/auth.json' })
 * ```
 *
 * Exported from `countersign/node`.
 */
export interface PodmanAuthCredentialsOptions {
  /** Read only this file (as `REGISTRY_AUTH_FILE` does). */
  readonly authFile?: string
  /**
   * Environment for `REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR`, `XDG_CONFIG_HOME`, `HOME` and the helpers' `PATH`;
   * defaults to `process.env`.
   */
  readonly env?: Readonly<Record<string, string | undefined>>
}

const MAX_FILE_BYTES = 4 * 1024 * 1024
const HELPER_TIMEOUT_MS = 30_000

function invalid(message: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', message)
}

/** The files podman consults, in order (containers-auth.json(5)); Docker's config is a separate provider. */
export function podmanAuthFiles(env: Readonly<Record<string, string | undefined>>): string[] {
  const set = (v: string | undefined) => (v !== undefined && v !== '' ? v : undefined)
  const explicit = set(env.REGISTRY_AUTH_FILE)
  if (explicit !== undefined) return [explicit]
  const files: string[] = []
  const runtime = set(env.XDG_RUNTIME_DIR)
  if (runtime !== undefined) files.push(join(runtime, 'containers', 'auth.json'))
  const config = set(env.XDG_CONFIG_HOME) ?? join(set(env.HOME) ?? homedir(), '.config')
  files.push(join(config, 'containers', 'auth.json'))
  return files
}

/**
 * Split an `auths` key into host and namespace path: `quay.io/org/app` → [`quay.io`, `org/app`]. Legacy keys
 * with a scheme (`https://index.docker.io/v1/`) name the host only.
 */
function splitKey(key: string): [string, string] {
  const trimmed = key.trim()
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return [normalizeRegistryHost(trimmed), '']
  const slash = trimmed.indexOf('/')
  const host = slash < 0 ? trimmed : trimmed.slice(0, slash)
  const path = slash < 0 ? '' : trimmed.slice(slash + 1).replace(/\/+$/, '')
  return [normalizeRegistryHost(host), path]
}

/**
 * The `auths` key that applies to `registry`/`repository` (containers/image pkg/docker/config
 * `findCredentialsInFile`): the longest namespace that is the repository or a path-segment prefix of it, else the
 * bare host, a key spelled exactly before one that only normalises to it (`quay.io` before `https://quay.io/v1/`).
 * `quay.io/org` matches `org/app` but never `organisation/app`, `example.com` never matches `evil-example.com`,
 * and `host:5000` is not `host`.
 *
 * @example
 * ```ts
 * matchPodmanKey(['quay.io', 'quay.io/org'], 'quay.io', 'org/app') // 'quay.io/org'
 * ```
 */
export function matchPodmanKey(keys: Iterable<string>, registry: string, repository: string): string | undefined {
  const host = normalizeRegistryHost(registry)
  let best: string | undefined
  let bestRank = -1
  for (const key of keys) {
    const [keyHost, path] = splitKey(key)
    if (keyHost !== host) continue
    const applies = path === '' || repository === path || repository.startsWith(`${path}/`)
    // Longer namespaces first; among keys for the same namespace, the exact spelling first.
    const exact = key === (path === '' ? host : `${host}/${path}`) ? 1 : 0
    const rank = path.length * 2 + exact
    if (applies && rank > bestRank) {
      best = key
      bestRank = rank
    }
  }
  return best
}

/**
 * The `credHelpers` value for `registry` in one file: keys are registries (host[:port], never a namespace or a URL:
 * containers/image looks the registry up as is), Docker Hub spelled `docker.io` or another of its host names.
 */
function credHelperFor(helpers: Record<string, unknown>, registry: string): string | undefined {
  const host = normalizeRegistryHost(registry)
  const key = Object.keys(helpers).find((k) => !k.includes('/') && normalizeRegistryHost(k) === host)
  return key !== undefined && typeof helpers[key] === 'string' && helpers[key] !== '' ? helpers[key] : undefined
}

function credentialFrom(entry: unknown, key: string, file: string): Credential | undefined {
  if (!isJSONObject(entry)) return undefined
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
    return { identityToken: entry.identitytoken }
  }
  if (typeof entry.auth !== 'string' || entry.auth === '') return undefined
  let decoded: string
  try {
    decoded = fromUtf8(fromBase64(entry.auth.trim()))
  } catch {
    throw invalid(`${file}: the "auth" value for ${JSON.stringify(key)} is not valid base64`)
  }
  const colon = decoded.indexOf(':')
  if (colon < 0) throw invalid(`${file}: the "auth" value for ${JSON.stringify(key)} is not user:password`)
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

async function readAuthFile(
  file: string,
): Promise<{ auths: Record<string, unknown>; credHelpers: Record<string, unknown> } | undefined> {
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await readFile(file))
  } catch (e) {
    const code = (e as { code?: unknown }).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw new CountersignError('ERR_INVALID_INPUT', `cannot read ${file}`, { cause: e })
  }
  if (bytes.length > MAX_FILE_BYTES) throw invalid(`${file} is too large`)
  let doc: unknown
  try {
    doc = JSON.parse(fromUtf8(bytes, 'auth file'))
  } catch {
    throw invalid(`${file} is not valid JSON`)
  }
  if (!isJSONObject(doc)) throw invalid(`${file} must be a JSON object`)
  return {
    auths: isJSONObject(doc.auths) ? doc.auths : {},
    credHelpers: isJSONObject(doc.credHelpers) ? doc.credHelpers : {},
  }
}

/**
 * A {@link CredentialProvider} reading podman's / containers' `auth.json`: `REGISTRY_AUTH_FILE` alone when set,
 * else `$XDG_RUNTIME_DIR/containers/auth.json` then `$XDG_CONFIG_HOME/containers/auth.json` (default
 * `~/.config/containers/auth.json`); the first file with a matching entry wins. Keys may be namespaced
 * (`quay.io/org`): the longest namespace containing the repository wins, the bare host otherwise; hosts match
 * exactly, never as substrings, and a port is part of the host. Entries hold base64 `auth` or an `identitytoken`.
 * A file's `credHelpers` entry for the registry (a host, never a namespace) runs that helper instead of the file's
 * `auths`, as podman does.
 * Combine with {@link createDockerConfigCredentials} through `chainCredentials` for podman's Docker fallback.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT (from the provider) for unreadable or invalid files; messages
 * never contain secrets.
 * @example
 * ```ts
 * import { createPodmanAuthCredentials } from 'countersign/node'
 * import { createRegistryClient } from 'countersign/oci'
 * const registry = createRegistryClient({ credentials: createPodmanAuthCredentials() })
 * ```
 *
 * Exported from `countersign/node`.
 */
export function createPodmanAuthCredentials(options: PodmanAuthCredentialsOptions = {}): CredentialProvider {
  const env = options.env ?? process.env
  return async (registry, context) => {
    const files = options.authFile !== undefined ? [options.authFile] : podmanAuthFiles(env)
    for (const file of files) {
      const doc = await readAuthFile(file)
      if (doc === undefined) continue
      // A file's helper for the registry answers instead of that file's `auths`; nothing from it → the next file.
      const helper = credHelperFor(doc.credHelpers, registry)
      if (helper !== undefined) {
        const host = normalizeRegistryHost(registry)
        // podman asks helpers for the registry as it names it: Docker Hub is `docker.io`.
        const c = await runCredentialHelper(
          helper,
          host === 'index.docker.io' ? 'docker.io' : host,
          env,
          HELPER_TIMEOUT_MS,
        )
        if (c !== undefined) return c
        continue
      }
      const key = matchPodmanKey(Object.keys(doc.auths), registry, context?.repository ?? '')
      if (key === undefined) continue
      const c = credentialFrom(doc.auths[key], key, file)
      if (c !== undefined) return c
    }
    return undefined
  }
}

/** Registry credentials from the Docker CLI configuration (`~/.docker/config.json`). @module */
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { CountersignError } from '../errors.js'
import { fromBase64, fromUtf8 } from '../internal/bytes.js'
import { isJSONObject } from '../internal/json.js'
import type { Credential, CredentialProvider } from '../oci/auth.js'

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
const MAX_HELPER_OUTPUT = 1024 * 1024

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

/** Keys of `map` whose normalised host equals `registry`, exact spellings first. Never a substring match. */
function matchingKeys(map: Record<string, unknown>, registry: string): string[] {
  const exact: string[] = []
  const normalised: string[] = []
  for (const key of Object.keys(map)) {
    if (key === registry) exact.push(key)
    else if (normalizeRegistryHost(key) === registry) normalised.push(key)
  }
  return [...exact, ...normalised]
}

function runHelper(
  helper: string,
  serverURL: string,
  env: Record<string, string | undefined>,
  timeoutMs: number,
): Promise<Credential | undefined> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(helper)) {
    return Promise.reject(invalidConfig(`docker config: invalid credential helper name ${JSON.stringify(helper)}`))
  }
  const program = `docker-credential-${helper}`
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let outBytes = 0
    let errBytes = 0
    let settled = false
    const finish = (fn: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      fn()
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      finish(() => reject(invalidConfig(`${program} did not answer within ${timeoutMs} ms`)))
    }, timeoutMs)
    child.stdout.on('data', (c: Buffer) => {
      outBytes += c.length
      if (outBytes > MAX_HELPER_OUTPUT) {
        child.kill('SIGKILL')
        finish(() => reject(invalidConfig(`${program} produced too much output`)))
      } else out.push(c)
    })
    child.stderr.on('data', (c: Buffer) => {
      errBytes += c.length
      if (errBytes <= 64 * 1024) err.push(c)
    })
    child.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' ? 'was not found on PATH' : 'could not be started'
      finish(() =>
        reject(new CountersignError('ERR_INVALID_INPUT', `credential helper ${program} ${why}`, { cause: e })),
      )
    })
    child.stdin.on('error', () => {
      // The helper may exit without reading stdin; its exit status tells the story.
    })
    child.on('close', (code) => {
      finish(() => {
        const stdout = Buffer.concat(out).toString('utf8')
        const stderr = Buffer.concat(err).toString('utf8')
        if (code !== 0) {
          // docker-credential-helpers report a missing entry with this message (credentials.errCredentialsNotFound).
          if (/credentials not found/i.test(stdout) || /credentials not found/i.test(stderr)) return resolve(undefined)
          // The helper's output may contain secrets; report only the exit status.
          return reject(invalidConfig(`credential helper ${program} failed with exit code ${code}`))
        }
        let doc: unknown
        try {
          doc = JSON.parse(stdout)
        } catch {
          return reject(invalidConfig(`credential helper ${program} returned output that is not JSON`))
        }
        if (!isJSONObject(doc))
          return reject(invalidConfig(`credential helper ${program} returned an unexpected answer`))
        const username = typeof doc.Username === 'string' ? doc.Username : ''
        const secret = typeof doc.Secret === 'string' ? doc.Secret : ''
        if (secret === '') return resolve(undefined)
        // "<token>" as the user name marks an identity (refresh) token (docker/cli credentials/native_store.go).
        if (username === '<token>') return resolve({ identityToken: secret })
        return resolve({ username, password: secret })
      })
    })
    child.stdin.end(serverURL)
  })
}

/**
 * A {@link CredentialProvider} reading the Docker CLI configuration: `$DOCKER_CONFIG/config.json` or
 * `~/.docker/config.json`. In Docker's order it consults `credHelpers` for the registry, then `credsStore`, then
 * inline `auths` (base64 `auth`, `username`/`password`, `identitytoken`, `registrytoken`). Helpers are run as
 * `docker-credential-<name> get` with the server URL on stdin. Registry keys match only when their host[:port]
 * equals the registry exactly (`https://index.docker.io/v1/`, `docker.io` and `registry-1.docker.io` all mean
 * Docker Hub); `evil.example` never matches a key for `example`. A missing config file means anonymous.
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
    const authKeys = matchingKeys(auths, registry)
    const serverURL = registry === DOCKER_HUB ? DOCKER_HUB_SERVER_URL : (authKeys[0] ?? registry)

    const helpers = isJSONObject(config.credHelpers) ? config.credHelpers : {}
    const helperKey = matchingKeys(helpers, registry)[0]
    if (helperKey !== undefined) {
      const helper = str(helpers[helperKey])
      if (helper !== undefined) return runHelper(helper, serverURL, env, timeoutMs)
    }
    const store = str(config.credsStore)
    if (store !== undefined) {
      const fromStore = await runHelper(store, serverURL, env, timeoutMs)
      if (fromStore !== undefined) return fromStore
    }
    for (const key of authKeys) {
      const c = credentialFromEntry(auths[key], key)
      if (c !== undefined) return c
    }
    return undefined
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

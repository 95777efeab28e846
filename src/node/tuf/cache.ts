/**
 * The TUF cache on disk, laid out as cosign's (sigstore-go's): `$TUF_ROOT` (default `~/.sigstore/root`), one folder
 * per mirror (its URL without the scheme, `/` and `:` as `-`, lower-cased), holding the metadata (`root.json`,
 * `timestamp.json`, `snapshot.json`, `targets.json`) and `targets/`; `remote.json` beside them remembers the mirror
 * `initialize` set up. Every file is replaced atomically
 * (written beside, then renamed), so a process killed mid-update leaves the old file or the new one, never half of
 * either (docs/tuf.md).
 * @module
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { CountersignError } from '../../errors.js'

/**
 * The cache root: `env.TUF_ROOT`, else `~/.sigstore/root` (cosign's default).
 *
 * @example
 * ```ts
 * tufCacheRoot({ TUF_ROOT: '/var/cache/tuf' }) // '/var/cache/tuf'
 * ```
 */
export function tufCacheRoot(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const configured = env.TUF_ROOT?.trim()
  return configured ? configured : join(homedir(), '.sigstore', 'root')
}

/**
 * The mirror's folder under `root`, named as sigstore-go (and so cosign) names it — the URL without its scheme, `/`
 * and `:` turned into `-`, lower-cased — so that a cache `cosign initialize` wrote is the one countersign reads.
 *
 * @example
 * ```ts
 * mirrorCacheDir('/c', 'https://tuf-repo-cdn.sigstore.dev') // '/c/tuf-repo-cdn.sigstore.dev'
 * mirrorCacheDir('/c', 'http://TUF.example:8080/prod') // '/c/tuf.example-8080-prod'
 * ```
 */
export function mirrorCacheDir(root: string, mirror: string): string {
  const name = mirror
    .replace(/^https?:\/\//, '')
    .replace(/[/:]/g, '-')
    .toLowerCase()
  // The URL was validated as http(s); a name of dots alone would leave the cache root.
  if (name === '' || /^\.+$/.test(name)) throw new CountersignError('ERR_INVALID_INPUT', `invalid TUF mirror ${mirror}`)
  return join(root, name)
}

/**
 * Write `bytes` to `path` atomically: a temporary file in the same folder, then a rename over the old one.
 *
 * @example
 * ```ts
 * writeFileAtomic('/c/mirror/timestamp.json', bytes)
 * ```
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  try {
    writeFileSync(temp, bytes, { mode: 0o644 })
    renameSync(temp, path)
  } catch (e) {
    rmSync(temp, { force: true })
    throw e
  }
}

/**
 * What `initialize` remembers in `remote.json`.
 *
 * @example
 * ```ts
 * const r: RemoteConfig = { mirror: 'https://tuf-repo-cdn.sigstore.dev' }
 * ```
 */
export interface RemoteConfig {
  readonly mirror: string
}

/**
 * The mirror remembered under `root`, or `undefined` when none was initialised.
 *
 * @throws {CountersignError} ERR_TUF_INVALID when `remote.json` exists but is not valid.
 * @example
 * ```ts
 * const mirror = readRemoteConfig(tufCacheRoot())?.mirror
 * ```
 */
export function readRemoteConfig(root: string): RemoteConfig | undefined {
  const path = join(root, 'remote.json')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new CountersignError('ERR_TUF_INVALID', `cannot read ${path}: ${(e as Error).message}`)
  }
  try {
    const value: unknown = JSON.parse(text)
    const mirror = (value as { mirror?: unknown } | null)?.mirror
    if (typeof mirror === 'string' && /^https?:\/\//.test(mirror) && mirror.length < 2048) return { mirror }
  } catch {
    // reported below
  }
  throw new CountersignError('ERR_TUF_INVALID', `${path} does not name a mirror; run countersign initialize again`)
}

/**
 * Remember `mirror` under `root` (written atomically).
 *
 * @example
 * ```ts
 * writeRemoteConfig(tufCacheRoot(), { mirror: 'https://tuf.example' })
 * ```
 */
export function writeRemoteConfig(root: string, config: RemoteConfig): void {
  writeFileAtomic(join(root, 'remote.json'), `${JSON.stringify({ mirror: config.mirror }, null, 2)}\n`)
}

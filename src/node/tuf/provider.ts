/**
 * Trust material that stays current: the Sigstore trusted root and signing config, followed through a TUF
 * repository with tuf-js (the TUF project's JavaScript client, which sigstore-js uses too), cached on disk, and
 * refreshed only when the cached timestamp metadata has expired — never a network call per verification.
 *
 * tuf-js is loaded on first use, so importing `countersign/node` does not pay for it.
 * @module
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Updater } from 'tuf-js'
import { CountersignError } from '../../errors.js'
import { parseSigningConfig, type SigningConfig } from '../../trust/signing-config.js'
import { parseTrustedRoot, type TrustedRoot } from '../../trust/trusted-root.js'
import { mirrorCacheDir, tufCacheRoot, writeFileAtomic } from './cache.js'
import { tufError } from './errors.js'
import { createTUFFetcher } from './fetcher.js'
import { PUBLIC_GOOD_TUF_MIRROR, publicGoodTUFRoot } from './public-good.js'

/** The target holding the trusted root (Sigstore's name). */
export const TRUSTED_ROOT_TARGET = 'trusted_root.json'
/** The target holding the signing config (Sigstore's name for version 0.2). */
export const SIGNING_CONFIG_TARGET = 'signing_config.v0.2.json'

/**
 * Options for {@link createTUFTrustProvider}.
 *
 * @example
 * ```ts
 * const o: TUFTrustProviderOptions = { mirror: 'https://tuf.example', root: await readFile('root.json') }
 * ```
 *
 * Exported from `countersign/node`.
 */
export interface TUFTrustProviderOptions {
  /** The TUF repository (default {@link PUBLIC_GOOD_TUF_MIRROR}). */
  readonly mirror?: string
  /**
   * The TUF root to start from when the cache holds none for this mirror (default: the shipped public-good root,
   * for that mirror only).
   */
  readonly root?: Uint8Array
  /** The cache root (default `$TUF_ROOT`, else `~/.sigstore/root`). */
  readonly cacheDir?: string
  /** HTTP for the mirror (default the global `fetch`). */
  readonly fetch?: typeof fetch
  /** Use the cache only: no download, whatever its age. */
  readonly offline?: boolean
  /** Per download (default 30 s). */
  readonly timeoutMs?: number
  /** Environment read for `TUF_ROOT` (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>
}

/**
 * What the TUF repository says to trust, as of its newest verified metadata.
 *
 * Exported from `countersign/node`.
 */
export interface TUFTrust {
  readonly mirror: string
  readonly trustedRoot: TrustedRoot
  /** Absent when the repository publishes none (private deployments often don't). */
  readonly signingConfig?: SigningConfig
  /** Version of the TUF root now trusted. */
  readonly rootVersion: number
  /** When that root expires (a newer one must be published before then). */
  readonly rootExpires: Date
  /** When the timestamp metadata expires: the next refresh happens after it. */
  readonly expires: Date
  /** Whether this load downloaded anything (false: served from the cache). */
  readonly refreshed: boolean
  /** The targets read, with their length and SHA-256 as the signed targets metadata gives them. */
  readonly targets: readonly { readonly name: string; readonly length: number; readonly sha256: string }[]
}

/**
 * Loads {@link TUFTrust}, from the cache while its timestamp metadata is current, else from the mirror.
 *
 * Exported from `countersign/node`.
 */
export interface TUFTrustProvider {
  readonly mirror: string
  /** The mirror's cache folder. */
  readonly cacheDir: string
  /**
   * The trust material. `refresh: true` asks the mirror even if the cache is current (`initialize`, the webhook's
   * background refresh).
   *
   * @throws {CountersignError} `ERR_TUF_*` (docs/tuf.md): unreachable mirror without a usable cache, expired,
   *   rolled-back, under-signed or mismatching metadata, a missing `trusted_root.json`.
   */
  load(options?: { readonly refresh?: boolean }): Promise<TUFTrust>
}

interface CachedTimestamp {
  readonly expires: Date
}

function readJSONFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch {
    return undefined
  }
}

/** The cached timestamp's expiry, read only to decide whether to go to the network (tuf-js verifies it). */
function cachedTimestamp(dir: string): CachedTimestamp | undefined {
  const doc = readJSONFile(join(dir, 'timestamp.json')) as { signed?: { expires?: unknown } } | undefined
  const expires = typeof doc?.signed?.expires === 'string' ? new Date(doc.signed.expires) : undefined
  return expires && !Number.isNaN(expires.getTime()) ? { expires } : undefined
}

function cachedRoot(dir: string): { version: number; expires: Date } {
  const doc = readJSONFile(join(dir, 'root.json')) as { signed?: { version?: unknown; expires?: unknown } } | undefined
  const version = typeof doc?.signed?.version === 'number' ? doc.signed.version : 0
  return { version, expires: new Date(typeof doc?.signed?.expires === 'string' ? doc.signed.expires : Number.NaN) }
}

/** tuf-js writes metadata in place; this makes each write atomic (a killed update leaves whole files). */
function persistAtomically(updater: Updater, dir: string): void {
  ;(updater as unknown as { persistMetadata: (name: string, bytes: Uint8Array) => void }).persistMetadata = (
    name,
    bytes,
  ) => writeFileAtomic(join(dir, `${encodeURIComponent(name)}.json`), bytes)
}

/**
 * A provider of the trusted root and signing config from a TUF repository.
 *
 * @example
 * ```ts
 * import { createTUFTrustProvider } from 'countersign/node'
 * const { trustedRoot } = await createTUFTrustProvider().load()
 * ```
 *
 * Exported from `countersign/node`.
 */
export function createTUFTrustProvider(options: TUFTrustProviderOptions = {}): TUFTrustProvider {
  const mirror = (options.mirror ?? PUBLIC_GOOD_TUF_MIRROR).replace(/\/+$/, '')
  if (!/^https?:\/\/[^/]/.test(mirror)) {
    throw new CountersignError('ERR_INVALID_INPUT', `TUF mirror must be an http(s) URL, got ${JSON.stringify(mirror)}`)
  }
  const dir = mirrorCacheDir(options.cacheDir ?? tufCacheRoot(options.env), mirror)
  const targetsDir = join(dir, 'targets')
  let memo: TUFTrust | undefined

  const seedRoot = (): void => {
    if (existsSync(join(dir, 'root.json'))) return
    const root = options.root ?? (mirror === PUBLIC_GOOD_TUF_MIRROR ? publicGoodTUFRoot() : undefined)
    if (!root) {
      throw new CountersignError(
        'ERR_TUF_UNAVAILABLE',
        `no TUF root for ${mirror}: initialize it with its root.json (countersign initialize --mirror URL --root FILE)`,
        { details: { mirror } },
      )
    }
    writeFileAtomic(join(dir, 'root.json'), root)
  }

  const readTarget = async (updater: Updater, name: string, required: boolean) => {
    const info = await updater.getTargetInfo(name)
    if (!info) {
      if (!required) return undefined
      throw new CountersignError('ERR_TUF_INVALID', `TUF repository ${mirror} has no ${name} target`, {
        details: { mirror },
      })
    }
    const finalPath = join(targetsDir, encodeURIComponent(name))
    let downloaded = false
    if (!(await updater.findCachedTarget(info, finalPath))) {
      const temp = `${finalPath}.${process.pid}.${Date.now()}.tmp`
      try {
        await updater.downloadTarget(info, temp)
        renameSync(temp, finalPath)
      } finally {
        rmSync(temp, { force: true })
      }
      downloaded = true
    }
    const sha256 = info.hashes.sha256
    if (typeof sha256 !== 'string') {
      throw new CountersignError('ERR_TUF_INVALID', `TUF target ${name} has no sha256 hash`, { details: { mirror } })
    }
    return { bytes: readFileSync(finalPath), length: info.length, sha256, downloaded }
  }

  const load = async (refresh: boolean): Promise<TUFTrust> => {
    mkdirSync(targetsDir, { recursive: true, mode: 0o700 })
    seedRoot()
    const cached = cachedTimestamp(dir)
    const current = cached !== undefined && cached.expires.getTime() > Date.now()
    const forceCache = options.offline === true || (!refresh && current)
    const { Updater } = await import('tuf-js')
    const fetcher = await createTUFFetcher({
      fetch: options.fetch ?? globalThis.fetch,
      tempDir: dir,
      ...(options.offline ? { offline: true } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    })
    let requested = 0
    const counting = {
      downloadBytes: (url: string, max: number) => {
        requested++
        return fetcher.downloadBytes(url, max)
      },
      downloadFile: <T>(url: string, max: number, handler: (file: string) => Promise<T>) => {
        requested++
        return fetcher.downloadFile(url, max, handler)
      },
    }
    try {
      const updater = new Updater({
        metadataDir: dir,
        metadataBaseUrl: mirror,
        targetDir: targetsDir,
        targetBaseUrl: `${mirror}/targets`,
        fetcher: counting,
        forceCache,
        config: { prefixTargetsWithHash: true },
      })
      persistAtomically(updater, dir)
      await updater.refresh()
      const root = await readTarget(updater, TRUSTED_ROOT_TARGET, true)
      const config = await readTarget(updater, SIGNING_CONFIG_TARGET, false)
      const expires = cachedTimestamp(dir)?.expires
      const tufRoot = cachedRoot(dir)
      if (!expires) throw new CountersignError('ERR_TUF_INVALID', `TUF repository ${mirror}: no timestamp metadata`)
      return {
        mirror,
        trustedRoot: parseTrustedRoot(root!.bytes),
        ...(config ? { signingConfig: parseSigningConfig(config.bytes) } : {}),
        rootVersion: tufRoot.version,
        rootExpires: tufRoot.expires,
        expires,
        refreshed: requested > 0,
        targets: [root!, ...(config ? [config] : [])].map((t, i) => ({
          name: i === 0 ? TRUSTED_ROOT_TARGET : SIGNING_CONFIG_TARGET,
          length: t.length,
          sha256: t.sha256,
        })),
      }
    } catch (e) {
      throw tufError(e, mirror)
    }
  }

  return {
    mirror,
    cacheDir: dir,
    async load(loadOptions) {
      const refresh = loadOptions?.refresh === true
      if (!refresh && memo && memo.expires.getTime() > Date.now()) return memo
      memo = await load(refresh)
      return memo
    },
  }
}

/**
 * Where the CLI's trust material comes from when no `--trusted-root` / `--signing-config` names a file: the TUF
 * repository (`TUF_MIRROR`, else the mirror `initialize` remembered, else the public-good one), through the cache in
 * `TUF_ROOT` (default `~/.sigstore/root`), refreshed only when its timestamp metadata has expired. With no TUF cache
 * at all and the public-good mirror out of reach (air-gapped, first run), the snapshot embedded in the package is used
 * and stderr says so. Anything else that goes wrong with TUF fails the verb: verification fails closed
 * (docs/tuf.md).
 * @module
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { CountersignError, isCountersignError } from '../errors.js'
import { createNodeFetch } from '../node/fetch.js'
import { mirrorCacheDir, readRemoteConfig, tufCacheRoot } from '../node/tuf/cache.js'
import { createTUFTrustProvider } from '../node/tuf/provider.js'
import { PUBLIC_GOOD_TUF_MIRROR } from '../node/tuf/public-good.js'
import { publicGoodTrustedRoot } from '../trust/public-good.js'
import { publicGoodSigningConfig } from '../trust/public-good-signing-config.js'
import type { SigningConfig } from '../trust/signing-config.js'
import type { TrustedRoot } from '../trust/trusted-root.js'
import type { CliIO } from './context.js'

/**
 * The trust material of one CLI run.
 *
 * @example
 * ```ts
 * const { trustedRoot, source } = await cliTrust(io)
 * ```
 */
export interface CliTrust {
  readonly trustedRoot: TrustedRoot
  /** Absent when the TUF repository publishes none (then service URLs must come from flags). */
  readonly signingConfig?: SigningConfig
  /** `tuf` (with the mirror), or `embedded` (the package's public-good snapshot). */
  readonly source: 'tuf' | 'embedded'
  readonly mirror: string
}

/** The TUF settings of the environment, as cosign reads them (`TUF_ROOT`, `TUF_MIRROR`, `TUF_ROOT_JSON`). */
export interface TUFSettings {
  readonly cacheRoot: string
  readonly mirror: string
  /** `TUF_ROOT_JSON`: the starting root of a mirror other than the public-good one. */
  readonly rootFile?: string
  /** `COUNTERSIGN_TUF_OFFLINE=1`: use the cache only. */
  readonly offline: boolean
}

/**
 * The TUF settings of `io.env`.
 *
 * @example
 * ```ts
 * const { mirror, cacheRoot } = tufSettings(io)
 * ```
 */
export function tufSettings(io: CliIO): TUFSettings {
  const cacheRoot = resolve(io.cwd, tufCacheRoot(io.env))
  const mirror = io.env.TUF_MIRROR?.trim() || readRemoteConfig(cacheRoot)?.mirror || PUBLIC_GOOD_TUF_MIRROR
  const rootFile = io.env.TUF_ROOT_JSON?.trim()
  const offline = /^(1|true|yes)$/i.test(io.env.COUNTERSIGN_TUF_OFFLINE?.trim() ?? '')
  return { cacheRoot, mirror, ...(rootFile ? { rootFile: resolve(io.cwd, rootFile) } : {}), offline }
}

const loaded = new WeakMap<CliIO, Promise<CliTrust>>()

/**
 * The run's trust material from TUF (once per run), or the embedded snapshot when TUF was never set up and cannot be
 * reached.
 *
 * @throws {CountersignError} `ERR_TUF_*` when the TUF cache or mirror refuses (expired, rolled back, under-signed…).
 * @example
 * ```ts
 * const trustedRoot = (await cliTrust(io)).trustedRoot
 * ```
 */
export function cliTrust(io: CliIO): Promise<CliTrust> {
  let p = loaded.get(io)
  if (!p) {
    p = loadTrust(io)
    loaded.set(io, p)
  }
  return p
}

async function loadTrust(io: CliIO): Promise<CliTrust> {
  const settings = tufSettings(io)
  const root = settings.rootFile ? new Uint8Array(await readFile(settings.rootFile)) : undefined
  const provider = createTUFTrustProvider({
    mirror: settings.mirror,
    cacheDir: settings.cacheRoot,
    // Proxies (HTTPS_PROXY…) and extra CAs as for every other service the CLI talks to.
    fetch: createNodeFetch({ env: io.env }),
    ...(root ? { root } : {}),
    ...(settings.offline ? { offline: true } : {}),
  })
  // A cache that completed an update holds timestamp metadata; a bare root.json (seeded, never refreshed) is none.
  const hadCache = existsSync(join(mirrorCacheDir(settings.cacheRoot, provider.mirror), 'timestamp.json'))
  try {
    const trust = await provider.load()
    return {
      trustedRoot: trust.trustedRoot,
      ...(trust.signingConfig ? { signingConfig: trust.signingConfig } : {}),
      source: 'tuf',
      mirror: trust.mirror,
    }
  } catch (e) {
    const unreachable = isCountersignError(e, 'ERR_TUF_UNAVAILABLE')
    if (!unreachable || hadCache || provider.mirror !== PUBLIC_GOOD_TUF_MIRROR) throw e
    io.stderr.write(
      `WARNING: no TUF cache in ${settings.cacheRoot} and ${provider.mirror} cannot be reached (${
        (e as CountersignError).message
      }); using the Sigstore public-good trusted root embedded in countersign. Run countersign initialize when online, or pass --trusted-root.\n`,
    )
    return {
      trustedRoot: publicGoodTrustedRoot(),
      signingConfig: publicGoodSigningConfig(),
      source: 'embedded',
      mirror: PUBLIC_GOOD_TUF_MIRROR,
    }
  }
}

/**
 * Refuse a TUF-sourced run that has no signing config where one is needed.
 *
 * @example
 * ```ts
 * const config = requireSigningConfig(await cliTrust(io))
 * ```
 */
export function requireSigningConfig(trust: CliTrust): SigningConfig {
  if (trust.signingConfig) return trust.signingConfig
  throw new CountersignError(
    'ERR_INVALID_INPUT',
    `the TUF repository ${trust.mirror} publishes no signing config: pass --signing-config or service URL flags`,
  )
}

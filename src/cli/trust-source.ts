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
import { mirrorCacheDir, readRemoteConfig, tufCacheRoot } from '../node/tuf/cache.js'
import { PUBLIC_GOOD_TUF_MIRROR } from '../node/tuf/mirror.js'
import type { TUFTrustProvider } from '../node/tuf/provider.js'
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
  /** Changes when the material does (the targets' hashes): a long-running verb rebuilds what depends on it. */
  readonly version: string
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

const offlineRuns = new WeakSet<CliIO>()

/**
 * Make this run read trust material from the TUF cache only (`--offline`); call before anything loads it.
 *
 * @example
 * ```ts
 * if (flags.offline === true) useOfflineTrust(io)
 * ```
 */
export function useOfflineTrust(io: CliIO): void {
  offlineRuns.add(io)
}

/**
 * The TUF settings of `io.env` (and `--offline`).
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
  const offline = offlineRuns.has(io) || /^(1|true|yes)$/i.test(io.env.COUNTERSIGN_TUF_OFFLINE?.trim() ?? '')
  return { cacheRoot, mirror, ...(rootFile ? { rootFile: resolve(io.cwd, rootFile) } : {}), offline }
}

/** Per run: the provider (its own memo serves the cache until the timestamp expires) and the fallback state. */
interface RunState {
  readonly settings: TUFSettings
  readonly provider: Promise<TUFTrustProvider>
  warned: boolean
  /** While set and in the future, the embedded snapshot is served without trying the mirror again. */
  embeddedUntil?: number
}

/** After falling back to the embedded snapshot, how long a long-running verb (the webhook) waits to try TUF again. */
const EMBEDDED_RETRY_MS = 5 * 60_000

const runs = new WeakMap<CliIO, RunState>()

function runState(io: CliIO): RunState {
  let state = runs.get(io)
  if (!state) {
    const settings = tufSettings(io)
    const provider = (async () => {
      // Loaded here, not at the top: verbs given --trusted-root never need the TUF client or the HTTP stack.
      const [{ createTUFTrustProvider }, { createNodeFetch }] = await Promise.all([
        import('../node/tuf/provider.js'),
        import('../node/fetch.js'),
      ])
      const root = settings.rootFile ? new Uint8Array(await readFile(settings.rootFile)) : undefined
      return createTUFTrustProvider({
        mirror: settings.mirror,
        cacheDir: settings.cacheRoot,
        // Proxies (HTTPS_PROXY…) and extra CAs as for every other service the CLI talks to.
        fetch: createNodeFetch({ env: io.env }),
        ...(root ? { root } : {}),
        ...(settings.offline ? { offline: true } : {}),
      })
    })()
    state = { settings, provider, warned: false }
    runs.set(io, state)
  }
  return state
}

/**
 * The run's trust material from TUF, or the embedded snapshot when TUF was never set up and cannot be reached. Cheap
 * to call again: the TUF cache is read once and served from memory until its timestamp expires, when the next call
 * refreshes it (what keeps a long-running webhook current).
 *
 * @throws {CountersignError} `ERR_TUF_*` when the TUF cache or mirror refuses (expired, rolled back, under-signed…).
 * @example
 * ```ts
 * const trustedRoot = (await cliTrust(io)).trustedRoot
 * ```
 */
export async function cliTrust(io: CliIO): Promise<CliTrust> {
  const state = runState(io)
  if (state.embeddedUntil !== undefined && Date.now() < state.embeddedUntil) return await embeddedTrust()
  const provider = await state.provider
  // A cache that completed an update holds timestamp metadata; a bare root.json (seeded, never refreshed) is none.
  const hadCache = existsSync(join(mirrorCacheDir(state.settings.cacheRoot, provider.mirror), 'timestamp.json'))
  try {
    const trust = await provider.load()
    state.embeddedUntil = undefined
    return {
      trustedRoot: trust.trustedRoot,
      ...(trust.signingConfig ? { signingConfig: trust.signingConfig } : {}),
      source: 'tuf',
      mirror: trust.mirror,
      version: trust.targets.map((t) => `${t.name}:${t.sha256}`).join(','),
    }
  } catch (e) {
    const unreachable = isCountersignError(e, 'ERR_TUF_UNAVAILABLE')
    if (!unreachable || hadCache || provider.mirror !== PUBLIC_GOOD_TUF_MIRROR) throw e
    if (!state.warned) {
      state.warned = true
      io.stderr.write(
        `WARNING: no TUF cache in ${state.settings.cacheRoot} and ${provider.mirror} cannot be reached (${
          (e as CountersignError).message
        }); using the Sigstore public-good trusted root embedded in countersign. Run countersign initialize when online, or pass --trusted-root.\n`,
      )
    }
    state.embeddedUntil = Date.now() + EMBEDDED_RETRY_MS
    return await embeddedTrust()
  }
}

async function embeddedTrust(): Promise<CliTrust> {
  const [{ publicGoodTrustedRoot }, { publicGoodSigningConfig }] = await Promise.all([
    import('../trust/public-good.js'),
    import('../trust/public-good-signing-config.js'),
  ])
  return {
    trustedRoot: publicGoodTrustedRoot(),
    signingConfig: publicGoodSigningConfig(),
    source: 'embedded',
    mirror: PUBLIC_GOOD_TUF_MIRROR,
    version: 'embedded',
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

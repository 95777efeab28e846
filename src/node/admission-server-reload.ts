/**
 * Keeping the admission webhook's policies and TLS material current: reading them (a content fingerprint says
 * whether anything changed), one reload at a time, triggered by directory watches (debounced) and a periodic poll.
 * Policy files that fail to load are remembered by fingerprint: reported once, not re-parsed on every poll, while
 * the last good policies keep deciding (docs/admission.md, "Reloading").
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { type FSWatcher, watch } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import type { Server } from 'node:https'
import { dirname } from 'node:path'
import { createGatekeeperHandler, type GatekeeperHandlerOptions } from '../admission/gatekeeper.js'
import { type AdmissionHandlerOptions, createAdmissionHandler } from '../admission/handler.js'
import { CountersignError } from '../errors.js'
import type { AdmissionServerOptions, PolicyFile } from './admission-server.js'
import { readClientCA } from './admission-server-gatekeeper.js'
import { errorMessage, type WebhookState } from './admission-server-state.js'
import { type PolicyFileLimits, readPolicyPaths } from './policy-files.js'

/**
 * A remembered policy failure is tried again after this long even though the files did not change: loading also
 * reads what the fingerprint does not cover (trusted roots named by flags), which may have been fixed meanwhile.
 */
const DEFAULT_FAILED_RETRY_MS = 5 * 60_000

/** The policy files under `paths` (size-limited, see {@link readPolicyPaths}), with a fingerprint of them all. */
async function readPolicyFiles(
  paths: readonly string[],
  limits?: PolicyFileLimits,
  trustVersion?: () => Promise<string>,
): Promise<{ files: PolicyFile[]; fingerprint: string }> {
  const hash = createHash('sha256')
  const files = await readPolicyPaths(paths, limits)
  for (const { path, content } of files) hash.update(`${path}\0${content.length}\0${content}\0`)
  // Trust material the check was built from (TUF targets): a new version rebuilds the check like a policy edit.
  if (trustVersion) hash.update(`trust\0${await trustVersion()}`)
  return { files, fingerprint: hash.digest('hex') }
}

/**
 * The TLS certificate and key, with a fingerprint of both.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when either cannot be read.
 * @example
 * ```ts
 * const { cert, key } = await readTLS('/tls/tls.crt', '/tls/tls.key')
 * ```
 */
export async function readTLS(
  certFile: string,
  keyFile: string,
): Promise<{ cert: Buffer; key: Buffer; fingerprint: string }> {
  try {
    const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)])
    const fingerprint = createHash('sha256').update(cert).update('\0').update(key).digest('hex')
    return { cert, key, fingerprint }
  } catch (e) {
    throw new CountersignError('ERR_INVALID_INPUT', `cannot read the TLS certificate or key: ${errorMessage(e)}`)
  }
}

/**
 * What {@link createReloader} needs.
 *
 * @example
 * ```ts
 * const r: ReloaderOptions = { state, server, options, handlerOptions: {}, tlsFingerprint: tls.fingerprint }
 * ```
 */
export interface ReloaderOptions {
  readonly state: WebhookState
  readonly server: Server
  readonly options: AdmissionServerOptions
  readonly handlerOptions: Omit<AdmissionHandlerOptions, 'check'>
  /** For the Gatekeeper provider handler built with each check (defaults when absent). */
  readonly gatekeeperOptions?: Omit<GatekeeperHandlerOptions, 'check'>
  /** Of the TLS material the server started with. */
  readonly tlsFingerprint: string
  /** Of the Gatekeeper client CA the server started with (`options.gatekeeperClientCAFile`). */
  readonly clientCAFingerprint?: string
  /** Size limits of the policy files (default 4 MiB per file, 64 MiB per directory). */
  readonly policyFileLimits?: PolicyFileLimits
  /** How long a policy failure is remembered before the same files are tried again (default 5 minutes). */
  readonly failedRetryMs?: number
  /** The clock (tests). */
  readonly now?: () => number
}

/**
 * Reloads of one webhook.
 *
 * @example
 * ```ts
 * await reloader.reload()
 * ```
 */
export interface Reloader {
  /** Re-read policies and TLS material; resolves once done. A call during a reload makes it run once more. */
  reload(): Promise<void>
  /** The reload under way, if any. */
  current(): Promise<void> | undefined
}

/**
 * Create the reloader of one webhook: it replaces the state's handler when the policies change (and marks the
 * webhook ready), and the server's secure context when the TLS material changes. A failing reload keeps what was.
 *
 * A policy set that fails (unreadable, over a size limit, invalid, or refused by `loadCheck`) is remembered by its
 * fingerprint (by its error when it could not be read): it is logged and counted once, marks
 * `countersign_admission_policy_load_failing`, and is not loaded again until the files change or
 * `failedRetryMs` passes. Readiness is unchanged by such a failure: the last good policies keep deciding (and a
 * webhook that never had good policies stays not ready).
 *
 * @example
 * ```ts
 * const reloader = createReloader({ state, server, options, handlerOptions, tlsFingerprint })
 * await reloader.reload()
 * ```
 */
export function createReloader({
  state,
  server,
  options,
  handlerOptions,
  gatekeeperOptions,
  tlsFingerprint,
  clientCAFingerprint,
  policyFileLimits,
  failedRetryMs = DEFAULT_FAILED_RETRY_MS,
  now = Date.now,
}: ReloaderOptions): Reloader {
  const { metrics, log } = state
  let policyFingerprint: string | undefined
  // The last policy failure: what failed (fingerprint or read error), when, and what was reported.
  let failed: { key: string; at: number; error: string } | undefined
  let tlsFailure: string | undefined
  let reloading: Promise<void> | undefined
  let again = false

  const policyFailed = (key: string, e: unknown): void => {
    const error = errorMessage(e)
    const repeat = failed?.key === key && failed.error === error
    failed = { key, at: now(), error }
    metrics.recordReload('policy', false)
    metrics.setPolicyLoadFailing(true)
    // A retry of the same files failing the same way is not news.
    if (!repeat) log({ msg: 'policy load failed; keeping the previous policies', error })
  }

  const reloadPolicies = async (): Promise<void> => {
    let read: { files: PolicyFile[]; fingerprint: string }
    try {
      read = await readPolicyFiles(options.policyPaths ?? [], policyFileLimits, options.trustVersion)
    } catch (e) {
      // Unreadable files have no fingerprint; the same error again is the same failure (not logged again).
      const key = `read: ${errorMessage(e)}`
      if (failed?.key !== key) policyFailed(key, e)
      return
    }
    const { files, fingerprint } = read
    if (fingerprint === policyFingerprint) {
      // Back to the files that are loaded (a bad edit reverted): nothing is failing any more.
      if (failed) {
        failed = undefined
        metrics.setPolicyLoadFailing(false)
        log({ msg: 'policy files are the loaded ones again' })
      }
      return
    }
    // Only rebuild the check for new content (polls are frequent, building may be costly), and not again for files
    // that just failed: a bad file would otherwise be parsed on every poll.
    if (failed?.key === fingerprint && now() - failed.at < failedRetryMs) return
    try {
      const check = await options.loadCheck(files)
      if (typeof check !== 'function') throw new TypeError('loadCheck did not return a function')
      state.handler = createAdmissionHandler({ ...handlerOptions, check })
      state.gatekeeper = createGatekeeperHandler({ ...gatekeeperOptions, check })
    } catch (e) {
      policyFailed(fingerprint, e)
      return
    }
    policyFingerprint = fingerprint
    failed = undefined
    metrics.recordReload('policy', true)
    metrics.setPolicyLoadFailing(false)
    log({ msg: 'policies loaded', files: files.map((f) => f.path) })
    if (!state.closing) {
      state.ready = true
      metrics.setReady(true)
    }
  }

  const reloadTLS = async (): Promise<void> => {
    try {
      const next = await readTLS(options.tlsCertFile, options.tlsKeyFile)
      // The client CA lives in the same secure context as the certificate: a change of either replaces both.
      const clientCA =
        options.gatekeeperClientCAFile !== undefined ? await readClientCA(options.gatekeeperClientCAFile) : undefined
      const certChanged = next.fingerprint !== tlsFingerprint
      const caChanged = clientCA !== undefined && clientCA.fingerprint !== clientCAFingerprint
      if (certChanged || caChanged) {
        server.setSecureContext({ cert: next.cert, key: next.key, ...(clientCA ? { ca: clientCA.ca } : {}) })
        tlsFingerprint = next.fingerprint
        if (clientCA) clientCAFingerprint = clientCA.fingerprint
        metrics.recordReload('tls', true)
        if (certChanged) log({ msg: 'TLS certificate reloaded' })
        if (caChanged) log({ msg: 'Gatekeeper client CA reloaded' })
      }
      tlsFailure = undefined
    } catch (e) {
      // Reported once per distinct error, not on every poll.
      const error = errorMessage(e)
      if (error === tlsFailure) return
      tlsFailure = error
      metrics.recordReload('tls', false)
      log({ msg: 'TLS reload failed; keeping the previous certificate', error })
    }
  }

  const reloadOnce = async (): Promise<void> => {
    await reloadPolicies()
    await reloadTLS()
  }
  // One reload at a time; a request during one runs once more afterwards, so no change is missed.
  const reload = (): Promise<void> => {
    if (reloading) {
      again = true
      return reloading
    }
    reloading = (async () => {
      do {
        again = false
        await reloadOnce()
      } while (again && !state.closing)
    })().finally(() => {
      reloading = undefined
    })
    return reloading
  }
  return { reload, current: () => reloading }
}

/**
 * Reload on file events in the directories of the TLS files and policy paths (debounced), and periodically.
 * Resolves to a function that stops both.
 *
 * @example
 * ```ts
 * const stopWatching = await watchForChanges(options, reloader.reload, () => state.closing)
 * ```
 */
export async function watchForChanges(
  options: AdmissionServerOptions,
  reload: () => Promise<void>,
  closing: () => boolean,
): Promise<() => void> {
  let debounce: ReturnType<typeof setTimeout> | undefined
  const schedule = () => {
    if (closing()) return
    clearTimeout(debounce)
    debounce = setTimeout(() => void reload(), options.reloadDebounceMs ?? 250)
    debounce.unref()
  }
  const watchers: FSWatcher[] = []
  // Watch directories, not files: editors and kubelet replace files (rename), which ends a file watch.
  const watchDirs = new Set<string>([dirname(options.tlsCertFile), dirname(options.tlsKeyFile)])
  if (options.gatekeeperClientCAFile !== undefined) watchDirs.add(dirname(options.gatekeeperClientCAFile))
  for (const p of options.policyPaths ?? []) {
    const isDir = await stat(p).then(
      (s) => s.isDirectory(),
      () => false,
    )
    watchDirs.add(isDir ? p : dirname(p))
  }
  for (const dir of watchDirs) {
    try {
      const w = watch(dir, { persistent: false }, schedule)
      w.on('error', () => {}) // the periodic check still covers this directory
      watchers.push(w)
    } catch {
      // Not watchable (gone, no inotify slots): the periodic check covers it.
    }
  }
  const poll = setInterval(() => void reload(), options.pollIntervalMs ?? 10_000)
  poll.unref()
  return () => {
    clearInterval(poll)
    clearTimeout(debounce)
    for (const w of watchers) w.close()
  }
}

/**
 * Keeping the admission webhook's policies and TLS material current: reading them (a content fingerprint says
 * whether anything changed), one reload at a time, triggered by directory watches (debounced) and a periodic poll.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { type FSWatcher, watch } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import type { Server } from 'node:https'
import { dirname, join } from 'node:path'
import { type AdmissionHandlerOptions, createAdmissionHandler } from '../admission/handler.js'
import { CountersignError } from '../errors.js'
import type { AdmissionServerOptions, PolicyFile } from './admission-server.js'
import { errorMessage, type WebhookState } from './admission-server-state.js'

async function filesOf(paths: readonly string[]): Promise<string[]> {
  const out: string[] = []
  for (const p of paths) {
    const s = await stat(p)
    if (!s.isDirectory()) {
      out.push(p)
      continue
    }
    for (const name of (await readdir(p)).sort()) {
      if (name.startsWith('.')) continue
      const full = join(p, name)
      if ((await stat(full)).isFile()) out.push(full)
    }
  }
  return out
}

async function readPolicyFiles(paths: readonly string[]): Promise<{ files: PolicyFile[]; fingerprint: string }> {
  const hash = createHash('sha256')
  const files: PolicyFile[] = []
  for (const path of await filesOf(paths)) {
    const content = await readFile(path, 'utf8')
    files.push({ path, content })
    hash.update(`${path}\0${content.length}\0${content}\0`)
  }
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
  /** Of the TLS material the server started with. */
  readonly tlsFingerprint: string
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
 * @example
 * ```ts
 * const reloader = createReloader({ state, server, options, handlerOptions, tlsFingerprint })
 * await reloader.reload()
 * ```
 */
export function createReloader({ state, server, options, handlerOptions, tlsFingerprint }: ReloaderOptions): Reloader {
  const { metrics, log } = state
  let policyFingerprint: string | undefined
  let reloading: Promise<void> | undefined
  let again = false
  const reloadOnce = async (): Promise<void> => {
    // Policies: only rebuild the check when the content changed (polls are frequent, building may be costly).
    try {
      const { files, fingerprint } = await readPolicyFiles(options.policyPaths ?? [])
      if (fingerprint !== policyFingerprint) {
        const check = await options.loadCheck(files)
        if (typeof check !== 'function') throw new TypeError('loadCheck did not return a function')
        state.handler = createAdmissionHandler({ ...handlerOptions, check })
        policyFingerprint = fingerprint
        metrics.recordReload('policy', true)
        log({ msg: 'policies loaded', files: files.map((f) => f.path) })
        if (!state.closing) {
          state.ready = true
          metrics.setReady(true)
        }
      }
    } catch (e) {
      metrics.recordReload('policy', false)
      log({ msg: 'policy load failed; keeping the previous policies', error: errorMessage(e) })
    }
    try {
      const next = await readTLS(options.tlsCertFile, options.tlsKeyFile)
      if (next.fingerprint !== tlsFingerprint) {
        server.setSecureContext({ cert: next.cert, key: next.key })
        tlsFingerprint = next.fingerprint
        metrics.recordReload('tls', true)
        log({ msg: 'TLS certificate reloaded' })
      }
    } catch (e) {
      metrics.recordReload('tls', false)
      log({ msg: 'TLS reload failed; keeping the previous certificate', error: errorMessage(e) })
    }
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

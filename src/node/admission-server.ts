/**
 * The admission webhook as a Node HTTPS server: `POST /validate`, `POST /mutate`, `GET /healthz`, `/readyz` and
 * `/metrics`; policies and TLS material reloaded when their files change; graceful shutdown.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { type FSWatcher, watch } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import {
  type AdmissionEndpoint,
  type AdmissionHandler,
  type AdmissionHandlerOptions,
  type AdmissionOutcome,
  createAdmissionHandler,
} from '../admission/handler.js'
import { type AdmissionMetrics, createAdmissionMetrics } from '../admission/metrics.js'
import { denyResponse } from '../admission/review.js'
import type { ImageCheck } from '../admission/types.js'
import { CountersignError, isCountersignError } from '../errors.js'

/**
 * One policy file as read from disk, handed to {@link AdmissionServerOptions.loadCheck}.
 *
 * Exported from `countersign/node`.
 */
export interface PolicyFile {
  readonly path: string
  readonly content: string
}

/**
 * Options for {@link startAdmissionServer}.
 *
 * Exported from `countersign/node`.
 */
export interface AdmissionServerOptions extends Omit<AdmissionHandlerOptions, 'check'> {
  /** PEM certificate (chain) the webhook serves; reloaded when the file changes (cert-manager rotation). */
  readonly tlsCertFile: string
  /** PEM private key of `tlsCertFile`; reloaded with it. */
  readonly tlsKeyFile: string
  /** Default 8443; 0 picks a free port (see {@link AdmissionServer.port}). */
  readonly port?: number
  /** Address to listen on; default all interfaces. */
  readonly host?: string
  /**
   * Policy files or directories (a ConfigMap mount). Directories contribute their regular files whose names do not
   * start with `.` (which skips the ConfigMap's `..data` machinery). Read at start and whenever they change.
   */
  readonly policyPaths?: readonly string[]
  /**
   * Build the image check from the policy files. Called at start and after every change; until the first call
   * succeeds the server is not ready and denies every review. A failing reload keeps the previous check.
   */
  readonly loadCheck: (files: readonly PolicyFile[]) => Promise<ImageCheck>
  /** Largest request body accepted (default 4 MiB; etcd objects are at most 1.5 MiB). Larger → 413. */
  readonly maxBodyBytes?: number
  /** Wait this long after a file event before re-reading (default 250 ms; ConfigMap updates touch several files). */
  readonly reloadDebounceMs?: number
  /** Re-read the files this often even without events (default 10 s; fs.watch misses some volume updates). */
  readonly pollIntervalMs?: number
  /** On close, wait this long for reviews in flight before cutting connections (default 10 s). */
  readonly shutdownGraceMs?: number
  /** Structured log lines (one object per review and reload); never carries keys or tokens. */
  readonly log?: (entry: Readonly<Record<string, unknown>>) => void
}

/**
 * A running admission webhook.
 *
 * Exported from `countersign/node`.
 */
export interface AdmissionServer {
  /** The port actually listened on. */
  readonly port: number
  /** `https://<host>:<port>` (host `127.0.0.1` when listening on all interfaces). */
  readonly url: string
  readonly metrics: AdmissionMetrics
  /** True once policies are loaded and until shutdown begins. */
  isReady(): boolean
  /** Re-read policies and TLS material now; resolves once done (changed or not). */
  reload(): Promise<void>
  /** Stop accepting, finish reviews in flight (up to the grace period), release watchers. */
  close(): Promise<void>
}

const DEFAULT_MAX_BODY = 4 * 1024 * 1024

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

async function readAll(paths: readonly string[]): Promise<{ files: PolicyFile[]; fingerprint: string }> {
  const hash = createHash('sha256')
  const files: PolicyFile[] = []
  for (const path of await filesOf(paths)) {
    const content = await readFile(path, 'utf8')
    files.push({ path, content })
    hash.update(`${path}\0${content.length}\0${content}\0`)
  }
  return { files, fingerprint: hash.digest('hex') }
}

/** Go duration as the API server sends it in `?timeout=10s`; undefined when absent or odd. */
function queryTimeoutMs(url: URL): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(url.searchParams.get('timeout') ?? '')
  if (!m) return undefined
  const n = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000)
  // Leave room to write the answer before the API server gives up.
  return Math.max(1, n - 500)
}

function errorMessage(e: unknown): string {
  return isCountersignError(e) ? e.message : e instanceof Error ? e.message.slice(0, 300) : 'unknown error'
}

/**
 * Start the admission webhook over HTTPS. Stateless: run as many replicas as needed behind one Service.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when the TLS files cannot be read; listen errors are thrown as is.
 * @example
 * ```ts
 * import { startAdmissionServer } from 'countersign/node'
 * const server = await startAdmissionServer({
 *   tlsCertFile: '/tls/tls.crt',
 *   tlsKeyFile: '/tls/tls.key',
 *   policyPaths: ['/policies'],
 *   loadCheck: async (files) => createMyCheck(files),
 * })
 * process.once('SIGTERM', () => server.close())
 * ```
 *
 * Exported from `countersign/node`.
 */
export async function startAdmissionServer(options: AdmissionServerOptions): Promise<AdmissionServer> {
  const log = options.log ?? (() => {})
  const metrics = createAdmissionMetrics()
  const policyPaths = options.policyPaths ?? []
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY
  const handlerOptions: Omit<AdmissionHandlerOptions, 'check'> = {
    ...(options.mode !== undefined ? { mode: options.mode } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.maxImages !== undefined ? { maxImages: options.maxImages } : {}),
  }
  // Until policies load, every review is denied through the same path as a failing check.
  const notLoaded: ImageCheck = async () => {
    throw new CountersignError('ERR_POLICY_DENIED', 'policies are not loaded yet')
  }
  let handler: AdmissionHandler = createAdmissionHandler({ ...handlerOptions, check: notLoaded })
  let ready = false
  let closing = false
  let policyFingerprint: string | undefined
  let tlsFingerprint: string | undefined

  const readTLS = async () => {
    try {
      const [cert, key] = await Promise.all([readFile(options.tlsCertFile), readFile(options.tlsKeyFile)])
      const fingerprint = createHash('sha256').update(cert).update('\0').update(key).digest('hex')
      return { cert, key, fingerprint }
    } catch (e) {
      throw new CountersignError('ERR_INVALID_INPUT', `cannot read the TLS certificate or key: ${errorMessage(e)}`)
    }
  }
  const tls = await readTLS()
  tlsFingerprint = tls.fingerprint
  const inFlight = new Set<AbortController>()
  const server: Server = createServer(
    { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2', requestTimeout: 30_000, headersTimeout: 10_000 },
    (req, res) => {
      void route(req, res).catch((e) => {
        log({ msg: 'request failed', error: errorMessage(e) })
        if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n')
        else res.destroy()
      })
    },
  )

  function send(res: ServerResponse, status: number, type: string, body: string): void {
    // While shutting down, do not keep connections alive for requests that will not come.
    if (closing) res.setHeader('connection', 'close')
    res.writeHead(status, {
      'content-type': type,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    })
    res.end(body)
  }

  async function readBody(req: IncomingMessage): Promise<Uint8Array | undefined> {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > maxBody) return undefined
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > maxBody) return undefined
      chunks.push(chunk)
    }
    return new Uint8Array(Buffer.concat(chunks))
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://webhook.invalid')
    const path = url.pathname
    if (path === '/healthz' || path === '/readyz' || path === '/metrics') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n')
      if (path === '/healthz') return send(res, 200, 'text/plain', 'ok\n')
      if (path === '/readyz')
        return ready ? send(res, 200, 'text/plain', 'ok\n') : send(res, 503, 'text/plain', 'not ready\n')
      return send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', metrics.render())
    }
    if (path !== '/validate' && path !== '/mutate') return send(res, 404, 'text/plain', 'not found\n')
    const endpoint: AdmissionEndpoint = path === '/validate' ? 'validate' : 'mutate'
    if (req.method !== 'POST') return send(res, 405, 'text/plain', 'method not allowed\n')
    const started = performance.now()
    const body = await readBody(req)
    if (body === undefined) {
      metrics.observe(endpoint, undefined, (performance.now() - started) / 1000)
      const deny = denyResponse('', `countersign: request body exceeds ${maxBody} bytes`, {
        code: 413,
        reason: 'RequestEntityTooLarge',
      })
      res.setHeader('connection', 'close')
      send(res, 413, 'application/json', JSON.stringify(deny))
      req.resume()
      return
    }
    const controller = new AbortController()
    inFlight.add(controller)
    // The API server gave up (or the connection broke): stop verifying for nobody.
    const onClose = () => {
      if (!res.writableFinished) controller.abort()
    }
    res.once('close', onClose)
    let outcome: AdmissionOutcome
    try {
      const timeoutMs = queryTimeoutMs(url)
      outcome = await handler(body, {
        endpoint,
        signal: controller.signal,
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      })
    } finally {
      inFlight.delete(controller)
    }
    const seconds = (performance.now() - started) / 1000
    metrics.observe(endpoint, outcome, seconds)
    log({
      msg: 'admission review',
      endpoint,
      uid: outcome.uid,
      kind: outcome.kind?.kind,
      namespace: outcome.namespace,
      decision: outcome.decision,
      allowed: outcome.body.response.allowed,
      images: outcome.results.length,
      cacheHits: outcome.results.filter((r) => r.cached === true).length,
      ms: Math.round(seconds * 1000),
      ...(outcome.decision === 'allowed' ? {} : { message: outcome.message }),
    })
    if (!res.destroyed) send(res, outcome.status, 'application/json', JSON.stringify(outcome.body))
  }

  // --- reloading -----------------------------------------------------------------------------------------------
  let reloading: Promise<void> | undefined
  let again = false
  const reloadOnce = async (): Promise<void> => {
    // Policies: only rebuild the check when the content changed (polls are frequent, building may be costly).
    try {
      const { files, fingerprint } = await readAll(policyPaths)
      if (fingerprint !== policyFingerprint) {
        const check = await options.loadCheck(files)
        if (typeof check !== 'function') throw new TypeError('loadCheck did not return a function')
        handler = createAdmissionHandler({ ...handlerOptions, check })
        policyFingerprint = fingerprint
        metrics.recordReload('policy', true)
        log({ msg: 'policies loaded', files: files.map((f) => f.path) })
        if (!closing) {
          ready = true
          metrics.setReady(true)
        }
      }
    } catch (e) {
      metrics.recordReload('policy', false)
      log({ msg: 'policy load failed; keeping the previous policies', error: errorMessage(e) })
    }
    try {
      const next = await readTLS()
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
      } while (again && !closing)
    })().finally(() => {
      reloading = undefined
    })
    return reloading
  }

  await reload()

  let debounce: ReturnType<typeof setTimeout> | undefined
  const schedule = () => {
    if (closing) return
    clearTimeout(debounce)
    debounce = setTimeout(() => void reload(), options.reloadDebounceMs ?? 250)
    debounce.unref()
  }
  const watchers: FSWatcher[] = []
  // Watch directories, not files: editors and kubelet replace files (rename), which ends a file watch.
  const watchDirs = new Set<string>([dirname(options.tlsCertFile), dirname(options.tlsKeyFile)])
  for (const p of policyPaths) {
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

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 8443, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host =
    options.host === undefined || options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host
  log({ msg: 'admission webhook listening', port: address.port, ready })

  let closed: Promise<void> | undefined
  return {
    port: address.port,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    metrics,
    isReady: () => ready,
    reload,
    close() {
      closed ??= (async () => {
        closing = true
        ready = false
        metrics.setReady(false)
        clearInterval(poll)
        clearTimeout(debounce)
        for (const w of watchers) w.close()
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
        server.closeIdleConnections()
        const grace = new Promise<'grace'>((resolve) => {
          const t = setTimeout(() => resolve('grace'), options.shutdownGraceMs ?? 10_000)
          t.unref()
        })
        if ((await Promise.race([stopped.then(() => 'stopped' as const), grace])) === 'grace') {
          // Reviews still running past the grace period are denied (fail closed); give the denials a moment to be
          // written (their connections close after the response), then cut whatever is left.
          for (const c of inFlight) c.abort()
          const flush = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())
          await Promise.race([stopped, flush])
          server.closeAllConnections()
          await stopped
        }
        await reloading
        log({ msg: 'admission webhook stopped' })
      })()
      return closed
    },
  }
}

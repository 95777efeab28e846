/**
 * The admission webhook as a Node HTTPS server: `POST /validate`, `POST /mutate`, Gatekeeper's external-data provider
 * at `POST /gatekeeper/validate` and `/gatekeeper/mutate` (optionally behind Gatekeeper's client certificate),
 * `GET /healthz`, `/readyz` and `/metrics`; policies and TLS material reloaded when their files change; graceful
 * shutdown. This file holds the public types, start-up and shutdown; the routes and the reloading are beside it.
 *
 * @module
 */
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { GatekeeperHandlerOptions } from '../admission/gatekeeper.js'
import { type AdmissionHandlerOptions, createAdmissionHandler } from '../admission/handler.js'
import { type AdmissionMetrics, createAdmissionMetrics } from '../admission/metrics.js'
import type { ImageCheck } from '../admission/types.js'
import { CountersignError } from '../errors.js'
import { readClientCA } from './admission-server-gatekeeper.js'
import { createReloader, readTLS, watchForChanges } from './admission-server-reload.js'
import { createRequestListener } from './admission-server-routes.js'
import type { WebhookState } from './admission-server-state.js'

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
  /**
   * What the check depends on besides the policy files, as a version string (e.g. the hashes of the TUF targets the
   * trusted root came from). Read with the files on every poll: a new value rebuilds the check; a failure keeps the
   * current one, as a bad policy edit does.
   */
  readonly trustVersion?: () => Promise<string>
  /** Largest request body accepted (default 4 MiB; etcd objects are at most 1.5 MiB). Larger → 413. */
  readonly maxBodyBytes?: number
  /**
   * PEM CA certificate(s) that sign Gatekeeper's client certificate (the `ca.crt` of Gatekeeper's
   * `gatekeeper-webhook-server-cert` Secret); reloaded when the file changes. When set, the server asks every client
   * for a certificate without requiring one at the TLS layer (the API server calls `/validate` and `/mutate` without
   * one), and `/gatekeeper/*` answers 403 with a `systemError` unless the client's certificate verified against it.
   * When unset, `/gatekeeper/*` is served to any client (logged once at start).
   */
  readonly gatekeeperClientCAFile?: string
  /**
   * DNS names of which Gatekeeper's client certificate must carry one as a SAN (e.g.
   * `gatekeeper-webhook-service.gatekeeper-system.svc`, the default for Gatekeeper in `gatekeeper-system`); empty
   * or unset: any certificate the CA signed. Needs {@link AdmissionServerOptions.gatekeeperClientCAFile}.
   */
  readonly gatekeeperClientNames?: readonly string[]
  /**
   * Budget for the checks of one Gatekeeper provider request, in milliseconds (default 1500; keep it below the
   * Provider's `spec.timeout`). `timeoutMs` applies to admission reviews only.
   */
  readonly gatekeeperTimeoutMs?: number
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

/**
 * Start the admission webhook over HTTPS. Stateless: run as many replicas as needed behind one Service.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when the TLS files or the Gatekeeper client CA cannot be read, or
 *   client names are given without a client CA; listen errors are thrown as is.
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
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY
  const gatekeeperOptions: Omit<GatekeeperHandlerOptions, 'check'> = {
    maxBodyBytes: maxBody,
    ...(options.gatekeeperTimeoutMs !== undefined ? { timeoutMs: options.gatekeeperTimeoutMs } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.maxImages !== undefined ? { maxImages: options.maxImages } : {}),
  }
  const clientNames = options.gatekeeperClientNames ?? []
  if (clientNames.length > 0 && options.gatekeeperClientCAFile === undefined)
    throw new CountersignError('ERR_INVALID_INPUT', 'Gatekeeper client names need a Gatekeeper client CA')
  const state: WebhookState = {
    handler: createAdmissionHandler({ ...handlerOptions, check: notLoaded }),
    ready: false,
    closing: false,
    inFlight: new Set(),
    metrics: createAdmissionMetrics(),
    log: options.log ?? (() => {}),
    ...(options.gatekeeperClientCAFile !== undefined ? { gatekeeperClient: { names: clientNames } } : {}),
  }
  const tls = await readTLS(options.tlsCertFile, options.tlsKeyFile)
  const clientCA =
    options.gatekeeperClientCAFile !== undefined ? await readClientCA(options.gatekeeperClientCAFile) : undefined
  const server: Server = createServer(
    {
      cert: tls.cert,
      key: tls.key,
      minVersion: 'TLSv1.2',
      requestTimeout: 30_000,
      headersTimeout: 10_000,
      // Ask for a client certificate, verify it against Gatekeeper's CA, but let the handshake go on without one:
      // the API server has none, and only /gatekeeper/* looks at the verdict (`socket.authorized`).
      ...(clientCA ? { ca: clientCA.ca, requestCert: true, rejectUnauthorized: false } : {}),
    },
    createRequestListener(state, maxBody),
  )
  const reloader = createReloader({
    state,
    server,
    options,
    handlerOptions,
    gatekeeperOptions,
    tlsFingerprint: tls.fingerprint,
    ...(clientCA ? { clientCAFingerprint: clientCA.fingerprint } : {}),
  })
  await reloader.reload()
  const stopWatching = await watchForChanges(options, reloader.reload, () => state.closing)

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
  state.log({ msg: 'admission webhook listening', port: address.port, ready: state.ready })
  if (!clientCA) {
    state.log({
      msg: 'Gatekeeper provider requests are not authenticated: no Gatekeeper client CA is configured (--gatekeeper-client-ca)',
    })
  }

  let closed: Promise<void> | undefined
  return {
    port: address.port,
    url: `https://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    metrics: state.metrics,
    isReady: () => state.ready,
    reload: reloader.reload,
    close() {
      closed ??= (async () => {
        state.closing = true
        state.ready = false
        state.metrics.setReady(false)
        stopWatching()
        await drain(server, state.inFlight, options.shutdownGraceMs ?? 10_000)
        await reloader.current()
        state.log({ msg: 'admission webhook stopped' })
      })()
      return closed
    },
  }
}

/** Stop accepting and wait for the server to close, cutting reviews still running after `graceMs`. */
async function drain(server: Server, inFlight: ReadonlySet<{ abort(): void }>, graceMs: number): Promise<void> {
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
  const grace = new Promise<'grace'>((resolve) => {
    const t = setTimeout(() => resolve('grace'), graceMs)
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
}

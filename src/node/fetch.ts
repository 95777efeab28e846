/** A `fetch` for Node built on undici: keep-alive pool, extra CAs, client certificates (mTLS), HTTP(S) proxies. @module */
import { readFileSync } from 'node:fs'
import { rootCertificates } from 'node:tls'
import { Agent, Dispatcher, EnvHttpProxyAgent, fetch as undiciFetch } from 'undici'
import { CountersignError } from '../errors.js'

/**
 * Options for {@link createNodeFetch}.
 *
 * @example
 * ```ts
 * const o: NodeFetchOptions = { caFile: '/etc/ssl/corp.pem', certFile: 'client.pem', keyFile: 'client.key' }
 * ```
 *
 * Exported from `countersign/node`.
 */
export interface NodeFetchOptions {
  /** Skip TLS certificate verification (cosign's `--allow-insecure-registry`). Never the default. */
  readonly insecureSkipTLSVerify?: boolean
  /** Extra PEM CA certificates to trust, as a file path (in addition to Node's defaults). */
  readonly caFile?: string
  /** PEM client certificate (chain) for mutual TLS; needs `keyFile`. */
  readonly certFile?: string
  /** PEM private key of `certFile`. */
  readonly keyFile?: string
  /** Maximum connections per origin (default 16). */
  readonly connections?: number
  /**
   * Proxy: `'env'` (default) honours `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (and their lower-case forms);
   * a URL string sends every request through that proxy except hosts in `NO_PROXY`; `false` never proxies.
   * Plain-http targets are forwarded in absolute form (as Go and curl do), https ones tunnelled with CONNECT.
   */
  readonly proxy?: 'env' | string | false
  /** Environment read for the proxy variables; defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
}

function envVar(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const v = env[name.toLowerCase()] ?? env[name.toUpperCase()]
  return v === undefined || v.trim() === '' ? undefined : v.trim()
}

/**
 * Sends http and https origins to different dispatchers: as in Go's `ProxyFromEnvironment`, `HTTP_PROXY` serves
 * http only and `HTTPS_PROXY` https only (undici's EnvHttpProxyAgent would reuse HTTP_PROXY for https).
 */
class ProtocolRouter extends Dispatcher {
  readonly #http: Dispatcher
  readonly #https: Dispatcher
  constructor(http: Dispatcher, https: Dispatcher) {
    super()
    this.#http = http
    this.#https = https
  }
  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const https = String(opts.origin ?? '').startsWith('https:')
    return (https ? this.#https : this.#http).dispatch(opts, handler)
  }
  override close(): Promise<void>
  override close(callback: () => void): void
  override close(callback?: () => void): Promise<void> | void {
    const p = Promise.all([this.#http.close(), this.#https.close()]).then(() => {})
    if (callback === undefined) return p
    p.then(callback, callback)
  }
  override destroy(): Promise<void>
  override destroy(err: Error | null): Promise<void>
  override destroy(callback: () => void): void
  override destroy(err: Error | null, callback: () => void): void
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const err = typeof a === 'function' ? null : (a ?? null)
    const callback = typeof a === 'function' ? a : b
    const p = Promise.all([this.#http.destroy(err), this.#https.destroy(err)]).then(() => {})
    if (callback === undefined) return p
    p.then(callback, callback)
  }
}

function readPEM(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (cause) {
    // The path is the caller's own; the content never appears in the message.
    throw new CountersignError('ERR_INVALID_INPUT', `cannot read the ${what} file ${path}`, { cause })
  }
}

/**
 * Create a `fetch` that registry and Sigstore clients accept as their `fetch` option. It keeps connections alive
 * across requests (one TLS handshake per registry instead of one per request), can trust extra CAs, present a
 * client certificate, go through an HTTP(S) proxy, or, when explicitly asked, skip certificate verification.
 *
 * @throws {Error} when `certFile` is given without `keyFile` (or the reverse), or a file cannot be read.
 * @example
 * ```ts
 * import { createRegistryClient } from 'countersign/oci'
 * import { createNodeFetch } from 'countersign/node'
 * const store = createRegistryClient({ fetch: createNodeFetch({ caFile: '/etc/ssl/my-ca.pem' }) })
 * ```
 *
 * Exported from `countersign/node`.
 */
export function createNodeFetch(options: NodeFetchOptions = {}): typeof fetch {
  if ((options.certFile === undefined) !== (options.keyFile === undefined)) {
    throw new TypeError('certFile and keyFile must be given together')
  }
  const ca = options.caFile ? readPEM(options.caFile, 'CA certificate') : undefined
  const cert = options.certFile ? readPEM(options.certFile, 'client certificate') : undefined
  const key = options.keyFile ? readPEM(options.keyFile, 'client key') : undefined
  const tls = {
    ...(options.insecureSkipTLSVerify ? { rejectUnauthorized: false } : {}),
    // undici replaces the default CA list when `ca` is set, so add the extra CA to Node's bundled roots.
    ...(ca ? { ca: [...rootCertificates, ca] } : {}),
    ...(cert && key ? { cert, key } : {}),
  }
  const agentOptions = { connections: options.connections ?? 16, keepAliveTimeout: 10_000, connect: tls }

  const env = options.env ?? process.env
  const proxy = options.proxy ?? 'env'
  let dispatcher: Dispatcher
  if (proxy === false) {
    dispatcher = new Agent(agentOptions)
  } else {
    const httpProxy = proxy === 'env' ? envVar(env, 'http_proxy') : proxy
    const httpsProxy = proxy === 'env' ? envVar(env, 'https_proxy') : proxy
    const noProxy = envVar(env, 'no_proxy') ?? ''
    const direct = new Agent(agentOptions)
    // Every value is passed explicitly so undici never reads process.env behind an injected env.
    const via = (uri: string) =>
      new EnvHttpProxyAgent({
        ...agentOptions,
        httpProxy: uri,
        httpsProxy: uri,
        noProxy,
        // TLS to the registry through a CONNECT tunnel uses the same CA / client certificate settings.
        requestTls: tls,
        proxyTunnel: false,
      })
    dispatcher =
      httpProxy === undefined && httpsProxy === undefined
        ? direct
        : new ProtocolRouter(
            httpProxy === undefined ? direct : via(httpProxy),
            httpsProxy === undefined ? direct : via(httpsProxy),
          )
  }
  // undici's fetch has the same contract as the global one; its types differ only nominally.
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(input as never, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch
}

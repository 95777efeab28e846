/**
 * Interactive OIDC login for people (cosign's default flow without ambient credentials): a loopback HTTP server
 * receives the provider's redirect, the browser is opened where possible, the URL is always printed.
 *
 * @module
 */
import { spawn } from 'node:child_process'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CountersignError } from '../errors.js'
import {
  type AuthorizationRequest,
  createAuthorizationRequest,
  discoverOIDCProvider,
  exchangeAuthorizationCode,
  parseAuthorizationCallback,
  SIGSTORE_OIDC_ISSUER,
} from '../oidc/authorization-code.js'

/**
 * Options for {@link loginInteractively}.
 *
 * Exported from `countersign/node`.
 */
export interface LoginInteractivelyOptions {
  /** Default `https://oauth2.sigstore.dev/auth` (cosign's `--oidc-issuer`). */
  readonly issuer?: string
  /** Default `sigstore` (cosign's `--oidc-client-id`). */
  readonly clientId?: string
  /** Port of the loopback redirect listener (default 0: any free port). */
  readonly redirectPort?: number
  /** Try to open the system browser (default true). The URL is printed either way. */
  readonly openBrowser?: boolean
  /** Receives the lines to show the user (e.g. `(line) => process.stderr.write(`${line}\n`)`). Never a secret. */
  readonly output: (line: string) => void
  readonly signal?: AbortSignal
  /** How long to wait for the browser to come back (default 120 s, as cosign). */
  readonly timeoutMs?: number
  /** The fetch for discovery and the token endpoint (default `globalThis.fetch`). */
  readonly fetch?: typeof fetch
  /** Extra authorization parameters, e.g. `{ connector_id: 'https://github.com/login/oauth' }` for Dex. */
  readonly extraAuthorizationParams?: Readonly<Record<string, string>>
}

const CALLBACK_PATH = '/auth/callback'

const page = (title: string, text: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`

function escapeHTML(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** The platform's URL opener, run without a shell (a URL with "&" must not reach cmd.exe). */
function browserCommand(url: string): [string, string[]] {
  if (process.platform === 'darwin') return ['open', [url]]
  if (process.platform === 'win32') return ['rundll32', ['url.dll,FileProtocolHandler', url]]
  return ['xdg-open', [url]]
}

function openInBrowser(url: string, output: (line: string) => void): void {
  const [command, args] = browserCommand(url)
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true, shell: false })
    child.on('error', () => output(`Could not start ${command}; open the URL above in a browser.`))
    child.unref()
  } catch {
    output(`Could not start ${command}; open the URL above in a browser.`)
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

function shutdown(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

/**
 * Log in with a browser and return an ID token: OIDC discovery, authorization code + PKCE (S256) with `state` and
 * `nonce`, a redirect to `http://localhost:PORT/auth/callback` (the form cosign and sigstore-js register with the
 * public-good Dex) served on 127.0.0.1 (and ::1 when available), then the code exchange. The authorization URL is
 * always printed; the browser is opened with `open`, `xdg-open` or `rundll32 url.dll,FileProtocolHandler` when
 * `openBrowser` is not false (spawned without a shell, best effort). A callback with another `state` or an `error`
 * (e.g. `access_denied`) ends the login. The listener is closed before returning.
 *
 * @param options - Issuer, client ID, port, browser, output, abort signal, timeout.
 * @returns The raw ID token (secret: never log it).
 * @throws {CountersignError} ERR_OIDC_LOGIN (denied, state mismatch, timeout, discovery or token endpoint failure),
 *   ERR_OIDC_TOKEN (malformed or expired token), ERR_ABORTED, ERR_NETWORK.
 * @example
 * ```ts
 * import { loginInteractively } from 'countersign/node'
 * const token = await loginInteractively({ output: (line) => process.stderr.write(`${line}\n`) })
 * ```
 *
 * Exported from `countersign/node`.
 */
export async function loginInteractively(options: LoginInteractivelyOptions): Promise<string> {
  const { output, signal } = options
  if (typeof output !== 'function') throw new TypeError('options.output must be a function')
  signal?.throwIfAborted()
  const timeoutMs = options.timeoutMs ?? 120_000
  const http = options.fetch ? { fetch: options.fetch } : {}

  let request: AuthorizationRequest | undefined
  let settle: { resolve: (code: string) => void; reject: (error: unknown) => void } | undefined
  const callback = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject }
  })
  // The promise may be rejected before anything awaits it (abort during discovery).
  callback.catch(() => {})
  let done = false

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) {
      res.writeHead(404, { 'Content-Type': 'text/plain', Connection: 'close' }).end('not found')
      return
    }
    if (done || request === undefined) {
      res.writeHead(409, { 'Content-Type': 'text/plain', Connection: 'close' }).end('no login is waiting')
      return
    }
    done = true
    let code: string
    try {
      code = parseAuthorizationCallback(url, request)
    } catch (error) {
      const text = error instanceof CountersignError ? error.message : 'login failed'
      res
        .writeHead(400, { 'Content-Type': 'text/html; charset=utf-8', Connection: 'close' })
        .end(page('Sigstore login failed', escapeHTML(text)), () => settle?.reject(error))
      return
    }
    res
      .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', Connection: 'close' })
      .end(page('Sigstore authentication successful', 'You may now close this page.'), () => settle?.resolve(code))
  }

  const servers: Server[] = [createServer(handler)]
  const port = await listen(servers[0]!, options.redirectPort ?? 0, '127.0.0.1').catch((cause) => {
    throw new CountersignError('ERR_OIDC_LOGIN', 'could not start the local login callback listener', {
      cause,
      details: { reason: 'listen' },
    })
  })
  // "localhost" may resolve to ::1 first in the browser; listen there too when the host has IPv6 loopback.
  const v6 = createServer(handler)
  await listen(v6, port, '::1').then(
    () => servers.push(v6),
    () => {},
  )

  let timer: ReturnType<typeof setTimeout> | undefined
  const onAbort = () => settle?.reject(new CountersignError('ERR_ABORTED', 'login aborted', { cause: signal?.reason }))
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const provider = await discoverOIDCProvider(options.issuer ?? SIGSTORE_OIDC_ISSUER, {
      ...http,
      ...(signal ? { signal } : {}),
    })
    request = await createAuthorizationRequest(provider, {
      redirectUri: `http://localhost:${port}${CALLBACK_PATH}`,
      ...(options.clientId !== undefined ? { clientId: options.clientId } : {}),
      ...(options.extraAuthorizationParams ? { extraParams: options.extraAuthorizationParams } : {}),
    })
    if (options.openBrowser === false) {
      output('Open this URL in a browser to sign in:')
      output(request.url)
    } else {
      output('Your browser will now be opened to:')
      output(request.url)
      openInBrowser(request.url, output)
    }
    timer = setTimeout(
      () =>
        settle?.reject(
          new CountersignError('ERR_OIDC_LOGIN', `no login completed within ${Math.round(timeoutMs / 1000)} s`, {
            details: { reason: 'timeout' },
          }),
        ),
      timeoutMs,
    )
    const code = await callback
    clearTimeout(timer)
    await Promise.all(servers.map(shutdown))
    return await exchangeAuthorizationCode(request, code, { ...http, ...(signal ? { signal } : {}) })
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
    await Promise.all(servers.map((s) => (s.listening ? shutdown(s) : Promise.resolve())))
  }
}

/**
 * An in-process HTTP proxy on 127.0.0.1 for tests: a forward proxy (absolute-form requests, as sent through
 * HTTP_PROXY, plus CONNECT tunnels) and a reverse proxy in front of a `target`, with fault injection
 * (canned responses, connection resets before or during a response or request body, bodies cut short that look
 * complete, answers lost after the target applied a request, corrupted bodies, delays).
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect, type Socket } from 'node:net'

export interface ProxiedRequest {
  readonly method: string
  /** Path and query. */
  readonly path: string
  /** Whether the request line had an absolute URL (forward-proxy form). */
  readonly absolute: boolean
  readonly headers: IncomingMessage['headers']
}

export type Fault =
  | {
      readonly kind: 'respond'
      readonly status: number
      readonly headers?: Record<string, string>
      readonly body?: string
    }
  /** Destroy the client connection before any response. */
  | { readonly kind: 'reset' }
  /** Read this many request-body bytes, then destroy the client connection (nothing reaches the target). */
  | { readonly kind: 'reset-request'; readonly afterBytes: number }
  /** Forward, but destroy the client connection after this many response-body bytes. */
  | { readonly kind: 'reset-response'; readonly afterBytes: number }
  /**
   * Forward status and headers without Content-Length, send this many body bytes, then end the response cleanly:
   * a body cut short that looks complete (a proxy closing early).
   */
  | { readonly kind: 'truncate-response'; readonly afterBytes: number }
  /** Forward (the target applies the request), then destroy the client connection instead of answering. */
  | { readonly kind: 'lose-response' }
  /** Forward, flipping one byte of the response body. */
  | { readonly kind: 'corrupt' }
  /** Hold the request this many milliseconds, then forward it untouched (a slow proxy or registry). */
  | { readonly kind: 'delay'; readonly ms: number }

export interface TestProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** `127.0.0.1:<port>` */
  readonly host: string
  readonly requests: ProxiedRequest[]
  /** CONNECT tunnels opened (`host:port`). */
  readonly tunnels: string[]
  stop(): Promise<void>
}

export interface StartProxyOptions {
  /** Origin to forward origin-form requests to (reverse-proxy mode), e.g. the test registry's URL. */
  readonly target?: string
  /** Decide a fault per request; undefined forwards it untouched. */
  readonly fault?: (req: ProxiedRequest) => Fault | undefined
}

function forward(req: IncomingMessage, res: ServerResponse, upstream: URL, fault: Fault | undefined): void {
  const out = httpRequest(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: `${upstream.pathname}${upstream.search}`,
      // The Host header is kept, so the registry builds Location URLs that point back at the proxy.
      headers: req.headers,
    },
    (up) => {
      if (fault?.kind === 'lose-response') {
        up.resume()
        up.on('end', () => res.socket?.destroy())
        return
      }
      if (fault?.kind === 'truncate-response') {
        const headers: string[] = []
        for (let i = 0; i < up.rawHeaders.length; i += 2) {
          if (up.rawHeaders[i]!.toLowerCase() === 'content-length') continue
          headers.push(up.rawHeaders[i]!, up.rawHeaders[i + 1]!)
        }
        res.writeHead(up.statusCode ?? 502, headers)
        let kept = 0
        up.on('data', (chunk: Buffer) => {
          const keep = Math.max(0, Math.min(chunk.length, fault.afterBytes - kept))
          if (keep > 0) res.write(chunk.subarray(0, keep))
          kept += keep
        })
        up.on('end', () => res.end())
        up.on('error', () => res.socket?.destroy())
        return
      }
      res.writeHead(up.statusCode ?? 502, up.rawHeaders)
      let sent = 0
      let flipped = false
      let cut = false
      up.on('data', (chunk: Buffer) => {
        if (cut) return
        if (fault?.kind === 'reset-response' && sent + chunk.length > fault.afterBytes) {
          const keep = Math.max(0, fault.afterBytes - sent)
          if (keep > 0) res.write(chunk.subarray(0, keep))
          sent += keep
          cut = true
          up.destroy()
          // Let the partial chunk reach the client first, then cut the connection. (A small body may have come in
          // whole, so 'end' still fires: it must not finish the response and leave the client waiting.)
          const socket = res.socket
          setTimeout(() => socket?.destroy(), 20)
          return
        }
        if (fault?.kind === 'corrupt' && !flipped && chunk.length > 0) {
          const copy = Buffer.from(chunk)
          copy[copy.length >> 1] = copy[copy.length >> 1]! ^ 0xff
          chunk = copy
          flipped = true
        }
        sent += chunk.length
        res.write(chunk)
      })
      up.on('end', () => {
        if (!cut) res.end()
      })
      up.on('error', () => res.socket?.destroy())
    },
  )
  out.on('error', () => res.socket?.destroy())
  req.pipe(out)
}

export async function startProxy(options: StartProxyOptions = {}): Promise<TestProxy> {
  const requests: ProxiedRequest[] = []
  const tunnels: string[] = []
  const sockets = new Set<Socket>()
  const server = createServer((req, res) => {
    const raw = req.url ?? '/'
    const absolute = /^https?:\/\//i.test(raw)
    let upstream: URL
    try {
      upstream = absolute ? new URL(raw) : new URL(raw, options.target)
    } catch {
      res.writeHead(502).end()
      return
    }
    const info: ProxiedRequest = {
      method: req.method ?? 'GET',
      path: `${upstream.pathname}${upstream.search}`,
      absolute,
      headers: req.headers,
    }
    requests.push(info)
    const fault = options.fault?.(info)
    if (fault?.kind === 'respond') {
      req.resume()
      res.writeHead(fault.status, fault.headers ?? {})
      res.end(fault.body ?? '')
      return
    }
    if (fault?.kind === 'reset') {
      req.socket.destroy()
      return
    }
    if (fault?.kind === 'reset-request') {
      let seen = 0
      req.on('data', (c: Buffer) => {
        seen += c.length
        if (seen >= fault.afterBytes) req.socket.destroy()
      })
      req.on('end', () => req.socket.destroy())
      return
    }
    if (fault?.kind === 'delay') {
      // The request body waits in the paused stream until it is piped upstream.
      setTimeout(() => forward(req, res, upstream, undefined), fault.ms)
      return
    }
    forward(req, res, upstream, fault)
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  server.on('connect', (req, client: Socket, head) => {
    const target = req.url ?? ''
    tunnels.push(target)
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))]
    const up = connect(port, host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) up.write(head)
      up.pipe(client)
      client.pipe(up)
    })
    up.on('error', () => client.destroy())
    client.on('error', () => up.destroy())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const addr = server.address()
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    tunnels,
    stop: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  }
}

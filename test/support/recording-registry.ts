/**
 * A registry on 127.0.0.1 that asks for HTTP Basic credentials and records the `Authorization` header of every
 * request: the in-memory fake registry behind a Basic-auth gate. With the right user and password it serves as a
 * private registry; started with credentials nobody knows, it plays an attacker's registry that solicits whatever a
 * client is willing to send it.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { createFakeRegistry } from './fake-registry.js'

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  /** The `Authorization` header as received; undefined when the request carried none. */
  readonly authorization: string | undefined
}

export interface RecordingRegistry {
  /** `127.0.0.1:<port>` */
  readonly host: string
  /** Every request received, in order. */
  readonly requests: RecordedRequest[]
  /** The `Authorization` headers received (requests without one left out). */
  authorizations(): string[]
  stop(): Promise<void>
}

/** Start a registry that answers 401 + `WWW-Authenticate: Basic` unless a request carries `username:password`. */
export async function startRecordingRegistry(credentials: {
  readonly username: string
  readonly password: string
}): Promise<RecordingRegistry> {
  const fake = createFakeRegistry()
  const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
  const requests: RecordedRequest[] = []
  let origin = ''
  const server: Server = createServer((req, res) => {
    const authorization = req.headers.authorization
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', authorization })
    if (authorization !== expected) {
      req.resume()
      res.writeHead(401, {
        'www-authenticate': 'Basic realm="recording-registry"',
        'content-type': 'application/json',
      })
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
      return
    }
    toRequest(req, origin)
      .then((r) => fake.handle(r))
      .then(async (response) => {
        const head = req.method === 'HEAD'
        const body = head || response.body === null ? undefined : Buffer.from(await response.arrayBuffer())
        const headers: Record<string, string> = {}
        response.headers.forEach((v, k) => {
          headers[k] = v
        })
        if (body !== undefined) headers['content-length'] = String(body.length)
        res.writeHead(response.status, headers)
        res.end(body)
      })
      .catch((e: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(String(e))
      })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const host = `127.0.0.1:${port}`
  origin = `http://${host}`
  return {
    host,
    requests,
    authorizations: () => requests.flatMap((r) => (r.authorization === undefined ? [] : [r.authorization])),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function toRequest(req: IncomingMessage, origin: string): Promise<Request> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const headers = new Headers()
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue
    for (const value of Array.isArray(v) ? v : [v]) headers.append(k, value)
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
  return new Request(new URL(req.url ?? '/', origin), {
    method: req.method ?? 'GET',
    headers,
    ...(hasBody ? { body: Buffer.concat(chunks) } : {}),
  })
}

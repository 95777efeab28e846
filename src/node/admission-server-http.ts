/**
 * The admission server's HTTP primitives, shared by its routes: reading a request body within a size limit, sending
 * a complete answer, and running a decision that stops when the client goes away or the server shuts down.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { WebhookState } from './admission-server-state.js'

/**
 * The body, or undefined once it is larger than `maxBody` (declared or actual).
 *
 * @example
 * ```ts
 * const body = await readBody(req, 4 * 1024 * 1024)
 * if (body === undefined) return send(state, res, 413, 'text/plain', 'too large\n')
 * ```
 */
export async function readBody(req: IncomingMessage, maxBody: number): Promise<Uint8Array | undefined> {
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

/**
 * Send a complete answer, never cached; while the server shuts down, with `connection: close`.
 *
 * @example
 * ```ts
 * send(state, res, 200, 'application/json', JSON.stringify(body))
 * ```
 */
export function send(state: WebhookState, res: ServerResponse, status: number, type: string, body: string): void {
  // While shutting down, do not keep connections alive for requests that will not come.
  if (state.closing) res.setHeader('connection', 'close')
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  })
  res.end(body)
}

/**
 * Run `decide` with a signal that aborts when the client goes away (the API server or Gatekeeper gave up, or the
 * connection broke: stop verifying for nobody) or when shutdown cuts reviews in flight.
 *
 * @example
 * ```ts
 * const outcome = await abortableByClient(state, res, (signal) => state.handler(body, { endpoint, signal }))
 * ```
 */
export async function abortableByClient<T>(
  state: WebhookState,
  res: ServerResponse,
  decide: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController()
  state.inFlight.add(controller)
  res.once('close', () => {
    if (!res.writableFinished) controller.abort()
  })
  try {
    return await decide(controller.signal)
  } finally {
    state.inFlight.delete(controller)
  }
}

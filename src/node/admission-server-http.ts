/**
 * The admission server's HTTP primitives, shared by its routes: reading a request body within a size limit, sending
 * a complete answer, and running a decision that stops when the client goes away or the server shuts down.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { CountersignError } from '../errors.js'
import { LazyAbortController } from '../internal/lazy-abort.js'
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
export function readBody(req: IncomingMessage, maxBody: number): Promise<Uint8Array | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > maxBody) return Promise.resolve(undefined)
  // Listeners, not `for await (const chunk of req)`: Node's stream async iterator costs ~7 µs a review and its
  // end-of-stream bookkeeping was among what the young generation kept and promoted (docs/admission.md, "Latency").
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const stop = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBody) {
        stop()
        resolve(undefined)
      } else chunks.push(chunk)
    }
    const onEnd = () => {
      stop()
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)
      resolve(new Uint8Array(body.buffer, body.byteOffset, body.byteLength))
    }
    const onError = (e: Error) => {
      stop()
      reject(e)
    }
    // Closed before its end: the client went away mid-body.
    const onClose = () => {
      stop()
      reject(new CountersignError('ERR_ABORTED', 'the request body ended early: the client closed the connection'))
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
  })
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
 * What a review's decision is given: its endpoint, the API server's budget, and a signal that aborts when the client
 * goes away or shutdown cuts the review. The signal is made only when read (a review answered from the cache never
 * reads it; see src/internal/lazy-abort.ts), and it is a getter on the class, not on an object literal (a literal's
 * getter would give every call its own hidden class).
 *
 * @example
 * ```ts
 * await abortableByClient(state, res, (stop) => state.handler(body, new ReviewCall('validate', stop)))
 * ```
 */
export class ReviewCall<E extends string> {
  readonly endpoint: E
  readonly timeoutMs?: number
  readonly #stop: LazyAbortController

  constructor(endpoint: E, stop: LazyAbortController, timeoutMs?: number) {
    this.endpoint = endpoint
    this.#stop = stop
    if (timeoutMs !== undefined) this.timeoutMs = timeoutMs
  }

  /** Aborted when the client goes away or shutdown cuts the review; made on first read. */
  get signal(): AbortSignal {
    return this.#stop.signal
  }
}

/**
 * Run `decide` with a controller that aborts when the client goes away (the API server or Gatekeeper gave up, or the
 * connection broke: stop verifying for nobody) or when shutdown cuts reviews in flight. Its signal exists only if
 * the decision asks for it.
 *
 * @example
 * ```ts
 * const outcome = await abortableByClient(state, res, (stop) => state.handler(body, new ReviewCall('validate', stop)))
 * ```
 */
export async function abortableByClient<T>(
  state: WebhookState,
  res: ServerResponse,
  decide: (stop: LazyAbortController) => Promise<T>,
): Promise<T> {
  const stop = new LazyAbortController()
  state.inFlight.add(stop)
  res.once('close', () => {
    if (!res.writableFinished) stop.abort()
  })
  try {
    return await decide(stop)
  } finally {
    state.inFlight.delete(stop)
  }
}

/**
 * The admission webhook's HTTP routes: `POST /validate` and `/mutate` (body size limit, the API server's
 * `?timeout=`, abort when the client goes away, metrics and a log line per review), `POST /gatekeeper/validate` and
 * `/gatekeeper/mutate` (Gatekeeper's external-data provider, beside this file), and `GET /healthz`, `/readyz` and
 * `/metrics`.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { AdmissionEndpoint, AdmissionOutcome } from '../admission/handler.js'
import { denyResponse } from '../admission/review.js'
import { GATEKEEPER_PATHS, serveGatekeeper } from './admission-server-gatekeeper.js'
import { abortableByClient, ReviewCall, readBody, send } from './admission-server-http.js'
import { errorMessage, type WebhookState } from './admission-server-state.js'

/** Go duration as the API server sends it in `?timeout=10s`; undefined when absent or odd. */
function queryTimeoutMs(url: URL): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(url.searchParams.get('timeout') ?? '')
  if (!m) return undefined
  const n = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000)
  // Leave room to write the answer before the API server gives up.
  return Math.max(1, n - 500)
}

/**
 * Create the request listener of the webhook's HTTPS server.
 *
 * @example
 * ```ts
 * const server = createServer({ cert, key }, createRequestListener(state, 4 * 1024 * 1024))
 * ```
 */
export function createRequestListener(
  state: WebhookState,
  maxBody: number,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void route(state, maxBody, req, res).catch((e) => {
      state.log({ msg: 'request failed', error: errorMessage(e) })
      if (!res.headersSent) send(state, res, 500, 'text/plain', 'internal error\n')
      else res.destroy()
    })
  }
}

async function route(state: WebhookState, maxBody: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://webhook.invalid')
  const path = url.pathname
  if (path === '/healthz' || path === '/readyz' || path === '/metrics') {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(state, res, 405, 'text/plain', 'method not allowed\n')
    if (path === '/healthz') return send(state, res, 200, 'text/plain', 'ok\n')
    if (path === '/readyz')
      return state.ready
        ? send(state, res, 200, 'text/plain', 'ok\n')
        : send(state, res, 503, 'text/plain', 'not ready\n')
    return send(state, res, 200, 'text/plain; version=0.0.4; charset=utf-8', state.metrics.render())
  }
  const gatekeeper = GATEKEEPER_PATHS.get(path)
  if (gatekeeper !== undefined) {
    if (req.method !== 'POST') return send(state, res, 405, 'text/plain', 'method not allowed\n')
    return serveGatekeeper(state, maxBody, req, res, gatekeeper)
  }
  if (path !== '/validate' && path !== '/mutate') return send(state, res, 404, 'text/plain', 'not found\n')
  const endpoint: AdmissionEndpoint = path === '/validate' ? 'validate' : 'mutate'
  if (req.method !== 'POST') return send(state, res, 405, 'text/plain', 'method not allowed\n')
  const started = performance.now()
  const body = await readBody(req, maxBody)
  if (body === undefined) {
    state.metrics.observe(endpoint, undefined, (performance.now() - started) / 1000)
    const deny = denyResponse('', `countersign: request body exceeds ${maxBody} bytes`, {
      code: 413,
      reason: 'RequestEntityTooLarge',
    })
    res.setHeader('connection', 'close')
    send(state, res, 413, 'application/json', JSON.stringify(deny))
    req.resume()
    return
  }
  const outcome = await decide(state, res, body, url, endpoint)
  const seconds = (performance.now() - started) / 1000
  state.metrics.observe(endpoint, outcome, seconds)
  logReview(state, endpoint, outcome, seconds)
  if (!res.destroyed) send(state, res, outcome.status, 'application/json', JSON.stringify(outcome.body))
}

/** Run the handler, abortable by the client going away and by the end of the shutdown grace period. */
async function decide(
  state: WebhookState,
  res: ServerResponse,
  body: Uint8Array,
  url: URL,
  endpoint: AdmissionEndpoint,
): Promise<AdmissionOutcome> {
  const timeoutMs = queryTimeoutMs(url)
  return abortableByClient(state, res, (stop) => state.handler(body, new ReviewCall(endpoint, stop, timeoutMs)))
}

function logReview(state: WebhookState, endpoint: AdmissionEndpoint, outcome: AdmissionOutcome, seconds: number): void {
  state.log({
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
}

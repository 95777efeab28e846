/**
 * The admission server's Gatekeeper external-data provider routes, `POST /gatekeeper/validate` and
 * `/gatekeeper/mutate`: Gatekeeper's client certificate checked per request (the listener only asks for one, since
 * the API server calls `/validate` without), the body read within the server's limit, the answer from the current
 * {@link GatekeeperHandler}, a metrics sample and a log line per request. Every answer Gatekeeper should read is a
 * JSON `ProviderResponse`; Gatekeeper does not look at the HTTP status (frameworks@9a75fe2c:
 * constraint/pkg/externaldata/request.go), so refusals carry a `systemError` body too.
 *
 * @module
 */
import { createHash, X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { TLSSocket } from 'node:tls'
import type { GatekeeperEndpoint, GatekeeperOutcome } from '../admission/gatekeeper.js'
import { gatekeeperSystemError } from '../admission/gatekeeper-protocol.js'
import { CountersignError } from '../errors.js'
import { clipText } from '../internal/bounded-text.js'
import { abortableByClient, ReviewCall, readBody, send } from './admission-server-http.js'
import { errorMessage, type WebhookState } from './admission-server-state.js'

/**
 * The provider paths and the endpoint each serves.
 *
 * @example
 * ```ts
 * const endpoint = GATEKEEPER_PATHS.get(url.pathname) // 'validate' | 'mutate' | undefined
 * ```
 */
export const GATEKEEPER_PATHS: ReadonlyMap<string, GatekeeperEndpoint> = new Map([
  ['/gatekeeper/validate', 'validate'],
  ['/gatekeeper/mutate', 'mutate'],
])

/** Denied keys named in one log line, each clipped: enough to see what failed, bounded whatever the request. */
const MAX_LOGGED_KEYS = 8
const MAX_LOGGED_KEY_LENGTH = 256
const NOT_LOADED = 'policies are not loaded yet'

/**
 * Gatekeeper's CA certificate(s) from a PEM file, checked to hold at least one certificate (Node would otherwise
 * accept a file with none and trust nothing, silently), with a fingerprint of the file.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when the file cannot be read or holds no valid PEM certificate.
 * @example
 * ```ts
 * const { ca } = await readClientCA('/gatekeeper-ca/ca.crt')
 * createServer({ cert, key, ca, requestCert: true, rejectUnauthorized: false }, listener)
 * ```
 */
export async function readClientCA(file: string): Promise<{ ca: Buffer; fingerprint: string }> {
  let ca: Buffer
  try {
    ca = await readFile(file)
  } catch (e) {
    throw new CountersignError('ERR_INVALID_INPUT', `cannot read the Gatekeeper client CA: ${errorMessage(e)}`)
  }
  const blocks = ca.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []
  if (blocks.length === 0)
    throw new CountersignError('ERR_INVALID_INPUT', `${file}: the Gatekeeper client CA file holds no PEM certificate`)
  blocks.forEach((pem, i) => {
    try {
      new X509Certificate(pem)
    } catch {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `${file}: certificate ${i + 1} of the Gatekeeper client CA does not parse`,
      )
    }
  })
  return { ca, fingerprint: createHash('sha256').update(ca).digest('hex') }
}

/** The DNS names in a peer certificate's `subjectaltname` as Node renders it (`DNS:a, DNS:"quoted, name", …`). */
function dnsNames(subjectaltname: string | undefined): string[] {
  const names: string[] = []
  for (const m of (subjectaltname ?? '').matchAll(/(?:^|, )DNS:("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    const raw = m[1]!
    try {
      names.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw)
    } catch {
      // An entry Node quoted in a way JSON does not read cannot equal a pinned name.
    }
  }
  return names
}

/**
 * Why the client of `req` may not use the provider: undefined when its certificate verified against the
 * Gatekeeper CA and, if `names` is not empty, names one of them as a DNS SAN (compared without regard to case, as
 * DNS names are; no wildcards).
 *
 * @example
 * ```ts
 * const refusal = clientRefusal(req, ['gatekeeper-webhook-service.gatekeeper-system.svc'])
 * if (refusal) return refuse(403, refusal)
 * ```
 */
export function clientRefusal(req: IncomingMessage, names: readonly string[]): string | undefined {
  const socket = req.socket as TLSSocket
  if (typeof socket.getPeerCertificate !== 'function') return 'a client certificate is required (not a TLS connection)'
  const peer = socket.getPeerCertificate()
  if (peer === null || Object.keys(peer).length === 0)
    return 'a client certificate signed by the Gatekeeper CA is required; none was presented'
  // `authorized` is OpenSSL's verdict on the chain against the configured CA, with the ssl-client purpose (the
  // clientAuth extended key usage Gatekeeper's certificate carries when external data is enabled).
  if (socket.authorized !== true)
    return `the client certificate is not trusted: ${clipText(String(socket.authorizationError ?? 'unverified'), 128)}`
  if (names.length === 0) return undefined
  const wanted = new Set(names.map((n) => n.toLowerCase()))
  if (dnsNames(peer.subjectaltname).some((n) => wanted.has(n.toLowerCase()))) return undefined
  return 'the client certificate names none of the allowed Gatekeeper service names'
}

function reply(state: WebhookState, res: ServerResponse, status: number, outcome: GatekeeperOutcome | string): void {
  const body = typeof outcome === 'string' ? gatekeeperSystemError(outcome) : outcome.body
  send(state, res, status, 'application/json', JSON.stringify(body))
}

/**
 * Answer one request on a provider path (the method is already known to be POST).
 *
 * @example
 * ```ts
 * if (endpoint !== undefined) return serveGatekeeper(state, maxBody, req, res, endpoint)
 * ```
 */
export async function serveGatekeeper(
  state: WebhookState,
  maxBody: number,
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: GatekeeperEndpoint,
): Promise<void> {
  const started = performance.now()
  const label = `gatekeeper-${endpoint}`
  const refused = (status: number, why: string): void => {
    state.metrics.observeGatekeeper(endpoint, undefined, (performance.now() - started) / 1000)
    state.log({ msg: 'gatekeeper request refused', endpoint: label, status, reason: why })
    // The rest of the body is not read: close rather than drain it into a connection kept alive.
    res.setHeader('connection', 'close')
    reply(state, res, status, why)
    req.resume()
  }
  const refusal = state.gatekeeperClient ? clientRefusal(req, state.gatekeeperClient.names) : undefined
  if (refusal !== undefined) return refused(403, refusal)
  const body = await readBody(req, maxBody)
  if (body === undefined) return refused(413, `request body exceeds ${maxBody} bytes`)

  const outcome = await answer(state, res, body, endpoint)
  const seconds = (performance.now() - started) / 1000
  state.metrics.observeGatekeeper(endpoint, outcome, seconds)
  state.log({
    msg: 'gatekeeper request',
    endpoint: label,
    decision: outcome.decision,
    keys: outcome.keys,
    denied: outcome.deniedKeys.length,
    cacheHits: outcome.results.filter((r) => r.cached === true).length,
    ms: Math.round(seconds * 1000),
    ...(outcome.deniedKeys.length > 0
      ? { deniedKeys: outcome.deniedKeys.slice(0, MAX_LOGGED_KEYS).map((k) => clipText(k, MAX_LOGGED_KEY_LENGTH)) }
      : {}),
    ...(outcome.message !== undefined ? { message: outcome.message } : {}),
  })
  if (!res.destroyed) reply(state, res, outcome.status, outcome)
}

/** Run the current handler, abortable by the client going away and by the end of the shutdown grace period. */
async function answer(
  state: WebhookState,
  res: ServerResponse,
  body: Uint8Array,
  endpoint: GatekeeperEndpoint,
): Promise<GatekeeperOutcome> {
  const handler = state.gatekeeper
  if (handler === undefined) {
    // As the admission endpoints deny before the first policy load: nothing is decided, nothing may be cached.
    return {
      status: 200,
      body: gatekeeperSystemError(NOT_LOADED),
      decision: 'error',
      keys: 0,
      results: [],
      deniedKeys: [],
      message: NOT_LOADED,
    }
  }
  return abortableByClient(state, res, (stop) => handler(body, new ReviewCall(endpoint, stop)))
}

/**
 * The soak's fault plan: at `rate`, a request through the proxy gets one fault drawn uniformly from the kinds a real
 * registry path produces (throttling, 5xx, resets before/while/after the body, bodies cut short, lost answers,
 * corruption, delays). Every injected fault is logged with the client's User-Agent, which names the operation, so
 * a failure can be traced to the exact faults it met.
 */

import { intBetween, mulberry32 } from '../support/prng.js'
import type { Fault, ProxiedRequest } from '../support/proxy.js'

export const FAULT_KINDS = [
  '429 Retry-After: 0',
  '429 Retry-After: 1',
  '503',
  'reset',
  'reset-request',
  'reset-response',
  'truncate-response',
  'lose-response',
  'corrupt',
  'delay',
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

export interface InjectedFault {
  /** The operation (the client's User-Agent). */
  readonly op: string
  readonly method: string
  readonly path: string
  readonly kind: FaultKind
  /** The fault as handed to the proxy (byte counts, delay). */
  readonly fault: Fault
}

export interface FaultPlan {
  /** For `startProxy({ fault })`. */
  fault(req: ProxiedRequest): Fault | undefined
  readonly log: InjectedFault[]
  /** Faults injected into the requests of operation `op`. */
  faultsOf(op: string): InjectedFault[]
  /** Number of requests the plan was asked about. */
  readonly seen: () => number
}

function build(kind: FaultKind, rng: () => number): Fault {
  switch (kind) {
    case '429 Retry-After: 0':
      return {
        kind: 'respond',
        status: 429,
        headers: { 'Retry-After': '0' },
        body: '{"errors":[{"code":"TOOMANYREQUESTS"}]}',
      }
    case '429 Retry-After: 1':
      return {
        kind: 'respond',
        status: 429,
        headers: { 'Retry-After': '1' },
        body: '{"errors":[{"code":"TOOMANYREQUESTS"}]}',
      }
    case '503':
      return { kind: 'respond', status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"soak"}]}' }
    case 'reset':
      return { kind: 'reset' }
    case 'reset-request':
      return { kind: 'reset-request', afterBytes: intBetween(rng, 0, 200) }
    case 'reset-response':
      return { kind: 'reset-response', afterBytes: intBetween(rng, 0, 300) }
    case 'truncate-response':
      return { kind: 'truncate-response', afterBytes: intBetween(rng, 0, 300) }
    case 'lose-response':
      return { kind: 'lose-response' }
    case 'corrupt':
      return { kind: 'corrupt' }
    case 'delay':
      return { kind: 'delay', ms: intBetween(rng, 50, 1500) }
  }
}

/** FNV-1a over `s`: a stable 32-bit seed per request. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * The request's path without what differs from run to run: upload session ids, query strings, and content digests
 * (keys and ECDSA signatures are fresh each run, so signature blobs and manifests are too). Tags are kept.
 */
export function stablePath(path: string): string {
  return path
    .replace(/\?.*$/, '')
    .replace(/\/blobs\/uploads\/[^/]+$/, '/blobs/uploads/<session>')
    .replace(/sha256:[0-9a-f]{64}/g, '<digest>')
}

/**
 * A plan that faults `rate` of the requests. Each decision is drawn from a PRNG seeded by `seed`, the operation (the
 * client's User-Agent), the method, the stable path and how many times that operation sent that request before: so
 * a run replays from its seed however concurrent requests interleave (only requests whose number depends on timing,
 * such as contending writers' extra rounds, can differ).
 */
export function createFaultPlan(seed: number, rate: number): FaultPlan {
  const log: InjectedFault[] = []
  const sent = new Map<string, number>()
  let seen = 0
  return {
    log,
    seen: () => seen,
    faultsOf: (op) => log.filter((f) => f.op === op),
    fault(req) {
      seen++
      const ua = req.headers['user-agent']
      const op = typeof ua === 'string' ? ua : '?'
      const key = `${op} ${req.method} ${stablePath(req.path)}`
      const n = sent.get(key) ?? 0
      sent.set(key, n + 1)
      const rng = mulberry32(fnv1a(`${seed} ${key} ${n}`))
      if (rng() >= rate) return undefined
      const kind = FAULT_KINDS[Math.floor(rng() * FAULT_KINDS.length)]!
      const fault = build(kind, rng)
      log.push({ op, method: req.method, path: req.path, kind, fault })
      return fault
    },
  }
}

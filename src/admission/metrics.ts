/**
 * Admission metrics in the Prometheus text exposition format (version 0.0.4): counters per endpoint, a latency
 * histogram, image checks and cache hits, policy reloads and readiness. Pure: the server measures time and calls in.
 * The Gatekeeper provider endpoints count in the same families under their own `endpoint` label values
 * (`gatekeeper-validate`, `gatekeeper-mutate`), so existing series keep their names and meaning.
 *
 * @module
 */
import type { GatekeeperEndpoint, GatekeeperOutcome } from './gatekeeper.js'
import type { AdmissionEndpoint, AdmissionOutcome } from './handler.js'

/**
 * The metrics of one webhook process.
 *
 * Exported from `countersign/admission`.
 */
export interface AdmissionMetrics {
  /** Count one answered review (or a request refused before review, with `outcome` undefined: an error). */
  observe(endpoint: AdmissionEndpoint, outcome: AdmissionOutcome | undefined, seconds: number): void
  /**
   * Count one answered Gatekeeper provider request (or one refused before the handler ran, with `outcome`
   * undefined: an error), under `endpoint="gatekeeper-<endpoint>"`. Allowed: every key verified; denied: anything
   * else; errors: a `systemError` answer.
   */
  observeGatekeeper(endpoint: GatekeeperEndpoint, outcome: GatekeeperOutcome | undefined, seconds: number): void
  /** Count one policy (or TLS material) reload attempt. */
  recordReload(what: 'policy' | 'tls', ok: boolean): void
  setReady(ready: boolean): void
  /**
   * Whether the newest policy files failed to load: the last good policies (if any) keep deciding meanwhile, so
   * readiness alone does not show it.
   */
  setPolicyLoadFailing(failing: boolean): void
  /** The exposition text for `GET /metrics`. */
  render(): string
}

/** Latency buckets in seconds: a cache hit is milliseconds, a cold verification tens to hundreds. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const
/** The `endpoint` label values: the admission webhook's and the Gatekeeper provider's. */
type MetricsEndpoint = AdmissionEndpoint | `gatekeeper-${GatekeeperEndpoint}`
const ENDPOINTS: readonly MetricsEndpoint[] = ['validate', 'mutate', 'gatekeeper-validate', 'gatekeeper-mutate']
const GATEKEEPER_ENDPOINTS: readonly `gatekeeper-${GatekeeperEndpoint}`[] = ['gatekeeper-validate', 'gatekeeper-mutate']
/** How each key of a Gatekeeper request was answered. */
const KEY_RESULTS = ['verified', 'denied', 'system_error'] as const
const PREFIX = 'countersign_admission'

interface Histogram {
  readonly counts: number[]
  sum: number
  count: number
}

function counter(help: string, name: string, rows: ReadonlyArray<readonly [string, number]>, type = 'counter') {
  return [
    `# HELP ${PREFIX}_${name} ${help}`,
    `# TYPE ${PREFIX}_${name} ${type}`,
    ...rows.map(([l, v]) => `${PREFIX}_${name}${l} ${v}`),
  ]
}

/**
 * Create the metrics of one webhook process.
 *
 * @example
 * ```ts
 * import { createAdmissionMetrics } from 'countersign/admission'
 * const metrics = createAdmissionMetrics()
 * metrics.observe('validate', outcome, 0.012)
 * response.end(metrics.render())
 * ```
 *
 * Exported from `countersign/admission`.
 */
export function createAdmissionMetrics(): AdmissionMetrics {
  const zero = () =>
    ({ validate: 0, mutate: 0, 'gatekeeper-validate': 0, 'gatekeeper-mutate': 0 }) as Record<MetricsEndpoint, number>
  const requests = zero()
  const allowed = zero()
  const denied = zero()
  const errors = zero()
  const warned = zero()
  let imageChecks = 0
  let cacheHits = 0
  const reloads = new Map<string, number>()
  let ready = 0
  let policyLoadFailing = 0
  const latency = Object.fromEntries(
    ENDPOINTS.map((e) => [e, { counts: BUCKETS.map(() => 0), sum: 0, count: 0 } satisfies Histogram]),
  ) as Record<MetricsEndpoint, Histogram>
  const keyCounts = new Map<string, number>(
    GATEKEEPER_ENDPOINTS.flatMap((e) => KEY_RESULTS.map((r) => [`{endpoint="${e}",result="${r}"}`, 0] as const)),
  )
  const countKeys = (endpoint: string, result: (typeof KEY_RESULTS)[number], n: number) => {
    const key = `{endpoint="${endpoint}",result="${result}"}`
    keyCounts.set(key, (keyCounts.get(key) ?? 0) + n)
  }

  const record = (
    endpoint: MetricsEndpoint,
    verdict: { allowed: boolean; error: boolean; warned: boolean },
    results: readonly { readonly cached?: boolean }[],
    seconds: number,
  ) => {
    requests[endpoint]++
    if (verdict.allowed) allowed[endpoint]++
    else denied[endpoint]++
    if (verdict.error) errors[endpoint]++
    if (verdict.allowed && verdict.warned) warned[endpoint]++
    for (const r of results) {
      imageChecks++
      if (r.cached === true) cacheHits++
    }
    const h = latency[endpoint]
    const s = Number.isFinite(seconds) && seconds >= 0 ? seconds : 0
    BUCKETS.forEach((b, i) => {
      if (s <= b) h.counts[i]!++
    })
    h.sum += s
    h.count++
  }

  return {
    observe(endpoint, outcome, seconds) {
      const verdict = {
        allowed: outcome?.body.response.allowed === true,
        error: outcome === undefined || outcome.decision === 'error' || outcome.decision === 'invalid',
        warned: (outcome?.body.response.warnings?.length ?? 0) > 0,
      }
      record(endpoint, verdict, outcome?.results ?? [], seconds)
    },
    observeGatekeeper(endpoint, outcome, seconds) {
      const label = `gatekeeper-${endpoint}` as const
      const verdict = {
        allowed: outcome?.decision === 'allowed',
        error: outcome === undefined || outcome.decision === 'error' || outcome.decision === 'invalid',
        warned: outcome?.results.some((r) => r.warnings.length > 0) === true,
      }
      record(label, verdict, outcome?.results ?? [], seconds)
      if (outcome === undefined) return
      if (outcome.message !== undefined) countKeys(label, 'system_error', outcome.keys)
      else {
        countKeys(label, 'denied', outcome.deniedKeys.length)
        countKeys(label, 'verified', outcome.keys - outcome.deniedKeys.length)
      }
    },
    recordReload(what, ok) {
      const key = `{what="${what}",result="${ok ? 'success' : 'failure'}"}`
      reloads.set(key, (reloads.get(key) ?? 0) + 1)
    },
    setReady(r) {
      ready = r ? 1 : 0
    },
    setPolicyLoadFailing(failing) {
      policyLoadFailing = failing ? 1 : 0
    },
    render() {
      const perEndpoint = (m: Record<MetricsEndpoint, number>) =>
        ENDPOINTS.map((e) => [`{endpoint="${e}"}`, m[e]] as const)
      const lines = [
        ...counter(
          'Admission reviews (and Gatekeeper provider requests) received.',
          'requests_total',
          perEndpoint(requests),
        ),
        ...counter(
          'Admission reviews allowed (including warn-mode allows); Gatekeeper requests whose every key verified.',
          'allowed_total',
          perEndpoint(allowed),
        ),
        ...counter(
          'Admission reviews denied (policy failures and fail-closed errors); Gatekeeper requests with any key not verified.',
          'denied_total',
          perEndpoint(denied),
        ),
        ...counter(
          'Admission reviews denied because no decision could be made (malformed review, check error, timeout); Gatekeeper requests answered with a systemError.',
          'errors_total',
          perEndpoint(errors),
        ),
        ...counter(
          'Admission reviews allowed with warnings; Gatekeeper requests allowed with warnings.',
          'warned_total',
          perEndpoint(warned),
        ),
        ...counter(
          'Keys of Gatekeeper provider requests, by how they were answered (verified, denied, system_error).',
          'gatekeeper_keys_total',
          [...keyCounts.entries()],
        ),
        ...counter('Image checks completed.', 'image_checks_total', [['', imageChecks]]),
        ...counter('Image checks answered from the verification cache.', 'cache_hits_total', [['', cacheHits]]),
        ...counter('Reloads of policies and TLS material.', 'reloads_total', [...reloads.entries()]),
        ...counter('1 when policies are loaded and the webhook accepts reviews.', 'ready', [['', ready]], 'gauge'),
        ...counter(
          '1 while the newest policy files fail to load (the last good policies, if any, keep deciding).',
          'policy_load_failing',
          [['', policyLoadFailing]],
          'gauge',
        ),
        `# HELP ${PREFIX}_request_duration_seconds Time to answer an admission review or a Gatekeeper provider request.`,
        `# TYPE ${PREFIX}_request_duration_seconds histogram`,
      ]
      for (const e of ENDPOINTS) {
        const h = latency[e]
        BUCKETS.forEach((b, i) => {
          lines.push(`${PREFIX}_request_duration_seconds_bucket{endpoint="${e}",le="${b}"} ${h.counts[i]}`)
        })
        lines.push(`${PREFIX}_request_duration_seconds_bucket{endpoint="${e}",le="+Inf"} ${h.count}`)
        lines.push(`${PREFIX}_request_duration_seconds_sum{endpoint="${e}"} ${h.sum}`)
        lines.push(`${PREFIX}_request_duration_seconds_count{endpoint="${e}"} ${h.count}`)
      }
      return `${lines.join('\n')}\n`
    },
  }
}

/**
 * Admission metrics in the Prometheus text exposition format (version 0.0.4): counters per endpoint, a latency
 * histogram, image checks and cache hits, policy reloads and readiness. Pure: the server measures time and calls in.
 *
 * @module
 */
import type { AdmissionEndpoint, AdmissionOutcome } from './handler.js'

/**
 * The metrics of one webhook process.
 *
 * Exported from `countersign/admission`.
 */
export interface AdmissionMetrics {
  /** Count one answered review (or a request refused before review, with `outcome` undefined: an error). */
  observe(endpoint: AdmissionEndpoint, outcome: AdmissionOutcome | undefined, seconds: number): void
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
const ENDPOINTS: readonly AdmissionEndpoint[] = ['validate', 'mutate']
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
  const zero = () => ({ validate: 0, mutate: 0 }) as Record<AdmissionEndpoint, number>
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
  ) as Record<AdmissionEndpoint, Histogram>

  return {
    observe(endpoint, outcome, seconds) {
      requests[endpoint]++
      if (outcome?.body.response.allowed === true) allowed[endpoint]++
      else denied[endpoint]++
      if (outcome === undefined || outcome.decision === 'error' || outcome.decision === 'invalid') errors[endpoint]++
      if (outcome?.body.response.allowed === true && (outcome.body.response.warnings?.length ?? 0) > 0)
        warned[endpoint]++
      for (const r of outcome?.results ?? []) {
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
      const perEndpoint = (m: Record<AdmissionEndpoint, number>) =>
        ENDPOINTS.map((e) => [`{endpoint="${e}"}`, m[e]] as const)
      const lines = [
        ...counter('Admission reviews received.', 'requests_total', perEndpoint(requests)),
        ...counter('Admission reviews allowed (including warn-mode allows).', 'allowed_total', perEndpoint(allowed)),
        ...counter(
          'Admission reviews denied (policy failures and fail-closed errors).',
          'denied_total',
          perEndpoint(denied),
        ),
        ...counter(
          'Admission reviews denied because no decision could be made (malformed review, check error, timeout).',
          'errors_total',
          perEndpoint(errors),
        ),
        ...counter('Admission reviews allowed with warnings.', 'warned_total', perEndpoint(warned)),
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
        `# HELP ${PREFIX}_request_duration_seconds Time to answer an admission review.`,
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

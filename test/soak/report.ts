/** The soak's tallies: per operation kind, successes, clean failures by code, hangs and unexpected throws. */
import { appendFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { FaultKind, InjectedFault } from './fault-plan.js'
import type { Outcome } from './outcome.js'

export interface OpCounts {
  ok: number
  clean: Record<string, number>
  hang: number
  unexpected: number
  /** Slowest operation, in milliseconds. */
  maxMs: number
  /** For each failure code, the fault kinds its operations met (a code can be traced to its causes). */
  causes: Record<string, Record<string, number>>
  /** The first few failures: operation, message, and the faults it met. */
  examples: string[]
}

export function opCounts(): OpCounts {
  return { ok: 0, clean: {}, hang: 0, unexpected: 0, maxMs: 0, causes: {}, examples: [] }
}

/** Most failures kept as examples per operation kind. */
const MAX_EXAMPLES = 5

/** Count `outcome` of operation `op` in `c`, with the faults it met. */
export function tally(c: OpCounts, op: string, outcome: Outcome<unknown>, faults: readonly InjectedFault[]): void {
  c.maxMs = Math.max(c.maxMs, outcome.ms)
  if (outcome.kind === 'ok') {
    c.ok++
    return
  }
  const code = outcome.kind === 'clean' ? outcome.code : outcome.kind
  if (outcome.kind === 'clean') c.clean[code] = (c.clean[code] ?? 0) + 1
  else if (outcome.kind === 'hang') c.hang++
  else c.unexpected++
  const causes = c.causes[code] ?? {}
  c.causes[code] = causes
  for (const kind of faults.length === 0 ? ['(no fault)'] : faults.map((f) => f.kind)) {
    causes[kind] = (causes[kind] ?? 0) + 1
  }
  if (c.examples.length < MAX_EXAMPLES) {
    const what = outcome.kind === 'clean' ? `${code}: ${outcome.message.slice(0, 300)}` : code
    c.examples.push(
      `${op}: ${what}; faults: ${faults.map((f) => `${f.method} ${f.path} ${f.kind}`).join(' | ') || 'none'}`,
    )
  }
}

export interface SoakReport {
  readonly at: string
  readonly seed: number
  readonly faultRate: number
  readonly cycles: number
  readonly signers: number
  readonly rounds: number
  readonly reuse: number
  wallMs: number
  requests: number
  faults: Partial<Record<FaultKind, number>>
  readonly sign: { legacy: OpCounts; bundle: OpCounts }
  readonly verify: OpCounts
  readonly unsignedVerify: OpCounts
  readonly concurrent: { legacy: OpCounts; bundle: OpCounts }
  /** Registry-state checks run, and the invariants they found broken. */
  stateChecks: number
  readonly violations: string[]
  /**
   * Reported successes lost to a concurrent writer's shared-tag write held in flight past the victim's last re-read:
   * the window registries without conditional writes leave (docs/formats.md, "Concurrent writers"). Counted, not
   * failed.
   */
  readonly windowLosses: string[]
  /** Non-CountersignError throws and hangs, with their stacks and faults. */
  readonly incidents: string[]
  /** Every injected fault in order: operation, method, stable path, fault (compare runs of one seed). */
  faultLog: string[]
}

function row(name: string, c: OpCounts): string {
  const total = c.ok + c.hang + c.unexpected + Object.values(c.clean).reduce((a, b) => a + b, 0)
  const clean = Object.entries(c.clean)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}×${v}`)
    .join(' ')
  return `${name.padEnd(22)} ${String(total).padStart(5)} ${String(c.ok).padStart(5)}  ${String(c.hang).padStart(4)} ${String(c.unexpected).padStart(5)} ${String(c.maxMs).padStart(7)}  ${clean || '-'}`
}

/** For every failure code of every operation kind: the faults its operations met. */
function causeLines(r: SoakReport): string[] {
  const kinds: [string, OpCounts][] = [
    ['sign legacy', r.sign.legacy],
    ['sign bundle', r.sign.bundle],
    ['verify (signed)', r.verify],
    ['verify (unsigned)', r.unsignedVerify],
    ['concurrent legacy', r.concurrent.legacy],
    ['concurrent bundle', r.concurrent.bundle],
  ]
  const out: string[] = []
  for (const [name, c] of kinds) {
    for (const [code, causes] of Object.entries(c.causes)) {
      const met = Object.entries(causes)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k}×${v}`)
        .join(', ')
      out.push(`  ${name} ${code}: its operations met ${met}`)
    }
  }
  return out.length === 0 ? [] : ['', 'faults met by the failed operations:', ...out]
}

/** The counts table, as printed at the end of a run. */
export function formatReport(r: SoakReport): string {
  const faultTotal = Object.values(r.faults).reduce((a, b) => a + (b ?? 0), 0)
  const lines = [
    `countersign registry soak — seed ${r.seed} (COUNTERSIGN_SOAK_SEED=${r.seed} replays the fault decisions)`,
    `cycles ${r.cycles} (image reused for ${r.reuse}), concurrent signers ${r.signers} × ${r.rounds} round(s), fault rate ${r.faultRate}`,
    `wall ${(r.wallMs / 1000).toFixed(1)} s, ${r.requests} requests through the proxy, ${faultTotal} faults injected`,
    `faults: ${Object.entries(r.faults)
      .map(([k, v]) => `${k}×${v}`)
      .join(', ')}`,
    '',
    `${'operation'.padEnd(22)} ${'total'.padStart(5)} ${'ok'.padStart(5)}  ${'hang'.padStart(4)} ${'other'.padStart(5)} ${'max ms'.padStart(7)}  clean failures by code`,
    row('sign legacy', r.sign.legacy),
    row('sign bundle', r.sign.bundle),
    row('verify (signed)', r.verify),
    row('verify (unsigned)', r.unsignedVerify),
    row('concurrent legacy', r.concurrent.legacy),
    row('concurrent bundle', r.concurrent.bundle),
    ...causeLines(r),
    '',
    `registry-state checks: ${r.stateChecks}, violations: ${r.violations.length}, incidents (hang/other): ${r.incidents.length}`,
    ...r.violations.map((v) => `  VIOLATION ${v}`),
    `signatures lost in the documented window (a concurrent tag write held in flight): ${r.windowLosses.length}`,
    ...r.windowLosses.map((v) => `  WINDOW ${v}`),
    ...r.incidents.map((v) => `  INCIDENT ${v}`),
  ]
  return lines.join('\n')
}

/** Append `r` as one JSON line to `.tmp/soak-report.jsonl` (relative to `root`). */
export function appendReport(root: string, r: SoakReport): string {
  const dir = join(root, '.tmp')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'soak-report.jsonl')
  appendFileSync(file, `${JSON.stringify(r)}\n`)
  return file
}

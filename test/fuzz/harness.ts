/**
 * The fuzz runner (issue 14): runs one entry point over generated inputs with fast-check and checks, for every
 * input, that it returns or throws a CountersignError (anything else — TypeError, RangeError, SyntaxError, a
 * DOMException — fails the property), that it finishes within {@link INPUT_LIMIT_MS}, and, after the run, that the
 * heap did not grow by more than {@link HEAP_GROWTH_LIMIT}. Counts per target (runs, returned, rejections per code,
 * slowest input) are printed as one line and appended to `.tmp/fuzz-report.jsonl` for scripts/fuzz.sh.
 *
 * Environment:
 * - `COUNTERSIGN_FUZZ_RUNS`: inputs per target (default {@link DEFAULT_RUNS}; scripts/fuzz.sh uses 100000).
 * - `COUNTERSIGN_FUZZ_SEED`: fast-check seed (default random; printed in every line and on failure).
 * - `COUNTERSIGN_FUZZ_PATH`: fast-check replay path from a failure report (with the same seed; use `-t` to pick
 *   the target).
 *
 * A failing input is also written to `.tmp/fuzz-failures/<target>.json` (the last, most shrunk, one).
 *
 * @module
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import fc from 'fast-check'
import { vi } from 'vitest'
import { CountersignError } from '../../src/errors.js'

/**
 * Default inputs per target. The whole test/fuzz folder runs in about a minute on two cores with it; the targets
 * that are slow per input (real scrypt) take a fraction, see {@link runsFor}.
 */
export const DEFAULT_RUNS = 2000
/** Longest time one input may take (the issue's budget), after one re-measurement to rule out machine load. */
export const INPUT_LIMIT_MS = 1000
/**
 * Most the heap may grow over a whole target, measured after a full GC. Generous (inputs reach a few MiB and the
 * trusted-root caches hold parsed certificates) but far below what a per-input leak over thousands of inputs holds.
 */
export const HEAP_GROWTH_LIMIT = 192 * 1024 * 1024

const ROOT = resolve(import.meta.dirname, '../..')
export const REPORT_FILE = join(ROOT, '.tmp', 'fuzz-report.jsonl')
const FAILURE_DIR = join(ROOT, '.tmp', 'fuzz-failures')

function positiveInt(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`expected a positive integer, got ${JSON.stringify(raw)}`)
  return n
}

/** Inputs per target for this run. */
export const FUZZ_RUNS = positiveInt(process.env.COUNTERSIGN_FUZZ_RUNS, DEFAULT_RUNS)
const FIXED_SEED =
  process.env.COUNTERSIGN_FUZZ_SEED !== undefined && process.env.COUNTERSIGN_FUZZ_SEED !== ''
    ? Number(process.env.COUNTERSIGN_FUZZ_SEED) | 0
    : undefined
const REPLAY_PATH = process.env.COUNTERSIGN_FUZZ_PATH || undefined

/**
 * Per-test timeout of the fuzz files (set for every file importing this one): a target takes up to ~15 ms an input on
 * a loaded machine, plus shrinking a failure, which re-runs slow inputs. scripts/fuzz.sh raises it further.
 */
export const FUZZ_TEST_TIMEOUT_MS = Math.max(240_000, FUZZ_RUNS * 60)
vi.setConfig({ testTimeout: FUZZ_TEST_TIMEOUT_MS })

/** `FUZZ_RUNS * scale`, at least `min`: for targets that are intrinsically slow per input. */
export function runsFor(scale: number, min = 1): number {
  return Math.max(min, Math.round(FUZZ_RUNS * scale))
}

/** A full GC, when one can be had: `global.gc` (node --expose-gc), else the V8 flag switched on at run time. */
function gcFunction(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc
  if (typeof g === 'function') return g
  try {
    setFlagsFromString('--expose-gc')
    return runInNewContext('gc') as () => void
  } catch {
    return undefined
  }
}
const gc = gcFunction()

function heapAfterGC(): number {
  gc?.()
  return process.memoryUsage().heapUsed
}

/** Per-target counts, as printed and appended to the report. */
export interface FuzzStats {
  target: string
  runs: number
  /** Inputs the entry point accepted (returned from). */
  returned: number
  /** Returned inputs by the label the target's `run` gave (e.g. `verified`, `allowed`), when it gives one. */
  outcomes: Record<string, number>
  /** Inputs rejected with a CountersignError, by code. */
  rejected: Record<string, number>
  maxMs: number
  /** What the slowest input was (the generator's description). */
  slowest: string
  seed: number
  requestedRuns: number
  heapGrowthMiB: number
  gc: boolean
  seconds: number
  passed: boolean
}

/** One fuzz target: generated inputs, the call under test, and optional extra checks on what it returned. */
export interface FuzzTarget<T> {
  readonly name: string
  readonly arbitrary: fc.Arbitrary<T>
  /**
   * Call the entry point(s). May return a short label counted in `outcomes` (e.g. `verified`); must let any error
   * through (the harness classifies it).
   */
  readonly run: (input: T) => unknown
  /** Describe an input for the report (which seed, which mutation). */
  readonly describe?: (input: T) => string
  /** Inputs for this target (default {@link FUZZ_RUNS}). */
  readonly runs?: number
  /**
   * Time budget for one input (default {@link INPUT_LIMIT_MS}). Only for entry points whose cost per byte is
   * documented (YAML policies), and then as that documented rate on top of the default.
   */
  readonly limitMs?: (input: T) => number
}

/** Thrown by the property; its message is what fast-check prints next to the counterexample. */
class FuzzFailure extends Error {
  override name = 'FuzzFailure'
}

/** Run `run(input)` and time it; sync throws and async rejections both land in `error`. */
async function timed<T>(
  run: (input: T) => unknown,
  input: T,
): Promise<{ ms: number; result?: unknown; error?: unknown; threw: boolean }> {
  const start = performance.now()
  try {
    const result = await run(input)
    return { ms: performance.now() - start, result, threw: false }
  } catch (error) {
    return { ms: performance.now() - start, error, threw: true }
  }
}

function stackOf(e: unknown): string {
  if (e instanceof Error) return (e.stack ?? `${e.name}: ${e.message}`).split('\n').slice(0, 14).join('\n')
  return String(e)
}

/** JSON for a failing input: bytes as base64, strings kept (they may hold lone surrogates, which JSON escapes). */
function serializeInput(input: unknown): string {
  try {
    return JSON.stringify(input, (_, v) =>
      v instanceof Uint8Array ? { $base64: Buffer.from(v).toString('base64') } : v,
    )
  } catch (e) {
    return JSON.stringify({ unserializable: String(e) })
  }
}

function summary(s: FuzzStats): string {
  const codes = Object.entries(s.rejected)
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} ${n}`)
    .join(', ')
  const outcomes = Object.entries(s.outcomes)
    .map(([c, n]) => `${c} ${n}`)
    .join(', ')
  return (
    `[fuzz] ${s.target}: runs=${s.runs} returned=${s.returned}${outcomes ? ` (${outcomes})` : ''} ` +
    `rejected=${s.runs - s.returned}${codes ? ` (${codes})` : ''} maxMs=${s.maxMs.toFixed(1)} ` +
    `heap+${s.heapGrowthMiB.toFixed(1)}MiB seed=${s.seed} ${s.seconds.toFixed(1)}s${s.passed ? '' : ' FAILED'}`
  )
}

/**
 * Fuzz one target; resolves with its counts, rejects (failing the test) on the first input that breaks the
 * invariant, after fast-check has shrunk it. The seed and replay path are in the error message.
 */
export async function fuzz<T>(target: FuzzTarget<T>): Promise<FuzzStats> {
  const seed = FIXED_SEED ?? (Math.random() * 0x7fffffff) | 0
  const requestedRuns = target.runs ?? FUZZ_RUNS
  const describe = target.describe ?? (() => '')
  const stats: FuzzStats = {
    target: target.name,
    runs: 0,
    returned: 0,
    outcomes: {},
    rejected: {},
    maxMs: 0,
    slowest: '',
    seed,
    requestedRuns,
    heapGrowthMiB: 0,
    gc: gc !== undefined,
    seconds: 0,
    passed: false,
  }
  // Counting stops at the first failure: fast-check then re-runs shrunk inputs, which are not new runs.
  let failing = false
  const heapStart = heapAfterGC()
  const started = performance.now()

  const property = fc.asyncProperty(target.arbitrary, async (input) => {
    const limit = target.limitMs?.(input) ?? INPUT_LIMIT_MS
    let t = await timed(target.run, input)
    // One re-measurement before blaming the input: the machine is shared, and a GC pause can land anywhere.
    if (t.ms > limit) t = await timed(target.run, input)
    const problem =
      t.threw && !(t.error instanceof CountersignError)
        ? `threw a non-CountersignError:\n${stackOf(t.error)}`
        : t.ms > limit
          ? `took ${t.ms.toFixed(0)} ms (limit ${limit.toFixed(0)} ms, measured twice)`
          : undefined
    if (problem !== undefined) {
      failing = true
      mkdirSync(FAILURE_DIR, { recursive: true })
      writeFileSync(
        join(FAILURE_DIR, `${target.name}.json`),
        `${JSON.stringify({ target: target.name, seed, problem, describe: describe(input) })}\n${serializeInput(input)}\n`,
      )
      throw new FuzzFailure(`${target.name}: ${describe(input)}: ${problem}`)
    }
    if (failing) return
    stats.runs++
    if (t.ms > stats.maxMs) {
      stats.maxMs = t.ms
      stats.slowest = describe(input)
    }
    if (t.threw) {
      const code = (t.error as CountersignError).code
      stats.rejected[code] = (stats.rejected[code] ?? 0) + 1
    } else {
      stats.returned++
      if (typeof t.result === 'string') stats.outcomes[t.result] = (stats.outcomes[t.result] ?? 0) + 1
    }
  })

  let memoryProblem: string | undefined
  try {
    await fc.assert(property, {
      numRuns: requestedRuns,
      seed,
      ...(REPLAY_PATH !== undefined ? { path: REPLAY_PATH } : {}),
      // The counterexample can be megabytes (huge strings, deep nesting); the saved file has it in full.
      reporter: (details) => {
        if (!details.failed) return
        const msg =
          details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)
        throw new Error(
          `fuzz target ${target.name} failed after ${details.numRuns} run(s) (${details.numShrinks} shrinks)\n` +
            `replay: COUNTERSIGN_FUZZ_SEED=${details.seed} COUNTERSIGN_FUZZ_PATH=${details.counterexamplePath} ` +
            `npx vitest run test/fuzz -t '${target.name}'\n` +
            `input: .tmp/fuzz-failures/${target.name}.json\n${msg}`,
        )
      },
    })
    const growth = heapAfterGC() - heapStart
    stats.heapGrowthMiB = growth / (1024 * 1024)
    if (growth > HEAP_GROWTH_LIMIT)
      memoryProblem = `${target.name}: heap grew by ${stats.heapGrowthMiB.toFixed(0)} MiB over ${stats.runs} inputs (limit ${HEAP_GROWTH_LIMIT / 1024 / 1024} MiB)`
    stats.passed = memoryProblem === undefined
  } finally {
    stats.seconds = (performance.now() - started) / 1000
    console.log(summary(stats))
    mkdirSync(join(ROOT, '.tmp'), { recursive: true })
    appendFileSync(REPORT_FILE, `${JSON.stringify(stats)}\n`)
  }
  if (memoryProblem !== undefined) throw new Error(memoryProblem)
  return stats
}

/** Pick one of `items` by a generated natural (generators hand out indexes, not objects, so shrinking is cheap). */
export function pick<T>(items: readonly T[], n: number): T {
  return items[n % items.length]!
}

// Bundle verification against its physical floor (issue 17): for each case of bench/verify-bundle.ts plus a Rekor v2
// DSSE case, and for both signature backends (the default Web Crypto one and nodeSignatureBackend), this
//  1. records, through a recording decorator around the backend given to createVerifier, every public-key
//     verification ONE warm verification of the bundle performs (key object, hash, padding, signature, signed bytes);
//  2. times exactly those calls alone, replayed with the same backend (the floor);
//  3. times the full warm verification with the same backend, interleaved with the floor in 100 ms slices;
//  4. prints rate, floor rate and their ratio against the goal (≥ 0.85 Node backend, ≥ 0.75 Web Crypto). The ratio
//     is the median over the rounds of the two rates measured in neighbouring slices: on a shared 2-core machine
//     the whole-run totals move with other processes' bursts, the per-round ratio much less.
//
// Key imports are matched to what the verifier caches, checked by recording two warm verifications in a row:
// a key object met in both (trusted-root keys: certificate authorities, Rekor, CT logs and TSA keys, cached per
// trusted-root object; a managed key passed in the policy) was imported once and stays imported in the floor; a key
// object new in each verification (the Fulcio leaf's key, parsed from each bundle) is imported again on every
// replay of the floor, from a fresh copy, as the verifier must. Certificate-authority links (intermediate by root)
// are verified on the first bundle only and cached per certificate pair, so a warm verification does not redo them
// and neither does the floor; the cold count is printed beside the table.
//
// Issue 17's rule for caching, which the floor honours and any optimisation must: a result may be cached only where
// the input bytes are identical and the trust material is the same (a CA certificate checked against the same
// root); never per bundle or per artifact.
//
// Besides the floor (replayed one call after another, awaiting each, as the issue's sums assume) two variants are
// shown: "verify only" (every key already imported: the issue's figures) and "parallel" (the same calls, imports
// included, all started at once, work the backend hands to the thread pool first: what a verifier that overlaps
// every check could reach on this machine's cores).
//
// Under tsx every import() passes through tsx's loader hooks, 0.2–0.3 ms where plain Node takes ~2 µs, and the
// verifier makes one per bundle that carries an RFC 3161 timestamp (the Rekor v2 and managed-key cases), so their
// rates include it. To measure without tsx, bundle the bench and run it with plain Node:
//   npx esbuild bench/verify-floor.ts --bundle --platform=node --format=esm --outfile=/tmp/verify-floor.mjs \
//     --define:import.meta.url="\"file://$PWD/test/support/bundle-cases.ts\"" \
//     --banner:js="import { createRequire as cr } from 'node:module'; const require = cr('$PWD/package.json');" \
//     && node /tmp/verify-floor.mjs 1
//
// Run: npx tsx bench/verify-floor.ts [seconds per contender, default 2]
import type { PublicKey } from '../src/keys/types.js'
import { type SignatureBackend, webCryptoBackend } from '../src/keys/verify.js'
import { nodeSignatureBackend } from '../src/node/signature-backend.js'
import { createVerifier } from '../src/verifier/verifier.js'
import type { BundleVerifierOptions } from '../src/verifier/verify-bundle.js'
import { caseNames, countersignInputs, countersignRoot, loadCase } from '../test/support/bundle-cases.js'
import { interleavedRates, median } from './support/interleaved-rates.js'
import {
  copyKey,
  createRecordingBackend,
  operationLabel,
  type RecordedVerification,
  replayVerification,
} from './support/recording-backend.js'

// The cases of bench/verify-bundle.ts, then the Rekor v2 DSSE case when the vectors hold one.
const CASES: readonly [string, string][] = [
  ['conformance-happy-path-v0.3', 'cert, Rekor v1 hashedrekord'],
  ['conformance-happy-path-intoto-in-dsse-v3', 'cert, Rekor v1 DSSE'],
  ['conformance-rekor2-happy-path', 'cert, Rekor v2 + TSA'],
  ['conformance-managed-key-happy-path', 'managed key, Rekor v1 + TSA'],
]
const REKOR_V2_DSSE: [string, string] = ['conformance-rekor2-dsse-happy-path', 'cert, Rekor v2 DSSE + TSA']

interface Backend {
  readonly name: 'web' | 'node'
  readonly backend: SignatureBackend
  /** The full verifier's options: Web Crypto is the default (no option), as bench/verify-bundle.ts runs it. */
  readonly options: BundleVerifierOptions
  readonly goal: number
}
const BACKENDS: readonly Backend[] = [
  { name: 'web', backend: webCryptoBackend, options: {}, goal: 0.75 },
  { name: 'node', backend: nodeSignatureBackend, options: { signatureBackend: nodeSignatureBackend }, goal: 0.85 },
]

const seconds = Number(process.argv[2] ?? 2)

/** The recorded calls replayed once: serially (awaiting each) or all started at once; leaf keys imported or not. */
function floorRun(
  backend: SignatureBackend,
  calls: readonly RecordedVerification[],
  perBundle: ReadonlySet<PublicKey>,
  mode: { readonly parallel: boolean; readonly imports: boolean },
): () => Promise<void> {
  const ordered = mode.parallel ? [...calls.filter((c) => c.async), ...calls.filter((c) => !c.async)] : calls
  const check = (c: RecordedVerification, ok: boolean) => {
    if (ok !== c.result) throw new Error(`replayed ${operationLabel(c)} answered ${ok}, the verifier got ${c.result}`)
  }
  return async () => {
    // One fresh copy per per-bundle key and replay, shared by the calls that use it, as one bundle's parse is.
    const fresh = new Map<PublicKey, PublicKey>()
    const keyFor = (c: RecordedVerification) => {
      if (!mode.imports || !perBundle.has(c.key)) return c.key
      let k = fresh.get(c.key)
      if (k === undefined) {
        k = copyKey(c.key)
        fresh.set(c.key, k)
      }
      return k
    }
    if (mode.parallel) {
      const out = ordered.map((c) => replayVerification(backend, c, keyFor(c)))
      const results = await Promise.all(out)
      for (const [i, ok] of results.entries()) check(ordered[i]!, ok)
      return
    }
    for (const c of ordered) {
      const r = replayVerification(backend, c, keyFor(c))
      check(c, typeof r === 'boolean' ? r : await r)
    }
  }
}

/** `3×P-256/SHA-256 + 1×P-384/SHA-384`, in first-use order. */
function describe(calls: readonly RecordedVerification[]): string {
  const counts = new Map<string, number>()
  for (const c of calls) counts.set(operationLabel(c), (counts.get(operationLabel(c)) ?? 0) + 1)
  return [...counts].map(([label, n]) => `${n}×${label}`).join(' + ')
}

/** Mean µs of `fn` over `ms` milliseconds, one call at a time. */
async function microseconds(fn: () => Promise<unknown> | unknown, ms: number): Promise<number> {
  for (let i = 0; i < 20; i++) await fn()
  let n = 0
  const t0 = performance.now()
  while (performance.now() - t0 < ms) {
    await fn()
    n++
  }
  return ((performance.now() - t0) * 1000) / n
}

interface Row {
  readonly label: string
  readonly backend: Backend
  readonly ops: string
  readonly imports: number
  readonly cold: number
  readonly rate: number
  readonly floor: number
  readonly verifyOnly: number
  readonly parallel: number
  /** Medians over the rounds of rate / floor, rate / verify-only floor, rate / parallel floor in the same round. */
  readonly ratio: number
  readonly ratioVerifyOnly: number
  readonly ratioParallel: number
}

/** Per backend and operation: µs of the verify alone, and of import + verify for keys the verifier meets per bundle. */
const opCosts = new Map<string, { verify: number; importVerify?: number }>()

const names = new Set(caseNames())
const cases = [...CASES]
if (names.has(REKOR_V2_DSSE[0])) cases.push(REKOR_V2_DSSE)
else console.log(`no Rekor v2 DSSE case (${REKOR_V2_DSSE[0]}) in test/vectors/bundles: skipped`)

console.log(
  `node ${process.version}; ${seconds} s per contender, interleaved in 100 ms slices; goal rate/floor ≥ 0.85 node, ≥ 0.75 web`,
)
const rows: Row[] = []
for (const [name, label] of cases) {
  const inputs = countersignInputs(loadCase(name))
  const contenders: (() => Promise<unknown>)[] = []
  const pending: Pick<Row, 'label' | 'backend' | 'ops' | 'imports' | 'cold'>[] = []
  for (const b of BACKENDS) {
    // Recording: its own verifier (own trusted-root objects, so its caches are its own), warmed, then two warm
    // verifications recorded; the second is the one replayed.
    const recorder = createRecordingBackend(b.backend)
    const recording = createVerifier(countersignRoot(inputs), { ...inputs.options, signatureBackend: recorder.backend })
    const once = () => recording.verify(inputs.bundle, inputs.artifact, inputs.policy)
    const cold = await recorder.record(once)
    for (let i = 0; i < 5; i++) await once()
    const before = await recorder.record(once)
    const calls = await recorder.record(once)
    if (describe(before) !== describe(calls)) {
      throw new Error(`${name} (${b.name}): two warm verifications differ: ${describe(before)} / ${describe(calls)}`)
    }
    const known = new Set(before.map((c) => c.key))
    const perBundle = new Set(calls.filter((c) => !known.has(c.key)).map((c) => c.key))

    // The full verification: a plain verifier with the plain backend, as bench/verify-bundle.ts measures it.
    const verifier = createVerifier(countersignRoot(inputs), { ...inputs.options, ...b.options })
    const full = () => verifier.verify(inputs.bundle, inputs.artifact, inputs.policy)
    await full() // correctness first: a fast "no" would be meaningless
    const floor = floorRun(b.backend, calls, perBundle, { parallel: false, imports: true })
    const verifyOnly = floorRun(b.backend, calls, perBundle, { parallel: false, imports: false })
    const parallel = floorRun(b.backend, calls, perBundle, { parallel: true, imports: true })
    await floor()
    contenders.push(full, floor, verifyOnly, parallel)
    pending.push({
      label: `${name} (${label})`,
      backend: b,
      ops: describe(calls),
      imports: perBundle.size,
      cold: cold.length,
    })

    for (const c of calls) {
      const id = `${b.name} ${operationLabel(c)}${perBundle.has(c.key) ? ' (per-bundle key)' : ''}`
      if (opCosts.has(id)) continue
      const cost: { verify: number; importVerify?: number } = {
        verify: await microseconds(() => replayVerification(b.backend, c), 150),
      }
      if (perBundle.has(c.key))
        cost.importVerify = await microseconds(() => replayVerification(b.backend, c, copyKey(c.key)), 150)
      opCosts.set(id, cost)
    }
  }
  const { rates, perRound } = await interleavedRates(contenders, seconds)
  for (const [i, p] of pending.entries()) {
    const [rate, floor, verifyOnly, parallel] = rates.slice(4 * i, 4 * i + 4) as [number, number, number, number]
    const [full, ...floors] = perRound.slice(4 * i, 4 * i + 4) as [number[], number[], number[], number[]]
    const [ratio, ratioVerifyOnly, ratioParallel] = floors.map((f) => median(full.map((x, r) => x / f[r]!))) as [
      number,
      number,
      number,
    ]
    rows.push({ ...p, rate, floor, verifyOnly, parallel, ratio, ratioVerifyOnly, ratioParallel })
  }
}

const pad = (s: string, n: number) => s.padEnd(n)
const num = (x: number, n: number) => x.toFixed(0).padStart(n)
const ratio = (x: number, n: number) => x.toFixed(2).padStart(n)
const opsWidth = Math.max(...rows.map((r) => r.ops.length), 'verifications per bundle'.length)
const caseWidth = Math.max(...rows.map((r) => r.label.length))
console.log()
console.log(
  `${pad('case', caseWidth)}  ${pad('backend', 7)}  ${pad('verifications per bundle', opsWidth)}  ${'imports'.padStart(7)}  ${'cold'.padStart(4)}  ${'rate/s'.padStart(7)}  ${'floor/s'.padStart(7)}  ${'ratio'.padStart(5)}  ${'goal'.padStart(5)}  ok  ${'µs over'.padStart(8)}  ${'verify-only/s'.padStart(13)}  ${'ratio'.padStart(5)}  ${'parallel/s'.padStart(10)}  ${'ratio'.padStart(5)}`,
)
for (const r of rows) {
  const k = r.ratio
  console.log(
    `${pad(r.label, caseWidth)}  ${pad(r.backend.name, 7)}  ${pad(r.ops, opsWidth)}  ${String(r.imports).padStart(7)}  ${String(r.cold).padStart(4)}  ${num(r.rate, 7)}  ${num(r.floor, 7)}  ${ratio(k, 5)}  ${ratio(r.backend.goal, 5)}  ${k >= r.backend.goal ? '✓ ' : '✗ '}  ${num((1e6 / r.rate) * (1 - k), 8)}  ${num(r.verifyOnly, 13)}  ${ratio(r.ratioVerifyOnly, 5)}  ${num(r.parallel, 10)}  ${ratio(r.ratioParallel, 5)}`,
  )
}
console.log()
console.log('imports: keys met for the first time in each verification (the leaf key), imported on every floor replay')
console.log(
  'ratio: median over the rounds of rate / floor in slices run side by side (robust to bursts of load elsewhere)',
)
console.log('µs over: per-bundle time of the full verification beyond the floor, (1 − ratio) / rate')
console.log('cold: calls of the first verification (later ones skip the CA links cached per certificate pair)')
console.log()
console.log('operation costs, one at a time, same backends (µs)')
for (const [id, cost] of opCosts) {
  console.log(
    `  ${pad(id, 44)} verify ${cost.verify.toFixed(1).padStart(7)}${cost.importVerify !== undefined ? `   import + verify ${cost.importVerify.toFixed(1).padStart(7)}` : ''}`,
  )
}

// Many independent bundles at once: bundles/s with 1, 2 and 16 verifications in flight, for the verifier on the
// main thread (Web Crypto backend: its work runs on libuv's pool; node:crypto backend: P-256/Ed25519/RSA on the main
// thread, P-384 on libuv's pool) and for createVerifierPool from countersign/node (one verifier per worker thread,
// as many threads as cores). "scaling" is the rate at 16 in flight over the rate at 1 of the same contender; "vs 1
// thread" compares with the node-backend verifier one at a time; "cores x16" is the process's CPU time over wall
// time at 16 in flight (worker threads and libuv's pool included): how many cores the contender kept busy. Every
// contender must accept the bundle before anything is timed.
// Run: npx tsx bench/verify-concurrency.ts [seconds per measurement, default 2]
import { availableParallelism, cpus } from 'node:os'
import { nodeSignatureBackend } from '../src/node/signature-backend.js'
import { createVerifier } from '../src/verifier/verifier.js'
import { countersignInputs, countersignRoot, loadCase } from '../test/support/bundle-cases.js'

// The pool's threads load the built module (worker threads do not inherit tsx's loader): run `npm run build` first.
// A computed specifier: the type check runs before the build, when dist/ may not exist yet.
const built = new URL('../dist/node/index.js', import.meta.url).href
const { createVerifierPool } = (await import(built)) as typeof import('../src/node/verifier-pool.js')

const CASES: readonly [string, string][] = [
  ['conformance-happy-path-v0.3', 'cert, Rekor v1 hashedrekord'],
  ['conformance-happy-path-intoto-in-dsse-v3', 'cert, Rekor v1 DSSE'],
  ['conformance-rekor2-happy-path', 'cert, Rekor v2 + TSA'],
  ['conformance-managed-key-happy-path', 'managed key, Rekor v1'],
]
const LEVELS = [1, 2, 16] as const
const seconds = Number(process.argv[2] ?? 2)

/** Cores busy (process CPU time over wall time, worker threads and libuv's pool included) in the last `rate` call. */
let lastCores = 0

async function rate(fn: () => Promise<unknown>, inFlight: number): Promise<number> {
  let n = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const deadline = t0 + seconds * 1000
  const lane = async () => {
    while (performance.now() < deadline) {
      await fn()
      n++
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane))
  const wall = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  lastCores = (cpu.user + cpu.system) / 1000 / wall
  return n / (wall / 1000)
}

console.log(
  `node ${process.version}; ${cpus().length} cores (availableParallelism ${availableParallelism()}); ${seconds} s per measurement`,
)
const head = `${'case / contender'.padEnd(52)} ${LEVELS.map((l) => `x${l}/s`.padStart(8)).join(' ')} ${'scaling'.padStart(8)} ${'vs 1 thread'.padStart(12)} ${'cores x16'.padStart(10)}`
console.log(head)
const poolGains: number[] = []
for (const [name, label] of CASES) {
  const inputs = countersignInputs(loadCase(name))
  const web = createVerifier(countersignRoot(inputs), inputs.options)
  const node = createVerifier(countersignRoot(inputs), { ...inputs.options, signatureBackend: nodeSignatureBackend })
  const pool = createVerifierPool(inputs.trustedRoot, { verifier: inputs.options })
  const { key, ...rest } = inputs.policy
  if (typeof key === 'function') throw new Error('bench cases give keys, not lookups')
  const poolPolicy = { ...rest, ...(key ? { key } : {}) }
  const contenders: [string, () => Promise<unknown>][] = [
    ['main thread, Web Crypto', () => web.verify(inputs.bundle, inputs.artifact, inputs.policy)],
    ['main thread, node:crypto', () => node.verify(inputs.bundle, inputs.artifact, inputs.policy)],
    [`createVerifierPool (${pool.threads} threads)`, () => pool.verify(inputs.bundle, inputs.artifact, poolPolicy)],
  ]
  for (const [, fn] of contenders) await fn() // correctness first: a fast "no" would be meaningless
  // Warm every contender (and every pool thread) up before timing: a cold thread runs its first seconds unoptimised.
  for (const [, fn] of contenders) await rate(fn, 16)
  console.log(`${name} (${label})`)
  let base = 0
  for (const [who, fn] of contenders) {
    const rates: number[] = []
    for (const level of LEVELS) rates.push(await rate(fn, level))
    const cores = lastCores
    if (who.startsWith('main thread, node')) base = rates[0]!
    const scaling = rates[2]! / rates[0]!
    const vsOne = base > 0 ? rates[2]! / base : Number.NaN
    if (who.startsWith('createVerifierPool')) poolGains.push(vsOne)
    console.log(
      `  ${who.padEnd(50)} ${rates.map((r) => r.toFixed(0).padStart(8)).join(' ')} ${`${scaling.toFixed(2)}x`.padStart(8)} ${Number.isNaN(vsOne) ? ''.padStart(12) : `${vsOne.toFixed(2)}x`.padStart(12)} ${cores.toFixed(2).padStart(10)}`,
    )
  }
  await pool.close()
}
const geo = Math.exp(poolGains.reduce((s, r) => s + Math.log(r), 0) / poolGains.length)
console.log(`pool at 16 in flight over one node:crypto verifier one at a time, geometric mean: ${geo.toFixed(2)}x`)

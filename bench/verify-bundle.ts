// Bundle verifications per second: countersign (createVerifier, warm) against sigstore-js (@sigstore/verify's
// Verifier, warm), same bundles, same run. Each side gets the trusted root once and then verifies the bundle bytes
// plus the artifact bytes per iteration: countersign parses the JSON every time (it is handed raw bytes),
// sigstore-js gets the JSON parsed once and runs bundleFromJSON + toSignedEntity + verify per iteration.
// Both must accept every bundle before anything is timed.
// Run: npx tsx bench/verify-bundle.ts [seconds per measurement, default 2]
import { createRequire } from 'node:module'
import { createVerifier } from '../src/verifier/verifier.js'
import { countersignInputs, countersignRoot, loadCase, sigstoreJsCase } from '../test/support/bundle-cases.js'

const CASES: readonly [string, string][] = [
  ['conformance-happy-path-v0.3', 'cert, Rekor v1 hashedrekord'],
  ['conformance-happy-path-intoto-in-dsse-v3', 'cert, Rekor v1 DSSE'],
  ['conformance-rekor2-happy-path', 'cert, Rekor v2 + TSA'],
  ['conformance-managed-key-happy-path', 'managed key, Rekor v1'],
]
const seconds = Number(process.argv[2] ?? 2)

async function rate(fn: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 50; i++) await fn() // warm-up: JIT, key imports, caches
  let n = 0
  const t0 = performance.now()
  const deadline = t0 + seconds * 1000
  while (performance.now() < deadline) {
    for (let i = 0; i < 20; i++) await fn()
    n += 20
  }
  return n / ((performance.now() - t0) / 1000)
}

/** countersign with `inFlight` verifications running at once (Web Crypto work proceeds off the JS thread). */
async function concurrentRate(fn: () => Promise<unknown>, inFlight: number): Promise<number> {
  let n = 0
  const t0 = performance.now()
  const deadline = t0 + seconds * 1000
  const worker = async () => {
    while (performance.now() < deadline) {
      await fn()
      n++
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  return n / ((performance.now() - t0) / 1000)
}

const require = createRequire(import.meta.url)
console.log(
  `node ${process.version}; @sigstore/verify ${require('@sigstore/verify/package.json').version}; ${seconds} s per measurement`,
)
console.log(
  `${'case'.padEnd(64)} ${'countersign/s'.padStart(14)} ${'sigstore-js/s'.padStart(14)} ${'ratio'.padStart(7)} ${'countersign x16/s'.padStart(18)}`,
)

const ratios: number[] = []
for (const [name, label] of CASES) {
  const loaded = loadCase(name)
  const inputs = countersignInputs(loaded)
  const verifier = createVerifier(countersignRoot(inputs), inputs.options)
  const ours = () => verifier.verify(inputs.bundle, inputs.artifact, inputs.policy)
  const theirs = sigstoreJsCase(loaded)

  // Correctness first: a fast "no" would be meaningless.
  await ours()
  theirs.check()

  const a = await rate(ours)
  const b = await rate(() => theirs.check())
  const c = await concurrentRate(ours, 16)
  ratios.push(a / b)
  console.log(
    `${`${name} (${label})`.padEnd(64)} ${a.toFixed(0).padStart(14)} ${b.toFixed(0).padStart(14)} ${`${(a / b).toFixed(1)}x`.padStart(7)} ${c.toFixed(0).padStart(18)}`,
  )
}
const geo = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length)
console.log(`geometric mean ratio countersign / sigstore-js (one at a time): ${geo.toFixed(1)}x`)

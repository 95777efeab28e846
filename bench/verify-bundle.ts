// Bundle verifications per second: countersign (createVerifier, warm; with the default Web Crypto backend and with
// nodeSignatureBackend from countersign/node) against sigstore-js (@sigstore/verify's Verifier, warm), same bundles,
// same run. Each side gets the trusted root once and then verifies the bundle bytes
// plus the artifact bytes per iteration: countersign parses the JSON every time (it is handed raw bytes),
// sigstore-js gets the JSON parsed once and runs bundleFromJSON + toSignedEntity + verify per iteration.
// Both must accept every bundle before anything is timed.
// Run: npx tsx bench/verify-bundle.ts [seconds per contender, default 2]
import { createRequire } from 'node:module'
import { nodeSignatureBackend } from '../src/node/signature-backend.js'
import { createVerifier } from '../src/verifier/verifier.js'
import { countersignInputs, countersignRoot, loadCase, sigstoreJsCase } from '../test/support/bundle-cases.js'
import { interleavedRates } from './support/interleaved-rates.js'

const CASES: readonly [string, string][] = [
  ['conformance-happy-path-v0.3', 'cert, Rekor v1 hashedrekord'],
  ['conformance-happy-path-intoto-in-dsse-v3', 'cert, Rekor v1 DSSE'],
  ['conformance-rekor2-happy-path', 'cert, Rekor v2 + TSA'],
  ['conformance-managed-key-happy-path', 'managed key, Rekor v1'],
]
const seconds = Number(process.argv[2] ?? 2)

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
  `node ${process.version}; @sigstore/verify ${require('@sigstore/verify/package.json').version}; ${seconds} s per contender, interleaved in 100 ms slices`,
)
console.log(
  `${'case'.padEnd(64)} ${'web/s'.padStart(7)} ${'node/s'.padStart(7)} ${'sigstore-js/s'.padStart(14)} ${'web ×'.padStart(6)} ${'node ×'.padStart(7)} ${'web x16/s'.padStart(10)} ${'node x16/s'.padStart(11)}`,
)

const ratios: number[] = []
const nodeRatios: number[] = []
for (const [name, label] of CASES) {
  const loaded = loadCase(name)
  const inputs = countersignInputs(loaded)
  const verifier = createVerifier(countersignRoot(inputs), inputs.options)
  const nodeVerifier = createVerifier(countersignRoot(inputs), {
    ...inputs.options,
    signatureBackend: nodeSignatureBackend,
  })
  const ours = () => verifier.verify(inputs.bundle, inputs.artifact, inputs.policy)
  const oursNode = () => nodeVerifier.verify(inputs.bundle, inputs.artifact, inputs.policy)
  const theirs = sigstoreJsCase(loaded)

  // Correctness first: a fast "no" would be meaningless.
  await ours()
  await oursNode()
  theirs.check()

  const [a, n, b] = (await interleavedRates([ours, oursNode, () => theirs.check()], seconds)).rates as [
    number,
    number,
    number,
  ]
  const c = await concurrentRate(ours, 16)
  const d = await concurrentRate(oursNode, 16)
  ratios.push(a / b)
  nodeRatios.push(n / b)
  console.log(
    `${`${name} (${label})`.padEnd(64)} ${a.toFixed(0).padStart(7)} ${n.toFixed(0).padStart(7)} ${b.toFixed(0).padStart(14)} ${`${(a / b).toFixed(1)}x`.padStart(6)} ${`${(n / b).toFixed(1)}x`.padStart(7)} ${c.toFixed(0).padStart(10)} ${d.toFixed(0).padStart(11)}`,
  )
}
const geo = (rs: number[]) => Math.exp(rs.reduce((s, r) => s + Math.log(r), 0) / rs.length).toFixed(1)
console.log(
  `geometric mean ratio countersign / sigstore-js (one at a time): Web Crypto ${geo(ratios)}x, node backend ${geo(nodeRatios)}x`,
)

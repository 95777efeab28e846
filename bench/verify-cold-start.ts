// Cold start: a new Node process imports the verifier and verifies one bundle, countersign against sigstore-js
// (@sigstore/verify), same bundle, same run. Each child reports, from its own clock (performance.now() counts from
// the process's time origin), when its first line of code ran (Node's boot), how long the imports took and how long
// the verification took; the parent also times spawn → exit. An empty child gives Node's own boot for reference.
//
// countersign is measured as users load it: src/image/verify.ts and src/trust/index.ts built the way tsup builds dist (ESM,
// code splitting, dependencies external) into node_modules/.cache, so the figures do not depend on a stale dist/ or
// on tsx's transpiler. The Node backend is loaded from its own module (src/node/signature-backend.ts): through the
// countersign/node index it would also load undici (~100 ms), which only the registry client needs.
// Run: npx tsx bench/verify-cold-start.ts [runs per variant, default 15] [case, default conformance-happy-path-v0.3]
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const runs = Number(process.argv[2] ?? 15)
const caseName = process.argv[3] ?? 'conformance-happy-path-v0.3'
const root = fileURLToPath(new URL('..', import.meta.url))
const out = `${root}node_modules/.cache/countersign-cold-start`
const caseDir = `${root}test/vectors/bundles/${caseName}`

mkdirSync(out, { recursive: true })
await build({
  entryPoints: {
    verify: 'src/image/verify.ts',
    trust: 'src/trust/index.ts',
    'node-backend': 'src/node/signature-backend.ts',
  },
  absWorkingDir: root,
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'es2022',
  packages: 'external',
  logLevel: 'error',
})

// Inputs are read before the clock starts: they are the same for both sides and not part of either library.
const readInputs = `
import { readFileSync } from 'node:fs'
const dir = ${JSON.stringify(caseDir)}
const c = JSON.parse(readFileSync(dir + '/case.json', 'utf8'))
const bundleBytes = readFileSync(dir + '/' + (c.bundle ?? 'bundle.sigstore.json'))
const rootBytes = readFileSync(dir + '/' + (c.trustedRoot ?? 'trusted_root.json'))
const artifactBytes = c.artifact ? readFileSync(dir + '/' + c.artifact) : undefined
if (c.key || !c.identity || !c.issuer) throw new Error('cold-start cases need an identity and issuer (keyless)')
const report = (t0, t1, t2) => process.stdout.write(JSON.stringify({ boot: t0, imports: t1 - t0, verify: t2 - t1 }))
`

const countersignChild = (backend: 'web' | 'node') => `${readInputs}
const t0 = performance.now()
const { verifyBundle } = await import('./verify.js')
const { parseTrustedRoot } = await import('./trust.js')
const signatureBackend = ${backend === 'node' ? "(await import('./node-backend.js')).nodeSignatureBackend" : 'undefined'}
const t1 = performance.now()
await verifyBundle(new Uint8Array(bundleBytes), artifactBytes ? new Uint8Array(artifactBytes) : { digest: c.artifactDigest }, {
  trustedRoot: parseTrustedRoot(new Uint8Array(rootBytes)),
  policy: { identity: { subject: c.identity, issuer: c.issuer } },
  signatureBackend,
})
report(t0, t1, performance.now())
`

const sigstoreJsChild = `${readInputs}
import { createRequire } from 'node:module'
const require = createRequire(${JSON.stringify(`${root}package.json`)})
const t0 = performance.now()
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify')
const { bundleFromJSON } = require('@sigstore/bundle')
const { TrustedRoot } = require('@sigstore/protobuf-specs')
const t1 = performance.now()
const trust = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(rootBytes.toString('utf8'))))
const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 })
const bundle = bundleFromJSON(JSON.parse(bundleBytes.toString('utf8')))
verifier.verify(toSignedEntity(bundle, artifactBytes), { subjectAlternativeName: c.identity, extensions: { issuer: c.issuer } })
report(t0, t1, performance.now())
`

const emptyChild = `const t0 = performance.now(); process.stdout.write(JSON.stringify({ boot: t0, imports: 0, verify: 0 }))`

const variants = {
  'node (empty script)': emptyChild,
  'countersign, Web Crypto': countersignChild('web'),
  'countersign, nodeSignatureBackend': countersignChild('node'),
  'sigstore-js (@sigstore/verify)': sigstoreJsChild,
} as const
for (const [name, source] of Object.entries(variants)) writeFileSync(`${out}/${slug(name)}.mjs`, source)

function slug(s: string): string {
  return s.replace(/[^a-z0-9]+/gi, '-').toLowerCase()
}

interface Sample {
  readonly boot: number
  readonly imports: number
  readonly verify: number
  readonly process: number
}

const samples = new Map<string, Sample[]>(Object.keys(variants).map((k) => [k, []]))
for (let i = 0; i < runs; i++) {
  // Interleaved, so load from other processes on the machine hits every variant alike.
  for (const name of Object.keys(variants)) {
    const t = performance.now()
    const child = spawnSync(process.execPath, [`${out}/${slug(name)}.mjs`], { encoding: 'utf8' })
    const elapsed = performance.now() - t
    if (child.status !== 0) throw new Error(`${name} failed: ${child.stderr}`)
    samples.get(name)!.push({ ...JSON.parse(child.stdout), process: elapsed })
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
console.log(`node ${process.version}; ${caseName}; ${runs} runs per variant; medians in ms`)
console.log(
  `${'variant'.padEnd(36)} ${'boot'.padStart(6)} ${'imports'.padStart(8)} ${'verify'.padStart(7)} ${'import+verify'.padStart(14)} ${'first line→done'.padStart(16)} ${'spawn→exit'.padStart(11)}`,
)
const summary = new Map<string, { work: number; done: number; process: number }>()
for (const [name, list] of samples) {
  const boot = median(list.map((s) => s.boot))
  const imports = median(list.map((s) => s.imports))
  const verify = median(list.map((s) => s.verify))
  const work = median(list.map((s) => s.imports + s.verify))
  const done = median(list.map((s) => s.boot + s.imports + s.verify))
  const proc = median(list.map((s) => s.process))
  summary.set(name, { work, done, process: proc })
  console.log(
    `${name.padEnd(36)} ${boot.toFixed(1).padStart(6)} ${imports.toFixed(1).padStart(8)} ${verify.toFixed(1).padStart(7)} ${work.toFixed(1).padStart(14)} ${done.toFixed(1).padStart(16)} ${proc.toFixed(1).padStart(11)}`,
  )
}
const theirs = summary.get('sigstore-js (@sigstore/verify)')!
for (const name of ['countersign, Web Crypto', 'countersign, nodeSignatureBackend']) {
  const ours = summary.get(name)!
  console.log(
    `${name}: import+verify ${(ours.work / theirs.work).toFixed(2)}× sigstore-js; process start→done ${(ours.done / theirs.done).toFixed(2)}×; spawn→exit ${(ours.process / theirs.process).toFixed(2)}×`,
  )
}

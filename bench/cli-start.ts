// The CLI as users run it: whole processes, each timed from spawn to exit, interleaved with its baseline in the same
// run so load on the machine hits both alike. Three rows:
//   1. `countersign --version`            against `node -e 0`                      (goal ≤ 1.3×)
//   2. `countersign verify-bundle` of conformance-happy-path-v0.3 against a one-file @sigstore/verify script doing
//      the same verification (same bundle, trusted root, identity, artifact)  (goal ≤ 0.8×)
//   3. `countersign verify --key` of an image signed on a local docker-registry, beside `node -e 0` and
//      `skopeo inspect` of the same image (one registry round trip set, for scale)
// countersign runs from dist/ (`npm run build` first): that is what `npx countersign` runs.
// Run: npx tsx bench/cli-start.ts [runs per variant, default 15]
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseReference } from '../src/oci/reference.js'
import { createRegistryClient } from '../src/oci/registry.js'
import { loadCase, verifyBundleArgs } from '../test/support/bundle-cases.js'
import { pushTinyImage } from '../test/support/oci-image.js'
import { startRegistry } from '../test/support/registry.js'

const runs = Number(process.argv[2] ?? 15)
const root = fileURLToPath(new URL('..', import.meta.url))
const cliMain = join(root, 'dist/cli/main.js')
if (!existsSync(cliMain)) throw new Error('dist/cli/main.js is missing: run npm run build first')

const caseName = 'conformance-happy-path-v0.3'
const caseDir = join(root, 'test/vectors/bundles', caseName)
const { identity, issuer } = loadCase(caseName).c as { identity: string; issuer: string }
const work = mkdtempSync(join(tmpdir(), 'countersign-cli-start-'))

// The peer: everything a user's one-file script needs, read and verified in one process.
const sigstoreScript = join(work, 'sigstore-verify.cjs')
writeFileSync(
  sigstoreScript,
  `const { readFileSync } = require('node:fs')
const { Verifier, toSignedEntity, toTrustMaterial } = require(${JSON.stringify(require_('@sigstore/verify'))})
const { bundleFromJSON } = require(${JSON.stringify(require_('@sigstore/bundle'))})
const { TrustedRoot } = require(${JSON.stringify(require_('@sigstore/protobuf-specs'))})
const dir = ${JSON.stringify(caseDir)}
const trust = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(dir + '/trusted_root.json', 'utf8'))))
const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 })
const bundle = bundleFromJSON(JSON.parse(readFileSync(dir + '/bundle.sigstore.json', 'utf8')))
verifier.verify(toSignedEntity(bundle, readFileSync(dir + '/artifact')), {
  subjectAlternativeName: ${JSON.stringify(identity)}, extensions: { issuer: ${JSON.stringify(issuer)} } })
console.log('Verified OK')
`,
)

function require_(name: string): string {
  return join(root, 'node_modules', name)
}

interface Variant {
  readonly name: string
  readonly command: string
  readonly args: readonly string[]
  readonly env?: Record<string, string>
}

const node = process.execPath
const nodeEmpty: Variant = { name: 'node -e 0', command: node, args: ['-e', '0'] }
const version: Variant = { name: 'countersign --version', command: node, args: [cliMain, '--version'] }
const verifyBundle: Variant = {
  name: 'countersign verify-bundle',
  command: node,
  args: [cliMain, ...verifyBundleArgs(caseName)],
}
const sigstoreJs: Variant = { name: '@sigstore/verify one-file script', command: node, args: [sigstoreScript] }

// Row 3's image: pushed to a local registry and signed with a fresh key (no transparency log: offline).
const registry = await startRegistry()
const env = { ...process.env, COSIGN_PASSWORD: 'bench', TUF_ROOT: join(work, 'tuf') } as Record<string, string>
const image = `${registry.host}/bench/app`
const digest = await pushTinyImage(createRegistryClient(), parseReference(`${image}:v1`))
const imageRef = `${image}@${digest}`
mustRun(node, [cliMain, 'generate-key-pair', '--output-key-prefix', join(work, 'cosign')])
mustRun(node, [cliMain, 'sign', '--yes', '--tlog-upload=false', '--key', join(work, 'cosign.key'), imageRef])
const verifyKey: Variant = {
  name: 'countersign verify --key',
  command: node,
  args: [cliMain, 'verify', '--insecure-ignore-tlog=true', '--key', join(work, 'cosign.pub'), imageRef],
  env,
}
const skopeo: Variant = {
  name: 'skopeo inspect (same image)',
  command: 'skopeo',
  args: ['inspect', '--raw', '--tls-verify=false', `docker://${imageRef}`],
}

function mustRun(command: string, args: readonly string[]): void {
  const r = spawnSync(command, args, { cwd: work, env, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr}`)
}

const rows: readonly (readonly [Variant, Variant, string])[] = [
  [version, nodeEmpty, '≤ 1.3'],
  [verifyBundle, sigstoreJs, '≤ 0.8'],
  [verifyKey, nodeEmpty, 'report'],
]
const variants = [...new Set([...rows.map(([ours]) => ours), ...rows.map(([, base]) => base)]), skopeo]
const samples = new Map<Variant, number[]>(variants.map((v) => [v, []]))

try {
  for (let i = 0; i < runs + 1; i++) {
    for (const v of variants) {
      const t = performance.now()
      const r = spawnSync(v.command, v.args, { cwd: work, env: v.env ?? env, encoding: 'utf8' })
      const ms = performance.now() - t
      if (r.status !== 0) throw new Error(`${v.name} failed (${r.status}): ${r.stderr}`)
      if (i > 0) samples.get(v)!.push(ms) // the first round warms the file cache
    }
  }
} finally {
  await registry.stop()
  rmSync(work, { recursive: true, force: true })
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
console.log(`node ${process.version}; ${runs} interleaved runs per variant; spawn→exit medians`)
for (const v of variants) console.log(`  ${v.name.padEnd(36)} ${median(samples.get(v)!).toFixed(1).padStart(7)} ms`)
console.log('ratios (same run):')
for (const [ours, base, goal] of rows) {
  const ratio = median(samples.get(ours)!) / median(samples.get(base)!)
  console.log(`  ${ours.name.padEnd(28)} / ${base.name.padEnd(34)} ${ratio.toFixed(2)}×  (goal ${goal})`)
}
console.log(
  `  ${verifyKey.name.padEnd(28)} / ${skopeo.name.padEnd(34)} ${(median(samples.get(verifyKey)!) / median(samples.get(skopeo)!)).toFixed(2)}×  (report)`,
)

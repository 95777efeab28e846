/**
 * @jmespath-community/jmespath is an optional peer dependency of the built package: installed without it, a Kyverno
 * policy whose conditions hold no `{{ }}` variable verifies images (library and CLI), and one with a `{{ }}`
 * condition fails closed with ERR_DEPENDENCY_MISSING naming the package (it parses: only evaluating needs the
 * engine); installed with it, `{{ }}`-free policies still never load it (a module-load hook records every module the
 * process loads) and a `{{ }}` condition loads it and decides. The package is laid out as npm installs it
 * (test/support/installed-package.ts), under a fresh temporary directory.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureDist, ROOT } from '../runtime/ensure-dist.js'
import { installCountersign } from '../support/installed-package.js'
import { createModuleLogger } from '../support/module-log.js'

const PACKAGE = '@jmespath-community/jmespath'
const MISSING_MESSAGE =
  `Kyverno JMESPath conditions need the optional package ${PACKAGE} (it is not installed): run \`npm install ` +
  `${PACKAGE}\` in your project, or \`npm install -g ${PACKAGE}\` for a global countersign CLI`

/** A Kyverno ClusterPolicy: a key attestor on the image, and a scan attestation whose condition is `condition`. */
const policy = (name: string, condition: string) => `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: ${name}}
spec:
  validationFailureAction: Enforce
  rules:
    - name: signed-and-scanned
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: ["localhost/app*"]
          attestors:
            - entries: [{keys: {publicKeys: "__KEY__", rekor: {ignoreTlog: true}}}]
          attestations:
            - type: https://example.com/scan/v1
              attestors:
                - entries: [{keys: {publicKeys: "__KEY__", rekor: {ignoreTlog: true}}}]
              conditions:
                - all:
                    - ${condition}
`

// No `{{ }}`: Kyverno compares the literal strings.
const PLAIN = policy('plain', '{key: "scanned", operator: Equals, value: "scanned"}')
const WITH_JMESPATH = policy('jmespath', '{key: "{{ scanner.name }}", operator: AnyIn, value: [trivy, grype]}')

/**
 * Runs in the consumer directory: writes an OCI layout `app` holding an image signed (and attested) with a fresh
 * key, and `plain.yaml` / `jmespath.yaml` naming that key; then reports what `countersign/policy` does, as JSON.
 */
const SCRIPT = `import { readFileSync, writeFileSync } from 'node:fs'
import { signImage, createKeySigner } from 'countersign'
import { attestImage } from 'countersign/attest'
import { generateKeyPair, publicKeyToPEM } from 'countersign/keys'
import { openLayout } from 'countersign/node'
import { loadJMESPathEngine, parsePoliciesAsync, verifyImageAgainstPolicies } from 'countersign/policy'
const enc = new TextEncoder()
const store = openLayout('app', { create: true })
const ref = { registry: 'localhost', repository: 'app', tag: 'latest' }
const config = enc.encode(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] } }))
const configDescriptor = await store.pushBlob(ref, config, 'application/vnd.oci.image.config.v1+json')
const manifest = enc.encode(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: configDescriptor, layers: [] }))
await store.pushManifest(ref, manifest, 'application/vnd.oci.image.manifest.v1+json')
const key = await generateKeyPair()
const signer = createKeySigner(key)
await signImage(ref, signer, { store, format: 'legacy', tlogUpload: false })
await attestImage(ref, signer, { store, format: 'legacy', tlogUpload: false, predicateType: 'https://example.com/scan/v1', predicate: JSON.stringify({ scanner: { name: 'trivy' } }) })
const pem = JSON.stringify(publicKeyToPEM(key.publicKey)).slice(1, -1)
for (const name of ['plain', 'jmespath']) writeFileSync(name + '.yaml', readFileSync(name + '.template.yaml', 'utf8').replaceAll('__KEY__', pem))
const failure = (e) => ({ name: e.name, code: e.code, message: e.message, details: e.details })
const image = 'localhost/app:latest'
const out = {}
const plain = (await parsePoliciesAsync(readFileSync('plain.yaml', 'utf8'))).kyverno
const d = await verifyImageAgainstPolicies(image, plain, { store })
out.plain = { allowed: d.allowed, reasons: d.reasons.map((r) => r.message), matched: d.matched }
const other = await verifyImageAgainstPolicies('localhost/app:missing', plain, { store })
out.missing = { allowed: other.allowed }
const withJMESPath = (await parsePoliciesAsync(readFileSync('jmespath.yaml', 'utf8'))).kyverno
out.parsed = withJMESPath.map((p) => p.name)
try {
  const j = await verifyImageAgainstPolicies(image, withJMESPath, { store })
  out.jmespath = { allowed: j.allowed, reasons: j.reasons.map((r) => r.message) }
} catch (e) { out.jmespath = failure(e) }
try { await loadJMESPathEngine(); out.load = 'loaded' } catch (e) { out.load = failure(e) }
console.log(JSON.stringify(out))
`

let root: string
let runLogged: ReturnType<typeof createModuleLogger>

/** A consumer project with countersign installed (and the JMESPath package when `withJMESPath`). */
function consumer(name: string, withJMESPath: boolean): string {
  const dir = installCountersign(join(root, name), withJMESPath ? [PACKAGE] : [], {
    'plain.template.yaml': PLAIN,
    'jmespath.template.yaml': WITH_JMESPATH,
    'run.mjs': SCRIPT,
  })
  // Any valid trusted root will do for the CLI (the policies' keys skip the log); none is fetched.
  cpSync(
    join(ROOT, 'test/vectors/timestamps/bundles/conformance-managed-key-happy-path/trusted_root.json'),
    join(dir, 'trusted_root.json'),
  )
  return dir
}

/** node in `dir` with the module-load hook and a clean environment. */
const run = (dir: string, args: readonly string[]) =>
  runLogged(args, { cwd: dir, env: { PATH: process.env.PATH, HOME: dir } })

const loadedJMESPath = (modules: readonly string[]) => modules.filter((u) => u.includes('/@jmespath-community/'))

beforeAll(async () => {
  await ensureDist()
  root = mkdtempSync(join(tmpdir(), 'countersign-jmespath-optional-'))
  runLogged = createModuleLogger(root)
}, 240_000)
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true })
})

describe(`installed without ${PACKAGE}`, () => {
  it('nothing above the consumer provides the package', () => {
    // Node would find a package in any parent's node_modules: the test is only meaningful without one there.
    for (const dir of ['/tmp/node_modules', '/node_modules', join(root, 'node_modules')]) {
      expect(existsSync(join(dir, PACKAGE)), dir).toBe(false)
    }
  })

  it('a policy without {{ }} verifies; one with a {{ }} condition parses, then fails closed naming the package', () => {
    const dir = consumer('without', false)
    const r = run(dir, ['run.mjs'])
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.plain).toEqual({ allowed: true, reasons: [], matched: ['plain'] })
    expect(out.missing).toEqual({ allowed: false })
    expect(out.parsed).toEqual(['jmespath'])
    const missing = {
      name: 'CountersignError',
      code: 'ERR_DEPENDENCY_MISSING',
      message: MISSING_MESSAGE,
      details: { package: PACKAGE, reason: 'not-installed' },
    }
    expect(out.jmespath).toEqual(missing)
    expect(out.load).toEqual(missing)
    expect(loadedJMESPath(r.modules)).toEqual([])
  })

  it('the CLI verifies with the {{ }}-free policy and refuses the other with the same message', () => {
    const dir = consumer('cli-without', false)
    expect(run(dir, ['run.mjs']).code).toBe(0)
    const cli = join(dir, 'node_modules/countersign/dist/cli/main.js')
    const common = ['policy', 'verify', '--trusted-root', 'trusted_root.json']
    const ok = run(dir, [cli, ...common, '--policy', 'plain.yaml', 'oci:app'])
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/^localhost\/app:latest \(sha256:[0-9a-f]{64}\): ALLOWED\n {2}policies: plain\n$/)
    expect(loadedJMESPath(ok.modules)).toEqual([])
    const refused = run(dir, [cli, ...common, '--policy', 'jmespath.yaml', 'oci:app'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toContain(MISSING_MESSAGE)
  })
})

describe(`installed with ${PACKAGE}`, () => {
  it('{{ }}-free policies never load it; a {{ }} condition loads it and decides', () => {
    const dir = consumer('with', true)
    const r = run(dir, ['run.mjs'])
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out).toEqual({
      plain: { allowed: true, reasons: [], matched: ['plain'] },
      missing: { allowed: false },
      parsed: ['jmespath'],
      jmespath: { allowed: true, reasons: [] },
      load: 'loaded',
    })
    expect(r.modules.some((u) => u.includes('/node_modules/countersign/dist/policy/index.js'))).toBe(true)
    expect(loadedJMESPath(r.modules).length).toBeGreaterThan(0)

    // The {{ }}-free policy alone, through the CLI: the package is installed but never loaded.
    const cli = join(dir, 'node_modules/countersign/dist/cli/main.js')
    const plain = run(dir, [
      cli,
      'policy',
      'verify',
      '--trusted-root',
      'trusted_root.json',
      '--policy',
      'plain.yaml',
      'oci:app',
    ])
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.modules.some((u) => u.includes('/node_modules/countersign/dist/cli/main.js'))).toBe(true)
    expect(loadedJMESPath(plain.modules)).toEqual([])
  })
})

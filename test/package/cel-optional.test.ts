/**
 * @bufbuild/cel is an optional peer dependency of the built package: installed without it, `countersign/policy`
 * parses and evaluates CEL-free policies, and a policy with a CEL condition fails closed with ERR_DEPENDENCY_MISSING
 * saying what to install (library and CLI); installed with it, CEL-free policies still never load it (a module-load
 * hook records every module the process loads). The package is laid out as npm installs it: package.json and
 * dist/ copied, its runtime dependencies linked, the CEL stack (@bufbuild/*) linked only where asked for.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureDist, ROOT } from '../runtime/ensure-dist.js'
import { createModuleLogger } from '../support/module-log.js'

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  files: string[]
  dependencies?: Record<string, string>
}

const KEY = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEIcbqK2RAVZOfPzo+kbOhNYq8DK9f
B2BGbU7jAXEvYthJ3vRcYq8l7g9UAXXiz9P2awFuTa4COcZU2IdEDVU0uA==
-----END PUBLIC KEY-----`

/** No CEL anywhere, but an attestation with a Rego condition (not evaluated, fails closed) and a regexp identity. */
const CEL_FREE = `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: signed}
spec:
  images: [{glob: "ghcr.io/acme/**"}]
  authorities:
    - name: key
      key: {data: ${JSON.stringify(KEY)}}
    - name: ci
      keyless:
        url: https://fulcio.sigstore.dev
        identities: [{issuer: "https://token.actions.githubusercontent.com", subjectRegExp: "^https://github\\\\.com/acme/"}]
      attestations:
        - {name: prov, predicateType: "https://slsa.dev/provenance/v1", policy: {type: rego, data: "package sigstore"}}
`

const WITH_CEL = `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: gated}
spec:
  images: [{glob: "**"}]
  authorities: [{name: a, static: {action: pass}}]
  policy: {type: cel, data: "authorityMatches.a.static == true"}
`

/** Runs in the consumer directory: what `countersign/policy` does with each policy, as JSON on stdout. */
const SCRIPT = `import { readFileSync } from 'node:fs'
import { evaluatePolicy, loadCELEngine, parsePolicies, parsePoliciesAsync } from 'countersign/policy'
const celFree = readFileSync('cel-free.yaml', 'utf8')
const withCEL = readFileSync('with-cel.yaml', 'utf8')
const image = 'ghcr.io/acme/app@sha256:' + 'a'.repeat(64)
const failure = (e) => ({ name: e.name, code: e.code, message: e.message, details: e.details })
const out = {}
const sync = parsePolicies(celFree).policies
const parsed = await parsePoliciesAsync(celFree)
const sig = { signatures: [{ format: 'bundle', id: 'sha256:1' }] }
out.celFree = {
  sync: sync.map((p) => p.name),
  async: parsed.policies.map((p) => p.name),
  allowed: evaluatePolicy(image, parsed.policies, { signed: [sig, undefined] }).allowed,
  denied: evaluatePolicy(image, parsed.policies, { signed: [undefined, undefined] }).allowed === false,
}
if (process.argv[2] === 'cel') {
  try {
    const { policies } = await parsePoliciesAsync(withCEL)
    out.cel = { allowed: evaluatePolicy(image, policies, { gated: [undefined] }).allowed }
  } catch (e) { out.cel = failure(e) }
  try { parsePolicies(withCEL); out.sync = 'parsed' } catch (e) { out.sync = failure(e) }
  try { await loadCELEngine(); out.load = 'loaded' } catch (e) { out.load = failure(e) }
}
console.log(JSON.stringify(out))
`

let root: string

/** countersign as npm installs it, with its runtime dependencies; the CEL stack only when `withCEL`. */
function install(name: string, withCEL: boolean): string {
  const dir = join(root, name)
  const installed = join(dir, 'node_modules', 'countersign')
  mkdirSync(installed, { recursive: true })
  cpSync(join(ROOT, 'package.json'), join(installed, 'package.json'))
  for (const f of pkg.files) cpSync(join(ROOT, f), join(installed, f), { recursive: true })
  const deps = Object.keys(pkg.dependencies ?? {}).filter((d) => !d.startsWith('@bufbuild/'))
  for (const dep of withCEL ? [...deps, '@bufbuild/cel'] : deps) {
    const link = join(dir, 'node_modules', dep)
    mkdirSync(dirname(link), { recursive: true })
    symlinkSync(join(ROOT, 'node_modules', dep), link, 'dir')
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module' }))
  writeFileSync(join(dir, 'cel-free.yaml'), CEL_FREE)
  writeFileSync(join(dir, 'with-cel.yaml'), WITH_CEL)
  writeFileSync(join(dir, 'run.mjs'), SCRIPT)
  return dir
}

let runLogged: ReturnType<typeof createModuleLogger>

/** Run node in `dir` with the module-load hook; its exit code, output and the modules it loaded. */
function run(dir: string, args: readonly string[]) {
  return runLogged(args, { cwd: dir })
}

const loadedCEL = (modules: readonly string[]) => modules.filter((u) => u.includes('/@bufbuild/'))

beforeAll(async () => {
  await ensureDist()
  root = mkdtempSync(join(tmpdir(), 'countersign-cel-optional-'))
  runLogged = createModuleLogger(root)
}, 240_000)
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true })
})

describe('installed without @bufbuild/cel', () => {
  it('CEL-free policies parse and evaluate; a CEL condition fails closed saying what to install', () => {
    const dir = install('without-cel', false)
    const r = run(dir, ['run.mjs', 'cel'])
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.celFree).toEqual({ sync: ['signed'], async: ['signed'], allowed: true, denied: true })
    const missing = {
      name: 'CountersignError',
      code: 'ERR_DEPENDENCY_MISSING',
      message:
        'CEL policy conditions need the optional package @bufbuild/cel (it is not installed): run `npm install ' +
        '@bufbuild/cel` in your project, or `npm install -g @bufbuild/cel` for a global countersign CLI',
      details: { package: '@bufbuild/cel', reason: 'not-installed' },
    }
    expect(out.cel).toEqual(missing)
    expect(out.load).toEqual(missing)
    expect(out.sync).toMatchObject({ code: 'ERR_DEPENDENCY_MISSING', details: { reason: 'not-loaded' } })
    expect(out.sync.message).toContain('await loadCELEngine()')
    expect(loadedCEL(r.modules)).toEqual([])
  })

  it('the CLI refuses a policy with a CEL condition with the same message, and checks CEL-free ones', () => {
    const dir = install('cli-without-cel', false)
    const cli = join(dir, 'node_modules/countersign/dist/cli/main.js')
    const refused = run(dir, [cli, 'policy', 'verify', '--policy', 'with-cel.yaml', 'oci:nothing'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(
      'CEL policy conditions need the optional package @bufbuild/cel (it is not installed): run `npm install ' +
        '@bufbuild/cel` in your project, or `npm install -g @bufbuild/cel` for a global countersign CLI',
    )
    const free = run(dir, [
      cli,
      'policy',
      'verify',
      '--policy',
      'cel-free.yaml',
      '--trusted-root',
      'none',
      'oci:nothing',
    ])
    // Parsed (with its Rego warning) and past the policies to the trusted root, which comes next and is missing.
    expect(free.stderr).toContain('WARNING: cel-free.yaml: spec.authorities[1].attestations[0].policy: rego')
    expect(free.stderr).toContain('Error: reading trusted root none: ENOENT')
    expect(free.stderr).not.toContain('@bufbuild/cel')
    expect(loadedCEL(free.modules)).toEqual([])
  })
})

describe('installed with @bufbuild/cel', () => {
  it('CEL-free policies never load it; a CEL condition does, and decides', () => {
    const dir = install('with-cel', true)
    const free = run(dir, ['run.mjs'])
    expect(free.code, free.stderr).toBe(0)
    expect(JSON.parse(free.stdout).celFree).toEqual({
      sync: ['signed'],
      async: ['signed'],
      allowed: true,
      denied: true,
    })
    expect(free.modules.some((u) => u.includes('/node_modules/countersign/dist/policy/index.js'))).toBe(true)
    expect(loadedCEL(free.modules)).toEqual([])

    // The same hook sees it when a policy needs it (so the empty list above is not the hook missing it).
    const cel = run(dir, ['run.mjs', 'cel'])
    expect(cel.code, cel.stderr).toBe(0)
    expect(JSON.parse(cel.stdout)).toMatchObject({ cel: { allowed: true }, sync: 'parsed', load: 'loaded' })
    expect(loadedCEL(cel.modules).some((u) => u.includes('/@bufbuild/cel/'))).toBe(true)
  })
})

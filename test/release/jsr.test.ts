/**
 * The JSR package (jsr.json) for Deno users: it names the same version and licence as package.json, exports exactly
 * the platform-neutral subpaths of package.json (from their TypeScript sources, which tsup.config.ts names), and
 * `deno publish --dry-run` accepts it: Deno type-checks the exported graph, finds no slow types (explicit types on
 * the public API, so no `--allow-slow-types`), and lists the files it would upload. The dry run needs no network:
 * bare imports resolve through package.json and node_modules (publishing rewrites them to `npm:` specifiers with
 * package.json's ranges), and `.js` imports resolve to their `.ts` files under tsconfig.json's
 * `moduleResolution: "Bundler"`, as tsc resolves them.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Options } from 'tsup'
import { describe, expect, it } from 'vitest'
import tsupConfig from '../../tsup.config.js'
import { findRuntime, runCommand } from '../runtime/runtime-process.js'

const ROOT = resolve(import.meta.dirname, '../..')
const readJSON = (file: string) => JSON.parse(readFileSync(resolve(ROOT, file), 'utf8'))

interface JsrConfig {
  readonly name: string
  readonly version: string
  readonly license: string
  readonly exports: Record<string, string>
  readonly publish: { readonly include: string[]; readonly exclude: string[] }
}
type ExportTarget = string | { readonly default?: string; readonly node?: { readonly default: string } }

const jsr: JsrConfig = readJSON('jsr.json')
const pkg: { version: string; license: string; exports: Record<string, ExportTarget> } = readJSON('package.json')

/** Every entry tsup builds, by output name (`kms/aws/index` → `src/kms/aws/index.ts`). */
function tsupEntries(): Map<string, string> {
  const configs = (Array.isArray(tsupConfig) ? tsupConfig : [tsupConfig]) as Options[]
  const entries = new Map<string, string>()
  for (const c of configs) {
    if (c.entry && !Array.isArray(c.entry))
      for (const [name, source] of Object.entries(c.entry)) entries.set(name, source)
  }
  return entries
}

/**
 * package.json's subpaths that work on every runtime (a `default` target; `countersign/node` has only the `node`
 * condition and stays off JSR), mapped to the source file each is built from, as jsr.json must export them.
 */
function neutralExportsFromPackageJSON(): Record<string, string> {
  const entries = tsupEntries()
  const expected: Record<string, string> = {}
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string' || target.default === undefined) continue
    const name = target.default.replace(/^\.\/dist\//, '').replace(/\.js$/, '')
    const source = entries.get(name)
    if (source === undefined) throw new Error(`tsup.config.ts builds no entry named ${name} (exports[${subpath}])`)
    expected[subpath] = `./${source}`
  }
  return expected
}

describe('jsr.json', () => {
  it('names the package, and the version and licence of package.json', () => {
    expect(jsr.name).toBe('@countersign/countersign')
    expect(jsr.version).toBe(pkg.version)
    expect(jsr.license).toBe(pkg.license)
  })

  it("exports exactly package.json's platform-neutral subpaths, from their sources", () => {
    const expected = neutralExportsFromPackageJSON()
    expect(Object.keys(expected)).toContain('./verify')
    expect(Object.keys(expected)).not.toContain('./node')
    expect(jsr.exports).toEqual(expected)
    // The Node-only subpaths, and the code only they and the CLI use, are not published.
    const nodeOnly = Object.entries(pkg.exports).filter(([, t]) => typeof t !== 'string' && t.default === undefined)
    expect(nodeOnly.map(([s]) => s)).toContain('./node')
    for (const [subpath] of nodeOnly) expect(jsr.exports[subpath]).toBeUndefined()
    expect(jsr.publish.exclude).toEqual(expect.arrayContaining(['src/node/', 'src/cli/']))
  })

  it('passes deno publish --dry-run: type check, no slow types, only the library sources with README and LICENSE', async () => {
    const deno = findRuntime(
      ['node_modules/.bin/deno', 'node_modules/@deno/linux-x64-glibc/deno'],
      'run `npm install` (devDependency "deno"; its binary ships in the optional package @deno/linux-x64-glibc)',
    )
    // --allow-dirty: a working tree with uncommitted edits (and CI's npm install touching the lock file) is what is
    // checked here; the real `deno publish` runs from a clean tag.
    const { code, output } = await runCommand(deno, ['publish', '--dry-run', '--allow-dirty'], {
      DENO_NO_UPDATE_CHECK: '1',
    })
    expect(code, output).toBe(0)
    expect(output).toContain(`Simulating publish of ${jsr.name}@${jsr.version}`)
    expect(output).toContain('Checking for slow types in the public API')
    expect(output).toMatch(/Success Dry run complete/)
    const files = [...output.matchAll(/^\s+file:\/\/(\S+)/gm)].map((m) => m[1]!.slice(ROOT.length + 1))
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md']))
    for (const source of Object.values(jsr.exports)) expect(files).toContain(source.slice(2))
    const unexpected = files.filter(
      (f) => !(['LICENSE', 'README.md', 'jsr.json'].includes(f) || (f.startsWith('src/') && f.endsWith('.ts'))),
    )
    expect(unexpected).toEqual([])
    expect(files.filter((f) => f.startsWith('src/node/') || f.startsWith('src/cli/'))).toEqual([])
  }, 120_000)
})

/**
 * The CLI loads per verb: the registry names every verb and loads the right one, a version request loads nothing
 * else, and a verb never loads what only other verbs need (the policy engine, the admission server, the TUF client,
 * the HTTP stack, the KMS providers). The module checks run the built executable with a module-load hook.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { VERBS } from '../../src/cli/registry.js'
import { didYouMean, suggest } from '../../src/cli/suggest.js'
import { VERSION, versionOutput } from '../../src/cli/version.js'
import { ensureDist, ROOT } from '../runtime/ensure-dist.js'
import { verifyBundleArgs } from '../support/bundle-cases.js'
import { cli } from '../support/cli.js'
import { createModuleLogger } from '../support/module-log.js'

describe('verb registry', () => {
  it('loads, for every entry, the command of that name', async () => {
    const names = new Set<string>()
    for (const entry of VERBS) {
      const command = await entry.load()
      expect(command.name).toBe(entry.name)
      expect(command.flags.length).toBeGreaterThan(0)
      names.add(entry.name)
    }
    expect(names.size).toBe(VERBS.length)
  })

  it('lists every verb in the top-level help', async () => {
    const run = await cli(['--help'], { cwd: ROOT })
    expect(run.code).toBe(0)
    for (const entry of VERBS) expect(run.stdout).toContain(`  ${entry.name} `)
  })

  it('suggests the verb a typo meant, as cobra does', async () => {
    const run = await cli(['verfy', 'x'], { cwd: ROOT })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('unknown command "verfy" for "countersign"')
    expect(run.stderr).toContain('Did you mean this?\n\tverify')
    expect(suggest('sing', ['sign', 'verify', 'save'])).toEqual(['sign'])
    expect(
      suggest(
        'zzzzzz',
        VERBS.map((v) => v.name),
      ),
    ).toEqual([])
    expect(didYouMean([])).toBe('')
  })
})

describe('version', () => {
  it('is the package.json version, in text and JSON', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    expect(VERSION).toBe(pkg.version)
    for (const argv of [['--version'], ['-v'], ['version'], ['version', '-o', 'text']]) {
      expect(versionOutput(argv)).toBe(`countersign ${pkg.version}\n`)
    }
    for (const argv of [
      ['version', '-o', 'json'],
      ['version', '--json'],
      ['version', '--output=json'],
    ]) {
      const info = JSON.parse(versionOutput(argv)!) as Record<string, string>
      expect(info).toEqual({
        version: pkg.version,
        node: process.version,
        platform: `${process.platform}/${process.arch}`,
      })
    }
    expect(versionOutput(['version', '-o', 'yaml'])).toBeUndefined()
    const bad = await cli(['version', '--bogus'], { cwd: ROOT })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('usage: countersign version')
  })
})

describe('what each verb loads (built executable)', () => {
  let dir: string
  let runLogged: ReturnType<typeof createModuleLogger>

  beforeAll(async () => {
    await ensureDist()
    dir = mkdtempSync(join(tmpdir(), 'countersign-verb-loading-'))
    runLogged = createModuleLogger(dir)
  }, 240_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  /** The files a run of the executable loads, relative to the repository (packages by name). */
  function modulesLoaded(args: readonly string[]): { code: number | null; modules: string[] } {
    const r = runLogged([join(ROOT, 'dist/cli/main.js'), ...args], {
      env: { ...process.env, TUF_ROOT: join(dir, 'no-tuf') },
    })
    const modules = r.modules.map((u) =>
      u.replace(`file://${ROOT}`, '').replace(/^node_modules\/((?:@[^/]+\/)?[^/]+)\/.*$/, '$1'),
    )
    return { code: r.code, modules: [...new Set(modules)] }
  }

  it('answers --version from the executable alone', () => {
    const { code, modules } = modulesLoaded(['--version'])
    expect(code).toBe(0)
    expect(modules.every((m) => m.startsWith('dist/'))).toBe(true)
    expect(modules.length).toBeLessThanOrEqual(2)
  })

  it('verifies a bundle without the HTTP stack, TUF, policy, YAML or CEL', () => {
    const { code, modules } = modulesLoaded(verifyBundleArgs('conformance-happy-path-v0.3'))
    expect(code).toBe(0)
    for (const heavy of ['undici', 'tuf-js', 'yaml', '@bufbuild/cel', 're2js', 'aws4fetch', '@noble/ciphers']) {
      expect(modules).not.toContain(heavy)
    }
  })

  it('prints a verb help without loading another verb', () => {
    const { code, modules } = modulesLoaded(['sign-blob', '--help'])
    expect(code).toBe(0)
    for (const other of ['policy', 'admission', 'yaml', '@bufbuild/cel', 'tuf-js']) {
      expect(modules.some((m) => m === other || m.includes(`/${other}-`))).toBe(false)
    }
  })
})

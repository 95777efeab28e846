/**
 * The built `countersign/verify` under Deno: runs `deno test` on test/runtime/deno/ (the npm package `deno`, a
 * devDependency whose binary comes from the optional package @deno/linux-x64-glibc, no download at install).
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { RUNTIME_CASES } from './cases.js'
import { ensureDist } from './ensure-dist.js'
import { findRuntime, runCommand } from './runtime-process.js'

describe('countersign/verify under Deno', () => {
  beforeAll(() => ensureDist(), 240_000)

  it(`deno test verifies ${RUNTIME_CASES.length} fixture bundles with the expected verdicts`, async () => {
    const deno = findRuntime(
      ['node_modules/.bin/deno', 'node_modules/@deno/linux-x64-glibc/deno'],
      'run `npm install` (devDependency "deno"; its binary ships in the optional package @deno/linux-x64-glibc)',
    )
    // --sloppy-imports: the test imports ../cases.js as Node's typecheck spells it; the file on disk is cases.ts.
    const { code, output } = await runCommand(
      deno,
      ['test', '--allow-read', '--sloppy-imports', 'test/runtime/deno/'],
      { DENO_NO_UPDATE_CHECK: '1' },
    )
    expect(code, output).toBe(0)
    for (const c of RUNTIME_CASES) expect(output).toContain(`${c.label} → ${c.expect} ... ok`)
    expect(output).toMatch(new RegExp(`ok \\| ${RUNTIME_CASES.length} passed \\| 0 failed`))
  }, 120_000)
})

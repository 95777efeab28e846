/**
 * The built `countersign/verify` under Bun: runs `bun test` on test/runtime/bun/ (the npm package `bun`, a
 * devDependency whose postinstall moves the binary in from the optional package @oven/bun-linux-x64).
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { RUNTIME_CASES } from './cases.js'
import { ensureDist } from './ensure-dist.js'
import { findRuntime, runCommand } from './runtime-process.js'

describe('countersign/verify under Bun', () => {
  beforeAll(() => ensureDist(), 240_000)

  it(`bun test verifies ${RUNTIME_CASES.length} fixture bundles with the expected verdicts`, async () => {
    const bun = findRuntime(
      ['node_modules/.bin/bun', 'node_modules/@oven/bun-linux-x64/bin/bun'],
      'run `npm install` with install scripts enabled (devDependency "bun"; its postinstall moves the binary ' +
        'out of the optional package @oven/bun-linux-x64, and without it bin/bun.exe is a text placeholder)',
    )
    const { code, output } = await runCommand(bun, ['test', './test/runtime/bun/verify_test.ts'])
    expect(code, output).toBe(0)
    const passed = output.split('\n').filter((line) => line.startsWith('(pass) bun '))
    for (const c of RUNTIME_CASES)
      expect(passed.some((line) => line.includes(`: ${c.label} → ${c.expect} [`))).toBe(true)
    expect(output).toMatch(new RegExp(`\\b${RUNTIME_CASES.length} pass\\b[\\s\\S]*\\b0 fail\\b`))
  }, 120_000)
})

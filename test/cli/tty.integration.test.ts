import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url).pathname
const ptyRun = join(root, 'test/support/pty-run.py')
// Resolved from the repository, so the CLI can run from source in any working directory.
const tsx = pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href
const cliMain = join(root, 'src/cli/main.ts')

/** Run the CLI (from source, through tsx) on a real pseudo-terminal, answering prompts in order. */
function onTerminal(args: string[], answers: [string, string][], cwd: string): { output: string; status: number } {
  const env = { ...process.env }
  delete env.COSIGN_PASSWORD
  const out = execFileSync(
    'python3',
    [ptyRun, JSON.stringify(answers), process.execPath, '--import', tsx, cliMain, ...args],
    { cwd, env, encoding: 'utf8', timeout: 60_000 },
  )
  return JSON.parse(out)
}

describe('password prompts on a real terminal', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cs-tty-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('generate-key-pair asks twice, never echoes, and the key opens with that password', () => {
    const r = onTerminal(
      ['generate-key-pair'],
      [
        ['Enter password for private key: ', 'tty-secret\r'],
        ['Enter password for private key again: ', 'tty-secret\r'],
      ],
      dir,
    )
    expect(r.status).toBe(0)
    expect(r.output).toContain('Private key written to')
    expect(r.output).not.toContain('tty-secret')
    const pub = execFileSync(process.execPath, ['--import', tsx, cliMain, 'public-key', '--key', 'cosign.key'], {
      cwd: dir,
      env: { ...process.env, COSIGN_PASSWORD: 'tty-secret' },
      encoding: 'utf8',
    })
    expect(pub).toBe(readFileSync(join(dir, 'cosign.pub'), 'utf8'))
  })

  it('refuses mismatched passwords and writes nothing', () => {
    const r = onTerminal(
      ['generate-key-pair', '--output-key-prefix', 'mismatch'],
      [
        ['Enter password for private key: ', 'one\r'],
        ['again: ', 'two\r'],
      ],
      dir,
    )
    expect(r.status).toBe(1)
    expect(r.output).toContain('passwords do not match')
    expect(() => readFileSync(join(dir, 'mismatch.key'))).toThrow()
  })
})

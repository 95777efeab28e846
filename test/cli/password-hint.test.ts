/**
 * A key that needs a password when none can be had without a terminal (no COSIGN_PASSWORD, stdin not a terminal and
 * empty, as in CI) fails with the decryption's error code, and the message says to set COSIGN_PASSWORD (from a
 * secret in CI). A wrong password that was given gets no such hint.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CliIO } from '../../src/cli/context.js'
import { loadSigningKey } from '../../src/cli/key-refs.js'
import { CountersignError, isCountersignError } from '../../src/errors.js'
import { keyPasswordReader } from '../../src/node/password.js'
import { cli } from '../support/cli.js'

let dir: string
const HINT =
  /; no password was given: COSIGN_PASSWORD is not set and stdin is not a terminal .*Set COSIGN_PASSWORD to the key's password; in CI, from a secret/

const pipe = (text: string) => Readable.from(text === '' ? [] : [Buffer.from(text)]) as unknown as NodeJS.ReadStream

function io(env: Record<string, string | undefined>, stdin: NodeJS.ReadStream): CliIO {
  return { stdout: new PassThrough(), stderr: new PassThrough(), stdin, env, cwd: dir }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cs-pw-hint-'))
  const r = await cli(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: 'the real one' } })
  expect(r.code, r.stderr).toBe(0)
  writeFileSync(join(dir, 'blob.txt'), 'x\n')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('no password without a terminal', () => {
  it('keeps the decryption error code and adds the COSIGN_PASSWORD hint', async () => {
    const error = await loadSigningKey('cosign.key', io({}, pipe(''))).catch((e: unknown) => e)
    expect(isCountersignError(error, 'ERR_KEY_DECRYPT')).toBe(true)
    expect((error as Error).message).toMatch(/^.*cosign\.key: decryption failed \(wrong password\?\)/)
    expect((error as Error).message).toMatch(HINT)
  })

  it('the CLI prints the hint after "Error: " and exits 1', async () => {
    const r = await cli(['sign-blob', '--key', 'cosign.key', '--tlog-upload=false', '--bundle', 'b.json', 'blob.txt'], {
      cwd: dir,
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^Error: .*decryption failed/)
    expect(r.stderr).toMatch(HINT)
    expect(r.stdout).toBe('')
  })

  it('gives no hint when a password was given, by COSIGN_PASSWORD or on stdin', async () => {
    for (const [env, stdin] of [
      [{ COSIGN_PASSWORD: 'wrong' }, pipe('')],
      [{ COSIGN_PASSWORD: '' }, pipe('')],
      [{}, pipe('wrong\n')],
    ] as const) {
      const error = await loadSigningKey('cosign.key', io(env, stdin)).catch((e: unknown) => e)
      expect(isCountersignError(error, 'ERR_KEY_DECRYPT')).toBe(true)
      expect((error as Error).message).not.toMatch(/no password was given/)
    }
    // And the right password opens the key.
    const key = await loadSigningKey('cosign.key', io({}, pipe('the real one')))
    expect(key.publicKey).toBeDefined()
  })

  it('explain() leaves errors alone unless the password read found nothing', async () => {
    const reader = keyPasswordReader({ env: {}, stdin: pipe('') })
    const before = new Error('x')
    expect(reader.explain(before)).toBe(before)
    expect(await reader.read()).toEqual(new Uint8Array(0))
    expect(reader.explain(before)).toBe(before) // not a CountersignError: passed through
    const coded = new CountersignError('ERR_KEY_DECRYPT', 'decryption failed (wrong password?)', {
      details: { path: 'k' },
    })
    expect(keyPasswordReader({ env: {}, stdin: pipe('') }).explain(coded)).toBe(coded) // nothing read yet
    const explained = reader.explain(coded) as CountersignError
    expect(explained.code).toBe('ERR_KEY_DECRYPT')
    expect(explained.details).toEqual({ path: 'k' })
    expect(explained.cause).toBe(coded)
    expect(explained.message).toMatch(HINT)
  })
})

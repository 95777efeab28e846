/**
 * `--key env://NAME` (cosign's `blob.LoadFileOrURL`): keys kept in CI secrets, e.g. `COSIGN_PRIVATE_KEY` and
 * `COSIGN_PUBLIC_KEY` as GitHub secrets with `COSIGN_PASSWORD`. Sign and verify with keys that never touch the disk;
 * an unset variable gives cosign's error; the key never shows in output, even when decryption fails.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'

let dir: string
let env: Record<string, string>

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cs-env-key-'))
  expect((await cli(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: 'ci secret' } })).code).toBe(0)
  env = {
    COSIGN_PASSWORD: 'ci secret',
    COSIGN_PRIVATE_KEY: readFileSync(join(dir, 'cosign.key'), 'utf8'),
    COSIGN_PUBLIC_KEY: readFileSync(join(dir, 'cosign.pub'), 'utf8'),
  }
  // The key files are gone: only the environment holds the keys.
  rmSync(join(dir, 'cosign.key'))
  rmSync(join(dir, 'cosign.pub'))
  writeFileSync(join(dir, 'blob.txt'), 'release artifact\n')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('--key env://NAME', () => {
  it('signs with a private key from the environment and verifies with a public key from it', async () => {
    const sign = await cli(
      ['sign-blob', '--key', 'env://COSIGN_PRIVATE_KEY', '--tlog-upload=false', '--bundle', 'b.json', 'blob.txt'],
      { cwd: dir, env },
    )
    expect(sign.code, sign.stderr).toBe(0)
    const verify = await cli(
      ['verify-blob', '--key', 'env://COSIGN_PUBLIC_KEY', '--insecure-ignore-tlog', '--bundle', 'b.json', 'blob.txt'],
      { cwd: dir, env },
    )
    expect(verify.code, verify.stderr).toBe(0)
    expect(verify.stderr).toContain('Verified OK')
    const pub = await cli(['public-key', '--key', 'env://COSIGN_PRIVATE_KEY'], { cwd: dir, env })
    expect(pub.code, pub.stderr).toBe(0)
    expect(pub.stdout).toBe(env.COSIGN_PUBLIC_KEY)
  })

  it('an unset variable is refused with cosign’s message', async () => {
    const r = await cli(['sign-blob', '--key', 'env://NOPE', '--tlog-upload=false', '--bundle', 'n.json', 'blob.txt'], {
      cwd: dir,
      env,
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('loading URL: env var $NOPE not found')
    const v = await cli(['verify-blob', '--key', 'env://NOPE', '--signature', 'x', 'blob.txt'], { cwd: dir, env })
    expect(v.code).toBe(1)
    expect(v.stderr).toContain('loading URL: env var $NOPE not found')
  })

  it('never prints the key, even when the password is wrong', async () => {
    const r = await cli(
      ['sign-blob', '--key', 'env://COSIGN_PRIVATE_KEY', '--tlog-upload=false', '--bundle', 'w.json', 'blob.txt'],
      {
        cwd: dir,
        env: { ...env, COSIGN_PASSWORD: 'wrong' },
      },
    )
    expect(r.code).toBe(1)
    const body = env.COSIGN_PRIVATE_KEY!.split('\n')[1]!
    expect(`${r.stdout}${r.stderr}`).not.toContain(body.slice(0, 24))
  })
})

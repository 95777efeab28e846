/**
 * `countersign initialize` and the verbs that read trust material through TUF, against a TUF repository served over
 * loopback (test/support/tuf-repo.ts). The scenario: a bundle whose Rekor log the published trusted root
 * does not list fails without --trusted-root; once the repository publishes a trusted_root.json that adds the log
 * (and the cached timestamp has expired), the same command verifies it. No network beyond loopback: HTTPS_PROXY
 * points at a closed port, so the public-good mirror is out of reach.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PUBLIC_GOOD_TRUSTED_ROOT_JSON } from '../../src/trust/public-good.js'
import { cli } from '../support/cli.js'
import { startTUFRepository, type TestTUFRepository } from '../support/tuf-repo.js'

const CASE = new URL('../vectors/bundles/conformance-happy-path-v0.3/', import.meta.url)
const caseJSON = JSON.parse(readFileSync(new URL('case.json', CASE), 'utf8'))
/** The proxy every request that is not loopback goes to: nothing listens there. */
const NO_NETWORK = { HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1' }

/** The public-good root without the Rekor v1 log the case's entry is in. */
function rootWithoutRekorV1(): string {
  const root = JSON.parse(PUBLIC_GOOD_TRUSTED_ROOT_JSON)
  root.tlogs = root.tlogs.filter((t: { baseUrl: string }) => t.baseUrl !== 'https://rekor.sigstore.dev')
  return JSON.stringify(root)
}

let repo: TestTUFRepository
let dir: string
let env: Record<string, string>

beforeEach(async () => {
  repo = await startTUFRepository()
  dir = mkdtempSync(join(tmpdir(), 'countersign-init-'))
  writeFileSync(join(dir, 'root.json'), repo.rootBytes(1))
  writeFileSync(join(dir, 'bundle.json'), readFileSync(new URL('bundle.sigstore.json', CASE)))
  writeFileSync(join(dir, 'artifact'), readFileSync(new URL('artifact', CASE)))
  env = { TUF_ROOT: join(dir, 'tuf'), ...NO_NETWORK }
})
afterEach(async () => {
  await repo.stop()
  rmSync(dir, { recursive: true, force: true })
})

const verifyArgs = () => [
  'verify-bundle',
  '--bundle',
  'bundle.json',
  '--certificate-identity',
  caseJSON.identity,
  '--certificate-oidc-issuer',
  caseJSON.issuer,
  'artifact',
]

/** Long enough for initialize + one verification on a loaded machine (each verb is loaded on first use). */
const TIMESTAMP_LIFETIME_MS = 3000

describe('countersign initialize', () => {
  it('initialises a mirror from its root, prints what it trusts, and the verbs follow the repository', async () => {
    repo.setTarget('trusted_root.json', rootWithoutRekorV1())
    repo.publish({ expiresInMs: { timestamp: TIMESTAMP_LIFETIME_MS } })
    const init = await cli(['initialize', '--mirror', repo.url, '--root', 'root.json'], { cwd: dir, env })
    expect(init.code, init.stderr).toBe(0)
    expect(init.stdout).toContain(`TUF repository: ${repo.url}`)
    expect(init.stdout).toContain('root: version 1, expires ')
    expect(init.stdout).toMatch(/trusted_root\.json {2}\d+ bytes {2}sha256:[0-9a-f]{64}/)
    expect(init.stdout).toContain('trusted root: 1 transparency log(s)')
    expect(init.stdout).toContain('signing config: none published')
    expect(JSON.parse(readFileSync(join(dir, 'tuf', 'remote.json'), 'utf8'))).toEqual({ mirror: repo.url })
    expect(existsSync(join(dir, 'tuf', `127.0.0.1-${new URL(repo.url).port}`, 'timestamp.json'))).toBe(true)

    // The published root lacks the bundle's log: refused, without --trusted-root.
    const before = await cli(verifyArgs(), { cwd: dir, env })
    expect(before.code).toBe(1)
    expect(before.stderr).toMatch(/transparency log|tlog|log entr/i)

    // A new trusted_root.json adds the log; once the cached timestamp has expired, the verb picks it up.
    repo.setTarget('trusted_root.json', PUBLIC_GOOD_TRUSTED_ROOT_JSON)
    repo.publish()
    await new Promise((r) => setTimeout(r, TIMESTAMP_LIFETIME_MS + 100))
    const after = await cli(verifyArgs(), { cwd: dir, env })
    expect(after.code, after.stderr).toBe(0)
  })

  it('checks --root-checksum (sha256 or sha512:) and refuses a mismatch with cosign’s message', async () => {
    repo.setTarget('trusted_root.json', PUBLIC_GOOD_TRUSTED_ROOT_JSON)
    repo.publish()
    const bytes = readFileSync(join(dir, 'root.json'))
    const sha512 = createHash('sha512').update(bytes).digest('hex')
    const ok = await cli(
      ['initialize', '--mirror', repo.url, '--root', 'root.json', '--root-checksum', `sha512:${sha512}`],
      { cwd: dir, env },
    )
    expect(ok.code, ok.stderr).toBe(0)
    const bad = await cli(
      ['initialize', '--mirror', repo.url, '--root', 'root.json', '--root-checksum', '00'.repeat(32)],
      { cwd: dir, env },
    )
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain(`incorrect checksum for file root.json: expected ${'00'.repeat(32)} but got `)
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    const prefixed = await cli(
      ['initialize', '--mirror', repo.url, '--root', 'root.json', '--root-checksum', `sha256:${sha256}`],
      { cwd: dir, env },
    )
    expect(prefixed.code, prefixed.stderr).toBe(0)
    const md5 = await cli(['initialize', '--mirror', repo.url, '--root', 'root.json', '--root-checksum', 'md5:00'], {
      cwd: dir,
      env,
    })
    expect(md5.stderr).toContain('unsupported checksum algorithm: md5')
  })

  it('needs --root for a mirror other than the public-good one', async () => {
    const r = await cli(['initialize', '--mirror', repo.url], { cwd: dir, env })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('--root is required')
  })

  it('refuses an under-signed root update with ERR_TUF_THRESHOLD and keeps what it had', async () => {
    repo.setTarget('trusted_root.json', PUBLIC_GOOD_TRUSTED_ROOT_JSON)
    repo.publish()
    expect((await cli(['initialize', '--mirror', repo.url, '--root', 'root.json'], { cwd: dir, env })).code).toBe(0)
    repo.rotateRoot({ signers: [] })
    const r = await cli(['initialize', '--mirror', repo.url, '--root', 'root.json'], { cwd: dir, env })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/signed by|signature/)
  })
})

describe('trust material without initialize', () => {
  it('falls back to the embedded root, saying so, when there is no TUF cache and the mirror is out of reach', async () => {
    const r = await cli(verifyArgs(), { cwd: dir, env: { TUF_ROOT: join(dir, 'empty'), ...NO_NETWORK } })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain('WARNING: no TUF cache in')
    expect(r.stderr).toContain('using the Sigstore public-good trusted root embedded in countersign')
  })

  it('fails closed when a TUF cache exists but has expired and the mirror is down', async () => {
    repo.setTarget('trusted_root.json', PUBLIC_GOOD_TRUSTED_ROOT_JSON)
    repo.publish({ expiresInMs: { timestamp: TIMESTAMP_LIFETIME_MS } })
    expect((await cli(['initialize', '--mirror', repo.url, '--root', 'root.json'], { cwd: dir, env })).code).toBe(0)
    repo.setDown(true)
    await new Promise((r) => setTimeout(r, TIMESTAMP_LIFETIME_MS + 100))
    const r = await cli(verifyArgs(), { cwd: dir, env })
    expect(r.code).toBe(1)
    expect(r.stderr).not.toContain('embedded')
  })

  it('--offline never downloads: a current cache serves, an expired one is refused', async () => {
    repo.setTarget('trusted_root.json', PUBLIC_GOOD_TRUSTED_ROOT_JSON)
    repo.publish({ expiresInMs: { timestamp: TIMESTAMP_LIFETIME_MS } })
    expect((await cli(['initialize', '--mirror', repo.url, '--root', 'root.json'], { cwd: dir, env })).code).toBe(0)
    const before = repo.requests.length
    const fresh = await cli([...verifyArgs().slice(0, -1), '--offline', 'artifact'], { cwd: dir, env })
    expect(fresh.code, fresh.stderr).toBe(0)
    await new Promise((r) => setTimeout(r, TIMESTAMP_LIFETIME_MS + 100))
    const expired = await cli([...verifyArgs().slice(0, -1), '--offline', 'artifact'], { cwd: dir, env })
    expect(expired.code).toBe(1)
    expect(expired.stderr).toMatch(/expired|offline/)
    expect(repo.requests.length).toBe(before)
  })

  it('COUNTERSIGN_TUF_OFFLINE=1 serves a current cache with the mirror down', async () => {
    repo.setTarget('trusted_root.json', PUBLIC_GOOD_TRUSTED_ROOT_JSON)
    repo.publish()
    expect((await cli(['initialize', '--mirror', repo.url, '--root', 'root.json'], { cwd: dir, env })).code).toBe(0)
    repo.setDown(true)
    const before = repo.requests.length
    const r = await cli(verifyArgs(), { cwd: dir, env: { ...env, COUNTERSIGN_TUF_OFFLINE: '1' } })
    expect(r.code, r.stderr).toBe(0)
    expect(repo.requests.length).toBe(before)
  })
})

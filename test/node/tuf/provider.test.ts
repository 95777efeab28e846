/**
 * The TUF trust provider against a real TUF repository served over loopback HTTP (test/support/tuf-repo.ts writes
 * it from the TUF specification, independently of tuf-js). Scenarios follow tuf-conformance's client tests: root
 * rotation with threshold changes, rollback, freeze, mismatching targets, under-signed roots, mirror down.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CountersignError } from '../../../src/errors.js'
import { createTUFTrustProvider, type TUFTrustProviderOptions } from '../../../src/node/tuf/provider.js'
import { PUBLIC_GOOD_TRUSTED_ROOT_JSON } from '../../../src/trust/public-good.js'
import { newKey, startTUFRepository, type TestTUFRepository } from '../../support/tuf-repo.js'

/** The public-good trusted root with one more Rekor log (a "new shard"). */
function rootWithExtraLog(): string {
  const root = JSON.parse(PUBLIC_GOOD_TRUSTED_ROOT_JSON)
  const extra = structuredClone(root.tlogs[1])
  extra.baseUrl = 'https://log2026-1.rekor.example'
  root.tlogs.push(extra)
  return JSON.stringify(root)
}

let repo: TestTUFRepository
let cacheDir: string

beforeEach(async () => {
  repo = await startTUFRepository()
  repo.setTarget('trusted_root.json', PUBLIC_GOOD_TRUSTED_ROOT_JSON)
  repo.publish()
  cacheDir = mkdtempSync(join(tmpdir(), 'countersign-tuf-'))
})
afterEach(async () => {
  await repo.stop()
  rmSync(cacheDir, { recursive: true, force: true })
})

const provider = (extra: Partial<TUFTrustProviderOptions> = {}) =>
  createTUFTrustProvider({ mirror: repo.url, root: repo.rootBytes(1), cacheDir, ...extra })

async function failure(p: Promise<unknown>): Promise<CountersignError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(CountersignError)
    return e as CountersignError
  }
  throw new Error('expected a failure')
}

describe('TUF trust provider', () => {
  it('loads the trusted root from the repository and caches it per mirror', async () => {
    const trust = await provider().load()
    expect(trust.refreshed).toBe(true)
    expect(trust.trustedRoot.tlogs.map((t) => t.baseUrl)).toContain('https://rekor.sigstore.dev')
    expect(trust.signingConfig).toBeUndefined()
    expect(trust.rootVersion).toBe(1)
    expect(trust.targets.map((t) => t.name)).toEqual(['trusted_root.json'])
    const [folder] = readdirSync(cacheDir)
    expect(folder).toBe(`127.0.0.1-${new URL(repo.url).port}`)
    const files = readdirSync(join(cacheDir, folder!)).sort()
    expect(files).toEqual(['root.json', 'snapshot.json', 'targets', 'targets.json', 'timestamp.json'])
    expect(readdirSync(join(cacheDir, folder!, 'targets'))).toEqual(['trusted_root.json'])
  })

  it('serves from the cache while the timestamp is current: no network call', async () => {
    await provider().load()
    const before = repo.requests.length
    const again = await provider().load()
    expect(again.refreshed).toBe(false)
    expect(repo.requests.length).toBe(before)
  })

  it('keeps working from a valid cache when the mirror is down', async () => {
    await provider().load()
    repo.setDown(true)
    const trust = await provider().load()
    expect(trust.trustedRoot.tlogs.length).toBeGreaterThan(0)
  })

  it('refuses with ERR_TUF_UNAVAILABLE when the mirror is down and nothing is cached', async () => {
    repo.setDown(true)
    const e = await failure(provider().load())
    expect(e.code).toBe('ERR_TUF_UNAVAILABLE')
  })

  it('follows root rotations v1 → v2 → v3 with threshold changes', async () => {
    const [a, b, c] = [newKey(), newKey(), newKey()]
    repo.rotateRoot({ keys: { root: [a, b] }, thresholds: { root: 2 } })
    repo.rotateRoot({ keys: { root: [b, c], timestamp: [newKey()] }, thresholds: { root: 2 } })
    repo.publish()
    const trust = await provider().load()
    expect(trust.rootVersion).toBe(3)
  })

  it('refuses a new root signed below its threshold (ERR_TUF_THRESHOLD)', async () => {
    const [a, b] = [newKey(), newKey()]
    const old = repo.keys.root.slice()
    repo.rotateRoot({ keys: { root: [a, b] }, thresholds: { root: 2 }, signers: [...old, a] })
    const e = await failure(provider().load())
    expect(e.code).toBe('ERR_TUF_THRESHOLD')
  })

  it('picks up a new trusted_root.json target once the cached timestamp expires', async () => {
    repo.publish({ expiresInMs: { timestamp: 1500 } })
    const first = await provider().load()
    expect(first.trustedRoot.tlogs).toHaveLength(2)
    repo.setTarget('trusted_root.json', rootWithExtraLog())
    repo.publish()
    // Still current: the cached root is served without asking.
    expect((await provider().load()).trustedRoot.tlogs).toHaveLength(2)
    await new Promise((r) => setTimeout(r, 1600))
    const next = await provider().load()
    expect(next.refreshed).toBe(true)
    expect(next.trustedRoot.tlogs.map((t) => t.baseUrl)).toContain('https://log2026-1.rekor.example')
  })

  it('refuses a rollback of the timestamp (ERR_TUF_ROLLBACK)', async () => {
    repo.publish()
    repo.publish()
    await provider().load()
    repo.publish({ versions: { timestamp: 1 } })
    const e = await failure(provider().load({ refresh: true }))
    expect(e.code).toBe('ERR_TUF_ROLLBACK')
  })

  it('refuses a freeze: the newest timestamp has expired (ERR_TUF_EXPIRED)', async () => {
    repo.publish({ expiresInMs: { timestamp: -60_000 } })
    const e = await failure(provider().load())
    expect(e.code).toBe('ERR_TUF_EXPIRED')
    expect(e.message).toMatch(/expired/)
  })

  it('refuses a target whose bytes differ from the signed hash (ERR_TUF_TARGET_MISMATCH)', async () => {
    const path = repo.requests.length // publication already served nothing
    expect(path).toBe(0)
    const tampered = new TextEncoder().encode(rootWithExtraLog())
    // Serve other bytes under the published hash-prefixed name.
    const published = new TextEncoder().encode(PUBLIC_GOOD_TRUSTED_ROOT_JSON)
    const digest = Buffer.from(await crypto.subtle.digest('SHA-256', published)).toString('hex')
    repo.override(`/targets/${digest}.trusted_root.json`, tampered)
    const e = await failure(provider().load())
    expect(e.code).toBe('ERR_TUF_TARGET_MISMATCH')
  })

  it('offline: serves the cache without any download, and refuses without one', async () => {
    await provider().load()
    const before = repo.requests.length
    expect((await provider({ offline: true }).load()).refreshed).toBe(false)
    expect(repo.requests.length).toBe(before)
    rmSync(cacheDir, { recursive: true, force: true })
    const e = await failure(provider({ offline: true }).load())
    expect(e.code).toBe('ERR_TUF_UNAVAILABLE')
  })

  it('refuses a mirror without a root to start from', async () => {
    const e = await failure(createTUFTrustProvider({ mirror: repo.url, cacheDir }).load())
    expect(e.code).toBe('ERR_TUF_UNAVAILABLE')
    expect(e.message).toContain('initialize')
  })

  it('recovers from a corrupted cached target by downloading it again', async () => {
    const p = provider()
    await p.load()
    const target = join(p.cacheDir, 'targets', 'trusted_root.json')
    writeFileSync(target, 'garbage')
    const trust = await provider().load()
    expect(trust.trustedRoot.tlogs).toHaveLength(2)
    expect(readFileSync(target, 'utf8')).toBe(PUBLIC_GOOD_TRUSTED_ROOT_JSON)
    expect(existsSync(join(p.cacheDir, 'root.json'))).toBe(true)
  })
})

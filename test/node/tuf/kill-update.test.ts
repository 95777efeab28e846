/**
 * A process killed in the middle of a TUF update leaves a cache that the next run reads: every metadata file and
 * target is whole (each is written to a temporary name and renamed), and the next load succeeds. The child refreshes
 * in a loop while the repository keeps publishing new metadata and a 1 MB target, and is killed at random moments.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTUFTrustProvider } from '../../../src/node/tuf/provider.js'
import { PUBLIC_GOOD_TRUSTED_ROOT_JSON } from '../../../src/trust/public-good.js'
import { startTUFRepository, type TestTUFRepository } from '../../support/tuf-repo.js'

const root = resolve(import.meta.dirname, '../../..')
const tsx = pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href
const child = join(import.meta.dirname, 'fixtures/update-loop.ts')

/** The trusted root padded to about 1 MB (JSON whitespace), distinct per publication. */
function bigRoot(n: number): string {
  return `${PUBLIC_GOOD_TRUSTED_ROOT_JSON.slice(0, -1)}${' '.repeat(1_000_000 + n)}}`
}

let repo: TestTUFRepository
let dir: string
beforeAll(async () => {
  repo = await startTUFRepository()
  repo.setTarget('trusted_root.json', bigRoot(0))
  repo.publish()
  dir = mkdtempSync(join(tmpdir(), 'countersign-tuf-kill-'))
  writeFileSync(join(dir, 'root-v1.json'), repo.rootBytes(1))
})
afterAll(async () => {
  await repo.stop()
  rmSync(dir, { recursive: true, force: true })
})

function allCacheFilesWhole(cacheDir: string): void {
  for (const [folder] of [[cacheDir]]) {
    for (const name of readdirSync(folder!, { recursive: true }) as string[]) {
      const path = join(folder!, name)
      if (!name.endsWith('.json')) continue
      // Metadata and the trusted root are JSON: a half-written file would not parse.
      expect(() => JSON.parse(readFileSync(path, 'utf8')), path).not.toThrow()
    }
  }
}

describe('TUF cache survives a killed update', () => {
  it('is whole after each of 12 kills, and the next load succeeds', async () => {
    const cacheDir = join(dir, 'cache')
    let published = 0
    const publisher = setInterval(() => {
      repo.setTarget('trusted_root.json', bigRoot(++published))
      repo.publish()
    }, 15)
    try {
      for (let i = 0; i < 12; i++) {
        const proc = spawn(process.execPath, ['--import', tsx, child, repo.url, cacheDir, join(dir, 'root-v1.json')], {
          stdio: ['ignore', 'pipe', 'inherit'],
        })
        await new Promise<void>((ready) => proc.stdout.once('data', () => ready()))
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 250))
        const exited = new Promise((r) => proc.once('exit', r))
        proc.kill('SIGKILL')
        await exited
        const [mirrorFolder] = readdirSync(cacheDir)
        allCacheFilesWhole(join(cacheDir, mirrorFolder!))
      }
    } finally {
      clearInterval(publisher)
    }
    const trust = await createTUFTrustProvider({ mirror: repo.url, cacheDir }).load({ refresh: true })
    expect(trust.trustedRoot.tlogs.length).toBe(2)
    expect(published).toBeGreaterThan(10)
  }, 120_000)
})

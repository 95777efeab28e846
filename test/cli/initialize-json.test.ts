/**
 * `countersign initialize -o json` (docs/cli-output.md) against a TUF repository served over loopback
 * (test/support/tuf-repo.ts): the mirror, the cache folder, the root version and expiry, every target with its size
 * and digest as published, the trusted root's logs and authorities, and whether a signing config is published; the
 * text output is unchanged without the flag. HTTPS_PROXY points at a closed port, so nothing beyond loopback is used.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PUBLIC_GOOD_TRUSTED_ROOT_JSON } from '../../src/trust/public-good.js'
import { PUBLIC_GOOD_SIGNING_CONFIG_JSON } from '../../src/trust/public-good-signing-config.js'
import { cli } from '../support/cli.js'
import { startTUFRepository, type TestTUFRepository } from '../support/tuf-repo.js'

const NO_NETWORK = { HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1' }

let repo: TestTUFRepository
let dir: string
let env: Record<string, string>

beforeEach(async () => {
  repo = await startTUFRepository()
  dir = mkdtempSync(join(tmpdir(), 'countersign-init-json-'))
  writeFileSync(join(dir, 'root.json'), repo.rootBytes(1))
  env = { TUF_ROOT: join(dir, 'tuf'), ...NO_NETWORK }
})
afterEach(async () => {
  await repo.stop()
  rmSync(dir, { recursive: true, force: true })
})

const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`
const initialize = (...extra: string[]) =>
  cli(['initialize', '--mirror', repo.url, '--root', 'root.json', ...extra], { cwd: dir, env })

describe('initialize -o json', () => {
  it('reports what the text prints, with the lists the text counts', async () => {
    const root = JSON.parse(PUBLIC_GOOD_TRUSTED_ROOT_JSON)
    repo.setTarget('trusted_root.json', PUBLIC_GOOD_TRUSTED_ROOT_JSON)
    repo.publish()

    const text = await initialize()
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toContain(`TUF repository: ${repo.url}`)
    const rootExpires = /root: version 1, expires (\S+)/.exec(text.stdout)?.[1]
    const timestampExpires = /timestamp: expires (\S+)/.exec(text.stdout)?.[1]
    expect(rootExpires).toMatch(/^\d{4}-\d\d-\d\dT/)

    const r = await initialize('-o', 'json')
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report).toEqual({
      mirror: repo.url,
      cache: join(dir, 'tuf', `127.0.0.1-${new URL(repo.url).port}`),
      root: { version: 1, expires: rootExpires },
      timestamp: { expires: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) },
      targets: [
        {
          name: 'trusted_root.json',
          size: Buffer.byteLength(PUBLIC_GOOD_TRUSTED_ROOT_JSON),
          digest: digestOf(PUBLIC_GOOD_TRUSTED_ROOT_JSON),
        },
      ],
      trustedRoot: {
        tlogs: root.tlogs.map((l: { baseUrl: string }) => l.baseUrl),
        certificateAuthorities: root.certificateAuthorities.map((c: { uri: string }) => c.uri),
        ctlogs: root.ctlogs.map((l: { baseUrl: string }) => l.baseUrl),
        timestampAuthorities: root.timestampAuthorities.map((t: { uri: string }) => t.uri),
      },
      signingConfig: false,
    })
    // The same metadata both times: the timestamp's expiry is the one the text printed.
    expect(report.timestamp.expires).toBe(timestampExpires)
    expect(report.trustedRoot.tlogs).toContain('https://rekor.sigstore.dev')
    // Nothing but the document on stdout.
    expect(r.stdout.endsWith('}\n')).toBe(true)
  })

  it('a published signing config is reported, and listed among the targets', async () => {
    repo.setTarget('trusted_root.json', PUBLIC_GOOD_TRUSTED_ROOT_JSON)
    repo.setTarget('signing_config.v0.2.json', PUBLIC_GOOD_SIGNING_CONFIG_JSON)
    repo.publish()
    const r = await initialize('--output=json')
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.signingConfig).toBe(true)
    expect(report.targets).toContainEqual({
      name: 'signing_config.v0.2.json',
      size: Buffer.byteLength(PUBLIC_GOOD_SIGNING_CONFIG_JSON),
      digest: digestOf(PUBLIC_GOOD_SIGNING_CONFIG_JSON),
    })
  })

  it('an unknown format is refused before the cache is touched', async () => {
    repo.setTarget('trusted_root.json', PUBLIC_GOOD_TRUSTED_ROOT_JSON)
    repo.publish()
    const r = await initialize('-o', 'yaml')
    expect(r.code).not.toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('unsupported output format: yaml')
    expect(repo.requests).toEqual([])
  })
})

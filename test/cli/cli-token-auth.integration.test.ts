import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { startTokenServer, type TokenServer } from '../support/bearer.js'
import { cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

const env = { COSIGN_PASSWORD: 'pw' }

describe('CLI sign/verify against docker-registry behind a token server (Bearer auth)', () => {
  let dir: string
  let tokens: TokenServer
  let reg: TestRegistry
  const user = { username: 'carol', password: 'c4rol-pass' }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cs-cli-token-'))
    tokens = await startTokenServer({ dir, ...user, grants: { 'team/readonly': ['pull'] } })
    reg = await startRegistry({ token: tokens })
    mkdirSync(join(dir, '.docker'))
    writeFileSync(
      join(dir, '.docker', 'config.json'),
      JSON.stringify({
        auths: { [reg.host]: { auth: Buffer.from(`${user.username}:${user.password}`).toString('base64') } },
      }),
    )
    await pushTinyImage(
      createRegistryClient({ credentials: async () => user }),
      parseReference(`${reg.host}/team/app:v1`),
    )
    expect((await cli(['generate-key-pair'], { cwd: dir, env })).code).toBe(0)
  })
  afterAll(async () => {
    await reg?.stop()
    await tokens?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  for (const format of ['bundle', 'legacy']) {
    it(`${format} form: signs and verifies with tokens for the right scopes`, async () => {
      const image = `${reg.host}/team/app:v1`
      const s = await cli(
        ['sign', '--key', 'cosign.key', '--tlog-upload=false', `--new-bundle-format=${format === 'bundle'}`, image],
        {
          cwd: dir,
          env,
        },
      )
      expect(s.code, s.stderr).toBe(0)
      const v = await cli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', image], { cwd: dir, env })
      expect(v.code, v.stderr).toBe(0)
      const scopes = tokens.requests.flatMap((r) => r.scopes)
      expect(scopes).toContain('repository:team/app:pull,push')
      expect(scopes).toContain('repository:team/app:pull')
    })
  }

  it('signing into a repository the identity may only pull from fails clearly (exit 1)', async () => {
    const r = await cli(['sign', '--key', 'cosign.key', '--tlog-upload=false', `${reg.host}/team/app:v1`], {
      cwd: dir,
      env: { ...env, COSIGN_REPOSITORY: `${reg.host}/team/readonly` },
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/unauthorized|denied/i)
    expect(r.stderr).not.toContain(user.password)
  })
})

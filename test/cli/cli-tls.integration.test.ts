import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyImage } from '../../src/image/verify.js'
import { parsePublicKey } from '../../src/keys/index.js'
import { createNodeFetch } from '../../src/node/fetch.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

const env = { COSIGN_PASSWORD: 'pw' }

describe('registry over HTTPS with a self-signed certificate', () => {
  let reg: TestRegistry
  let dir: string
  let image: string

  beforeAll(async () => {
    reg = await startRegistry({ tls: { address: '127.0.0.2' } })
    dir = mkdtempSync(join(tmpdir(), 'cs-tls-'))
    const client = createRegistryClient({ fetch: createNodeFetch({ caFile: join(reg.dir, 'tls.crt') }) })
    await pushTinyImage(client, parseReference(`${reg.host}/tls/app:v1`), 'tls')
    image = `${reg.host}/tls/app:v1`
    expect((await cli(['generate-key-pair'], { cwd: dir, env })).code).toBe(0)
  })
  afterAll(async () => {
    await reg?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('refuses an untrusted certificate by default (ERR_NETWORK, exit 1)', async () => {
    const r = await cli(['sign', '--key', 'cosign.key', '--tlog-upload=false', image], { cwd: dir, env })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/could not connect.*self-signed certificate/)
  })

  it('signs and verifies with --allow-insecure-registry', async () => {
    const s = await cli(['sign', '--key', 'cosign.key', '--tlog-upload=false', '--allow-insecure-registry', image], {
      cwd: dir,
      env,
    })
    expect(s.code, s.stderr).toBe(0)
    const v = await cli(
      ['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', '--allow-insecure-registry', image],
      {
        cwd: dir,
        env,
      },
    )
    expect(v.code, v.stderr).toBe(0)
  })

  it('verifies through the library when the CA is trusted explicitly', async () => {
    const store = createRegistryClient({ fetch: createNodeFetch({ caFile: join(reg.dir, 'tls.crt') }) })
    const key = parsePublicKey(readFileSync(join(dir, 'cosign.pub'), 'utf8'))
    const result = await verifyImage(parseReference(image), { store, keys: [key], insecureIgnoreTlog: true })
    expect(result.verified).toHaveLength(1)
  })
})

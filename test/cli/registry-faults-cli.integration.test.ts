/**
 * The CLI through a fault-injecting proxy in front of a real docker-registry: a sign whose final write landed is a
 * success, and a verify the registry failed to serve exits 1 with the network error, never 10/11/12
 * (docs/formats.md §Registry failures).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'
import { type Fault, type ProxiedRequest, startProxy, type TestProxy } from '../support/proxy.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

const env = { COSIGN_PASSWORD: 'pw' }
const isBlobGet = (r: ProxiedRequest) => r.method === 'GET' && r.path.includes('/blobs/sha256:')

describe.each(['legacy', 'bundle'] as const)('CLI through a faulty proxy (%s form)', (format) => {
  let reg: TestRegistry
  let proxy: TestProxy
  let fault: ((r: ProxiedRequest) => Fault | undefined) | undefined
  let dir: string
  let image: string
  let hex: string
  const run = (args: string[]) => cli(args, { cwd: dir, env })
  const verify = () => run(['verify', '--key', 'k.pub', '--insecure-ignore-tlog', image])

  beforeAll(async () => {
    reg = await startRegistry()
    proxy = await startProxy({ target: reg.url, fault: (r) => fault?.(r) })
    dir = mkdtempSync(join(tmpdir(), 'cs-cli-faults-'))
    const digest = await pushTinyImage(createRegistryClient(), parseReference(`${reg.host}/faults/app:v1`), format)
    hex = digest.slice(7)
    image = `${proxy.host}/faults/app@${digest}`
    expect((await run(['generate-key-pair', '--output-key-prefix', 'k'])).code).toBe(0)
  })
  afterAll(async () => {
    await proxy?.stop()
    await reg?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })
  afterEach(() => {
    fault = undefined
  })

  it('sign: the final write lands but every answer to it is lost → exit 0 with a warning, and it verifies', async () => {
    const final = format === 'legacy' ? `/manifests/sha256-${hex}.sig` : `/manifests/sha256-${hex}`
    fault = (r) => (r.method === 'PUT' && r.path.endsWith(final) ? { kind: 'lose-response' } : undefined)
    const signed = await run([
      'sign',
      '--key',
      'k.key',
      '--tlog-upload=false',
      `--new-bundle-format=${format === 'bundle'}`,
      image,
    ])
    expect(signed.code, signed.stderr).toBe(0)
    expect(signed.stderr).toMatch(/WARNING: the registry failed .*(so the write succeeded|so it is stored)/)
    fault = undefined
    const v = await verify()
    expect(v.code, v.stderr).toBe(0)
  })

  it('verify: one GET body cut off per request → retried, exit 0', async () => {
    const broken = new Set<string>()
    fault = (r) => {
      if (r.method !== 'GET' || broken.has(r.path)) return undefined
      broken.add(r.path)
      return { kind: 'reset-response', afterBytes: 5 }
    }
    const v = await verify()
    expect(v.code, v.stderr).toBe(0)
    expect(broken.size).toBeGreaterThan(0)
  })

  it('verify: the signature payload reset on every try → exit 1 with ERR_NETWORK, not 12', async () => {
    fault = (r) => (isBlobGet(r) ? { kind: 'reset-response', afterBytes: 5 } : undefined)
    const v = await verify()
    expect(v.code).toBe(1)
    expect(v.stderr).toMatch(/^Error: GET blob .*the connection broke while reading the blob/m)
    expect(v.stderr).not.toContain('no matching signatures')
  })

  it('verify: the payload cut short (no Content-Length) on every try → exit 1, not 12', async () => {
    fault = (r) => (isBlobGet(r) ? { kind: 'truncate-response', afterBytes: 5 } : undefined)
    const v = await verify()
    expect(v.code).toBe(1)
    expect(v.stderr).toContain('the body was cut short')
  })

  it('verify: 503 for the payload after every retry → exit 1', async () => {
    fault = (r) => (isBlobGet(r) ? { kind: 'respond', status: 503 } : undefined)
    const v = await verify()
    expect(v.code).toBe(1)
    expect(v.stderr).toContain('failed with HTTP 503')
  })

  it('verify: a payload whose bytes really differ is still judged: 12 (legacy layer) / 10 (bundle skipped)', async () => {
    fault = (r) => (isBlobGet(r) ? { kind: 'corrupt' } : undefined)
    const v = await verify()
    expect(v.code, v.stderr).toBe(format === 'legacy' ? 12 : 10)
  })
})

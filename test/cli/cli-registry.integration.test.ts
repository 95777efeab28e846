import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signImage } from '../../src/image/sign.js'
import { generateKeyPair } from '../../src/keys/index.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

const env = { COSIGN_PASSWORD: 'pw' }

async function pushImage(host: string, repo: string, tag: string, text: string, auth?: string): Promise<string> {
  const [username = '', password = ''] = auth?.split(':') ?? []
  const client = createRegistryClient(auth ? { credentials: async () => ({ username, password }) } : {})
  return pushTinyImage(client, parseReference(`${host}/${repo}:${tag}`), text)
}

function requestCount(stderr: string): number {
  const m = /(\d+) registry requests/.exec(stderr)
  if (!m) throw new Error(`no request count in: ${stderr}`)
  return Number(m[1])
}

const basic = { username: 'alice', password: 's3cret-pw' }
describe.each([
  { name: 'anonymous, bundle form', auth: undefined, format: 'bundle' },
  { name: 'htpasswd basic auth, bundle form', auth: basic, format: 'bundle' },
  { name: 'anonymous, legacy .sig', auth: undefined, format: 'legacy' },
  { name: 'htpasswd basic auth, legacy .sig', auth: basic, format: 'legacy' },
])('CLI sign/verify against a real docker-registry ($name)', ({ auth, format }) => {
  const formatFlag = `--new-bundle-format=${format === 'bundle'}`
  const label = `[${format}, ${auth ? 'basic' : 'anonymous'}]`
  let reg: TestRegistry
  let dir: string
  let digest: string
  let image: string
  const creds = auth ? `${auth.username}:${auth.password}` : undefined

  beforeAll(async () => {
    reg = await startRegistry(auth ? { auth } : {})
    dir = mkdtempSync(join(tmpdir(), 'cs-cli-reg-'))
    if (creds) {
      mkdirSync(join(dir, '.docker'))
      writeFileSync(
        join(dir, '.docker', 'config.json'),
        JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(creds).toString('base64') } } }),
      )
    }
    digest = await pushImage(reg.host, 'team/app', 'v1', 'hello', creds)
    image = `${reg.host}/team/app:v1`
    for (const prefix of ['a', 'b', 'c']) {
      const r = await cli(['generate-key-pair', '--output-key-prefix', prefix], { cwd: dir, env })
      expect(r.code).toBe(0)
    }
  })
  afterAll(async () => {
    await reg?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('signs, appends a second signature, and verifies with each key', async () => {
    const first = await cli(
      ['sign', '-d', '--key', 'a.key', '--tlog-upload=false', formatFlag, '-a', 'env=prod', image],
      {
        cwd: dir,
        env,
      },
    )
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).toContain(
      format === 'legacy'
        ? `Pushing signature to: ${reg.host}/team/app:sha256-${digest.slice(7)}.sig`
        : `Pushing signature to: ${reg.host}/team/app@sha256:`,
    )
    const second = await cli(['sign', '-d', '--key', 'b.key', '--tlog-upload=false', formatFlag, image], {
      cwd: dir,
      env,
    })
    expect(second.code, second.stderr).toBe(0)
    console.log(
      `${label} HTTP requests: first sign ${requestCount(first.stderr)}, second sign ${requestCount(second.stderr)}`,
    )

    for (const key of ['a.pub', 'b.pub']) {
      const r = await cli(['verify', '-d', '--key', key, '--insecure-ignore-tlog', image], { cwd: dir, env })
      expect(r.code, r.stderr).toBe(0)
      const out = JSON.parse(r.stdout)
      expect(out).toHaveLength(1)
      expect(out[0].critical.identity['docker-reference']).toBe(
        format === 'legacy' ? `${reg.host}/team/app` : `${reg.host}/team/app:v1`,
      )
      expect(out[0].critical.type).toBe(
        format === 'legacy' ? 'cosign container image signature' : 'https://sigstore.dev/cosign/sign/v1',
      )
      expect(out[0].critical.image['docker-manifest-digest']).toBe(digest)
      if (key === 'a.pub') console.log(`${label} HTTP requests: verify ${requestCount(r.stderr)}`)
    }
    const both = await cli(['verify', '--key', 'a.pub,b.pub', '--insecure-ignore-tlog', image], { cwd: dir, env })
    expect(JSON.parse(both.stdout)).toHaveLength(2)
  })

  it('signing again with the same key and annotations: legacy dedupes, bundle adds a referrer', async () => {
    const r = await cli(['sign', '--key', 'a.key', '--tlog-upload=false', formatFlag, '-a', 'env=prod', image], {
      cwd: dir,
      env,
    })
    expect(r.code).toBe(0)
    if (format === 'legacy') expect(r.stderr).toContain('Signature already present')
    const v = await cli(['verify', '--key', 'a.pub,b.pub', '--insecure-ignore-tlog', image], { cwd: dir, env })
    expect(JSON.parse(v.stdout)).toHaveLength(format === 'legacy' ? 2 : 3)
  })

  it('exit 12 for a wrong key, 10 for an unsigned image, 11 for a missing tag, 12 for a missing annotation', async () => {
    const wrong = await cli(['verify', '--key', 'c.pub', '--insecure-ignore-tlog', image], { cwd: dir, env })
    expect(wrong.code).toBe(12)
    expect(wrong.stderr).toMatch(/^Error: no matching signatures: /)
    await pushImage(reg.host, 'team/app', 'unsigned', 'not signed', creds)
    const unsigned = await cli(
      ['verify', '--key', 'a.pub', '--insecure-ignore-tlog', `${reg.host}/team/app:unsigned`],
      {
        cwd: dir,
        env,
      },
    )
    expect(unsigned.code).toBe(10)
    const missing = await cli(['verify', '--key', 'a.pub', '--insecure-ignore-tlog', `${reg.host}/team/app:missing`], {
      cwd: dir,
      env,
    })
    expect(missing.code).toBe(11)
    expect(missing.stderr).toContain('image tag not found')
    const ann = await cli(['verify', '--key', 'a.pub', '--insecure-ignore-tlog', '-a', 'env=dev', image], {
      cwd: dir,
      env,
    })
    expect(ann.code).toBe(12)
    expect(ann.stderr).toContain('missing or incorrect annotation')
    const annB = await cli(['verify', '--key', 'b.pub', '--insecure-ignore-tlog', '-a', 'env=prod', image], {
      cwd: dir,
      env,
    })
    expect(annB.code).toBe(12)
  })

  it('COSIGN_REPOSITORY keeps signatures in another repository', async () => {
    const withRepo = { ...env, COSIGN_REPOSITORY: `${reg.host}/sigs/store` }
    const s = await cli(['sign', '--key', 'c.key', '--tlog-upload=false', formatFlag, image], {
      cwd: dir,
      env: withRepo,
    })
    expect(s.code, s.stderr).toBe(0)
    expect(s.stderr).toContain(`${reg.host}/sigs/store${format === 'legacy' ? ':sha256-' : '@sha256:'}`)
    expect(
      (await cli(['verify', '--key', 'c.pub', '--insecure-ignore-tlog', image], { cwd: dir, env: withRepo })).code,
    ).toBe(0)
    // Not in the image's own repository.
    expect((await cli(['verify', '--key', 'c.pub', '--insecure-ignore-tlog', image], { cwd: dir, env })).code).toBe(12)
  })

  if (auth) {
    it('--registry-username/--registry-password authenticate without any config file', async () => {
      const bare = mkdtempSync(join(tmpdir(), 'cs-cli-flags-'))
      const args = ['verify', '--key', join(dir, 'a.pub'), '--insecure-ignore-tlog', image]
      const without = await cli(args, { cwd: bare, env })
      expect(without.code).toBe(1)
      const withFlags = await cli(
        [...args, '--registry-username', auth.username, '--registry-password', auth.password],
        { cwd: bare, env },
      )
      expect(withFlags.code, withFlags.stderr).toBe(0)
      const half = await cli([...args, '--registry-username', auth.username], { cwd: bare, env })
      expect(half.stderr).toContain('--registry-username and --registry-password go together')
      rmSync(bare, { recursive: true, force: true })
    })

    it('fails with a clear error and without leaking the password when credentials are wrong', async () => {
      const bad = mkdtempSync(join(tmpdir(), 'cs-cli-bad-'))
      mkdirSync(join(bad, '.docker'))
      writeFileSync(
        join(bad, '.docker', 'config.json'),
        JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('alice:wrong-pw').toString('base64') } } }),
      )
      const r = await cli(['verify', '--key', join(dir, 'a.pub'), '--insecure-ignore-tlog', image], { cwd: bad, env })
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/unauthorized|denied|authentication/i)
      expect(r.stderr).not.toContain('wrong-pw')
      rmSync(bad, { recursive: true, force: true })
    })
  }
})

describe('hostile registry responses while signing', () => {
  let reg: TestRegistry
  beforeAll(async () => {
    reg = await startRegistry()
  })
  afterAll(async () => {
    await reg?.stop()
  })

  it.each([
    ['a .sig manifest whose bytes do not match its digest', 'ERR_OCI_DIGEST_MISMATCH'],
    ['a .sig manifest larger than 4 MiB', 'ERR_OCI_SIZE_LIMIT'],
  ])('rejects %s, and nothing is written', async (_, code) => {
    const digest = await pushImage(reg.host, 'hostile/app', 'v1', `x ${code}`)
    const ref = parseReference(`${reg.host}/hostile/app:v1`)
    const honest = createRegistryClient()
    const key = await generateKeyPair()
    const first = await signImage(ref, createKeySigner(key), { store: honest, tlogUpload: false, format: 'legacy' })
    // A man in the middle rewrites the .sig manifest response.
    const hostileFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init)
      const url = String(input instanceof Request ? input.url : input)
      if ((init?.method ?? 'GET') !== 'GET' || !url.includes('/manifests/sha256-')) return res
      const body = new Uint8Array(await res.arrayBuffer())
      if (code === 'ERR_OCI_DIGEST_MISMATCH') {
        body[body.length - 2] = 0x20
        return new Response(body, { status: 200, headers: res.headers })
      }
      const huge = new Uint8Array(5 * 1024 * 1024).fill(0x20)
      huge.set(body)
      return new Response(huge, { status: 200, headers: { 'content-type': res.headers.get('content-type') ?? '' } })
    }
    const hostile = createRegistryClient({ fetch: hostileFetch })
    await expect(
      signImage(ref, createKeySigner(await generateKeyPair()), { store: hostile, tlogUpload: false, format: 'legacy' }),
    ).rejects.toMatchObject({ code })
    const after = await honest.resolve({ ...ref, tag: `sha256-${digest.slice(7)}.sig` })
    expect(after.digest).toBe(first.signatureManifestDigest)
  })
})

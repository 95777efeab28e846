import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openLayout } from '../../src/node/layout-fs.js'
import { cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'

let dir: string
const env = { COSIGN_PASSWORD: 'correct horse' }

async function writeImage(layout: string, tag: string, text: string): Promise<string> {
  return pushTinyImage(openLayout(layout, { create: true }), { registry: 'localhost', repository: 'x', tag }, text)
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cs-cli-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('CLI on an OCI layout', () => {
  let digest: string

  it('generate-key-pair writes cosign.key 0600 + cosign.pub and refuses to overwrite', async () => {
    const r = await cli(['generate-key-pair'], { cwd: dir, env })
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('Private key written to')
    expect(statSync(join(dir, 'cosign.key')).mode & 0o777).toBe(0o600)
    expect(readFileSync(join(dir, 'cosign.key'), 'utf8')).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/)
    const before = readFileSync(join(dir, 'cosign.key'))
    const again = await cli(['generate-key-pair'], { cwd: dir, env })
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/cosign\.key/)
    expect(readFileSync(join(dir, 'cosign.key')).equals(before)).toBe(true)
  })

  it('public-key prints the same public key as cosign.pub', async () => {
    const r = await cli(['public-key', '--key', 'cosign.key'], { cwd: dir, env })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(readFileSync(join(dir, 'cosign.pub'), 'utf8'))
  })

  it('public-key with a wrong password fails cleanly without echoing the password', async () => {
    const r = await cli(['public-key', '--key', 'cosign.key'], { cwd: dir, env: { COSIGN_PASSWORD: 'nope-secret' } })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/decrypt/i)
    expect(r.stderr + r.stdout).not.toContain('nope-secret')
  })

  it('sign uploads to the transparency log by default (an unreachable log fails it), then signs oci:DIR:tag', async () => {
    digest = await writeImage(join(dir, 'img'), 'v1', 'hello')
    // A closed port stands in for the log, so the test never publishes to the public one.
    const refused = await cli(['sign', '--key', 'cosign.key', '--rekor-url', 'http://127.0.0.1:9', 'oci:img:v1'], {
      cwd: dir,
      env,
    })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/POST http:\/\/127\.0\.0\.1:9\/api\/v1\/log\/entries failed/)
    const r = await cli(
      ['sign', '--key', 'cosign.key', '--tlog-upload=false', '--new-bundle-format=false', '-a', 'env=ci', 'oci:img:v1'],
      {
        cwd: dir,
        env,
      },
    )
    expect(r.stderr).toContain(`Pushing signature to: localhost/img:sha256-${digest.slice(7)}.sig`)
    expect(r.code).toBe(0)
  })

  it('verify prints cosign-shaped JSON and header', async () => {
    const r = await cli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', '-a', 'env=ci', 'oci:img:v1'], {
      cwd: dir,
      env,
    })
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('Verification for oci:img:v1 --')
    expect(r.stderr).toContain('  - The specified annotations were verified.')
    expect(r.stdout.startsWith('\n[')).toBe(true)
    expect(JSON.parse(r.stdout)).toEqual([
      {
        critical: {
          identity: { 'docker-reference': 'localhost/img' },
          image: { 'docker-manifest-digest': digest },
          type: 'cosign container image signature',
        },
        optional: { env: 'ci' },
      },
    ])
    const text = await cli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', '-o', 'text', 'oci:img:v1'], {
      cwd: dir,
      env,
    })
    expect(text.stdout).toMatch(/^\{"critical":/)
  })

  it('the .sig signature verifies with openssl dgst -sha256 -verify (independent check)', async () => {
    const store = openLayout(join(dir, 'img'))
    const sig = await store.fetchManifest({
      registry: 'localhost',
      repository: 'img',
      tag: `sha256-${digest.slice(7)}.sig`,
    })
    const layer = 'layers' in sig.manifest ? sig.manifest.layers[0]! : undefined
    const payload = await store.fetchBlob({ registry: 'localhost', repository: 'img' }, layer!.digest)
    writeFileSync(join(dir, 'payload.json'), payload)
    writeFileSync(
      join(dir, 'sig.der'),
      Buffer.from(layer!.annotations!['dev.cosignproject.cosign/signature']!, 'base64'),
    )
    const out = execFileSync(
      'openssl',
      ['dgst', '-sha256', '-verify', 'cosign.pub', '-signature', 'sig.der', 'payload.json'],
      {
        cwd: dir,
      },
    ).toString()
    expect(out.trim()).toBe('Verified OK')
  })

  it('exit codes: 12 wrong key, 10 unsigned image, 11 missing tag, 12 missing annotation', async () => {
    const other = await cli(['generate-key-pair', '--output-key-prefix', 'other'], { cwd: dir, env })
    expect(other.code).toBe(0)
    const wrong = await cli(['verify', '--key', 'other.pub', '--insecure-ignore-tlog', 'oci:img:v1'], { cwd: dir, env })
    expect(wrong.code).toBe(12)
    expect(wrong.stderr).toMatch(/no matching signatures/)
    await writeImage(join(dir, 'img'), 'unsigned', 'other content')
    const unsigned = await cli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', 'oci:img:unsigned'], {
      cwd: dir,
      env,
    })
    expect(unsigned.code).toBe(10)
    expect(unsigned.stderr).toContain('no signatures found')
    const missing = await cli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', 'oci:img:nope'], {
      cwd: dir,
      env,
    })
    expect(missing.code).toBe(11)
    const ann = await cli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', '-a', 'env=prod', 'oci:img:v1'], {
      cwd: dir,
      env,
    })
    expect(ann.code).toBe(12)
    expect(ann.stderr).toContain('missing or incorrect annotation')
    const both = await cli(
      ['verify', '--key', 'other.pub', '--key', 'cosign.pub', '--insecure-ignore-tlog', 'oci:img:v1'],
      { cwd: dir, env },
    )
    expect(both.code).toBe(0)
  })

  it('verify without --insecure-ignore-tlog checks the log: a signature never logged does not match (exit 12)', async () => {
    const r = await cli(['verify', '--key', 'cosign.pub', 'oci:img:v1'], { cwd: dir, env })
    expect(r.code).toBe(12)
    expect(r.stderr).toContain('--insecure-ignore-tlog')
  })

  it('triangulate prints the .sig location; --help works for every verb', async () => {
    const r = await cli(['triangulate', 'oci:img:v1'], { cwd: dir, env })
    expect(r.stdout).toBe(`localhost/img:sha256-${digest.slice(7)}.sig\n`)
    for (const verb of ['generate-key-pair', 'import-key-pair', 'public-key', 'sign', 'verify', 'triangulate']) {
      const h = await cli([verb, '--help'], { cwd: dir })
      expect(h.code).toBe(0)
      expect(h.stdout).toContain('Usage:')
    }
    const unknown = await cli(['sign', '--nope'], { cwd: dir })
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('unknown flag: --nope')
  })

  it('import-key-pair converts an openssl PEM key (SEC1) into cosign format usable for signing', async () => {
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ec.pem'], { cwd: dir })
    const r = await cli(['import-key-pair', '--key', 'ec.pem'], { cwd: dir, env })
    expect(r.code).toBe(0)
    expect(statSync(join(dir, 'import-cosign.key')).mode & 0o777).toBe(0o600)
    const pub = execFileSync('openssl', ['ec', '-in', 'ec.pem', '-pubout'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString()
    expect(readFileSync(join(dir, 'import-cosign.pub'), 'utf8')).toBe(pub)
  })

  it('reads the password from stdin when COSIGN_PASSWORD is unset and stdin is not a TTY', async () => {
    const r = await cli(['generate-key-pair', '--output-key-prefix', 'piped'], { cwd: dir, stdin: 'pw\n' })
    expect(r.code).toBe(0)
    const ok = await cli(['public-key', '--key', 'piped.key'], { cwd: dir, stdin: 'pw\n' })
    expect(ok.code).toBe(0)
    const bad = await cli(['public-key', '--key', 'piped.key'], { cwd: dir, stdin: 'pw' })
    expect(bad.code).toBe(1)
  })

  it('bad input writes nothing: corrupt PEM, truncated key JSON, wrong password', async () => {
    writeFileSync(join(dir, 'corrupt.pem'), '-----BEGIN PRIVATE KEY-----\nnot base64!!\n-----END PRIVATE KEY-----\n')
    const corrupt = await cli(['import-key-pair', '--key', 'corrupt.pem', '-o', 'corrupt'], { cwd: dir, env })
    expect(corrupt.code).toBe(1)
    expect(existsSync(join(dir, 'corrupt.key'))).toBe(false)

    const pem = readFileSync(join(dir, 'cosign.key'), 'utf8')
    const body = pem.split('\n').slice(1, -2).join('')
    const json = Buffer.from(body, 'base64').toString('utf8')
    const truncated = Buffer.from(json.slice(0, json.length - 20)).toString('base64')
    writeFileSync(
      join(dir, 'truncated.key'),
      `-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n${truncated}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n`,
    )
    const sigTag = { registry: 'localhost', repository: 'img', tag: `sha256-${digest.slice(7)}.sig` }
    const before = await openLayout(join(dir, 'img')).resolve(sigTag)
    for (const [key, password, message] of [
      ['truncated.key', 'correct horse', /not valid JSON/],
      ['cosign.key', 'wrong horse', /decryption failed/],
    ] as const) {
      const r = await cli(['sign', '--key', key, '--tlog-upload=false', 'oci:img:v1'], {
        cwd: dir,
        env: { COSIGN_PASSWORD: password },
      })
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(message)
    }
    expect((await openLayout(join(dir, 'img')).resolve(sigTag)).digest).toBe(before.digest)
  })

  it('signs in the bundle form by default (cosign v3) and verify reports it in cosign v3 output shape', async () => {
    const bundled = await writeImage(join(dir, 'img'), 'bundled', 'bundle default')
    const r = await cli(['sign', '--key', 'cosign.key', '--tlog-upload=false', '-a', 'team=x', 'oci:img:bundled'], {
      cwd: dir,
      env,
    })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain('Pushing signature to: localhost/img@sha256:')
    const v = await cli(
      ['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', '-a', 'team=x', 'oci:img:bundled'],
      {
        cwd: dir,
        env,
      },
    )
    expect(v.code, v.stderr).toBe(0)
    expect(JSON.parse(v.stdout)).toEqual([
      {
        critical: {
          identity: { 'docker-reference': 'localhost/img:bundled' },
          image: { 'docker-manifest-digest': bundled },
          type: 'https://sigstore.dev/cosign/sign/v1',
        },
        optional: { team: 'x' },
      },
    ])
  })
})

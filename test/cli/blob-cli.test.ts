/** `sign-blob` / `verify-blob` verbs, run in-process, with openssl interop. */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair, type KeyAlgorithm, privateKeyToPEM, publicKeyToPEM } from '../../src/keys/index.js'
import { cli } from '../support/cli.js'

let dir: string
const env = { COSIGN_PASSWORD: 'blob pass' }
const signBlob = (argv: string[], stdin?: string) =>
  cli(['sign-blob', ...argv], { cwd: dir, env, ...(stdin ? { stdin } : {}) })
const verifyBlob = (argv: string[], stdin?: string) =>
  cli(['verify-blob', ...argv], { cwd: dir, env, ...(stdin ? { stdin } : {}) })
const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' }).toString()

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cs-blob-'))
  // cosign.key (encrypted, P-256) + cosign.pub through the real CLI; the password comes from COSIGN_PASSWORD.
  expect((await cli(['generate-key-pair'], { cwd: dir, env })).code).toBe(0)
  // An RSA key made by openssl, used unencrypted (PKCS#8 PEM).
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'rsa.pem'])
  openssl(['pkey', '-in', 'rsa.pem', '-pubout', '-out', 'rsa.pub'])
  for (const algorithm of ['ecdsa-p384', 'ed25519'] as KeyAlgorithm[]) {
    const key = await generateKeyPair({ algorithm })
    writeFileSync(join(dir, `${algorithm}.pem`), privateKeyToPEM(key))
    writeFileSync(join(dir, `${algorithm}.pub`), publicKeyToPEM(key.publicKey))
  }
  writeFileSync(join(dir, 'blob.txt'), 'release artifact\n')
  writeFileSync(join(dir, 'tampered.txt'), 'release artifact!\n')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('sign-blob', () => {
  it('needs --bundle with the (default) new bundle format; uploads to the log unless --tlog-upload=false', async () => {
    const noBundle = await signBlob(['--key', 'cosign.key', '--tlog-upload=false', 'blob.txt'])
    expect(noBundle.code).toBe(1)
    expect(noBundle.stderr).toBe('Error: must specify --bundle with --new-bundle-format\n')
    // A closed port stands in for the log, so the test never publishes to the public one.
    const tlog = await signBlob([
      '--key',
      'cosign.key',
      '--rekor-url',
      'http://127.0.0.1:9',
      '--bundle',
      'b.json',
      'blob.txt',
    ])
    expect(tlog.code).toBe(1)
    expect(tlog.stderr).toMatch(/127\.0\.0\.1:9\/api\/v1\/log\/entries failed/)
    expect(existsSync(join(dir, 'b.json'))).toBe(false)
    const none = await signBlob(['--key', 'cosign.key', '--tlog-upload=false', '--bundle', 'b.json'])
    expect(none.stderr).toBe('Error: requires at least 1 arg(s), only received 0\n')
  })

  it('--bundle writes a Sigstore bundle (0600) and prints no signature; verify-blob says Verified OK', async () => {
    const r = await signBlob([
      '--key',
      'cosign.key',
      '--tlog-upload=false',
      '--bundle',
      'blob.sigstore.json',
      'blob.txt',
    ])
    expect(r.code).toBe(0)
    expect(r.stdout.length).toBe(0)
    expect(r.stderr).toBe('Using payload from: blob.txt\nWrote bundle to file blob.sigstore.json\n')
    expect(statSync(join(dir, 'blob.sigstore.json')).mode & 0o777).toBe(0o600)
    const bundle = JSON.parse(readFileSync(join(dir, 'blob.sigstore.json'), 'utf8'))
    expect(Object.keys(bundle)).toEqual(['mediaType', 'verificationMaterial', 'messageSignature'])
    const v = await verifyBlob([
      '--key',
      'cosign.pub',
      '--bundle',
      'blob.sigstore.json',
      '--insecure-ignore-tlog',
      'blob.txt',
    ])
    expect(v.code).toBe(0)
    expect(v.stderr).toBe(
      'WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the blob.\nVerified OK\n',
    )
    const bad = await verifyBlob([
      '--key',
      'cosign.pub',
      '--bundle',
      'blob.sigstore.json',
      '--insecure-ignore-tlog',
      'tampered.txt',
    ])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain(
      'Error: failed to verify signature: could not verify message: invalid signature when validating ASN.1 encoded signature',
    )
    expect(bad.stderr).not.toContain('Verified OK')
  })

  it('--new-bundle-format=false prints the base64 signature, writes --output-signature and the older bundle', async () => {
    const printed = await signBlob([
      '--key',
      'cosign.key',
      '--tlog-upload=false',
      '--new-bundle-format=false',
      'blob.txt',
    ])
    expect(printed.code).toBe(0)
    expect(printed.stdout.toString()).toMatch(/^[A-Za-z0-9+/]+=*\n$/)
    const r = await signBlob([
      '--key',
      'cosign.key',
      '--tlog-upload=false',
      '--new-bundle-format=false',
      '--bundle',
      'blob.bundle',
      '--output-signature',
      'blob.sig',
      'blob.txt',
    ])
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('Wrote bundle to file blob.bundle\n')
    expect(r.stderr).toContain('Wrote signature to file blob.sig\n')
    const legacy = JSON.parse(readFileSync(join(dir, 'blob.bundle'), 'utf8'))
    expect(Object.keys(legacy)).toEqual(['base64Signature', 'cert'])
    expect(legacy.base64Signature).toBe(readFileSync(join(dir, 'blob.sig'), 'utf8'))
    // cosign v3 puts the signer's public key PEM (base64) into `cert` when there is no certificate.
    expect(Buffer.from(legacy.cert, 'base64').toString()).toBe(readFileSync(join(dir, 'cosign.pub'), 'utf8'))
    for (const how of [
      ['--signature', 'blob.sig'],
      ['--signature', legacy.base64Signature],
      ['--bundle', 'blob.bundle'],
    ]) {
      const v = await verifyBlob(['--key', 'cosign.pub', ...how, '--insecure-ignore-tlog', 'blob.txt'])
      expect(v.stderr).toContain('Verified OK')
      expect(v.code).toBe(0)
      const t = await verifyBlob(['--key', 'cosign.pub', ...how, '--insecure-ignore-tlog', 'tampered.txt'])
      expect(t.code).toBe(1)
      expect(t.stderr).toContain('Error: invalid signature when validating ASN.1 encoded signature\n')
    }
  })

  it('--output is a deprecated alias; --b64=false writes raw DER', async () => {
    const r = await signBlob([
      '--key',
      'cosign.key',
      '--tlog-upload=false',
      '--new-bundle-format=false',
      '--b64=false',
      '--output',
      'raw.sig',
      'blob.txt',
    ])
    expect(r.code).toBe(0)
    expect(r.stderr).toContain(
      "WARNING: the '--output' flag is deprecated and will be removed in the future. Use '--output-signature'",
    )
    const raw = readFileSync(join(dir, 'raw.sig'))
    expect(raw[0]).toBe(0x30) // ASN.1 SEQUENCE
    const v = await verifyBlob(['--key', 'cosign.pub', '--signature', 'raw.sig', '--insecure-ignore-tlog', 'blob.txt'])
    expect(v.code).toBe(0)
  })

  it('reads the blob from stdin with -', async () => {
    const r = await signBlob(
      ['--key', 'cosign.key', '--tlog-upload=false', '--bundle', 'stdin.json', '-'],
      'from stdin\n',
    )
    expect(r.code).toBe(0)
    expect(r.stderr).not.toContain('Using payload from')
    const v = await verifyBlob(
      ['--key', 'cosign.pub', '--bundle', 'stdin.json', '--insecure-ignore-tlog', '-'],
      'from stdin\n',
    )
    expect(v.code).toBe(0)
  })

  it.each([
    ['ecdsa-p384.pem', 'ecdsa-p384.pub'],
    ['ed25519.pem', 'ed25519.pub'],
    ['rsa.pem', 'rsa.pub'],
  ])('round-trips %s through both bundle formats', async (priv, pub) => {
    for (const format of ['true', 'false']) {
      const out = `rt-${priv}-${format}.json`
      const s = await signBlob([
        '--key',
        priv,
        '--tlog-upload=false',
        `--new-bundle-format=${format}`,
        '--bundle',
        out,
        'blob.txt',
      ])
      expect(s.code).toBe(0)
      const v = await verifyBlob(['--key', pub, '--bundle', out, '--insecure-ignore-tlog', 'blob.txt'])
      expect(v.stderr).toContain('Verified OK')
      const w = await verifyBlob(['--key', 'cosign.pub', '--bundle', out, '--insecure-ignore-tlog', 'blob.txt'])
      expect(w.code).toBe(1)
    }
  })
})

describe('openssl interop', () => {
  it.each([
    ['cosign.key', 'cosign.pub'],
    ['rsa.pem', 'rsa.pub'],
  ])('sign-blob --key %s output verifies with openssl dgst -sha256 -verify', async (priv, pub) => {
    const r = await signBlob(['--key', priv, '--tlog-upload=false', '--new-bundle-format=false', 'blob.txt'])
    expect(r.code).toBe(0)
    writeFileSync(join(dir, 'sig.der'), Buffer.from(r.stdout.toString().trim(), 'base64'))
    expect(openssl(['dgst', '-sha256', '-verify', pub, '-signature', 'sig.der', 'blob.txt'])).toBe('Verified OK\n')
    expect(() => openssl(['dgst', '-sha256', '-verify', pub, '-signature', 'sig.der', 'tampered.txt'])).toThrow()
  })

  it('an openssl signature (raw DER file) verifies with verify-blob --signature', async () => {
    openssl(['dgst', '-sha256', '-sign', 'rsa.pem', '-out', 'openssl.sig', 'blob.txt'])
    const v = await verifyBlob(['--key', 'rsa.pub', '--signature', 'openssl.sig', '--insecure-ignore-tlog', 'blob.txt'])
    expect(v.code).toBe(0)
    expect(v.stderr).toContain('Verified OK')
  })
})

describe('verify-blob refusals', () => {
  it('requires --insecure-ignore-tlog for now (--private-infrastructure also works, without the warning)', async () => {
    const r = await verifyBlob(['--key', 'cosign.pub', '--bundle', 'blob.sigstore.json', 'blob.txt'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/--insecure-ignore-tlog/)
    const p = await verifyBlob([
      '--key',
      'cosign.pub',
      '--bundle',
      'blob.sigstore.json',
      '--private-infrastructure',
      'blob.txt',
    ])
    expect(p.code).toBe(0)
    expect(p.stderr).toBe('Verified OK\n')
  })

  it('needs a key or keyless identity flags, and exactly one blob', async () => {
    const none = await verifyBlob(['--insecure-ignore-tlog', 'blob.txt'])
    expect(none.stderr).toBe(
      'Error: provide a key with --key or --sk, a certificate to verify against with --certificate, or a bundle with --bundle\n',
    )
    const keyless = await verifyBlob(['--bundle', 'blob.sigstore.json', '--insecure-ignore-tlog', 'blob.txt'])
    expect(keyless.code).toBe(1)
    expect(keyless.stderr).toMatch(
      /--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode/,
    )
    const two = await verifyBlob([
      '--key',
      'cosign.pub',
      '--bundle',
      'blob.sigstore.json',
      '--insecure-ignore-tlog',
      'a',
      'b',
    ])
    expect(two.stderr).toBe('Error: accepts 1 arg(s), received 2\n')
  })

  it('malformed bundle JSON, a DSSE bundle and a Sigstore bundle with --signature fail with exit 1', async () => {
    writeFileSync(join(dir, 'broken.json'), '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",')
    const broken = await verifyBlob([
      '--key',
      'cosign.pub',
      '--bundle',
      'broken.json',
      '--insecure-ignore-tlog',
      'blob.txt',
    ])
    expect(broken.code).toBe(1)
    expect(broken.stderr).toContain('Error: bundle is not valid JSON\n')
    const dsse = new URL(
      '../vectors/blob-bundles/sigstore-js-client-v0.1-dsse-public-key/bundle.sigstore.json',
      import.meta.url,
    )
    writeFileSync(join(dir, 'dsse.json'), readFileSync(dsse))
    const d = await verifyBlob(['--key', 'cosign.pub', '--bundle', 'dsse.json', '--insecure-ignore-tlog', 'blob.txt'])
    expect(d.code).toBe(1)
    expect(d.stderr).toMatch(/verify-blob-attestation/)
    const both = await verifyBlob([
      '--key',
      'cosign.pub',
      '--bundle',
      'blob.sigstore.json',
      '--signature',
      'blob.sig',
      '--insecure-ignore-tlog',
      'blob.txt',
    ])
    expect(both.stderr).toContain(
      'Error: unsupported: signature may not be provided using --signature when using --new-bundle-format\n',
    )
  })

  it('a missing blob or bundle file is a clear error', async () => {
    const noBundle = await verifyBlob([
      '--key',
      'cosign.pub',
      '--bundle',
      'nope.json',
      '--insecure-ignore-tlog',
      'blob.txt',
    ])
    expect(noBundle.code).toBe(1)
    expect(noBundle.stderr).toContain('Error: reading nope.json: ENOENT\n')
    const noBlob = await signBlob(['--key', 'cosign.key', '--tlog-upload=false', '--bundle', 'x.json', 'missing.txt'])
    expect(noBlob.stderr).toContain('Error: reading missing.txt: ENOENT\n')
  })

  it('--signature-digest-algorithm is honoured and validated', async () => {
    const bad = await verifyBlob([
      '--key',
      'cosign.pub',
      '--signature',
      'blob.sig',
      '--signature-digest-algorithm',
      'md5',
      '--insecure-ignore-tlog',
      'blob.txt',
    ])
    expect(bad.stderr).toBe('Error: unsupported digest algorithm: md5\n')
    const wrong = await verifyBlob([
      '--key',
      'cosign.pub',
      '--signature',
      'blob.sig',
      '--signature-digest-algorithm',
      'sha512',
      '--insecure-ignore-tlog',
      'blob.txt',
    ])
    expect(wrong.code).toBe(1)
  })
})

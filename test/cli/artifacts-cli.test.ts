import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProgressBar } from '../../src/cli/progress.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

const env = { COSIGN_PASSWORD: 'pw' }

describe('CLI artifact verbs against real docker-registries', () => {
  let reg: TestRegistry
  let reg2: TestRegistry
  let dir: string
  beforeAll(async () => {
    ;[reg, reg2] = await Promise.all([startRegistry(), startRegistry()])
    dir = mkdtempSync(join(tmpdir(), 'cs-cli-art-'))
    const r = await cli(['generate-key-pair'], { cwd: dir, env })
    expect(r.code, r.stderr).toBe(0)
  })
  afterAll(async () => {
    await Promise.all([reg?.stop(), reg2?.stop()])
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  async function image(repo: string, text: string): Promise<{ image: string; digest: string }> {
    const digest = await pushTinyImage(createRegistryClient(), parseReference(`${reg.host}/${repo}:v1`), text)
    return { image: `${reg.host}/${repo}:v1`, digest }
  }

  it('attach sbom / download sbom round trip, with cosign messages', async () => {
    const { image: img, digest } = await image('cli/sbom', 'cli sbom')
    const sbom = JSON.stringify({ spdxVersion: 'SPDX-2.3', name: 'x'.repeat(5000) })
    writeFileSync(join(dir, 'sbom.spdx.json'), sbom)
    const a = await cli(['attach', 'sbom', '--sbom', 'sbom.spdx.json', img], { cwd: dir })
    expect(a.code, a.stderr).toBe(0)
    expect(a.stderr).toContain('WARNING: SBOM attachments are deprecated')
    expect(a.stderr).toContain(
      `Uploading SBOM file for [${img}] to [${reg.host}/cli/sbom:sha256-${digest.slice(7)}.sbom] with mediaType [text/spdx+json].`,
    )
    const d = await cli(['download', 'sbom', img], { cwd: dir })
    expect(d.code, d.stderr).toBe(0)
    expect(d.stdout).toBe(sbom)
    expect(d.stderr).toContain('Found SBOM of media type: text/spdx+json')

    const big = await cli(['attach', 'sbom', '--sbom', 'sbom.spdx.json', img], {
      cwd: dir,
      env: { COSIGN_MAX_ATTACHMENT_SIZE: '1KiB' },
    })
    expect(big.code).toBe(1)
    expect(big.stderr).toContain(`Error: size of layer (${sbom.length}) exceeded the limit (1024)`)

    const exp = await cli(['attach', 'sbom', '--sbom', 'sbom.spdx.json', '--registry-referrers-mode', 'oci-1-1', img], {
      cwd: dir,
    })
    expect(exp.code).toBe(1)
    expect(exp.stderr).toContain('in order to use  mode "oci-1-1", you must set COSIGN_EXPERIMENTAL=1')
    const ok = await cli(['attach', 'sbom', '--sbom', 'sbom.spdx.json', '--registry-referrers-mode=oci-1-1', img], {
      cwd: dir,
      env: { COSIGN_EXPERIMENTAL: '1' },
    })
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stderr).toContain('with config.mediaType [application/vnd.dev.cosign.artifact.sbom.v1+json]')

    const bad = await cli(['attach', 'sbom', '--sbom', 'sbom.spdx.json', '--type', 'nope', img], { cwd: dir })
    expect(bad.stderr).toContain('unknown SBOM type: "nope", expected (spdx|cyclonedx|syft)')
    const sub = await cli(['attach', 'sbomz', img], { cwd: dir })
    expect(sub.code).toBe(1)
  })

  it('attach signature / download signature; attach attestation / download attestation', async () => {
    const { image: img, digest } = await image('cli/sig', 'cli sig')
    // A signature made by `sign` on another copy of the image, then attached here.
    const other = `${reg.host}/cli/sig-source:v1`
    await pushTinyImage(createRegistryClient(), parseReference(other), 'cli sig')
    const s = await cli(
      [
        'sign',
        '--key',
        'cosign.key',
        '--tlog-upload=false',
        '--new-bundle-format=false',
        '--output-signature',
        'sig.b64',
        '--output-payload',
        'payload.json',
        '--sign-container-identity',
        `${reg.host}/cli/sig`,
        other,
      ],
      { cwd: dir, env },
    )
    expect(s.code, s.stderr).toBe(0)
    const a = await cli(['attach', 'signature', '--signature', 'sig.b64', '--payload', 'payload.json', img], {
      cwd: dir,
    })
    expect(a.code, a.stderr).toBe(0)
    const v = await cli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', img], { cwd: dir, env })
    expect(v.code, v.stderr).toBe(0)
    const d = await cli(['download', 'signature', img], { cwd: dir })
    expect(d.code, d.stderr).toBe(0)
    const sig = readFileSync(join(dir, 'sig.b64'), 'utf8')
    const payload = readFileSync(join(dir, 'payload.json'))
    expect(d.stdout).toBe(
      `{"Base64Signature":"${sig}","Payload":"${payload.toString('base64')}","Cert":null,"Chain":null,"Bundle":null,"RFC3161Timestamp":null}\n`,
    )

    // A bundle from `sign` (v3 default) on the other copy, attached with --bundle: verify then reads it.
    const b = await cli(['sign', '--key', 'cosign.key', '--tlog-upload=false', other], { cwd: dir, env })
    expect(b.code, b.stderr).toBe(0)
    const fromOther = await cli(['download', 'signature', other], { cwd: dir })
    writeFileSync(join(dir, 'sig.sigstore.json'), fromOther.stdout.trim())
    const ab = await cli(['attach', 'signature', '--bundle', 'sig.sigstore.json', img], { cwd: dir })
    expect(ab.code, ab.stderr).toBe(0)
    const db = await cli(['download', 'signature', img], { cwd: dir })
    expect(db.stdout).toBe(`${fromOther.stdout.trim()}\n`)

    // Attestations: an envelope file; download filters by predicate type.
    const statement = Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ digest: { sha256: digest.slice(7) } }],
        predicateType: 'https://example.com/p/v1',
        predicate: {},
      }),
    ).toString('base64')
    writeFileSync(
      join(dir, 'att.json'),
      JSON.stringify({
        payloadType: 'application/vnd.in-toto+json',
        payload: statement,
        signatures: [{ sig: 'AAAA' }],
      }),
    )
    const at = await cli(['attach', 'attestation', '--attestation', 'att.json', img], { cwd: dir })
    expect(at.code, at.stderr).toBe(0)
    expect(at.stderr).toContain('Using payload from: att.json')
    const da = await cli(['download', 'attestation', '--predicate-type', 'https://example.com/p/v1', img], {
      cwd: dir,
    })
    expect(da.code, da.stderr).toBe(0)
    expect(da.stdout).toBe(
      `{"payloadType":"application/vnd.in-toto+json","payload":"${statement}","signatures":[{"keyid":"","sig":"AAAA"}]}\n`,
    )
    const none = await cli(['download', 'attestation', '--predicate-type', 'https://example.com/none', img], {
      cwd: dir,
    })
    expect(none.code).toBe(10)
    expect(none.stderr).toContain("no attestations with predicate type 'https://example.com/none' found")
  })

  it('tree prints every attachment; clean asks first, refuses without a terminal, and keeps the image', async () => {
    const { image: img, digest } = await image('cli/clean', 'cli clean')
    expect((await cli(['sign', '--key', 'cosign.key', '--tlog-upload=false', img], { cwd: dir, env })).code).toBe(0)
    expect(
      (
        await cli(['sign', '--key', 'cosign.key', '--tlog-upload=false', '--new-bundle-format=false', img], {
          cwd: dir,
          env,
        })
      ).code,
    ).toBe(0)
    const t = await cli(['tree', img], { cwd: dir })
    expect(t.code, t.stderr).toBe(0)
    const hex = digest.slice(7)
    expect(t.stdout.split('\n')[0]).toBe(`📦 Supply Chain Security Related artifacts for an image: ${img}`)
    expect(t.stdout).toContain(
      `└── 🔐 Signatures for an image tag: ${reg.host}/cli/clean:sha256-${hex}.sig\n   └── 🍒 sha256:`,
    )
    expect(t.stdout).toContain(
      `└── 🔗 https://sigstore.dev/cosign/sign/v1 artifacts via OCI referrer: ${reg.host}/cli/clean@sha256:`,
    )
    const legacyOnly = await cli(['tree', '--experimental-oci11=false', img], { cwd: dir })
    expect(legacyOnly.stdout).not.toContain('OCI referrer')

    const refused = await cli(['clean', img], { cwd: dir })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('WARNING: this will remove all signatures, SBOMs and attestations from the image')
    expect(refused.stderr).toContain('stdin is not a terminal; pass -f/--force')
    const declined = await cli(['clean', '--type', 'signature', img], { cwd: dir, tty: true, stdin: 'n\n' })
    expect(declined.code).toBe(1)
    expect(declined.stderr).toContain('Are you sure you would like to continue? [y/N] ')
    expect(declined.stderr).toContain('user declined the prompt')
    expect((await cli(['tree', img], { cwd: dir })).stdout).toBe(t.stdout)

    const yes = await cli(['clean', '--type', 'signature', img], { cwd: dir, tty: true, stdin: 'y\n' })
    expect(yes.code, yes.stderr).toBe(0)
    expect(yes.stderr).toContain('WARNING: this will remove all signatures from the image')
    expect(yes.stderr).toContain(`Removed ${reg.host}/cli/clean:sha256-${hex}.sig from ${img}`)
    expect(yes.stderr).toContain('WARNING: image has referrers, consider using --referrer')
    const forced = await cli(['clean', '-f', '--type', 'referrer', img], { cwd: dir })
    expect(forced.code, forced.stderr).toBe(0)
    expect(forced.stderr).not.toContain('Are you sure')
    const after = await cli(['tree', img], { cwd: dir })
    expect(after.stdout).toContain('No Supply Chain Security Related Artifacts found')
    // The image is untouched.
    const m = await createRegistryClient().fetchManifest(parseReference(img))
    expect(m.descriptor.digest).toBe(digest)
    const badType = await cli(['clean', '-f', '--type', 'everything', img], { cwd: dir })
    expect(badType.stderr).toContain('must be one of "signature", "attestation", "referrer", "sbom", or "all"')
  })

  it('save --dir → load --dir into a second registry → verify in both forms there', async () => {
    const { image: img, digest } = await image('cli/save', 'cli save')
    expect((await cli(['sign', '--key', 'cosign.key', '--tlog-upload=false', img], { cwd: dir, env })).code).toBe(0)
    expect(
      (
        await cli(['sign', '--key', 'cosign.key', '--tlog-upload=false', '--new-bundle-format=false', img], {
          cwd: dir,
          env,
        })
      ).code,
    ).toBe(0)
    const missingDir = await cli(['save', img], { cwd: dir })
    expect(missingDir.stderr).toContain('required flag(s) "dir" not set')
    const s = await cli(['save', '--dir', 'saved', img], { cwd: dir })
    expect(s.code, s.stderr).toBe(0)
    const verifyLayout = await cli(
      ['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', `oci:${join(dir, 'saved')}`],
      {
        cwd: dir,
        env,
      },
    )
    expect(verifyLayout.code, verifyLayout.stderr).toBe(0)
    const target = `${reg2.host}/mirror/save:v1`
    const l = await cli(['load', '--dir', 'saved', target], { cwd: dir })
    expect(l.code, l.stderr).toBe(0)
    const v = await cli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', target], { cwd: dir, env })
    expect(v.code, v.stderr).toBe(0)
    expect(JSON.parse(v.stdout)).toHaveLength(1)
    // Legacy form alone: clean the bundle referrer there and verify again.
    expect((await cli(['clean', '-f', '--type', 'referrer', target], { cwd: dir })).code).toBe(0)
    const v2 = await cli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', target], { cwd: dir, env })
    expect(v2.code, v2.stderr).toBe(0)
    expect(JSON.parse(v2.stdout)[0].critical.type).toBe('cosign container image signature')
    expect((await createRegistryClient().resolve(parseReference(target))).digest).toBe(digest)
    const noLayout = await cli(['load', '--dir', 'nowhere', target], { cwd: dir })
    expect(noLayout.code).toBe(1)
  })
})

describe('progress bar', () => {
  const capture = () => {
    const chunks: string[] = []
    return { stream: { write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WritableStream, chunks }
  }

  it('redraws in place on a terminal and ends with a newline', () => {
    const { stream, chunks } = capture()
    let t = 0
    const bar = createProgressBar(stream, 'Uploading', { isTTY: true, width: 10, now: () => (t += 200) })
    bar.update(1024 * 1024, 4 * 1024 * 1024)
    bar.update(4 * 1024 * 1024, 4 * 1024 * 1024)
    bar.finish()
    bar.finish()
    expect(chunks[0]).toBe('\rUploading [===       ] 1.0 MiB / 4.0 MiB 25%\x1b[K')
    expect(chunks.at(-1)).toBe('\rUploading [==========] 4.0 MiB / 4.0 MiB 100%\x1b[K\n')
    expect(chunks).toHaveLength(3)
  })

  it('prints one plain line without a terminal, and nothing for small transfers', () => {
    const big = capture()
    const bar = createProgressBar(big.stream, 'Downloading', { isTTY: false })
    bar.update(2 * 1024 * 1024, 3 * 1024 * 1024)
    bar.update(3 * 1024 * 1024, 3 * 1024 * 1024)
    bar.finish()
    expect(big.chunks).toEqual(['Downloading: 3.0 MiB\n'])
    const small = capture()
    const b2 = createProgressBar(small.stream, 'x', { isTTY: true })
    b2.update(10, 10)
    b2.finish()
    expect(small.chunks).toEqual([])
  })
})

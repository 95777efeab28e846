/**
 * `-o json` of the reporting verbs (docs/cli-output.md): one JSON document on stdout whose fields match what the
 * verb did (checked against the store, the files written and the text output), and text output unchanged without
 * the flag. Images are OCI layouts on disk and nothing is logged, so no network is used.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openLayout } from '../../src/node/layout-fs.js'
import { verifyBundleArgs } from '../support/bundle-cases.js'
import { cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'

const env = { COSIGN_PASSWORD: 'json pw' }
let dir: string
let digest: string

const run = (args: string[], stdin?: string) => cli(args, { cwd: dir, env, ...(stdin ? { stdin } : {}) })

/** Run, expect success, and parse stdout as exactly one JSON document (its shape is what the test checks). */
// biome-ignore lint/suspicious/noExplicitAny: the reports are free-form JSON
async function json(args: string[]): Promise<any> {
  const r = await run(args)
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout)
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cs-json-'))
  const keys = await run(['generate-key-pair'])
  expect(keys.code, keys.stderr).toBe(0)
  digest = await pushTinyImage(
    openLayout(join(dir, 'img'), { create: true }),
    { registry: 'localhost', repository: 'img', tag: 'v1' },
    'json output',
  )
  writeFileSync(join(dir, 'predicate.json'), '{"hello":"world"}')
  writeFileSync(join(dir, 'blob.txt'), 'a blob to sign\n')
  writeFileSync(join(dir, 'sbom.spdx.json'), '{"spdxVersion":"SPDX-2.3"}')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('-o json on images', () => {
  it('sign: one element per signed manifest; text output stays empty on stdout', async () => {
    const text = await run(['sign', '--key', 'cosign.key', '--tlog-upload=false', 'oci:img:v1'])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toBe('')
    const bundle = await json(['sign', '--key', 'cosign.key', '--tlog-upload=false', '-o', 'json', 'oci:img:v1'])
    expect(bundle).toHaveLength(1)
    expect(bundle[0]).toMatchObject({
      image: 'oci:img:v1',
      digest,
      format: 'bundle',
      pushed: true,
      tlogEntries: [],
      timestamps: [],
    })
    expect(bundle[0].reference).toMatch(/^localhost\/img@sha256:[0-9a-f]{64}$/)
    // The reference is the referrer manifest that now exists in the layout.
    const referrer = bundle[0].reference.split('@')[1]
    await expect(
      openLayout(join(dir, 'img')).fetchManifest({ registry: 'localhost', repository: 'img', digest: referrer }),
    ).resolves.toBeDefined()

    const legacy = ['sign', '--key', 'cosign.key', '--tlog-upload=false', '--new-bundle-format=false', '--output=json']
    const first = await json([...legacy, 'oci:img:v1'])
    expect(first[0]).toMatchObject({
      format: 'legacy',
      reference: `localhost/img:sha256-${digest.slice(7)}.sig`,
      pushed: true,
    })
    // The same signature again is deduplicated: nothing pushed, and the report says so.
    expect((await json([...legacy, 'oci:img:v1']))[0].pushed).toBe(false)
  })

  it('attest: the predicate type and where the attestation went', async () => {
    const common = ['attest', '--key', 'cosign.key', '--tlog-upload=false', '--predicate', 'predicate.json']
    const r = await json([...common, '--type', 'https://example.com/p/v1', '-o', 'json', 'oci:img:v1'])
    expect(r).toEqual([
      {
        image: 'oci:img:v1',
        digest,
        format: 'bundle',
        predicateType: 'https://example.com/p/v1',
        reference: expect.stringMatching(/^localhost\/img@sha256:/),
        tlogEntries: [],
        timestamps: [],
      },
    ])
    const legacy = await json([...common, '--new-bundle-format=false', '-o', 'json', 'oci:img:v1'])
    expect(legacy[0]).toMatchObject({
      format: 'legacy',
      predicateType: 'https://cosign.sigstore.dev/attestation/v1',
      reference: `localhost/img:sha256-${digest.slice(7)}.att`,
    })
  })

  it('triangulate: the reference the text output prints, with type and digest', async () => {
    for (const type of ['signature', 'attestation', 'digest']) {
      const text = await run(['triangulate', '--type', type, 'oci:img:v1'])
      const report = await json(['triangulate', '--type', type, '-o', 'json', 'oci:img:v1'])
      expect(report).toEqual({ image: 'oci:img:v1', type, digest, reference: text.stdout.trimEnd() })
    }
  })

  it('tree: tags and referrers as the text tree lists them', async () => {
    const text = await run(['tree', 'oci:img:v1'])
    const tree = await json(['tree', '-o', 'json', 'oci:img:v1'])
    expect(tree.image).toBe('oci:img:v1')
    expect(tree.digest).toBe(digest)
    expect(tree.tags.map((t: { kind: string }) => t.kind)).toEqual(['sig', 'att'])
    expect(tree.referrers.length).toBeGreaterThanOrEqual(2)
    expect(tree.errors).toEqual([])
    for (const node of [...tree.tags, ...tree.referrers]) {
      expect(text.stdout).toContain(node.reference)
      for (const layer of node.layers) {
        expect(text.stdout).toContain(layer.digest)
        expect(layer.size).toBeGreaterThan(0)
      }
    }
    expect(tree.referrers.map((r: { artifactType: string }) => r.artifactType)).toContain('https://example.com/p/v1')
  })

  it("download signature/attestation: one array whose elements are cosign's lines", async () => {
    for (const sub of ['signature', 'attestation']) {
      const text = await run(['download', sub, 'oci:img:v1'])
      expect(text.code, text.stderr).toBe(0)
      const lines = text.stdout.trimEnd().split('\n')
      const array = await json(['download', sub, '-o', 'json', 'oci:img:v1'])
      expect(Array.isArray(array)).toBe(true)
      expect(array).toEqual(lines.map((l) => JSON.parse(l)))
    }
    const sbom = await run(['download', 'sbom', '-o', 'json', 'oci:img:v1'])
    expect(sbom.code).toBe(1)
    expect(sbom.stderr).toContain('-o json is not supported')
  })

  it('attach: what was attached, and where', async () => {
    const other = await pushTinyImage(
      openLayout(join(dir, 'img'), { create: true }),
      { registry: 'localhost', repository: 'img', tag: 'v2' },
      'attach target',
    )
    const envelope = (await run(['download', 'attestation', 'oci:img:v1'])).stdout
      .trimEnd()
      .split('\n')
      .find((l) => l.startsWith('{"payloadType"'))!
    writeFileSync(join(dir, 'envelope.json'), envelope)
    const att = await json(['attach', 'attestation', '--attestation', 'envelope.json', '-o', 'json', 'oci:img:v2'])
    expect(att).toEqual({
      image: 'oci:img:v2',
      type: 'attestation',
      attached: [{ reference: `localhost/img:sha256-${other.slice(7)}.att`, file: 'envelope.json' }],
    })
    const sbom = await json(['attach', 'sbom', '--sbom', 'sbom.spdx.json', '-o', 'json', 'oci:img:v2'])
    expect(sbom).toEqual({
      image: 'oci:img:v2',
      type: 'sbom',
      attached: [
        {
          reference: `localhost/img:sha256-${other.slice(7)}.sbom`,
          file: 'sbom.spdx.json',
          mediaType: 'text/spdx+json',
        },
      ],
    })
    // What attach says it wrote is what download reads back.
    const back = await run(['download', 'sbom', 'oci:img:v2'])
    expect(back.stdout).toBe(readFileSync(join(dir, 'sbom.spdx.json'), 'utf8'))
  })

  it('save: the digests copied to the layout', async () => {
    const saved = await json(['save', '--dir', 'saved', '-o', 'json', 'oci:img:v1'])
    expect(saved).toMatchObject({ image: 'oci:img:v1', dir: 'saved', digest, kind: 'image' })
    expect(saved.signatures).toMatch(/^sha256:/)
    expect(saved.attestations).toMatch(/^sha256:/)
    expect(saved.referrers.length).toBeGreaterThanOrEqual(2)
    const index = JSON.parse(readFileSync(join(dir, 'saved/index.json'), 'utf8'))
    const inIndex = index.manifests.map((m: { digest: string }) => m.digest)
    expect(inIndex).toEqual(expect.arrayContaining([digest, saved.signatures, saved.attestations]))
  })

  it('clean: what was removed', async () => {
    const cleaned = await json(['clean', '-f', '--type', 'signature', '-o', 'json', 'oci:img:v1'])
    expect(cleaned).toMatchObject({ image: 'oci:img:v1', digest, type: 'signature', failures: [] })
    expect(cleaned.removed.map((r: { kind: string }) => r.kind)).toContain('sig')
    for (const r of cleaned.removed) expect(r.digest).toMatch(/^sha256:/)
    const after = await json(['tree', '-o', 'json', 'oci:img:v1'])
    expect(after.tags.map((t: { kind: string }) => t.kind)).toEqual(['att'])
  })

  it('an unknown format is refused before anything is done', async () => {
    const r = await run(['sign', '--key', 'cosign.key', '--tlog-upload=false', '-o', 'yaml', 'oci:img:v2'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('Error: unsupported output format: yaml\n')
    expect((await json(['tree', '-o', 'json', 'oci:img:v2'])).referrers).toEqual([])
  })
})

describe('-o json on blobs', () => {
  it('sign-blob: blob digest, bundle path and the signature the bundle holds', async () => {
    const r = await json([
      'sign-blob',
      '--key',
      'cosign.key',
      '--tlog-upload=false',
      '--bundle',
      'blob.sigstore.json',
      '-o',
      'json',
      'blob.txt',
    ])
    const bundle = JSON.parse(readFileSync(join(dir, 'blob.sigstore.json'), 'utf8'))
    expect(r).toEqual([
      {
        blob: 'blob.txt',
        digest: `sha256:${createHash('sha256')
          .update(readFileSync(join(dir, 'blob.txt')))
          .digest('hex')}`,
        bundle: 'blob.sigstore.json',
        signature: bundle.messageSignature.signature,
        tlogEntries: [],
        timestamps: [],
      },
    ])
    // The digest is the blob's SHA-256, as the bundle records it.
    expect(Buffer.from(r[0].digest.slice(7), 'hex').toString('base64')).toBe(
      bundle.messageSignature.messageDigest.digest,
    )
  })

  it('sign-blob in the older format puts the signature in the report instead of printing it alone', async () => {
    const text = await run([
      'sign-blob',
      '--key',
      'cosign.key',
      '--tlog-upload=false',
      '--new-bundle-format=false',
      'blob.txt',
    ])
    expect(text.stdout).toMatch(/^[A-Za-z0-9+/]+=*\n$/)
    const r = await json([
      'sign-blob',
      '--key',
      'cosign.key',
      '--tlog-upload=false',
      '--new-bundle-format=false',
      '--output-format',
      'json',
      'blob.txt',
    ])
    expect(r).toHaveLength(1)
    expect(r[0].bundle).toBe(null)
    expect(r[0].signature).toMatch(/^[A-Za-z0-9+/]+=*$/)
    const verified = await run([
      'verify-blob',
      '--key',
      'cosign.pub',
      '--insecure-ignore-tlog',
      '--signature',
      r[0].signature,
      'blob.txt',
    ])
    expect(verified.code, verified.stderr).toBe(0)
  })

  it('verify-blob: the source and the key; "Verified OK" stays on stderr', async () => {
    const args = ['verify-blob', '--key', 'cosign.pub', '--bundle', 'blob.sigstore.json', '--insecure-ignore-tlog']
    const text = await run([...args, 'blob.txt'])
    expect(text.stdout).toBe('')
    expect(text.stderr).toContain('Verified OK')
    const r = await run([...args, '-o', 'json', 'blob.txt'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain('Verified OK')
    expect(JSON.parse(r.stdout)).toMatchObject({
      verified: true,
      blob: 'blob.txt',
      source: 'bundle',
      signer: { type: 'key' },
      tlogEntries: [],
    })
    writeFileSync(join(dir, 'tampered.txt'), 'another blob\n')
    const bad = await run([...args, '-o', 'json', 'tampered.txt'])
    expect(bad.code).not.toBe(0)
    expect(bad.stdout).toBe('')
  })

  it('attest-blob and verify-blob-attestation', async () => {
    const made = await json([
      'attest-blob',
      '--key',
      'cosign.key',
      '--tlog-upload=false',
      '--predicate',
      'predicate.json',
      '--type',
      'https://example.com/p/v1',
      '--bundle',
      'att.sigstore.json',
      '-o',
      'json',
      'blob.txt',
    ])
    expect(made).toMatchObject({
      blob: 'blob.txt',
      predicateType: 'https://example.com/p/v1',
      bundle: 'att.sigstore.json',
      tlogEntries: [],
      timestamps: [],
    })
    const statement = JSON.parse(
      Buffer.from(
        JSON.parse(readFileSync(join(dir, 'att.sigstore.json'), 'utf8')).dsseEnvelope.payload,
        'base64',
      ).toString(),
    )
    expect(made.digest).toBe(`sha256:${statement.subject[0].digest.sha256}`)
    const verified = await json([
      'verify-blob-attestation',
      '--key',
      'cosign.pub',
      '--insecure-ignore-tlog',
      '--bundle',
      'att.sigstore.json',
      '--type',
      'https://example.com/p/v1',
      '-o',
      'json',
      'blob.txt',
    ])
    expect(verified).toMatchObject({
      verified: true,
      blob: 'blob.txt',
      bundle: 'att.sigstore.json',
      predicateType: 'https://example.com/p/v1',
      signer: { type: 'key' },
    })
  })

  it('verify-bundle: the certificate identity and the log entry that vouched for it', async () => {
    const vector = join(__dirname, '../vectors/bundles/conformance-happy-path-v0.3')
    const identity =
      'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main'
    const args = verifyBundleArgs('conformance-happy-path-v0.3')
    const text = await run(args)
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toBe('')
    const r = await json([...args, '-o', 'json'])
    const bundle = JSON.parse(readFileSync(join(vector, 'bundle.sigstore.json'), 'utf8'))
    expect(r).toMatchObject({
      verified: true,
      artifact: join(vector, 'artifact'),
      signer: {
        type: 'certificate',
        subject: identity,
        subjectType: 'uri',
        issuer: 'https://token.actions.githubusercontent.com',
      },
    })
    expect(r.tlogEntries).toHaveLength(1)
    expect(r.tlogEntries[0].logIndex).toBe(Number(bundle.verificationMaterial.tlogEntries[0].logIndex))
    expect(r.verifiedTimes.length).toBeGreaterThan(0)
  })
})

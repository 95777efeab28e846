import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attachSBOM, cosignArtifactType, sbomMediaType } from '../../src/artifacts/attach-sbom.js'
import { downloadSBOM } from '../../src/artifacts/download.js'
import { maxAttachmentSize, parseByteSize } from '../../src/artifacts/size-limit.js'
import { isCountersignError } from '../../src/errors.js'
import { computeDigest } from '../../src/oci/digest.js'
import { listReferrers } from '../../src/oci/referrers.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import type { Reference } from '../../src/oci/types.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

const MiB = 1024 * 1024

/** A 3 MiB "SPDX JSON" document with varied bytes, so chunks differ. */
function bigSBOM(): Uint8Array {
  const head = new TextEncoder().encode('{"spdxVersion":"SPDX-2.3","padding":"')
  const out = new Uint8Array(3 * MiB + 12345)
  out.set(head)
  for (let i = head.length; i < out.length - 2; i++) out[i] = 0x61 + ((i * 7919) % 26)
  out.set(new TextEncoder().encode('"}'), out.length - 2)
  return out
}

describe('attach / download SBOM against a real docker-registry', () => {
  let reg: TestRegistry
  const client = () => createRegistryClient({ chunkSize: MiB })
  beforeAll(async () => {
    reg = await startRegistry()
  })
  afterAll(async () => {
    await reg?.stop()
  })

  it('a 3 MiB SBOM goes up in 1 MiB chunks at the .sbom tag and comes back byte-identical, with progress', async () => {
    const store = client()
    const ref: Reference = { registry: reg.host, repository: 'sbom/app', tag: 'v1' }
    const digest = await pushTinyImage(store, ref, 'sbom image')
    const sbom = bigSBOM()
    const up: [number, number | undefined][] = []
    const mediaType = sbomMediaType('spdx', { fileName: 'sbom.spdx.json' })
    expect(mediaType).toBe('text/spdx+json')
    const attached = await attachSBOM(ref, sbom, { store, mediaType, onProgress: (d, t) => up.push([d, t]) })
    expect(attached.digest).toBe(digest)
    expect(attached.reference.tag).toBe(`sha256-${digest.slice(7)}.sbom`)
    // Several intermediate chunk reports, monotonic, ending at the full size.
    expect(up.length).toBeGreaterThanOrEqual(3)
    expect(up.at(-1)).toEqual([sbom.length, sbom.length])
    for (let i = 1; i < up.length; i++) expect(up[i]![0]).toBeGreaterThanOrEqual(up[i - 1]![0])
    expect(up.some(([d]) => d > 0 && d < sbom.length)).toBe(true)

    // The .sbom image is cosign's static.NewFile: one layer, no annotations, the signature-image config.
    const m = await store.fetchManifest(attached.reference)
    const sbomDigest = await computeDigest(sbom)
    const config = `{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["${sbomDigest}"]},"config":{}}`
    const configDigest = await computeDigest(new TextEncoder().encode(config))
    expect(new TextDecoder().decode(m.bytes)).toBe(
      `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":${config.length},"digest":"${configDigest}"},"layers":[{"mediaType":"text/spdx+json","size":${sbom.length},"digest":"${sbomDigest}"}]}`,
    )

    const down: [number, number | undefined][] = []
    const got = await downloadSBOM(ref, { store: client(), onProgress: (d, t) => down.push([d, t]) })
    expect(got.mediaType).toBe('text/spdx+json')
    expect(got.data.length).toBe(sbom.length)
    expect(Buffer.from(got.data).equals(Buffer.from(sbom))).toBe(true)
    expect(down.length).toBeGreaterThan(0)
    expect(down.at(-1)![0]).toBe(sbom.length)
  })

  it('referrer mode: an OCI 1.1 referrer with cosign artifactType, found again by download', async () => {
    const store = client()
    const ref: Reference = { registry: reg.host, repository: 'sbom/referrer', tag: 'v1' }
    const digest = await pushTinyImage(store, ref, 'sbom referrer image')
    const sbom = bigSBOM()
    const attached = await attachSBOM(ref, sbom, {
      store,
      mediaType: 'application/vnd.cyclonedx+json',
      mode: 'referrer',
    })
    const referrers = await listReferrers(store, ref, digest)
    expect(referrers.map((r) => r.digest)).toEqual([attached.manifestDigest])
    expect(referrers[0]!.artifactType).toBe(cosignArtifactType('sbom'))
    const m = await store.fetchManifest({ ...ref, tag: undefined, digest: attached.manifestDigest })
    expect('config' in m.manifest && m.manifest.config.mediaType).toBe(
      'application/vnd.dev.cosign.artifact.sbom.v1+json',
    )
    expect(m.manifest.subject?.digest).toBe(digest)
    const got = await downloadSBOM(ref, { store })
    expect(got.reference.digest).toBe(attached.manifestDigest)
    expect(Buffer.from(got.data).equals(Buffer.from(sbom))).toBe(true)
  })

  it('refuses an SBOM over the attachment limit before uploading anything, and on download', async () => {
    const store = client()
    const ref: Reference = { registry: reg.host, repository: 'sbom/limit', tag: 'v1' }
    const digest = await pushTinyImage(store, ref, 'sbom limit image')
    const sbom = bigSBOM()
    const limit = maxAttachmentSize('2MiB')
    expect(limit).toBe(2 * MiB)
    const err = await attachSBOM(ref, sbom, { store, mediaType: 'text/spdx+json', maxSize: limit }).catch((e) => e)
    expect(isCountersignError(err, 'ERR_OCI_SIZE_LIMIT')).toBe(true)
    expect(err.message).toBe(`size of layer (${sbom.length}) exceeded the limit (${2 * MiB})`)
    await expect(store.resolve({ ...ref, tag: `sha256-${digest.slice(7)}.sbom` })).rejects.toMatchObject({
      code: 'ERR_OCI_NOT_FOUND',
    })
    expect(await store.blobExists(ref, await computeDigest(sbom))).toBe(false)

    // Attached under the default limit, then read with a smaller one: refused on the declared size.
    await attachSBOM(ref, sbom, { store, mediaType: 'text/spdx+json' })
    await expect(downloadSBOM(ref, { store, maxSize: MiB })).rejects.toMatchObject({ code: 'ERR_OCI_SIZE_LIMIT' })
  })

  it('no SBOM: a coded not-found error', async () => {
    const store = client()
    const ref: Reference = { registry: reg.host, repository: 'sbom/none', tag: 'v1' }
    await pushTinyImage(store, ref, 'no sbom')
    await expect(downloadSBOM(ref, { store })).rejects.toMatchObject({
      code: 'ERR_OCI_NOT_FOUND',
      message: 'no sbom attached to reference',
    })
  })
})

describe('attachment size syntax (go-humanize ParseBytes)', () => {
  it.each([
    ['200MiB', 200 * MiB],
    ['42 MB', 42_000_000],
    ['42 mib', 44040192],
    ['1,000', 1000],
    ['1.5GiB', 1.5 * 1024 * MiB],
    ['128', 128],
    ['10k', 10_000],
    ['3Ki', 3072],
  ])('%s → %d', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes)
  })

  it.each(['', 'MiB', '1.2.3', '12 parsecs', '-5'])('%j is not a size', (text) => {
    expect(() => parseByteSize(text)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
  })

  it('an unparsable COSIGN_MAX_ATTACHMENT_SIZE falls back to 128 MiB, as cosign does', () => {
    const warnings: string[] = []
    expect(maxAttachmentSize('lots', (m) => warnings.push(m))).toBe(128 * MiB)
    expect(warnings).toHaveLength(1)
    expect(maxAttachmentSize(undefined)).toBe(128 * MiB)
  })
})

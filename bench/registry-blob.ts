// Registry blob throughput: countersign's push and pull of one 256 MiB random blob against a real
// docker-registry on loopback, next to `skopeo copy` of a one-layer image whose layer is a blob of the same
// size (OCI layout → registry → OCI layout), in the same run. Also peak RSS per phase.
// Run: npx tsx bench/registry-blob.ts   (BLOB_MIB=64 for a quicker run)
import { execFileSync } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNodeFetch } from '../src/node/fetch.js'
import { nodeHasher } from '../src/node/hasher.js'
import { openLayout } from '../src/node/layout-fs.js'
import { computeDigest } from '../src/oci/digest.js'
import {
  OCI_IMAGE_CONFIG_MEDIA_TYPE,
  OCI_IMAGE_LAYER_MEDIA_TYPE,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
} from '../src/oci/media-types.js'
import { parseReference } from '../src/oci/reference.js'
import { createRegistryClient, type RegistryRequestInfo } from '../src/oci/registry.js'
import { startRegistry } from '../test/support/registry.js'
import { streamToFile } from './support/blob-files.js'

const MiB = 1024 * 1024
const SIZE = Number(process.env.BLOB_MIB ?? 256) * MiB
const gc = (globalThis as { gc?: () => void }).gc

function randomBlob(size: number): Uint8Array {
  const out = new Uint8Array(size)
  for (let o = 0; o < size; o += 64 * MiB) randomFillSync(out, o, Math.min(64 * MiB, size - o))
  return out
}

/** Peak RSS while `fn` runs, sampled every 10 ms, in MiB. */
async function measured<T>(label: string, bytes: number, fn: () => Promise<T>) {
  gc?.()
  const base = process.memoryUsage().rss
  let peak = base
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 10)
  const t0 = performance.now()
  const result = await fn()
  const seconds = (performance.now() - t0) / 1000
  clearInterval(timer)
  peak = Math.max(peak, process.memoryUsage().rss)
  const mbs = bytes / 1e6 / seconds
  console.log(
    `${label.padEnd(48)} ${seconds.toFixed(2).padStart(6)} s ${mbs.toFixed(0).padStart(6)} MB/s   RSS peak ${(peak / MiB).toFixed(0)} MiB (+${((peak - base) / MiB).toFixed(0)})`,
  )
  return { result, mbs }
}

const work = mkdtempSync(join(tmpdir(), 'countersign-bench-'))
const reg = await startRegistry()
try {
  console.log(`blob ${SIZE / MiB} MiB, registry ${reg.host}, node ${process.version}${gc ? '' : ' (no --expose-gc)'}\n`)
  let ours: Uint8Array | undefined = randomBlob(SIZE)
  // Hashed up front like skopeo's source (an OCI layout whose manifest names the digest).
  const digest = await computeDigest(ours)
  const repo = parseReference(`${reg.host}/bench/ours`)
  const requests: RegistryRequestInfo[] = []
  const client = createRegistryClient({ fetch: createNodeFetch(), onRequest: (r) => requests.push(r) })

  const push = await measured('countersign pushBlob (8 MiB PATCH chunks)', SIZE, () =>
    client.pushBlob(repo, ours!, 'application/octet-stream', { digest }),
  )
  const counts = (list: RegistryRequestInfo[]) => {
    const m = new Map<string, number>()
    for (const r of list) m.set(`${r.method} ${r.status}`, (m.get(`${r.method} ${r.status}`) ?? 0) + 1)
    return [...m].map(([k, n]) => `${n}× ${k}`).join(', ')
  }
  console.log(`  requests: ${counts(requests)}`)
  requests.length = 0
  const mono = createRegistryClient({
    fetch: createNodeFetch(),
    chunkSize: 2 * SIZE,
    onRequest: (r) => requests.push(r),
  })
  await measured('countersign pushBlob (monolithic PUT)', SIZE, () =>
    mono.pushBlob(parseReference(`${reg.host}/bench/mono`), ours!, 'application/octet-stream', { digest }),
  )
  console.log(`  requests: ${counts(requests)}`)
  ours = undefined

  requests.length = 0
  const out = join(work, 'pulled.bin')
  const pull = await measured('countersign fetchBlobStream → file (noble)', SIZE, async () =>
    streamToFile(await client.fetchBlobStream(repo, digest), out),
  )
  console.log(`  requests: ${counts(requests)}`)
  const fast = createRegistryClient({ fetch: createNodeFetch(), hasher: nodeHasher })
  const pullNative = await measured('countersign fetchBlobStream → file (node hash)', SIZE, async () =>
    streamToFile(await fast.fetchBlobStream(repo, digest), out),
  )
  await measured('countersign fetchBlob → memory (node hash)', SIZE, async () => {
    const bytes = await fast.fetchBlob(repo, digest, { maxSize: SIZE })
    if (bytes.length !== SIZE) throw new Error('short read')
  })

  // skopeo: a one-layer image in an OCI layout (written by our layout store), to the registry and back.
  let layer: Uint8Array | undefined = randomBlob(SIZE)
  const src = join(work, 'src-layout')
  const layout = openLayout(src, { create: true })
  const layerDesc = await layout.pushBlob(repo, layer, OCI_IMAGE_LAYER_MEDIA_TYPE)
  layer = undefined
  const config = new TextEncoder().encode(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDesc.digest] } }),
  )
  const configDesc = await layout.pushBlob(repo, config, OCI_IMAGE_CONFIG_MEDIA_TYPE)
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
      config: configDesc,
      layers: [layerDesc],
    }),
  )
  await layout.pushManifest({ ...repo, tag: 'v1' }, manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
  const skopeo = (...args: string[]) => execFileSync('skopeo', args, { stdio: ['ignore', 'ignore', 'inherit'] })
  const skopeoPush = await measured('skopeo copy oci: → docker:// (child process)', SIZE, async () =>
    skopeo('copy', '--quiet', '--dest-tls-verify=false', `oci:${src}:v1`, `docker://${reg.host}/bench/skopeo:v1`),
  )
  const skopeoPull = await measured('skopeo copy docker:// → oci: (child process)', SIZE, async () =>
    skopeo(
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      `docker://${reg.host}/bench/skopeo:v1`,
      `oci:${join(work, 'dst')}:v1`,
    ),
  )
  console.log(`\nratio countersign/skopeo  push ${(push.mbs / skopeoPush.mbs).toFixed(2)}`)
  console.log(
    `ratio countersign/skopeo  pull ${(pull.mbs / skopeoPull.mbs).toFixed(2)} (noble hash), ${(pullNative.mbs / skopeoPull.mbs).toFixed(2)} (node hash)`,
  )
  console.log(`process peak RSS (maxRSS) ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`)
} finally {
  await reg.stop()
  rmSync(work, { recursive: true, force: true })
}

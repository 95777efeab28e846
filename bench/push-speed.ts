// Registry push and pull speed against skopeo, same run, same machine, same docker-registry on loopback (issue 17):
// 5 interleaved runs (the order of the two tools alternates), medians. Each run makes a fresh 256 MiB random layer in
// an OCI layout on disk, so neither tool can reuse an earlier upload (skopeo's blob-info cache would mount a blob it
// has seen before instead of sending it). Push: countersign streams the layer file from disk (`openFileContent`,
// `pushBlob` in 8 MiB PATCH chunks, node hashing) vs `skopeo copy oci:DIR:v1 docker://…` (the whole one-layer image,
// a child process). Pull: countersign `fetchBlobStream` to a file (digest checked while streaming, node hashing) vs
// `skopeo copy docker://… oci:DIR2:v1`. Goals: push ≥ 0.9× skopeo, pull ≥ 1.0×.
// Run: npx tsx bench/push-speed.ts   (BLOB_MIB=64 RUNS=3 for a quicker run)
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { rename } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNodeFetch } from '../src/node/fetch.js'
import { openFileContent } from '../src/node/file-content.js'
import { nodeHasher } from '../src/node/hasher.js'
import { openLayout } from '../src/node/layout-fs.js'
import {
  OCI_IMAGE_CONFIG_MEDIA_TYPE,
  OCI_IMAGE_LAYER_MEDIA_TYPE,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
} from '../src/oci/media-types.js'
import { parseReference } from '../src/oci/reference.js'
import { createRegistryClient } from '../src/oci/registry.js'
import { startRegistry } from '../test/support/registry.js'
import { streamToFile, writeRandomFile } from './support/blob-files.js'

const MiB = 1024 * 1024
const SIZE = Number(process.env.BLOB_MIB ?? 256) * MiB
const RUNS = Number(process.env.RUNS ?? 5)

/** A one-layer image with a fresh random layer of SIZE bytes in an OCI layout at `dir`; returns the layer file. */
async function makeLayout(dir: string): Promise<{ layerPath: string; digest: string }> {
  const layout = openLayout(dir, { create: true })
  const repo = parseReference('bench/src')
  const tmp = join(dir, 'layer.tmp')
  const digest = await writeRandomFile(tmp, SIZE)
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true })
  const layerPath = join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length))
  await rename(tmp, layerPath)
  const layerDesc = { mediaType: OCI_IMAGE_LAYER_MEDIA_TYPE, digest, size: SIZE }
  const config = new TextEncoder().encode(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digest] } }),
  )
  const configDesc = await layout.pushBlob(repo, config, OCI_IMAGE_CONFIG_MEDIA_TYPE)
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
    config: configDesc,
    layers: [layerDesc],
  }
  await layout.pushManifest(
    { ...repo, tag: 'v1' },
    new TextEncoder().encode(JSON.stringify(manifest)),
    OCI_IMAGE_MANIFEST_MEDIA_TYPE,
  )
  return { layerPath, digest }
}

async function seconds(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now()
  await fn()
  return (performance.now() - t0) / 1000
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const work = mkdtempSync(join(tmpdir(), 'countersign-push-speed-'))
const reg = await startRegistry()
try {
  const client = createRegistryClient({ fetch: createNodeFetch(), hasher: nodeHasher })
  const skopeo = (...args: string[]) => execFileSync('skopeo', args, { stdio: ['ignore', 'ignore', 'inherit'] })
  console.log(`${SIZE / MiB} MiB layer, ${RUNS} interleaved runs, registry ${reg.host}, node ${process.version}`)
  const mbs = (s: number) => SIZE / 1e6 / s
  const results = {
    oursPush: [] as number[],
    skopeoPush: [] as number[],
    oursPull: [] as number[],
    skopeoPull: [] as number[],
  }
  for (let run = 0; run < RUNS; run++) {
    const dir = join(work, `run-${run}`)
    const { layerPath, digest } = await makeLayout(dir)
    const oursRepo = parseReference(`${reg.host}/bench/ours-${run}`)
    const skopeoRef = `docker://${reg.host}/bench/skopeo-${run}:v1`
    const oursPush = async () => {
      const content = await openFileContent(layerPath)
      if (content instanceof Uint8Array) throw new Error('not a file')
      results.oursPush.push(
        mbs(
          await seconds(() =>
            client.pushBlob(oursRepo, () => content.open(), OCI_IMAGE_LAYER_MEDIA_TYPE, {
              digest: content.digest,
              size: content.size,
            }),
          ),
        ),
      )
    }
    const skopeoPush = async () =>
      results.skopeoPush.push(
        mbs(await seconds(() => skopeo('copy', '--quiet', '--dest-tls-verify=false', `oci:${dir}:v1`, skopeoRef))),
      )
    const oursPull = async () => {
      const out = join(work, `pulled-${run}.bin`)
      results.oursPull.push(
        mbs(await seconds(async () => streamToFile(await client.fetchBlobStream(oursRepo, digest), out))),
      )
      rmSync(out)
    }
    const skopeoPull = async () => {
      const dst = join(work, `dst-${run}`)
      results.skopeoPull.push(
        mbs(await seconds(() => skopeo('copy', '--quiet', '--src-tls-verify=false', skopeoRef, `oci:${dst}:v1`))),
      )
      rmSync(dst, { recursive: true, force: true })
    }
    // Alternate who goes first, so neither always meets a warmer page cache or a busier registry.
    const order =
      run % 2 === 0 ? [oursPush, skopeoPush, oursPull, skopeoPull] : [skopeoPush, oursPush, skopeoPull, oursPull]
    for (const step of order) await step()
    const last = (xs: number[]) => xs[xs.length - 1]!.toFixed(0).padStart(5)
    console.log(
      `run ${run + 1}: push MB/s countersign ${last(results.oursPush)} skopeo ${last(results.skopeoPush)}   pull MB/s countersign ${last(results.oursPull)} skopeo ${last(results.skopeoPull)}`,
    )
    rmSync(dir, { recursive: true, force: true })
  }
  const push = median(results.oursPush) / median(results.skopeoPush)
  const pull = median(results.oursPull) / median(results.skopeoPull)
  console.log(
    `medians: push countersign ${median(results.oursPush).toFixed(0)} / skopeo ${median(results.skopeoPush).toFixed(0)} MB/s = ${push.toFixed(2)}x (goal ≥ 0.9); pull countersign ${median(results.oursPull).toFixed(0)} / skopeo ${median(results.skopeoPull).toFixed(0)} MB/s = ${pull.toFixed(2)}x (goal ≥ 1.0)`,
  )
} finally {
  await reg.stop()
  rmSync(work, { recursive: true, force: true })
}

// Peak memory of a blob push streamed from disk: a random file of 256 MiB and of 1 GiB, opened with
// `openFileContent` (countersign/node) and pushed with the registry client (`pushBlob` of a function that reopens the
// file per upload session, as `attach sbom` does) to a real docker-registry on loopback, once in PATCH chunks (the
// default 8 MiB) and once as a monolithic PUT (`chunkSize` above the blob size). Each push runs in a fresh Node
// process: its RSS just before the push is the baseline, its peak is the larger of 5 ms RSS samples and the
// process's high-water mark (`resourceUsage().maxRSS`). Goal (issue 17): peak ≤ 64 MiB above baseline whatever the
// blob size. Each push is checked: the registry must hold the blob at the file's digest afterwards.
// Run: npx tsx bench/push-memory.ts   (SIZES_MIB=64,256 for a quicker run; MODES=chunked or MODES=monolithic)
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, statfsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createNodeFetch } from '../src/node/fetch.js'
import { openFileContent } from '../src/node/file-content.js'
import { nodeHasher } from '../src/node/hasher.js'
import { parseReference } from '../src/oci/reference.js'
import { createRegistryClient } from '../src/oci/registry.js'
import { writeRandomFile } from './support/blob-files.js'

const MiB = 1024 * 1024
const self = fileURLToPath(import.meta.url)

interface ChildReport {
  readonly baselineMiB: number
  readonly peakMiB: number
  readonly seconds: number
  readonly requests: string
}

/** The measured push, in its own process: `push-memory.ts --child <file> <repository> <chunkSize>`. */
async function child(path: string, repository: string, chunkSize: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc
  const content = await openFileContent(path)
  if (content instanceof Uint8Array) throw new Error(`${path} is not a regular file`)
  const counts = new Map<string, number>()
  const client = createRegistryClient({
    fetch: createNodeFetch(),
    hasher: nodeHasher,
    chunkSize,
    onRequest: (r) => counts.set(`${r.method} ${r.status}`, (counts.get(`${r.method} ${r.status}`) ?? 0) + 1),
  })
  const repo = parseReference(repository)
  // Load everything the push needs (transport, undici) before the baseline is read.
  await client.blobExists(repo, content.digest)
  gc?.()
  const baseline = process.memoryUsage().rss
  let peak = baseline
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 5)
  const t0 = performance.now()
  await client.pushBlob(repo, () => content.open(), 'application/octet-stream', {
    digest: content.digest,
    size: content.size,
  })
  const seconds = (performance.now() - t0) / 1000
  clearInterval(timer)
  peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024)
  const report: ChildReport = {
    baselineMiB: baseline / MiB,
    peakMiB: peak / MiB,
    seconds,
    requests: [...counts].map(([k, n]) => `${n}× ${k}`).join(', '),
  }
  process.stdout.write(JSON.stringify(report))
}

async function main(): Promise<void> {
  const { startRegistry } = await import('../test/support/registry.js')
  const sizes = (process.env.SIZES_MIB ?? '256,1024').split(',').map(Number)
  const modes = (process.env.MODES ?? 'chunked,monolithic').split(',') as ('chunked' | 'monolithic')[]
  const work = mkdtempSync(join(tmpdir(), 'countersign-push-memory-'))
  const fs = statfsSync(work)
  // Each size lives on disk three times at most: the file, and the registry's copy per mode.
  const need = sizes.reduce((a, s) => a + s * MiB * (1 + modes.length), 0)
  if (fs.bavail * fs.bsize < need + 1024 * MiB) {
    throw new Error(`not enough free space in ${work}: ${((fs.bavail * fs.bsize) / MiB).toFixed(0)} MiB free`)
  }
  const registry = await startRegistry()
  const check = createRegistryClient({ fetch: createNodeFetch() })
  try {
    console.log(`node ${process.version}, registry ${registry.host}, one process per push\n`)
    for (const mib of sizes) {
      const path = join(work, `blob-${mib}.bin`)
      const digest = await writeRandomFile(path, mib * MiB)
      for (const mode of modes) {
        const repository = `${registry.host}/bench/push-${mib}-${mode}`
        const chunkSize = mode === 'chunked' ? 8 * MiB : mib * MiB + 1
        const r = spawnSync(
          process.execPath,
          [...process.execArgv, '--expose-gc', self, '--child', path, repository, String(chunkSize)],
          { encoding: 'utf8', maxBuffer: 16 * MiB },
        )
        if (r.status !== 0) throw new Error(`push ${mib} MiB ${mode} exited ${r.status}: ${r.stderr.slice(-2000)}`)
        const m = JSON.parse(r.stdout) as ChildReport
        if (!(await check.blobExists(parseReference(repository), digest))) {
          throw new Error(`registry lacks ${digest} after the ${mode} push`)
        }
        console.log(
          `push ${String(mib).padStart(5)} MiB ${mode.padEnd(10)} ${m.seconds.toFixed(2).padStart(6)} s ${((mib * MiB) / 1e6 / m.seconds).toFixed(0).padStart(5)} MB/s   baseline ${m.baselineMiB.toFixed(0).padStart(4)} MiB, peak ${m.peakMiB.toFixed(0).padStart(5)} MiB (+${(m.peakMiB - m.baselineMiB).toFixed(0)})`,
        )
        console.log(`  requests: ${m.requests}`)
      }
      rmSync(path, { force: true })
    }
  } finally {
    await registry.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--child') await child(process.argv[3]!, process.argv[4]!, Number(process.argv[5]))
else await main()

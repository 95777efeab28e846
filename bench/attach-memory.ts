// Peak memory of `countersign attach sbom`: the CLI as users run it (dist/cli/main.js, one process per attach),
// attaching 1 MiB, 50 MiB and 200 MiB SBOM files to an image on a local docker-registry, in the legacy `.sbom` tag
// mode and in the OCI 1.1 referrer mode. Peak RSS comes from `/usr/bin/time -v` ("Maximum resident set size"),
// next to the baseline of `countersign --version`. Goal: the peak grows far less than the SBOM does.
// Each attach is checked: the registry must hold the SBOM blob at the file's sha256 afterwards.
// Run: npm run build && npx tsx bench/attach-memory.ts   (SIZES_MIB=1,50 for a quicker run; RUNS=3 for the median)
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseReference } from '../src/oci/reference.js'
import { createRegistryClient } from '../src/oci/registry.js'
import { pushTinyImage } from '../test/support/oci-image.js'
import { startRegistry } from '../test/support/registry.js'

const MiB = 1024 * 1024
const sizes = (process.env.SIZES_MIB ?? '1,50,200').split(',').map(Number)
const runs = Number(process.env.RUNS ?? 1)
const root = fileURLToPath(new URL('..', import.meta.url))
const cliMain = join(root, 'dist/cli/main.js')
if (!existsSync(cliMain)) throw new Error('dist/cli/main.js is missing: run npm run build first')
if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time (GNU time) is needed for peak RSS')

const work = mkdtempSync(join(tmpdir(), 'countersign-attach-memory-'))
// 200 MiB is above cosign's 128 MiB default attachment limit.
const env = {
  ...process.env,
  HOME: work,
  DOCKER_CONFIG: join(work, '.docker'),
  COSIGN_MAX_ATTACHMENT_SIZE: '1GiB',
  COSIGN_EXPERIMENTAL: '1',
} as Record<string, string>

/** Write an SPDX-shaped JSON document of about `size` bytes, chunk by chunk; returns its sha256 and exact size. */
async function writeSBOM(path: string, size: number): Promise<{ digest: string; size: number }> {
  const file = await open(path, 'w')
  const hash = createHash('sha256')
  let written = 0
  const put = async (text: string) => {
    const b = Buffer.from(text)
    hash.update(b)
    written += b.length
    await file.write(b)
  }
  await put('{"spdxVersion":"SPDX-2.3","name":"bench","packages":[')
  let batch: string[] = []
  for (let i = 0; written + batch.length * 160 < size - 64; i++) {
    // Random hex so the blob does not compress to nothing anywhere on the way.
    const id = randomBytes(16).toString('hex')
    batch.push(
      `${i === 0 ? '' : ','}{"SPDXID":"SPDXRef-${i}","name":"pkg-${id}","versionInfo":"1.${i}.0","checksum":"${id}"}`,
    )
    if (batch.length === 4096) {
      await put(batch.join(''))
      batch = []
    }
  }
  await put(`${batch.join('')}]}\n`)
  await file.close()
  return { digest: `sha256:${hash.digest('hex')}`, size: written }
}

/** Run `node <args>` under GNU time; returns peak RSS in MiB and wall seconds. */
function measure(args: readonly string[]): { rssMiB: number; seconds: number } {
  const t0 = performance.now()
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, ...args], { cwd: work, env, encoding: 'utf8' })
  const seconds = (performance.now() - t0) / 1000
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`)
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)
  if (!m) throw new Error(`no RSS in /usr/bin/time output: ${r.stderr.slice(-500)}`)
  return { rssMiB: Number(m[1]) / 1024, seconds }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const registry = await startRegistry()
try {
  const client = createRegistryClient()
  const baseline = median(Array.from({ length: runs }, () => measure([cliMain, '--version']).rssMiB))
  console.log(`node ${process.version}, runs per row: ${runs}`)
  console.log(`baseline: countersign --version                     RSS peak ${baseline.toFixed(0).padStart(4)} MiB`)
  for (const mib of sizes) {
    const path = join(work, `sbom-${mib}.spdx.json`)
    const sbom = await writeSBOM(path, mib * MiB)
    for (const mode of ['legacy', 'oci-1-1'] as const) {
      const rss: number[] = []
      const secs: number[] = []
      for (let n = 0; n < runs; n++) {
        // A fresh repository per run, so the blob is really uploaded (not found by the HEAD check).
        const ref = parseReference(`${registry.host}/bench/m${mib}-${mode}-${n}:v1`)
        await pushTinyImage(client, ref, `image ${mib} ${mode} ${n}\n`)
        const modeFlags = mode === 'legacy' ? [] : ['--registry-referrers-mode', 'oci-1-1']
        const m = measure([
          cliMain,
          'attach',
          'sbom',
          '--sbom',
          path,
          '--type',
          'spdx',
          ...modeFlags,
          `${ref.registry}/${ref.repository}:v1`,
        ])
        if (!(await client.blobExists(ref, sbom.digest))) throw new Error(`registry lacks ${sbom.digest} after attach`)
        rss.push(m.rssMiB)
        secs.push(m.seconds)
      }
      const peak = median(rss)
      console.log(
        `attach sbom ${String(mib).padStart(3)} MiB ${mode.padEnd(8)} ${median(secs).toFixed(2).padStart(6)} s   RSS peak ${peak.toFixed(0).padStart(4)} MiB (+${(peak - baseline).toFixed(0)} over baseline, SBOM ${(sbom.size / MiB).toFixed(0)} MiB)`,
      )
    }
    rmSync(path, { force: true })
  }
} finally {
  await registry.stop()
  rmSync(work, { recursive: true, force: true })
}

/**
 * What the admission benchmarks (bench/admission.ts, bench/gatekeeper.ts) share: a docker-registry on loopback with a
 * pool of signed images, the timed HTTPS POST, and the figures' percentiles and metric lines.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs'
import type { Agent } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mapLimit } from '../../src/internal/concurrency.js'
import { generateKeyPair, type PrivateKey } from '../../src/keys/index.js'
import type { AdmissionServer } from '../../src/node/admission-server.js'
import type { OCIStore } from '../../src/oci/types.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { httpsRequest } from '../../test/admission/https-client.js'
import { startRegistry, type TestRegistry } from '../../test/support/registry.js'
import { pushSignedImage } from '../../test/support/signed-image.js'

/**
 * The nearest-rank percentile `p` (0 to 100) of `sorted`, ascending.
 *
 * @example
 * const p99 = percentile(ms.sort((a, b) => a - b), 99)
 */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

/**
 * Run `bench` with a docker-registry on loopback and a new temporary directory (named `prefix…`), both gone after.
 *
 * @example
 * await withRegistry('countersign-bench-', async (reg, dir) => console.log(reg.host, dir))
 */
export async function withRegistry(
  prefix: string,
  bench: (reg: TestRegistry, dir: string) => Promise<void>,
): Promise<void> {
  const reg = await startRegistry()
  const dir = mkdtempSync(join(tmpdir(), prefix))
  try {
    await bench(reg, dir)
  } finally {
    await reg.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** One image of a {@link pushSignedPool}, by tag and by digest. */
export interface PoolImage {
  readonly tag: string
  readonly digest: string
}

/**
 * `count` distinct images `<repository(i)>:v<i>` pushed to `store`, 16 at a time, and signed with one new key
 * (offline); logs how long that took.
 *
 * @example
 * const { key, images } = await pushSignedPool(store, 1000, (i) => `${reg.host}/bench/app-${i % 50}`, 'bench image')
 */
export async function pushSignedPool(
  store: OCIStore,
  count: number,
  repository: (i: number) => string,
  label: string,
): Promise<{ key: PrivateKey; images: PoolImage[] }> {
  const key = await generateKeyPair()
  const signer = createKeySigner(key)
  const t0 = performance.now()
  const images = await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    16,
    async (i) => {
      const tag = `${repository(i)}:v${i}`
      const digest = await pushSignedImage(store, tag, signer, `${label} ${i}`)
      return { tag, digest: `${repository(i)}@${digest}` }
    },
  )
  console.log(`setup: ${count} images pushed and signed in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  return { key, images }
}

/**
 * POST the JSON `body` to `url` through `agent` (keep-alive; it holds the TLS options): the parsed answer, and the
 * milliseconds from the request to the end of the answer.
 *
 * @example
 * const { ms, json } = await timedPost<{ response: { allowed: boolean } }>(`${server.url}/validate`, agent, review)
 */
export async function timedPost<T>(url: string, agent: Agent, body: string): Promise<{ ms: number; json: T }> {
  const t = performance.now()
  const res = await httpsRequest(url, { method: 'POST', body, caFiles: [], agent, timeoutMs: 300_000 })
  const ms = performance.now() - t
  return { ms, json: res.json() }
}

/**
 * The line of sample `name` in `server`'s metrics (`<name> ?` when there is none).
 *
 * @example
 * console.log(metricLine(server, 'countersign_admission_cache_hits_total'))
 */
export function metricLine(server: AdmissionServer, name: string): string {
  return (
    server.metrics
      .render()
      .split('\n')
      .find((l) => l.startsWith(name)) ?? `${name} ?`
  )
}

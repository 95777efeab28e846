// Admission latency of the webhook (p50/p99) at concurrency 16 over 1,000 distinct signed images in a real registry
// (docker-registry on loopback), over HTTPS with keep-alive as the API server uses it. Three passes:
//   cold          each review names a new image by tag: tag resolution + full signature verification
//   warm (tag)    the same reviews again: tag resolution (one HEAD) + a verdict from the cache keyed by digest
//   warm (digest) reviews naming images by digest: the verdict straight from the cache, no registry round trip
// The image check is what `countersign admission-webhook` ships: createPolicyImageCheck over a ClusterImagePolicy with
// a key authority (its cache keys verdicts by digest + policy). Not a timed test; prints figures.
// Run: npx tsx bench/admission.ts [images, default 1000] [concurrency, default 16]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signImage } from '../src/image/sign.js'
import { mapLimit } from '../src/internal/concurrency.js'
import { generateKeyPair, publicKeyToPEM } from '../src/keys/index.js'
import { startAdmissionServer } from '../src/node/admission-server.js'
import { parseReference } from '../src/oci/reference.js'
import { createRegistryClient } from '../src/oci/registry.js'
import { createPolicyImageCheck, parsePolicies } from '../src/policy/index.js'
import { createKeySigner } from '../src/signers/key-signer.js'
import { loadReview, mapImages } from '../test/admission/fixtures.js'
import { makeLoopbackCert } from '../test/admission/https-client.js'
import { pushTinyImage } from '../test/support/oci-image.js'
import { startRegistry } from '../test/support/registry.js'

const IMAGES = Number(process.argv[2] ?? 1000)
const CONCURRENCY = Number(process.argv[3] ?? 16)

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

async function main() {
  const reg = await startRegistry()
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-admission-'))
  const store = createRegistryClient({ maxConcurrency: 64 })
  try {
    const key = await generateKeyPair()
    const signer = createKeySigner(key)
    const t0 = performance.now()
    const refs = await mapLimit(
      Array.from({ length: IMAGES }, (_, i) => i),
      16,
      async (i) => {
        const ref = parseReference(`${reg.host}/bench/app-${i % 50}:v${i}`)
        const digest = await pushTinyImage(store, ref, `admission bench image ${i}`)
        await signImage(ref, signer, { store, tlogUpload: false })
        return { tag: `${reg.host}/bench/app-${i % 50}:v${i}`, digest: `${reg.host}/bench/app-${i % 50}@${digest}` }
      },
    )
    console.log(`setup: ${IMAGES} images pushed and signed in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    const tls = makeLoopbackCert(dir)
    const { policies } = parsePolicies(`apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: bench
spec:
  images:
    - glob: "${reg.host}/bench/**"
  authorities:
    - key:
        data: |
${publicKeyToPEM(key.publicKey)
  .trim()
  .split('\n')
  .map((l) => `          ${l}`)
  .join('\n')}
`)
    // Key authorities without ctlog skip the log (policy-controller's rule); the bench images are signed offline.
    const check = createPolicyImageCheck(policies, { store, cache: { ttlMs: 10 * 60_000, maxEntries: 10_000 } })
    const server = await startAdmissionServer({
      tlsCertFile: tls.cert,
      tlsKeyFile: tls.key,
      port: 0,
      host: '127.0.0.1',
      loadCheck: async () => check,
      timeoutMs: 30_000,
    })
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: readFileSync(tls.cert) })
    const template = loadReview('pod-ephemeral')
    const review = (image: string) => {
      const r = mapImages(template, () => image)
      // One container per review: the Pod with only its main container.
      delete r.request.object.spec.ephemeralContainers
      return JSON.stringify(r)
    }
    const post = (body: string) =>
      new Promise<{ allowed: boolean; ms: number }>((resolve, reject) => {
        const t = performance.now()
        const req = request(`${server.url}/validate?timeout=30s`, { method: 'POST', agent }, (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            const ms = performance.now() - t
            resolve({ allowed: JSON.parse(Buffer.concat(chunks).toString()).response.allowed, ms })
          })
          res.on('error', reject)
        })
        req.on('error', reject)
        req.setHeader('content-type', 'application/json')
        req.end(body)
      })

    const pass = async (name: string, images: readonly string[]) => {
      const bodies = images.map(review)
      const start = performance.now()
      const results = await mapLimit(bodies, CONCURRENCY, post)
      const wall = (performance.now() - start) / 1000
      const denied = results.filter((r) => !r.allowed).length
      if (denied > 0) throw new Error(`${name}: ${denied} reviews denied`)
      const ms = results.map((r) => r.ms).sort((a, b) => a - b)
      console.log(
        `${name.padEnd(14)} p50 ${percentile(ms, 50).toFixed(1).padStart(7)} ms   p99 ${percentile(ms, 99)
          .toFixed(1)
          .padStart(
            7,
          )} ms   max ${ms[ms.length - 1]!.toFixed(1).padStart(7)} ms   ${(results.length / wall).toFixed(0)} reviews/s`,
      )
    }
    console.log(`\n${IMAGES} distinct images, one per review, concurrency ${CONCURRENCY}, HTTPS keep-alive:`)
    await pass(
      'cold',
      refs.map((r) => r.tag),
    )
    await pass(
      'warm (tag)',
      refs.map((r) => r.tag),
    )
    await pass(
      'warm (digest)',
      refs.map((r) => r.digest),
    )
    const metrics = server.metrics.render()
    const line = (name: string) => metrics.split('\n').find((l) => l.startsWith(name)) ?? `${name} ?`
    console.log(`\n${line('countersign_admission_requests_total{endpoint="validate"}')}`)
    console.log(line('countersign_admission_cache_hits_total'))
    agent.destroy()
    await server.close()
  } finally {
    await reg.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()

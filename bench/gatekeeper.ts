// Latency of the Gatekeeper external-data provider (POST /gatekeeper/validate) for 50-image ProviderRequests sent 8 at
// a time, as Gatekeeper would send them: HTTPS keep-alive, TLS 1.3, presenting a client certificate the server checks
// against a "Gatekeeper CA" (openssl-made). Images live in a real docker-registry on loopback, signed with a key, and
// are decided by what `countersign admission-webhook` ships: createPolicyImageCheck over a ClusterImagePolicy with a
// key authority. Passes:
//   cold           the decision cache disabled: every image of every request is resolved and fully verified (also
//                  eight of the requests one at a time, for scale)
//   warm (tag)     cache primed: a tag resolution (one HEAD) per image, the verdict from the cache
//   warm (digest)  cache primed, images by digest: the verdict straight from the cache, no registry round trip
// It prints p50/p99 per request and the registry requests per image (counted on the registry client's fetch). Each
// request's own budget is raised to 60 s so every pass completes; the column "> 1.5 s" counts requests that would
// have been a systemError "timed out" under the default --gatekeeper-timeout.
// Not a timed test; prints figures. Run: npx tsx bench/gatekeeper.ts [requests per pass, default 64] [pool, default 400]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ImageCheck } from '../src/admission/types.js'
import { signImage } from '../src/image/sign.js'
import { mapLimit } from '../src/internal/concurrency.js'
import { generateKeyPair, publicKeyToPEM } from '../src/keys/index.js'
import { type AdmissionServer, startAdmissionServer } from '../src/node/admission-server.js'
import { parseReference } from '../src/oci/reference.js'
import { createRegistryClient } from '../src/oci/registry.js'
import { createPolicyImageCheck, parsePolicies } from '../src/policy/index.js'
import { createKeySigner } from '../src/signers/key-signer.js'
import { GATEKEEPER_SAN, issueLeaf, makeCA, providerRequest } from '../test/admission/gatekeeper-tls.js'
import { makeLoopbackCert } from '../test/admission/https-client.js'
import { pushTinyImage } from '../test/support/oci-image.js'
import { startRegistry } from '../test/support/registry.js'

const REQUESTS = Number(process.argv[2] ?? 64)
const POOL = Number(process.argv[3] ?? 400)
const KEYS_PER_REQUEST = 50
const CONCURRENCY = 8
const DEFAULT_BUDGET_MS = 1500

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

async function main() {
  const reg = await startRegistry()
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-gatekeeper-'))
  // The webhook's registry client, with its requests counted.
  let registryRequests = 0
  const countingFetch: typeof fetch = (input, init) => {
    registryRequests++
    return fetch(input, init)
  }
  const setupStore = createRegistryClient({ maxConcurrency: 64 })
  const store = createRegistryClient({ maxConcurrency: 64, fetch: countingFetch })
  try {
    const key = await generateKeyPair()
    const signer = createKeySigner(key)
    const t0 = performance.now()
    const pool = await mapLimit(
      Array.from({ length: POOL }, (_, i) => i),
      16,
      async (i) => {
        const tag = `${reg.host}/bench/gk-${i % 40}:v${i}`
        const ref = parseReference(tag)
        const digest = await pushTinyImage(setupStore, ref, `gatekeeper bench image ${i}`)
        await signImage(ref, signer, { store: setupStore, tlogUpload: false })
        return { tag, digest: `${reg.host}/bench/gk-${i % 40}@${digest}` }
      },
    )
    console.log(`setup: ${POOL} images pushed and signed in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    const tls = makeLoopbackCert(dir)
    const ca = makeCA(dir, 'gatekeeper')
    const client = issueLeaf(ca, 'gatekeeper-client')
    const policyFile = join(dir, 'policy.yaml')
    writeFileSync(
      policyFile,
      `apiVersion: policy.sigstore.dev/v1beta1
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
`,
    )
    const policies = parsePolicies(readFileSync(policyFile, 'utf8')).policies
    const start = (check: ImageCheck) =>
      startAdmissionServer({
        tlsCertFile: tls.cert,
        tlsKeyFile: tls.key,
        port: 0,
        host: '127.0.0.1',
        loadCheck: async () => check,
        gatekeeperClientCAFile: ca.cert,
        gatekeeperClientNames: [GATEKEEPER_SAN],
        gatekeeperTimeoutMs: 60_000,
      })
    const agent = new Agent({
      keepAlive: true,
      maxSockets: CONCURRENCY,
      ca: readFileSync(tls.cert),
      cert: readFileSync(client.cert),
      key: readFileSync(client.key),
      minVersion: 'TLSv1.3',
    })
    const post = (server: AdmissionServer, body: string) =>
      new Promise<{ ms: number; verified: number; systemError?: string }>((resolve, reject) => {
        const t = performance.now()
        const req = request(`${server.url}/gatekeeper/validate`, { method: 'POST', agent }, (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            const ms = performance.now() - t
            const r = JSON.parse(Buffer.concat(chunks).toString()).response
            resolve({
              ms,
              verified: (r.items ?? []).filter((i: { value?: { verified?: boolean } }) => i.value?.verified).length,
              ...(r.systemError ? { systemError: r.systemError } : {}),
            })
          })
          res.on('error', reject)
        })
        req.on('error', reject)
        req.setHeader('content-type', 'application/json')
        req.end(body)
      })
    // Request i asks for a window of 50 consecutive pool images; windows overlap across requests only when the
    // pool is smaller than REQUESTS × 50 (with the default pool, every image appears in 8 requests).
    const bodies = (form: 'tag' | 'digest') =>
      Array.from({ length: REQUESTS }, (_, i) =>
        providerRequest(
          Array.from({ length: KEYS_PER_REQUEST }, (_, k) => pool[(i * KEYS_PER_REQUEST + k) % POOL]![form]),
        ),
      )

    const rows: string[] = []
    const pass = async (
      name: string,
      server: AdmissionServer,
      requests: readonly string[],
      concurrency = CONCURRENCY,
    ) => {
      registryRequests = 0
      const started = performance.now()
      const results = await mapLimit(requests, concurrency, (b) => post(server, b))
      const wall = (performance.now() - started) / 1000
      const failed = results.filter((r) => r.systemError !== undefined || r.verified !== KEYS_PER_REQUEST)
      if (failed.length > 0)
        throw new Error(`${name}: ${failed.length} requests not fully verified: ${failed[0]!.systemError}`)
      const ms = results.map((r) => r.ms).sort((a, b) => a - b)
      const over = ms.filter((m) => m > DEFAULT_BUDGET_MS).length
      rows.push(
        `| ${name} | ${percentile(ms, 50).toFixed(0)} ms | ${percentile(ms, 99).toFixed(0)} ms | ${over} of ${results.length} | ${(registryRequests / (results.length * KEYS_PER_REQUEST)).toFixed(2)} | ${((results.length * KEYS_PER_REQUEST) / wall).toFixed(0)} |`,
      )
      console.log(rows.at(-1))
    }

    console.log(
      `\n${REQUESTS} requests of ${KEYS_PER_REQUEST} images per pass, ${CONCURRENCY} requests at a time (checks per request: 8), pool of ${POOL} images:\n`,
    )
    console.log('| pass | p50 | p99 | > 1.5 s | registry requests / image | images/s |')
    console.log('|---|---|---|---|---|---|')
    // Cold: a server whose check has no decision cache, so every request verifies all of its images.
    const cold = await start(createPolicyImageCheck(policies, { store, cache: false }))
    await pass('cold (no decision cache)', cold, bodies('tag'))
    // For scale: the same cold requests one at a time (a quiet cluster), the first eight.
    await pass('cold, 1 request at a time', cold, bodies('tag').slice(0, 8), 1)
    await cold.close()
    // Warm: one server with the shipped cache (TTL long enough for the run), primed by one pass over the pool.
    const warm = await start(createPolicyImageCheck(policies, { store, cache: { ttlMs: 10 * 60_000 } }))
    await mapLimit(
      Array.from({ length: Math.ceil(POOL / KEYS_PER_REQUEST) }, (_, i) =>
        providerRequest(pool.slice(i * KEYS_PER_REQUEST, (i + 1) * KEYS_PER_REQUEST).map((p) => p.tag)),
      ),
      CONCURRENCY,
      (b) => post(warm, b),
    )
    await pass('warm, by tag', warm, bodies('tag'))
    await pass('warm, by digest', warm, bodies('digest'))
    const metrics = warm.metrics.render()
    const line = (name: string) => metrics.split('\n').find((l) => l.startsWith(name)) ?? `${name} ?`
    console.log(`\n${line('countersign_admission_requests_total{endpoint="gatekeeper-validate"}')}`)
    console.log(line('countersign_admission_cache_hits_total'))
    agent.destroy()
    await warm.close()
  } finally {
    await reg.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()

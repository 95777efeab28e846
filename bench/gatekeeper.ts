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
import { readFileSync } from 'node:fs'
import { Agent } from 'node:https'
import type { ImageCheck } from '../src/admission/types.js'
import { mapLimit } from '../src/internal/concurrency.js'
import { publicKeyToPEM } from '../src/keys/index.js'
import { type AdmissionServer, startAdmissionServer } from '../src/node/admission-server.js'
import { createRegistryClient } from '../src/oci/registry.js'
import { createPolicyImageCheck, parsePolicies } from '../src/policy/index.js'
import { GATEKEEPER_SAN, issueLeaf, providerRequest } from '../test/admission/gatekeeper-tls.js'
import { loopbackServerOptions, makeLoopbackCert } from '../test/admission/https-client.js'
import { keyPolicyYAML } from '../test/support/cluster-image-policy.js'
import { makeCA } from '../test/support/tls-cert.js'
import { metricLine, percentile, pushSignedPool, timedPost, withRegistry } from './support/admission-bench.js'

const REQUESTS = Number(process.argv[2] ?? 64)
const POOL = Number(process.argv[3] ?? 400)
const KEYS_PER_REQUEST = 50
const CONCURRENCY = 8
const DEFAULT_BUDGET_MS = 1500

await withRegistry('countersign-bench-gatekeeper-', async (reg, dir) => {
  // The webhook's registry client, with its requests counted.
  let registryRequests = 0
  const countingFetch: typeof fetch = (input, init) => {
    registryRequests++
    return fetch(input, init)
  }
  const setupStore = createRegistryClient({ maxConcurrency: 64 })
  const store = createRegistryClient({ maxConcurrency: 64, fetch: countingFetch })
  const repository = (i: number) => `${reg.host}/bench/gk-${i % 40}`
  const { key, images: pool } = await pushSignedPool(setupStore, POOL, repository, 'gatekeeper bench image')

  const tls = makeLoopbackCert(dir)
  const ca = makeCA(dir, 'gatekeeper')
  const client = issueLeaf(ca, 'gatekeeper-client')
  const publicKeyPEM = publicKeyToPEM(key.publicKey)
  const policies = parsePolicies(keyPolicyYAML({ name: 'bench', glob: `${reg.host}/bench/**`, publicKeyPEM })).policies
  const start = (check: ImageCheck) =>
    startAdmissionServer({
      ...loopbackServerOptions(tls),
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
  const post = async (server: AdmissionServer, body: string) => {
    type Answer = { response: { items?: { value?: { verified?: boolean } }[]; systemError?: string } }
    const { ms, json } = await timedPost<Answer>(`${server.url}/gatekeeper/validate`, agent, body)
    const r = json.response
    return {
      ms,
      verified: (r.items ?? []).filter((i) => i.value?.verified).length,
      ...(r.systemError ? { systemError: r.systemError } : {}),
    }
  }
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
  console.log(`\n${metricLine(warm, 'countersign_admission_requests_total{endpoint="gatekeeper-validate"}')}`)
  console.log(metricLine(warm, 'countersign_admission_cache_hits_total'))
  agent.destroy()
  await warm.close()
})

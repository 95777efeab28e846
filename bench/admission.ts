// Admission latency of the webhook (p50/p99) at concurrency 16 over 1,000 distinct signed images in a real registry
// (docker-registry on loopback), over HTTPS with keep-alive as the API server uses it. Three passes:
//   cold          each review names a new image by tag: tag resolution + full signature verification
//   warm (tag)    the same reviews again: tag resolution (one HEAD) + a verdict from the cache keyed by digest
//   warm (digest) reviews naming images by digest: the verdict straight from the cache, no registry round trip
// The image check is what `countersign admission-webhook` ships: createPolicyImageCheck over a ClusterImagePolicy with
// a key authority (its cache keys verdicts by digest + policy). Not a timed test; prints figures.
// With `--process`, the webhook is the shipped executable (`node dist/cli/main.js admission-webhook`, `npm run build`
// first) in its own process, as the API server meets it: this process then only sends reviews, and its TLS and JSON
// work no longer shares the webhook's event loop.
// `--digest-passes=N` repeats the warm-by-digest pass N times (so that it dominates a profile); with `--process`,
// `--cpu-prof=DIR` starts the webhook with Node's `--cpu-prof` writing its profile into DIR.
// In this process, the webhook's registry requests per image are printed beside each pass.
// Run: npx tsx bench/admission.ts [images, default 1000] [concurrency, default 16] [--process] [--digest-passes=N]
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Agent } from 'node:https'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mapLimit } from '../src/internal/concurrency.js'
import { publicKeyToPEM } from '../src/keys/index.js'
import { type AdmissionServer, startAdmissionServer } from '../src/node/admission-server.js'
import { createRegistryClient } from '../src/oci/registry.js'
import { createPolicyImageCheck, parsePolicies } from '../src/policy/index.js'
import { loadReview, mapImages } from '../test/admission/fixtures.js'
import { httpsRequest, loopbackServerOptions, makeLoopbackCert } from '../test/admission/https-client.js'
import { keyPolicyYAML } from '../test/support/cluster-image-policy.js'
import { webhookURL } from '../test/support/webhook-cli.js'
import { percentile, pushSignedPool, timedPost, withRegistry } from './support/admission-bench.js'

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const IMAGES = Number(positional[0] ?? 1000)
const CONCURRENCY = Number(positional[1] ?? 16)
const SEPARATE_PROCESS = process.argv.includes('--process')
const flagValue = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const DIGEST_PASSES = Number(flagValue('digest-passes') ?? 1)
const CPU_PROFILE_DIR = flagValue('cpu-prof')

await withRegistry('countersign-bench-admission-', async (reg, dir) => {
  const store = createRegistryClient({ maxConcurrency: 64 })
  const repository = (i: number) => `${reg.host}/bench/app-${i % 50}`
  const { key, images: refs } = await pushSignedPool(store, IMAGES, repository, 'admission bench image')

  const tls = makeLoopbackCert(dir)
  const publicKeyPEM = publicKeyToPEM(key.publicKey)
  const { policies } = parsePolicies(keyPolicyYAML({ name: 'bench', glob: `${reg.host}/bench/**`, publicKeyPEM }))
  // Key authorities without ctlog skip the log (policy-controller's rule); the bench images are signed offline.
  // The in-process webhook's registry client counts its requests (the pass prints them per image).
  let registryRequests = 0
  const checkStore = createRegistryClient({
    maxConcurrency: 64,
    fetch: (input, init) => {
      registryRequests++
      return fetch(input, init)
    },
  })
  const check = createPolicyImageCheck(policies, {
    store: checkStore,
    cache: { ttlMs: 10 * 60_000, maxEntries: 10_000 },
  })
  const server: BenchServer = SEPARATE_PROCESS
    ? await startWebhookProcess(dir, tls, keyPolicyYAML({ name: 'bench', glob: `${reg.host}/bench/**`, publicKeyPEM }))
    : inProcess(
        await startAdmissionServer({ ...loopbackServerOptions(tls), loadCheck: async () => check, timeoutMs: 30_000 }),
      )
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: readFileSync(tls.cert) })
  const template = loadReview('pod-ephemeral')
  const review = (image: string) => {
    const r = mapImages(template, () => image)
    // One container per review: the Pod with only its main container.
    delete r.request.object.spec.ephemeralContainers
    return JSON.stringify(r)
  }
  const post = async (body: string) => {
    const { ms, json } = await timedPost<{ response: { allowed: boolean } }>(
      `${server.url}/validate?timeout=30s`,
      agent,
      body,
    )
    return { allowed: json.response.allowed, ms }
  }

  const pass = async (name: string, images: readonly string[]) => {
    const bodies = images.map(review)
    const requestsBefore = registryRequests
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
        )} ms   max ${ms[ms.length - 1]!.toFixed(1).padStart(7)} ms   ${(results.length / wall).toFixed(0)} reviews/s${
        SEPARATE_PROCESS
          ? ''
          : `   ${((registryRequests - requestsBefore) / images.length).toFixed(2)} registry requests/image`
      }`,
    )
  }
  const where = SEPARATE_PROCESS ? 'webhook in its own process' : 'webhook in this process'
  console.log(`\n${IMAGES} distinct images, one per review, concurrency ${CONCURRENCY}, HTTPS keep-alive, ${where}:`)
  await pass(
    'cold',
    refs.map((r) => r.tag),
  )
  await pass(
    'warm (tag)',
    refs.map((r) => r.tag),
  )
  for (let i = 0; i < DIGEST_PASSES; i++) {
    await pass(
      'warm (digest)',
      refs.map((r) => r.digest),
    )
  }
  const metrics = await server.metrics(agent)
  const line = (name: string) => metrics.split('\n').find((l) => l.startsWith(name)) ?? `${name} ?`
  console.log(`\n${line('countersign_admission_requests_total{endpoint="validate"}')}`)
  console.log(line('countersign_admission_cache_hits_total'))
  agent.destroy()
  await server.close()
})

interface BenchServer {
  readonly url: string
  metrics(agent: Agent): Promise<string>
  close(): Promise<void>
}

function inProcess(s: AdmissionServer): BenchServer {
  return { url: s.url, metrics: async () => s.metrics.render(), close: () => s.close() }
}

/** `countersign admission-webhook` from dist/, on a free loopback port, deciding with `policyYAML`. */
async function startWebhookProcess(dir: string, tls: { cert: string; key: string }, policyYAML: string) {
  const policies = join(dir, 'policies')
  mkdirSync(policies, { recursive: true })
  writeFileSync(join(policies, 'policy.yaml'), policyYAML)
  const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))
  if (!existsSync(main)) throw new Error('dist/cli/main.js is missing: run npm run build first')
  const args = ['admission-webhook', '--tls-cert', tls.cert, '--tls-key', tls.key, '--port', '0', '--host', '127.0.0.1']
  const child = spawn(
    process.execPath,
    [
      ...(CPU_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROFILE_DIR] : []),
      main,
      ...args,
      '--policy',
      policies,
      '--allow-http-registry',
      '--timeout',
      '30s',
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let logged = ''
  child.stderr.on('data', (c: Buffer) => {
    // Keep only what the start-up wait needs: one log line per review would otherwise pile up here.
    if (logged.length < 1 << 16) logged += c.toString('utf8')
  })
  const url = await webhookURL(() => logged)
  const server: BenchServer = {
    url,
    metrics: async (agent) => (await httpsRequest(`${url}/metrics`, { caFiles: [], agent })).text,
    close: async () => {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    },
  }
  return server
}

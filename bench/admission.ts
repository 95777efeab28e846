// Admission latency of the webhook (p50/p99) at concurrency 16 over 1,000 distinct signed images in a real registry
// (docker-registry on loopback), over HTTPS with keep-alive as the API server uses it. Three passes:
//   cold          each review names a new image by tag: tag resolution + full signature verification
//   warm (tag)    the same reviews again: tag resolution (one HEAD) + a verdict from the cache keyed by digest
//   warm (digest) reviews naming images by digest: the verdict straight from the cache, no registry round trip
// The image check is what `countersign admission-webhook` ships: createPolicyImageCheck over a ClusterImagePolicy with
// a key authority (its cache keys verdicts by digest + policy). Not a timed test; prints figures.
// With `--process`, the webhook is the shipped executable (`node dist/cli/main.js admission-webhook`, `npm run build`
// first) in its own process, as the API server meets it.
// The reviews are sent by a lean client in a process of its own (bench/support/review-load.ts says why), with its
// connections kept open across passes. In-process mode prints the webhook's registry requests per image per pass.
// `--digest-passes=N` repeats the warm-by-digest pass N times. With `--process`: `--gc` runs the webhook with
// `--trace-gc-nvp` and prints, per pass, its collections (count, longest pause, bytes promoted per scavenge);
// `--cpu-prof=DIR` writes the webhook's CPU profile into DIR; `--node-flags=A,B` passes more flags to its Node.
// Run: npx tsx bench/admission.ts [images, default 1000] [concurrency, default 16] [--process] [--digest-passes=N] [--gc]
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { publicKeyToPEM } from '../src/keys/index.js'
import { type AdmissionServer, startAdmissionServer } from '../src/node/admission-server.js'
import { createRegistryClient } from '../src/oci/registry.js'
import { createPolicyImageCheck, parsePolicies } from '../src/policy/index.js'
import { loadReview, mapImages } from '../test/admission/fixtures.js'
import { httpsRequest, loopbackServerOptions, makeLoopbackCert, metricValue } from '../test/admission/https-client.js'
import { keyPolicyYAML } from '../test/support/cluster-image-policy.js'
import { webhookURL } from '../test/support/webhook-cli.js'
import { percentile, pushSignedPool, withRegistry } from './support/admission-bench.js'
import { type GCWindow, gcWindow } from './support/gc-trace.js'
import { startReviewLoad } from './support/review-load.js'

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const IMAGES = Number(positional[0] ?? 1000)
const CONCURRENCY = Number(positional[1] ?? 16)
const SEPARATE_PROCESS = process.argv.includes('--process')
const flagValue = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const DIGEST_PASSES = Number(flagValue('digest-passes') ?? 1)
const CPU_PROFILE_DIR = flagValue('cpu-prof')
const NODE_FLAGS = flagValue('node-flags')?.split(',').filter(Boolean) ?? []
const GC_TRACE = SEPARATE_PROCESS && process.argv.includes('--gc')

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
  const load = startReviewLoad(`${server.url}/validate?timeout=30s`, tls.cert, CONCURRENCY)
  const template = loadReview('pod-ephemeral')
  const review = (image: string) => {
    const r = mapImages(template, () => image)
    // One container per review: the Pod with only its main container.
    delete r.request.object.spec.ephemeralContainers
    return JSON.stringify(r)
  }

  // The webhook's own account of its time per review (request_duration_seconds: from reading the body to the
  // decision), beside the latency the client sees (which adds queueing, TLS and the answer's write).
  const decidingTime = async () => {
    const text = await server.metrics(tls.cert)
    const sample = (name: string) =>
      metricValue(text, `countersign_admission_request_duration_seconds_${name}{endpoint="validate"}`)
    return { sum: sample('sum'), count: sample('count') }
  }
  // Every body is made and handed to the load process before anything is timed.
  await load.prepare({ tag: refs.map((r) => review(r.tag)), digest: refs.map((r) => review(r.digest)) })
  const pass = async (name: string, bodies: 'tag' | 'digest', images: number) => {
    const requestsBefore = registryRequests
    const gc: GCWindow | undefined = server.gcTrace ? gcWindow(server.gcTrace) : undefined
    const before = await decidingTime()
    const { ms: unsorted, wall, denied, clientGC } = await load.pass(bodies)
    const after = await decidingTime()
    if (denied > 0) throw new Error(`${name}: ${denied} reviews denied`)
    const ms = unsorted.sort((a, b) => a - b)
    console.log(
      `${name.padEnd(14)} p50 ${percentile(ms, 50).toFixed(1).padStart(7)} ms   p99 ${percentile(ms, 99)
        .toFixed(1)
        .padStart(
          7,
        )} ms   max ${ms[ms.length - 1]!.toFixed(1).padStart(7)} ms   ${(ms.length / wall).toFixed(0)} reviews/s${
        SEPARATE_PROCESS
          ? ''
          : `   ${((registryRequests - requestsBefore) / images).toFixed(2)} registry requests/image`
      }`,
    )
    const deciding = ((after.sum - before.sum) / (after.count - before.count)) * 1e3
    const shown = deciding < 1 ? `${(deciding * 1000).toFixed(0)} µs` : `${deciding.toFixed(1)} ms`
    console.log(
      `${''.padEnd(14)} webhook: ${shown} per review from body to decision (its metrics); client: ${clientGC.count} GCs, longest ${clientGC.longestMs.toFixed(1)} ms`,
    )
    if (gc) console.log(`${''.padEnd(14)} webhook GC: ${gc.summary()}`)
  }
  const where = SEPARATE_PROCESS ? 'webhook in its own process' : 'webhook in this process'
  console.log(`\n${IMAGES} distinct images, one per review, concurrency ${CONCURRENCY}, HTTPS keep-alive, ${where}:`)
  await pass('cold', 'tag', refs.length)
  await pass('warm (tag)', 'tag', refs.length)
  for (let i = 0; i < DIGEST_PASSES; i++) await pass('warm (digest)', 'digest', refs.length)
  await load.close()
  const metrics = await server.metrics(tls.cert)
  const line = (name: string) => metrics.split('\n').find((l) => l.startsWith(name)) ?? `${name} ?`
  console.log(`\n${line('countersign_admission_requests_total{endpoint="validate"}')}`)
  console.log(line('countersign_admission_cache_hits_total'))
  await server.close()
})

interface BenchServer {
  readonly url: string
  /** The webhook's `--trace-gc-nvp` output file (with `--process --gc`). */
  readonly gcTrace?: string
  metrics(caFile: string): Promise<string>
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
  const gcTrace = GC_TRACE ? join(dir, 'gc-trace.txt') : undefined
  const logFile = join(dir, 'webhook.log')
  if (!existsSync(main)) throw new Error('dist/cli/main.js is missing: run npm run build first')
  const args = ['admission-webhook', '--tls-cert', tls.cert, '--tls-key', tls.key, '--port', '0', '--host', '127.0.0.1']
  const child = spawn(
    process.execPath,
    [
      ...(CPU_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROFILE_DIR] : []),
      ...(GC_TRACE ? ['--trace-gc-nvp'] : []),
      ...NODE_FLAGS,
      main,
      ...args,
      '--policy',
      policies,
      '--allow-http-registry',
      '--timeout',
      '30s',
    ],
    // With --gc, the webhook's stdout (where V8 prints its trace) goes to a file read between passes. Its log (a
    // line per review) goes to a file too: read through a pipe, this process woke up for every write and took CPU
    // from the two processes measured.
    { stdio: ['ignore', gcTrace ? openSync(gcTrace, 'w') : 'ignore', openSync(logFile, 'w')] },
  )
  const url = await webhookURL(() => readFileSync(logFile, 'utf8'))
  const server: BenchServer = {
    url,
    ...(gcTrace ? { gcTrace } : {}),
    metrics: async (caFile) => (await httpsRequest(`${url}/metrics`, { caFiles: [caFile] })).text,
    close: async () => {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    },
  }
  return server
}

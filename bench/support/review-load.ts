/**
 * The admission benchmark's client, in a process of its own: POSTs AdmissionReviews over HTTPS keep-alive at a fixed
 * concurrency and reports each one's latency. Started by {@link startReviewLoad}; one pass per request it gets.
 *
 * Why a separate, lean process: the latency measured must be the webhook's. The first client (the bench process
 * itself, a general-purpose HTTPS helper that also read the peer certificate of every answer) had young-generation
 * pauses of 4–8 ms during the warm passes (`--trace-gc` on the bench process), and every pause delayed all 16 answers
 * in flight: the figure measured the client. The API server that calls a real webhook is another process (a Go one,
 * on another machine). Here the client allocates little per request and shares no heap with the setup (1,000 pushed
 * images). It still shares this machine's two cores with the webhook.
 *
 * Before measuring, the bodies of every pass are handed over at once ({@link ReviewLoad.prepare}) and each pass starts
 * after 50 ms idle, so that nothing the bench itself does runs during a pass.
 *
 * Protocol (JSON lines): stdin `{ "prepare": { [pass]: string[] } }` → stdout `{ "ready": true }`; stdin
 * `{ "run": pass }` → stdout `{ "ms": number[], "wall": s, "denied": n }`.
 * @module
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Agent, request } from 'node:https'
import { PerformanceObserver } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'

/** One pass as the load process measured it. */
export interface PassResult {
  /** Milliseconds from sending each review to the end of its answer, in the order sent. */
  readonly ms: number[]
  /** Seconds from the first request to the last answer. */
  readonly wall: number
  /** Answers with `allowed: false`. */
  readonly denied: number
  /** This process's own garbage collections during the pass: how many, and the longest (ms). */
  readonly clientGC: { readonly count: number; readonly longestMs: number }
}

/** A running load process: {@link ReviewLoad.prepare} the passes' bodies, then {@link ReviewLoad.pass} each. */
export interface ReviewLoad {
  /** Hand over the bodies of named passes (not timed). */
  prepare(passes: Readonly<Record<string, readonly string[]>>): Promise<void>
  /** Run the named pass once and report it. */
  pass(name: string): Promise<PassResult>
  close(): Promise<void>
}

/**
 * Start the load process against `url` (`…/validate?timeout=30s`), trusting `caFile`, with `concurrency` reviews in
 * flight. Its connections stay open between passes, as the API server's do.
 *
 * @example
 * const load = startReviewLoad(`${server.url}/validate?timeout=30s`, tls.cert, 16)
 * await load.prepare({ warm: bodies })
 * const { ms } = await load.pass('warm')
 * await load.close()
 */
export function startReviewLoad(url: string, caFile: string, concurrency: number): ReviewLoad {
  const child: ChildProcessByStdio<Writable, Readable, null> = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), url, caFile, String(concurrency)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const ask = async (message: unknown) => {
    child.stdin.write(`${JSON.stringify(message)}\n`)
    const next = await lines.next()
    if (next.done) throw new Error('the review load process ended')
    return JSON.parse(next.value) as unknown
  }
  return {
    async prepare(passes) {
      await ask({ prepare: passes })
    },
    async pass(name) {
      return (await ask({ run: name })) as PassResult
    },
    async close() {
      child.stdin.end()
      await new Promise((r) => child.once('exit', r))
    },
  }
}

/** One POST; resolves with its latency and whether it was allowed. */
function post(agent: Agent, target: URL, body: Buffer): Promise<{ ms: number; allowed: boolean }> {
  return new Promise((resolve, reject) => {
    const t = performance.now()
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          const ms = performance.now() - t
          const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { response?: { allowed?: boolean } }
          resolve({ ms, allowed: answer.response?.allowed === true })
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

async function runPass(agent: Agent, target: URL, concurrency: number, buffers: readonly Buffer[]) {
  // Let whatever the last message cost this process (parsing, a collection) finish before the clock starts. (A
  // forced gc() here made the passes slower: the heap it leaves is too small for the pass.)
  await new Promise((r) => setTimeout(r, 50))
  const ms = new Array<number>(buffers.length)
  let denied = 0
  let next = 0
  const start = performance.now()
  const worker = async () => {
    while (next < buffers.length) {
      const i = next++
      const r = await post(agent, target, buffers[i]!)
      ms[i] = r.ms
      if (!r.allowed) denied++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const end = performance.now()
  // GC entries reach the observer asynchronously.
  await new Promise((r) => setTimeout(r, 20))
  const pauses = gcEntries.filter((e) => e.startTime >= start && e.startTime <= end).map((e) => e.duration)
  gcEntries.length = 0
  const clientGC = { count: pauses.length, longestMs: Math.max(0, ...pauses) }
  return { ms, wall: (end - start) / 1000, denied, clientGC }
}

/** This process's collections, so that a pass can say whether the client paused (it must not be what is measured). */
const gcEntries: { startTime: number; duration: number }[] = []

async function main(url: string, caFile: string, concurrency: number) {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcEntries.push({ startTime: e.startTime, duration: e.duration })
  }).observe({ entryTypes: ['gc'] })
  const target = new URL(url)
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca: readFileSync(caFile) })
  const passes = new Map<string, Buffer[]>()
  for await (const line of createInterface({ input: process.stdin })) {
    const message = JSON.parse(line) as { prepare?: Record<string, string[]>; run?: string }
    if (message.prepare) {
      for (const [name, bodies] of Object.entries(message.prepare))
        passes.set(
          name,
          bodies.map((b) => Buffer.from(b)),
        )
      process.stdout.write('{"ready":true}\n')
    } else {
      const buffers = passes.get(message.run ?? '')
      if (!buffers) throw new Error(`no pass named ${message.run}`)
      process.stdout.write(`${JSON.stringify(await runPass(agent, target, concurrency, buffers))}\n`)
    }
  }
  agent.destroy()
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [url, caFile, concurrency] = process.argv.slice(2)
  await main(url!, caFile!, Number(concurrency))
}

/**
 * Bundle verification on every core: a pool of worker threads, each with its own verifier (node:crypto backend) for
 * one trusted root, and a `verify` that hands each bundle to the least busy thread. For many independent bundles at
 * once — a registry's worth of attestations, an admission webhook's burst — where one thread's JavaScript (JSON,
 * DER, Merkle proofs) would otherwise be the limit.
 *
 * @module
 */
import { availableParallelism } from 'node:os'
import { isMainThread, type ResourceLimits, Worker, workerData } from 'node:worker_threads'
import { CountersignError } from '../errors.js'
import type { ArtifactInput } from '../verifier/signature.js'
import {
  errorFromMessage,
  POOL_MARK,
  type PoolBundlePolicy,
  type PooledVerificationResult,
  type PoolRequest,
  type PoolResponse,
  type PoolVerifierOptions,
  type PoolWorkerData,
  runPoolWorker,
} from './verifier-pool-protocol.js'

// The pool starts its threads on this very module (tsup may place it in a shared chunk, so no fixed file name is
// known): loaded in a thread the pool started, it runs the worker loop instead.
if (!isMainThread && (workerData as Partial<PoolWorkerData> | null)?.[POOL_MARK] === true) runPoolWorker()

/**
 * Options for {@link createVerifierPool}.
 *
 * @example
 * ```ts
 * import type { VerifierPoolOptions } from 'countersign/node'
 * const options: VerifierPoolOptions = { threads: 4, verifier: { tlogThreshold: 1 } }
 * ```
 *
 * Exported from `countersign/node`.
 */
export interface VerifierPoolOptions {
  /** Worker threads (default: the cores Node may use, `os.availableParallelism()`). */
  readonly threads?: number
  /** The verifier's thresholds and clock, as for `createVerifier`. */
  readonly verifier?: PoolVerifierOptions
  /**
   * Heap limits per thread (Node's `Worker` `resourceLimits`): a thread that exceeds them ends alone, its
   * verifications reject with ERR_ABORTED, and the pool goes on with the threads left.
   */
  readonly resourceLimits?: ResourceLimits
}

/**
 * A pool of verifier threads. `close` ends the threads; verifications still running reject with ERR_ABORTED, and so
 * does every verification once no thread is left (a thread that failed is not replaced).
 *
 * @example
 * ```ts
 * import type { VerifierPool } from 'countersign/node'
 * const verifyAll = (pool: VerifierPool, bundles: Uint8Array[]) => Promise.all(bundles.map((b) => pool.verify(b, undefined, {})))
 * ```
 *
 * Exported from `countersign/node`.
 */
export interface VerifierPool {
  /** Verify one bundle (its JSON bytes) against an artifact (bytes or `{ digest }`) and a policy, on a worker. */
  verify(
    bundle: Uint8Array,
    artifact: ArtifactInput | undefined,
    policy: PoolBundlePolicy,
  ): Promise<PooledVerificationResult>
  /** The number of threads. */
  readonly threads: number
  close(): Promise<void>
}

interface Thread {
  readonly worker: Worker
  inFlight: number
  /** The thread ended (crashed, ran out of memory, or the pool closed): it is given no more work. */
  exited: boolean
}

/**
 * Start a pool of verifier threads for one trusted root (its JSON bytes: each thread parses it once). Threads do
 * not keep the process alive while idle.
 *
 * @param trustedRoot - The trusted root's JSON bytes.
 * @param options - Thread count and verifier options.
 * @returns The pool.
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs'
 * import { createVerifierPool } from 'countersign/node'
 * const pool = createVerifierPool(readFileSync('trusted_root.json'))
 * const results = await Promise.all(bundles.map((b) => pool.verify(b, { digest: 'sha256:…' }, { identity })))
 * await pool.close()
 * ```
 *
 * Exported from `countersign/node`.
 */
export function createVerifierPool(trustedRoot: Uint8Array, options: VerifierPoolOptions = {}): VerifierPool {
  const count = Math.max(1, Math.floor(options.threads ?? availableParallelism()))
  const data: PoolWorkerData = { [POOL_MARK]: true, trustedRoot, options: options.verifier ?? {} }
  const pending = new Map<
    number,
    { resolve: (r: PooledVerificationResult) => void; reject: (e: Error) => void; thread: Thread }
  >()
  let nextId = 0
  let closed = false

  const settle = (thread: Thread, response: PoolResponse): void => {
    const job = pending.get(response.id)
    if (job === undefined) return
    pending.delete(response.id)
    if (--thread.inFlight === 0) thread.worker.unref()
    if ('result' in response) job.resolve(response.result)
    else job.reject(errorFromMessage(response.error))
  }
  const failAll = (thread: Thread, reason: string): void => {
    for (const [id, job] of pending) {
      if (job.thread !== thread) continue
      pending.delete(id)
      job.reject(new CountersignError('ERR_ABORTED', `verification not finished: ${reason}`, { details: { reason } }))
    }
    thread.inFlight = 0
  }

  const threads: Thread[] = Array.from({ length: count }, () => {
    const worker = new Worker(new URL(import.meta.url), {
      workerData: data,
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
    })
    const thread: Thread = { worker, inFlight: 0, exited: false }
    worker.unref()
    worker.on('message', (response: PoolResponse) => settle(thread, response))
    worker.on('error', (error) => failAll(thread, `verifier thread failed: ${error.message}`))
    worker.on('exit', (code) => {
      thread.exited = true
      failAll(thread, `verifier thread exited (${code})`)
    })
    return thread
  })

  return {
    threads: count,
    verify(bundle, artifact, policy) {
      if (closed) return Promise.reject(new CountersignError('ERR_ABORTED', 'the verifier pool is closed'))
      // A message posted to an ended thread is dropped silently: only live threads get work.
      let least: Thread | undefined
      for (const t of threads) if (!t.exited && (least === undefined || t.inFlight < least.inFlight)) least = t
      if (least === undefined) {
        return Promise.reject(new CountersignError('ERR_ABORTED', 'every verifier thread of the pool has ended'))
      }
      const thread = least
      const id = nextId++
      return new Promise<PooledVerificationResult>((resolve, reject) => {
        pending.set(id, { resolve, reject, thread })
        if (thread.inFlight++ === 0) thread.worker.ref()
        thread.worker.postMessage({ id, bundle, artifact, policy } satisfies PoolRequest)
      })
    },
    async close() {
      closed = true
      await Promise.all(threads.map((t) => t.worker.terminate()))
    },
  }
}

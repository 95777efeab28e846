/**
 * Log lines written together, once per turn of the event loop.
 *
 * Why: the admission webhook logs a line per review, and stderr (a pipe in a container, a file here) is written
 * synchronously: one `write(2)` per review was ~19 µs of the ~150 µs a cached review costs (CPU profile of
 * `countersign admission-webhook` under `bench/admission.ts`). Reviews answered in the same turn of the event loop
 * now share one write. Nothing waits longer than that turn; past 64 KiB a batch is written at once; `flush()` writes
 * what is pending (on shutdown, and at process exit).
 *
 * @module
 */

/** A writer of whole lines, see {@link batchLines}. */
export interface LineBatch {
  /** Queue `line` (with its newline); written at the end of this turn of the event loop. */
  write(line: string): void
  /** Write what is queued now. */
  flush(): void
}

const MAX_PENDING = 64 * 1024

/**
 * Batch the lines given to `write` into one call of `sink` per turn of the event loop.
 *
 * @example
 * ```ts
 * const log = batchLines((text) => io.stderr.write(text))
 * log.write('{"msg":"admission review"}\n')
 * process.once('exit', () => log.flush())
 * ```
 */
export function batchLines(sink: (text: string) => void): LineBatch {
  let pending: string[] = []
  let size = 0
  let scheduled: ReturnType<typeof setImmediate> | undefined
  const flush = () => {
    if (scheduled !== undefined) clearImmediate(scheduled)
    scheduled = undefined
    if (pending.length === 0) return
    const text = pending.join('')
    pending = []
    size = 0
    sink(text)
  }
  return {
    write(line) {
      pending.push(line)
      size += line.length
      if (size >= MAX_PENDING) flush()
      else scheduled ??= setImmediate(flush)
    },
    flush,
  }
}

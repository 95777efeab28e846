/**
 * A byte progress bar on stderr for big blob transfers: redrawn in place on a terminal, one plain summary line
 * otherwise (so logs and pipes get no carriage returns). @module
 */

/** A progress display fed by the registry client's `onProgress`. */
export interface ProgressBar {
  /** Report bytes done so far and the total when known (a `ProgressCallback`). */
  readonly update: (done: number, total: number | undefined) => void
  /** Finish: a final redraw and newline on a terminal, the summary line elsewhere. Idempotent. */
  finish(): void
}

/** Options for {@link createProgressBar}. */
export interface ProgressBarOptions {
  /** Override terminal detection (default: the stream's `isTTY`). */
  readonly isTTY?: boolean
  /** Transfers smaller than this show nothing (default 1 MiB). */
  readonly minBytes?: number
  /** Least time between terminal redraws in ms (default 100). */
  readonly intervalMs?: number
  /** Width of the bar in characters (default 30). */
  readonly width?: number
  /** Clock, for tests. */
  readonly now?: () => number
}

/** `1536` → `1.5 KiB`; bytes below 1 KiB as `N B`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`
}

/** Create a progress bar labelled `label` writing to `stream`. */
export function createProgressBar(
  stream: NodeJS.WritableStream,
  label: string,
  options: ProgressBarOptions = {},
): ProgressBar {
  const tty = options.isTTY ?? (stream as { isTTY?: boolean }).isTTY === true
  const minBytes = options.minBytes ?? 1024 * 1024
  const interval = options.intervalMs ?? 100
  const width = options.width ?? 30
  const now = options.now ?? Date.now
  let done = 0
  let total: number | undefined
  let lastDraw = -Infinity
  let drawn = false
  let finished = false

  const line = () => {
    const size = total === undefined ? formatBytes(done) : `${formatBytes(done)} / ${formatBytes(total)}`
    if (total === undefined || total === 0) return `${label} ${size}`
    const frac = Math.min(1, done / total)
    const filled = Math.round(frac * width)
    return `${label} [${'='.repeat(filled)}${' '.repeat(width - filled)}] ${size} ${Math.floor(frac * 100)}%`
  }
  const big = () => Math.max(done, total ?? 0) >= minBytes

  return {
    update(d, t) {
      if (finished) return
      done = d
      total = t
      if (!tty || !big()) return
      const at = now()
      if (at - lastDraw < interval && d !== t) return
      lastDraw = at
      drawn = true
      // \r back to column 0, \x1b[K clears what a longer previous line left.
      stream.write(`\r${line()}\x1b[K`)
    },
    finish() {
      if (finished) return
      finished = true
      if (tty) {
        if (drawn) stream.write(`\r${line()}\x1b[K\n`)
      } else if (big()) {
        stream.write(
          `${label}: ${formatBytes(done)}${total !== undefined && total !== done ? ` of ${formatBytes(total)}` : ''}\n`,
        )
      }
    },
  }
}

/** Progress of a transfer of many blobs (`save`, `load`), fed per blob by the copy's `onBlobProgress`. */
export interface TransferProgress {
  /** Report one blob's bytes done and its total (an `onBlobProgress` callback). */
  readonly onBlobProgress: (digest: string, done: number, total: number | undefined) => void
  /** Finish: the last redraw and a newline on a terminal, one summary line elsewhere. Idempotent. */
  finish(): void
}

/**
 * One progress line for a whole transfer: on a terminal, a single line redrawn in place (`\r`) with the current
 * blob's bytes/total and the bytes moved in all; elsewhere nothing until {@link TransferProgress.finish}, which writes
 * one summary line. Transfers under `minBytes` in all show nothing anywhere.
 *
 * @example
 * const progress = createTransferProgress(io.stderr, 'Saving')
 * try { await saveImage(ref, { store, fs, onBlobProgress: progress.onBlobProgress }) } finally { progress.finish() }
 */
export function createTransferProgress(
  stream: NodeJS.WritableStream,
  verb: string,
  options: ProgressBarOptions = {},
): TransferProgress {
  const tty = options.isTTY ?? (stream as { isTTY?: boolean }).isTTY === true
  const minBytes = options.minBytes ?? 1024 * 1024
  const interval = options.intervalMs ?? 100
  const width = options.width ?? 20
  const now = options.now ?? Date.now
  const blobs = new Map<string, { done: number; total: number | undefined }>()
  let current = ''
  let lastDraw = -Infinity
  let drawn = false
  let finished = false

  const moved = () => {
    let n = 0
    for (const b of blobs.values()) n += b.done
    return n
  }
  const line = () => {
    const b = blobs.get(current)!
    const all = `(${formatBytes(moved())} in all)`
    if (b.total === undefined || b.total === 0) return `${verb} blob ${blobs.size} ${formatBytes(b.done)} ${all}`
    const frac = Math.min(1, b.done / b.total)
    const filled = Math.round(frac * width)
    const bar = `[${'='.repeat(filled)}${' '.repeat(width - filled)}]`
    return `${verb} blob ${blobs.size} ${bar} ${formatBytes(b.done)} / ${formatBytes(b.total)} ${Math.floor(frac * 100)}% ${all}`
  }

  return {
    onBlobProgress(digest, done, total) {
      if (finished) return
      blobs.set(digest, { done, total })
      current = digest
      if (!tty || moved() < minBytes) return
      const at = now()
      if (at - lastDraw < interval && done !== total) return
      lastDraw = at
      drawn = true
      stream.write(`\r${line()}\x1b[K`)
    },
    finish() {
      if (finished) return
      finished = true
      if (tty) {
        if (drawn) stream.write(`\r${line()}\x1b[K\n`)
      } else if (moved() >= minBytes) {
        stream.write(`${verb}: ${blobs.size} blob${blobs.size === 1 ? '' : 's'}, ${formatBytes(moved())}\n`)
      }
    },
  }
}

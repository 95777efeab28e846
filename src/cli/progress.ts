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

/** `[====      ]`: `frac` of `width` filled. */
function bar(frac: number, width: number): string {
  const filled = Math.round(Math.min(1, frac) * width)
  return `[${'='.repeat(filled)}${' '.repeat(width - filled)}]`
}

/**
 * The line both displays share: on a terminal redrawn in place, at most once per `intervalMs` unless `final`;
 * `close` ends a drawn line with a newline, or (not a terminal) writes the summary, once.
 */
function progressLine(stream: NodeJS.WritableStream, options: ProgressBarOptions) {
  const tty = options.isTTY ?? (stream as { isTTY?: boolean }).isTTY === true
  const interval = options.intervalMs ?? 100
  const now = options.now ?? Date.now
  let lastDraw = -Infinity
  let drawn = false
  let closed = false
  return {
    get closed() {
      return closed
    },
    draw(text: () => string, final: boolean): void {
      if (closed || !tty) return
      const at = now()
      if (at - lastDraw < interval && !final) return
      lastDraw = at
      drawn = true
      // \r back to column 0, \x1b[K clears what a longer previous line left.
      stream.write(`\r${text()}\x1b[K`)
    },
    close(text: () => string, summary: (() => string) | undefined): void {
      if (closed) return
      closed = true
      if (tty) {
        if (drawn) stream.write(`\r${text()}\x1b[K\n`)
      } else if (summary) stream.write(`${summary()}\n`)
    },
  }
}

/** Create a progress bar labelled `label` writing to `stream`. */
export function createProgressBar(
  stream: NodeJS.WritableStream,
  label: string,
  options: ProgressBarOptions = {},
): ProgressBar {
  const minBytes = options.minBytes ?? 1024 * 1024
  const width = options.width ?? 30
  const out = progressLine(stream, options)
  let done = 0
  let total: number | undefined

  const line = () => {
    const size = total === undefined ? formatBytes(done) : `${formatBytes(done)} / ${formatBytes(total)}`
    if (total === undefined || total === 0) return `${label} ${size}`
    return `${label} ${bar(done / total, width)} ${size} ${Math.floor(Math.min(1, done / total) * 100)}%`
  }
  const big = () => Math.max(done, total ?? 0) >= minBytes

  return {
    update(d, t) {
      if (out.closed) return
      done = d
      total = t
      if (big()) out.draw(line, d === t)
    },
    finish() {
      const summary = () =>
        `${label}: ${formatBytes(done)}${total !== undefined && total !== done ? ` of ${formatBytes(total)}` : ''}`
      out.close(line, big() ? summary : undefined)
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
  const minBytes = options.minBytes ?? 1024 * 1024
  const width = options.width ?? 20
  const out = progressLine(stream, options)
  const blobs = new Map<string, { done: number; total: number | undefined }>()
  let current = ''

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
    return `${verb} blob ${blobs.size} ${bar(frac, width)} ${formatBytes(b.done)} / ${formatBytes(b.total)} ${Math.floor(frac * 100)}% ${all}`
  }

  return {
    onBlobProgress(digest, done, total) {
      if (out.closed) return
      blobs.set(digest, { done, total })
      current = digest
      if (moved() >= minBytes) out.draw(line, done === total)
    },
    finish() {
      const summary = () => `${verb}: ${blobs.size} blob${blobs.size === 1 ? '' : 's'}, ${formatBytes(moved())}`
      out.close(line, moved() >= minBytes ? summary : undefined)
    },
  }
}

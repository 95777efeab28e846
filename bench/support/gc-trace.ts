/**
 * Reading V8's `--trace-gc-nvp` output (one `key=value` line per collection) of a process under benchmark, between
 * two moments: how many collections, their longest pause, and what the young generation promoted to old space
 * (objects that outlived two scavenges; a steady stream of them fills old space and brings full collections).
 * @module
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs'
import { median } from './interleaved-rates.js'

/** The collections logged since {@link gcWindow} was called. */
export interface GCWindow {
  /** E.g. `12 scavenges (longest 0.6 ms, 0 KB promoted each, median), 0 full`. */
  summary(): string
}

interface Collection {
  readonly kind: string
  readonly pause: number
  readonly promoted: number
}

function parse(text: string): Collection[] {
  const out: Collection[] = []
  for (const line of text.split('\n')) {
    const kind = / gc=(\w+)/.exec(line)?.[1]
    const pause = /pause=([\d.]+)/.exec(line)?.[1]
    if (kind === undefined || pause === undefined) continue
    out.push({ kind, pause: Number(pause), promoted: Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0) })
  }
  return out
}

/**
 * Start a window on the trace file `path` (written by the process under test): `summary()` covers what was appended
 * since.
 *
 * @example
 * const gc = gcWindow(traceFile)
 * await runPass()
 * console.log(gc.summary())
 */
export function gcWindow(path: string): GCWindow {
  const from = statSync(path).size
  return {
    summary() {
      const to = statSync(path).size
      const buf = Buffer.alloc(to - from)
      const fd = openSync(path, 'r')
      try {
        readSync(fd, buf, 0, buf.length, from)
      } finally {
        closeSync(fd)
      }
      const all = parse(buf.toString('utf8'))
      const scavenges = all.filter((c) => c.kind === 's')
      const full = all.filter((c) => c.kind !== 's')
      const longest = (cs: readonly Collection[]) => Math.max(0, ...cs.map((c) => c.pause)).toFixed(1)
      return (
        `${scavenges.length} scavenges (longest ${longest(scavenges)} ms, ` +
        `${(scavenges.length ? median(scavenges.map((c) => c.promoted)) / 1024 : 0).toFixed(0)} KB promoted each, median), ` +
        `${full.length} full${full.length > 0 ? ` (longest ${longest(full)} ms)` : ''}`
      )
    },
  }
}

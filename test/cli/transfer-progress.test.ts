/**
 * Progress moves on a terminal and stays quiet elsewhere: on a TTY one line redrawn in place (`\r`, bytes / total),
 * ending with a single newline; on a pipe nothing while it runs and at most one summary line at the end.
 */
import { describe, expect, it } from 'vitest'
import { createProgressBar, createTransferProgress } from '../../src/cli/progress.js'

const MiB = 1024 * 1024

/** A stream that records writes; `isTTY` as a terminal's stderr has it. */
function stream(tty: boolean): { stream: NodeJS.WritableStream; writes: string[] } {
  const writes: string[] = []
  const s = { write: (chunk: string) => writes.push(chunk) > 0, ...(tty ? { isTTY: true } : {}) }
  return { stream: s as unknown as NodeJS.WritableStream, writes }
}

/** Three blobs of 2 MiB, 1 MiB and 3 MiB, each reported in quarters, 200 ms apart. */
function feed(progress: ReturnType<typeof createTransferProgress>): void {
  for (const [digest, size] of [
    ['sha256:aaaa', 2 * MiB],
    ['sha256:bbbb', MiB],
    ['sha256:cccc', 3 * MiB],
  ] as const) {
    for (let q = 1; q <= 4; q++) progress.onBlobProgress(digest, (size * q) / 4, size)
  }
  progress.finish()
}

describe('transfer progress (save, load)', () => {
  it('on a terminal: one line, redrawn with \\r, bytes / total of the current blob, one newline at the end', () => {
    const { stream: s, writes } = stream(true)
    let t = 0
    feed(createTransferProgress(s, 'Saving', { now: () => (t += 200) }))
    const all = writes.join('')
    expect(writes.length).toBeGreaterThan(3)
    for (const w of writes) expect(w.startsWith('\r')).toBe(true)
    expect(all.split('\n')).toHaveLength(2) // exactly one newline, last
    expect(all.endsWith('\n')).toBe(true)
    expect(writes).toContain('\rSaving blob 1 [==========          ] 1.0 MiB / 2.0 MiB 50% (1.0 MiB in all)\x1b[K')
    expect(writes.at(-1)).toBe('\rSaving blob 3 [====================] 3.0 MiB / 3.0 MiB 100% (6.0 MiB in all)\x1b[K\n')
  })

  it('on a terminal, redraws are throttled but each blob end is drawn', () => {
    const { stream: s, writes } = stream(true)
    feed(createTransferProgress(s, 'Loading', { now: () => 0 }))
    // Same instant for every update: only the first redraw, the completions of each blob, and the final line.
    expect(writes.filter((w) => w.includes('100%'))).toHaveLength(4)
    expect(writes.length).toBe(5)
  })

  it('elsewhere: nothing while it runs, one summary line at the end', () => {
    const { stream: s, writes } = stream(false)
    const progress = createTransferProgress(s, 'Saving')
    progress.onBlobProgress('sha256:aaaa', MiB, 2 * MiB)
    progress.onBlobProgress('sha256:aaaa', 2 * MiB, 2 * MiB)
    expect(writes).toEqual([])
    progress.onBlobProgress('sha256:bbbb', 3 * MiB, 3 * MiB)
    progress.finish()
    progress.finish()
    expect(writes).toEqual(['Saving: 2 blobs, 5.0 MiB\n'])
  })

  it('small transfers show nothing anywhere', () => {
    for (const tty of [true, false]) {
      const { stream: s, writes } = stream(tty)
      const progress = createTransferProgress(s, 'Saving')
      progress.onBlobProgress('sha256:aaaa', 1000, 1000)
      progress.onBlobProgress('sha256:bbbb', 2000, 2000)
      progress.finish()
      expect(writes).toEqual([])
    }
  })
})

describe('byte progress bar (attach sbom, download sbom)', () => {
  it('on a terminal: \\r redraws of bytes / total; elsewhere one final line', () => {
    const tty = stream(true)
    let t = 0
    const bar = createProgressBar(tty.stream, 'Uploading SBOM', { now: () => (t += 200), width: 10 })
    for (let q = 1; q <= 4; q++) bar.update(q * MiB, 4 * MiB)
    bar.finish()
    expect(tty.writes.every((w) => w.startsWith('\r'))).toBe(true)
    expect(tty.writes.join('').split('\n')).toHaveLength(2)
    expect(tty.writes[1]).toBe('\rUploading SBOM [=====     ] 2.0 MiB / 4.0 MiB 50%\x1b[K')

    const plain = stream(false)
    const quiet = createProgressBar(plain.stream, 'Uploading SBOM')
    for (let q = 1; q <= 4; q++) quiet.update(q * MiB, 4 * MiB)
    expect(plain.writes).toEqual([])
    quiet.finish()
    expect(plain.writes).toEqual(['Uploading SBOM: 4.0 MiB\n'])
  })
})

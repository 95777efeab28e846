// Log lines batched per turn of the event loop: one sink call for the lines of a turn, nothing lost or reordered.
import { describe, expect, it } from 'vitest'
import { batchLines } from '../../src/cli/line-batch.js'

const turn = () => new Promise((r) => setImmediate(r))

describe('batchLines', () => {
  it('writes the lines of one turn together, in order, after the turn', async () => {
    const writes: string[] = []
    const log = batchLines((t) => writes.push(t))
    log.write('a\n')
    log.write('b\n')
    log.write('c\n')
    expect(writes).toEqual([])
    await turn()
    expect(writes).toEqual(['a\nb\nc\n'])
    log.write('d\n')
    await turn()
    expect(writes).toEqual(['a\nb\nc\n', 'd\n'])
  })

  it('flush writes what is pending at once, and the scheduled write then has nothing left to write', async () => {
    const writes: string[] = []
    const log = batchLines((t) => writes.push(t))
    log.write('x\n')
    log.flush()
    expect(writes).toEqual(['x\n'])
    await turn()
    expect(writes).toEqual(['x\n'])
    log.flush()
    expect(writes).toEqual(['x\n'])
  })

  it('a batch reaching 64 KiB is written without waiting for the turn to end', () => {
    const writes: string[] = []
    const log = batchLines((t) => writes.push(t))
    const line = `${'y'.repeat(1023)}\n`
    for (let i = 0; i < 64; i++) log.write(line)
    expect(writes).toHaveLength(1)
    expect(writes[0]).toBe(line.repeat(64))
    log.flush()
  })
})

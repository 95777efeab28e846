import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { decodePEM, decodePEMBlocks, encodePEM } from '../../src/internal/pem.js'

function outcome(f: () => { label: string; headers: Record<string, string>; bytes: Uint8Array }): string {
  try {
    const b = f()
    return `ok:${b.label}:${JSON.stringify(b.headers)}:${Buffer.from(b.bytes).toString('hex')}`
  } catch (e) {
    return `error:${(e as Error).message}`
  }
}

describe('decodePEM', () => {
  it('decodes Go-encoded blocks of every length', () => {
    for (let n = 0; n < 200; n++) {
      const d = new Uint8Array(randomBytes(n))
      for (const label of ['CERTIFICATE', 'PUBLIC KEY']) {
        const pem = encodePEM(label, d)
        expect(decodePEM(pem).bytes).toEqual(d)
        expect(decodePEM(pem).label).toBe(label)
        expect(decodePEM(pem.trimEnd()).bytes).toEqual(d)
      }
    }
  })

  it('gives the same result as the general decoder on mutated texts (the fast path never differs)', () => {
    const pieces = ['A', 'z', '+', '/', '=', '==', '\n', '\r\n', ' ', '\t', '-', ':', '-----', 'é', 'END', 'BEGIN']
    let seed = 11
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    for (let k = 0; k < 20000; k++) {
      const label = ['CERTIFICATE', 'PUBLIC KEY', 'EC PRIVATE KEY'][rand(3)]!
      let text = encodePEM(label, new Uint8Array(randomBytes(rand(100))))
      if (rand(4) === 0) text += encodePEM('CERTIFICATE', new Uint8Array(randomBytes(rand(10))))
      for (let m = rand(3); m > 0; m--) {
        const at = rand(text.length + 1)
        const op = rand(3)
        const piece = pieces[rand(pieces.length)]!
        if (op === 0) text = text.slice(0, at) + piece + text.slice(at)
        else if (op === 1) text = text.slice(0, at) + text.slice(at + 1 + rand(3))
        else text = text.slice(0, at) + piece + text.slice(at + piece.length)
      }
      expect(
        outcome(() => decodePEM(text)),
        JSON.stringify(text),
      ).toBe(outcome(() => decodePEMBlocks(text)[0]!))
    }
  })
})

import { describe, expect, it } from 'vitest'
import {
  boundedJoin,
  clipText,
  MAX_ITEM_LENGTH,
  MAX_LISTED_ITEMS,
  MAX_QUOTED_LENGTH,
  quoteClipped,
} from '../../src/internal/bounded-text.js'

describe('clipText', () => {
  it('leaves short text alone and cuts long text to exactly max characters, ellipsis included', () => {
    expect(clipText('abc', 3)).toBe('abc')
    expect(clipText('abcdef', 4)).toBe('abc…')
    expect(clipText('x'.repeat(1_000_000), 100)).toHaveLength(100)
  })

  it('never leaves half of a surrogate pair before the ellipsis', () => {
    const s = `ab${'😀'.repeat(10)}`
    const out = clipText(s, 4) // 'ab' + high surrogate would be cut: dropped instead
    expect(out).toBe('ab…')
    expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(out)).toBe(false)
  })
})

describe('quoteClipped', () => {
  it('is JSON.stringify for short values', () => {
    for (const v of ['p', '', 'with "quotes"', 42, null, { a: 1 }, ['x']]) {
      expect(quoteClipped(v)).toBe(JSON.stringify(v))
    }
    expect(quoteClipped(undefined)).toBe('undefined')
  })

  it('clips long strings before quoting and long serializations after', () => {
    expect(quoteClipped('a'.repeat(50_000))).toBe(JSON.stringify(`${'a'.repeat(MAX_QUOTED_LENGTH - 1)}…`))
    expect(quoteClipped('a'.repeat(100), 8)).toBe('"aaaaaaa…"')
    expect(quoteClipped({ k: 'v'.repeat(10_000) }).length).toBe(MAX_QUOTED_LENGTH)
    expect(quoteClipped(10n)).toBe('bigint') // not serializable: its type
  })
})

describe('boundedJoin', () => {
  it('is items.join(separator) for few short items', () => {
    expect(boundedJoin(['a', 'b', 'c'], '; ')).toBe('a; b; c')
    expect(boundedJoin([], '; ')).toBe('')
    const sixteen = Array.from({ length: MAX_LISTED_ITEMS }, (_, i) => `problem ${i}`)
    expect(boundedJoin(sixteen, '\n ')).toBe(sixteen.join('\n '))
  })

  it('lists the first items then "… and K more"; each item clipped', () => {
    expect(boundedJoin(['a', 'b', 'c'], '; ', { maxItems: 2 })).toBe('a; b; … and 1 more')
    const many: string[] = new Array(100_000).fill('x'.repeat(50_000))
    const out = boundedJoin(many, '; ')
    expect(out.endsWith(`; … and ${100_000 - MAX_LISTED_ITEMS} more`)).toBe(true)
    expect(out.length).toBeLessThan(MAX_LISTED_ITEMS * (MAX_ITEM_LENGTH + 2) + 40)
  })

  it('formats only the items shown, and counts a given total', () => {
    let formatted = 0
    const out = boundedJoin([1, 2, 3, 4], ',', {
      maxItems: 2,
      total: 10,
      format: (n, i) => {
        formatted++
        return `${i}:${n}`
      },
    })
    expect(out).toBe('0:1,1:2,… and 8 more')
    expect(formatted).toBe(2)
  })
})

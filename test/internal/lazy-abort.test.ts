// LazyAbortController: the signal is made only when read, and an abort before that is not lost.
import { describe, expect, it } from 'vitest'
import { LazyAbortController } from '../../src/internal/lazy-abort.js'

describe('LazyAbortController', () => {
  it('makes no AbortSignal until `signal` is read', () => {
    const made: unknown[] = []
    const original = Object.getOwnPropertyDescriptor(AbortController.prototype, 'signal')!
    Object.defineProperty(AbortController.prototype, 'signal', {
      ...original,
      get(this: AbortController) {
        made.push(this)
        return original.get!.call(this)
      },
    })
    try {
      const c = new LazyAbortController()
      expect(c.aborted).toBe(false)
      c.abort('gone')
      expect(c.aborted).toBe(true)
      expect(made).toHaveLength(0)
      expect(c.signal.aborted).toBe(true)
      expect(made).toHaveLength(1)
    } finally {
      Object.defineProperty(AbortController.prototype, 'signal', original)
    }
  })

  it('a signal made after the abort carries its reason; one made before is aborted with it', () => {
    const late = new LazyAbortController()
    late.abort('too late')
    expect(late.signal.reason).toBe('too late')

    const early = new LazyAbortController()
    const signal = early.signal
    let heard: unknown
    signal.addEventListener('abort', () => {
      heard = signal.reason
    })
    early.abort('now')
    expect(heard).toBe('now')
    expect(early.signal).toBe(signal)
  })

  it('no reason gives AbortController its own default (an AbortError), before or after the signal exists', () => {
    const before = new LazyAbortController()
    before.abort()
    expect((before.signal.reason as DOMException).name).toBe('AbortError')
    const after = new LazyAbortController()
    const s = after.signal
    after.abort()
    expect((s.reason as DOMException).name).toBe('AbortError')
  })

  it('aborts once: a second abort changes nothing', () => {
    const c = new LazyAbortController()
    c.abort('first')
    c.abort('second')
    expect(c.signal.reason).toBe('first')
  })
})

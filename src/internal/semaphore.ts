/** A small counting semaphore keyed by name (one per registry host). Never exported from the package. @module */

/** Release a permit; calling it more than once is harmless. */
export type Release = () => void

/**
 * A limiter allowing at most `limit` holders per key at once. Waiters are served in FIFO order; a waiter whose
 * signal aborts leaves the queue and rejects with the signal's reason.
 */
export interface KeyedSemaphore {
  acquire(key: string, signal?: AbortSignal): Promise<Release>
}

interface Slot {
  active: number
  readonly queue: Array<() => void>
}

/** Create a {@link KeyedSemaphore}; `limit` below 1 is treated as 1. */
export function createKeyedSemaphore(limit: number): KeyedSemaphore {
  const max = Math.max(1, Math.floor(limit))
  const slots = new Map<string, Slot>()

  const releaser = (key: string, slot: Slot): Release => {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = slot.queue.shift()
      if (next !== undefined) {
        next() // the permit passes straight to the next waiter
        return
      }
      slot.active--
      if (slot.active === 0) slots.delete(key)
    }
  }

  return {
    acquire(key, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason)
      let slot = slots.get(key)
      if (slot === undefined) {
        slot = { active: 0, queue: [] }
        slots.set(key, slot)
      }
      const s = slot
      if (s.active < max) {
        s.active++
        return Promise.resolve(releaser(key, s))
      }
      return new Promise<Release>((resolve, reject) => {
        const grant = () => {
          signal?.removeEventListener('abort', onAbort)
          resolve(releaser(key, s))
        }
        const onAbort = () => {
          const i = s.queue.indexOf(grant)
          if (i >= 0) s.queue.splice(i, 1)
          reject(signal?.reason)
        }
        signal?.addEventListener('abort', onAbort, { once: true })
        s.queue.push(grant)
      })
    },
  }
}

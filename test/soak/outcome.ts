/** Classify one soak operation: success, clean failure (a coded CountersignError), hang, or anything else. */
import { isCountersignError } from '../../src/errors.js'

export type Outcome<T> =
  | { readonly kind: 'ok'; readonly value: T; readonly ms: number }
  | { readonly kind: 'clean'; readonly code: string; readonly message: string; readonly ms: number }
  | { readonly kind: 'hang'; readonly ms: number; readonly settledAfterAbort: boolean }
  | { readonly kind: 'unexpected'; readonly error: unknown; readonly ms: number }

/**
 * Run `op` with an abort signal; if it has not settled within `deadlineMs` it is a hang: it is aborted and given
 * 10 s more to settle, so it does not keep writing while the registry state is checked.
 */
export async function settle<T>(op: (signal: AbortSignal) => Promise<T>, deadlineMs: number): Promise<Outcome<T>> {
  const started = Date.now()
  const ac = new AbortController()
  const run = op(ac.signal).then(
    (value) => ({ done: true as const, value }),
    (error: unknown) => ({ done: false as const, error }),
  )
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<'deadline'>((r) => {
    timer = setTimeout(() => r('deadline'), deadlineMs)
  })
  const first = await Promise.race([run, deadline])
  clearTimeout(timer)
  const ms = Date.now() - started
  if (first === 'deadline') {
    ac.abort(new Error('soak deadline'))
    const grace = new Promise<'grace'>((r) => setTimeout(() => r('grace'), 10_000))
    const after = await Promise.race([run, grace])
    return { kind: 'hang', ms, settledAfterAbort: after !== 'grace' }
  }
  if (first.done) return { kind: 'ok', value: first.value, ms }
  const e = first.error
  if (isCountersignError(e) && typeof e.code === 'string' && e.code.startsWith('ERR_')) {
    return { kind: 'clean', code: e.code, message: e.message, ms }
  }
  return { kind: 'unexpected', error: e, ms }
}

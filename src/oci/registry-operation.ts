/**
 * One registry client operation under the caller's `AbortSignal` and the client's per-operation timeout, with
 * aborts and timeouts mapped to error codes.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import type { StoreCallOptions } from './types.js'

/**
 * What every request of one operation shares: the signal that aborts it (caller's abort or timeout).
 *
 * @example
 * ```ts
 * const op: Op = { signal: AbortSignal.timeout(30_000) }
 * ```
 */
export interface Op {
  readonly signal: AbortSignal | undefined
}

function aborted(cause: unknown): CountersignError {
  return new CountersignError('ERR_ABORTED', 'the operation was aborted', { cause })
}

/**
 * Run one store operation with the caller's signal and the timeout, mapping aborts to ERR_ABORTED and the timeout
 * to ERR_NETWORK. For a `streaming` result the caller's abort keeps reaching the body after the operation returned.
 *
 * @example
 * ```ts
 * const tags = await runOperation(30_000, { signal }, (op) => listTagsWith(op))
 * ```
 */
export async function runOperation<T>(
  timeoutMs: number | undefined,
  callOptions: StoreCallOptions | undefined,
  fn: (op: Op) => Promise<T>,
  streaming = false,
): Promise<T> {
  const callerSignal = callOptions?.signal
  if (callerSignal?.aborted) throw aborted(callerSignal.reason)
  if (callerSignal === undefined && timeoutMs === undefined) return fn({ signal: undefined })
  const controller = new AbortController()
  let timedOut = false
  let keepListening = false
  const onAbort = () => controller.abort(callerSignal?.reason)
  callerSignal?.addEventListener('abort', onAbort, { once: true })
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true
          controller.abort(new DOMException('the registry operation timed out', 'TimeoutError'))
        }, timeoutMs)
  try {
    const result = await fn({ signal: controller.signal })
    keepListening = streaming
    return result
  } catch (e) {
    if (callerSignal?.aborted) throw aborted(e)
    if (timedOut)
      throw new CountersignError('ERR_NETWORK', `the registry operation timed out after ${timeoutMs} ms`, {
        cause: e,
      })
    throw e
  } finally {
    if (timer !== undefined) clearTimeout(timer)
    if (!keepListening) callerSignal?.removeEventListener('abort', onAbort)
  }
}

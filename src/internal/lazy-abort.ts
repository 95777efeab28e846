/**
 * An AbortController whose AbortSignal is made only when someone asks for it. Never exported from the package.
 *
 * Why: the admission webhook answers most reviews from its cache without waiting on anything, yet each review had
 * two AbortSignals (the client's, the review's budget) that nobody listened to. On Node 20 making an AbortSignal is
 * dear: `createAbortSignal` changes the prototype of a fresh EventTarget, which gives every signal its own hidden
 * class (fixed in Node 22 by nodejs/node#52408). At 5,000 reviews/s that made each young-generation collection keep
 * and promote ~0.3–0.6 MB (`--trace-gc-nvp`), so old space filled and full collections of 10–17 ms stalled the
 * reviews queued behind them. See docs/admission.md, "Latency".
 *
 * @module
 */

/**
 * Aborting before the signal exists is remembered: the signal is then born aborted, with the same reason.
 *
 * @example
 * ```ts
 * const stop = new LazyAbortController()
 * stop.abort()                      // no AbortSignal made yet
 * stop.aborted                      // true
 * stop.signal.aborted               // true: made now, already aborted
 * ```
 */
export class LazyAbortController {
  #controller: AbortController | undefined
  #aborted = false
  #reason: unknown

  /** Whether {@link abort} was called; reading it makes no signal. */
  get aborted(): boolean {
    return this.#aborted
  }

  /** The signal, made on first read (aborted already if {@link abort} came first). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      // Passing the reason as given keeps AbortController's default (an AbortError DOMException) for none.
      if (this.#aborted) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  /** Abort once; later calls do nothing, as AbortController's. */
  abort(reason?: unknown): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
    this.#controller?.abort(reason)
  }
}

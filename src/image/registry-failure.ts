/**
 * Telling a registry that failed to answer apart from an answer that failed its checks, for the sign and verify
 * flows (docs/formats.md §Registry failures): a failed write may still have landed, and a fetch that failed is no
 * verdict on a signature.
 * @module
 */
import { CountersignError, isCountersignError } from '../errors.js'
import type { Descriptor, OCIStore, Repository, StoreCallOptions } from '../oci/types.js'

/**
 * Whether `e` means the registry could not be reached or did not answer properly, after the registry client's
 * retries: ERR_NETWORK (connection failures, bodies that kept breaking off, timeouts) or a temporary ERR_OCI_HTTP
 * (429, 5xx). A write that failed so may still have landed; a read that failed so says nothing about the content.
 *
 * @example
 * ```ts
 * if (isRegistryUnavailable(e)) {
 *   // re-check what the registry holds before reporting the write as failed
 * }
 * ```
 */
export function isRegistryUnavailable(e: unknown): boolean {
  if (!isCountersignError(e)) return false
  return e.code === 'ERR_NETWORK' || (e.code === 'ERR_OCI_HTTP' && e.details?.temporary === true)
}

/**
 * The error verification must stop on, instead of counting it against one signature, when fetching the content
 * `expected` describes failed with `e`; undefined when `e` is a verdict on the content. Aborts and
 * {@link isRegistryUnavailable} failures stop it as they are. A digest mismatch stops it as ERR_NETWORK only when
 * the body was cut short: the response declared no `Content-Length` (so the HTTP framing could not show the cut)
 * and fewer bytes arrived than the descriptor names — the registry client had already read it again, in vain.
 * Any other mismatch (as many bytes as declared, different ones) is content that is not what was signed for: a
 * failed signature, never a network error.
 *
 * @example
 * ```ts
 * try {
 *   payload = await store.fetchBlob(sigRef, layer.digest, call)
 * } catch (e) {
 *   const stop = deliveryFailure(e, layer)
 *   if (stop) throw stop
 *   return fail(`fetching payload: ${(e as Error).message}`)
 * }
 * ```
 */
export function deliveryFailure(e: unknown, expected: Descriptor): CountersignError | undefined {
  if (isCountersignError(e, 'ERR_ABORTED') || isRegistryUnavailable(e)) return e as CountersignError
  if (!isCountersignError(e, 'ERR_OCI_DIGEST_MISMATCH')) return undefined
  const received = e.details?.received
  const cutShort = e.details?.contentLength === undefined && typeof received === 'number' && received < expected.size
  if (!cutShort) return undefined
  return new CountersignError(
    'ERR_NETWORK',
    `${e.message}: ${received} of its ${expected.size} bytes arrived, each time it was read (the body was cut short)`,
    { cause: e, details: { expected: expected.size, actual: received } },
  )
}

/**
 * Fetch one attachment layer (a legacy `.sig` payload or `.att` envelope): its bytes, or the reason it counts as a
 * failed signature. A {@link deliveryFailure} throws, so a registry that did not deliver stops the verification.
 *
 * @example
 * ```ts
 * const got = await fetchLayerOrReason(store, sigRef, layer, 128 * 1024 * 1024, call)
 * if ('reason' in got) return fail(got.reason)
 * ```
 */
export async function fetchLayerOrReason(
  store: OCIStore,
  repo: Repository,
  layer: Descriptor,
  maxSize: number,
  call: StoreCallOptions,
): Promise<{ readonly bytes: Uint8Array } | { readonly reason: string }> {
  try {
    return { bytes: await store.fetchBlob(repo, layer.digest, { ...call, maxSize }) }
  } catch (e) {
    const stop = deliveryFailure(e, layer)
    if (stop) throw stop
    return { reason: `fetching payload: ${(e as Error).message}` }
  }
}

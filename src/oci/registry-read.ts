/**
 * Reading registry responses whole, sending the GET again when the body breaks off. The transport retries only
 * until response headers arrive; without this, one connection reset or one body cut short after the headers would
 * fail a whole sign or verify.
 *
 * What counts as "broken", so re-reading can help: a body that ended before its `Content-Length`, a reset, or broken
 * chunk framing (all ERR_NETWORK from the body read). A body that arrived whole but fails its content checks
 * (digest, JSON) is what the registry holds and is not read again — unless the response declared no
 * `Content-Length`: then a body closed early by a proxy looks complete, and only re-reading can tell.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { discardBody } from '../http/body.js'
import { backoffDelay } from '../http/transport.js'
import type { RegistryContext } from './registry-context.js'
import type { Op } from './registry-operation.js'
import { parseLength } from './transport-headers.js'

/**
 * Open a response (`open`: send it and check its status; failures there are final, the transport already retried
 * them) and read it (`read`); while `rereadable` says a read failure may be transient, open and read again, at
 * most `ctx.retryBudget` more times with the transport's backoff. The last failure is thrown.
 *
 * @example
 * ```ts
 * const bytes = await withRereads(ctx, op, () => openManifest(), (sent) => readLimited(sent.res, max), brokenBody)
 * ```
 */
export async function withRereads<O, T>(
  ctx: RegistryContext,
  op: Op,
  open: () => Promise<O>,
  read: (opened: O) => Promise<T>,
  rereadable: (error: unknown, opened: O) => boolean,
): Promise<T> {
  for (let n = 0; ; n++) {
    const opened = await open()
    try {
      return await read(opened)
    } catch (e) {
      if (!rereadable(e, opened) || n >= ctx.retryBudget || op.signal?.aborted) throw e
    }
    await ctx.sleep(backoffDelay(n, ctx.retry, Math.random), op.signal)
  }
}

/**
 * {@link withRereads} for a response read whole (a manifest, a page of tags or referrers): the body of a failed
 * read is dropped before the next try, and {@link brokenBody} decides what is worth reading again.
 *
 * @example
 * ```ts
 * const tags = await readWhole(ctx, op, () => ctx.send(op, request), async ({ res }) => parse(await readLimited(res, max)))
 * ```
 */
export function readWhole<O extends { readonly res: Response }, T>(
  ctx: RegistryContext,
  op: Op,
  open: () => Promise<O>,
  read: (opened: O) => Promise<T>,
): Promise<T> {
  return withRereads(
    ctx,
    op,
    open,
    async (opened) => {
      try {
        return await read(opened)
      } catch (e) {
        await discardBody(opened.res)
        throw e
      }
    },
    (e, opened) => brokenBody(e, opened.res),
  )
}

/**
 * Whether a failure to read or check `res`'s body may be the connection's fault rather than the content's: the
 * body read broke (ERR_NETWORK), or the response declared no `Content-Length` and the bytes failed a digest or
 * manifest check (a body closed early then looks complete).
 *
 * @example
 * ```ts
 * brokenBody(new CountersignError('ERR_NETWORK', 'the connection broke'), res) // true
 * ```
 */
export function brokenBody(error: unknown, res: Response): boolean {
  if (!(error instanceof CountersignError)) return false
  if (error.code === 'ERR_NETWORK') return true
  const contentCheck = error.code === 'ERR_OCI_DIGEST_MISMATCH' || error.code === 'ERR_OCI_MANIFEST_INVALID'
  return contentCheck && parseLength(res) === undefined
}

/**
 * The blob verbs of the registry client (distribution-spec v1.1 §Pulling blobs, §Pushing blobs): existence check,
 * digest-verified fetch (whole or streamed, resuming broken or truncated bodies), and upload with restarts.
 *
 * @module
 */
import { CountersignError, isCountersignError } from '../errors.js'
import { discardBody } from '../http/body.js'
import { backoffDelay } from '../http/transport.js'
import type { AuthScope } from './auth.js'
import { checkDeclaredSize, collectStream, verifiedBlobStream } from './blob-download.js'
import { type BlobSource, type UploadSend, uploadBlob } from './blob-upload.js'
import { computeDigest, parseDigest } from './digest.js'
import type { ProgressCallback, PushBlobOptions, RegistryClient } from './registry.js'
import { describeRequest, fail, type RegistryContext, scopeOf, v2 } from './registry-context.js'
import { registryErrorFromParts } from './registry-errors.js'
import type { Op } from './registry-operation.js'
import { withRereads } from './registry-read.js'
import { parseLength } from './transport-headers.js'
import type { Descriptor, Repository } from './types.js'

/**
 * The blob verbs of a {@link RegistryClient}.
 *
 * @example
 * ```ts
 * const { fetchBlob }: RegistryBlobVerbs = registryBlobs(ctx)
 * ```
 */
export type RegistryBlobVerbs = Pick<RegistryClient, 'blobExists' | 'fetchBlob' | 'fetchBlobStream' | 'pushBlob'>

/**
 * The blob verbs over a client's shared context.
 *
 * @example
 * ```ts
 * const blobs = registryBlobs(createRegistryContext({}))
 * const bytes = await blobs.fetchBlob(repo, digest)
 * ```
 */
export function registryBlobs(ctx: RegistryContext): RegistryBlobVerbs {
  return {
    blobExists: (repo, digest, callOptions) =>
      ctx.operation(callOptions, async (op) => {
        parseDigest(digest)
        return blobHead(ctx, op, repo, digest, scopeOf(repo, 'pull'))
      }),
    fetchBlob: (repo, digest, callOptions) =>
      ctx.operation(callOptions, (op) => {
        const max = callOptions?.maxSize ?? ctx.maxBlobBytes
        // Broken connections resume inside the stream. A body without a Content-Length that ends early looks
        // complete and fails the digest check: nothing was handed out yet, so download it again (registry-read.ts).
        return withRereads(
          ctx,
          op,
          () => openBlob(ctx, op, repo, digest, max, callOptions?.onProgress),
          ({ stream, size }) => collectStream(stream, size),
          (e, { size }) => size === undefined && isCountersignError(e, 'ERR_OCI_DIGEST_MISMATCH'),
        )
      }),
    fetchBlobStream: (repo, digest, callOptions) =>
      ctx.operation(
        callOptions,
        async (op) => (await openBlob(ctx, op, repo, digest, callOptions?.maxSize, callOptions?.onProgress)).stream,
        true,
      ),
    pushBlob: (repo, source, mediaType, callOptions) =>
      ctx.operation(callOptions, (op) => pushBlob(ctx, op, repo, source, mediaType, callOptions)),
  }
}

/** HEAD a blob: true when it exists, false on 404. */
async function blobHead(
  ctx: RegistryContext,
  op: Op,
  repo: Repository,
  digest: string,
  scope: AuthScope,
): Promise<boolean> {
  const { res } = await ctx.send(op, { method: 'HEAD', scope, target: v2(repo, `blobs/${digest}`) })
  await discardBody(res)
  if (res.status === 200) return true
  if (res.status === 404) return false
  throw registryErrorFromParts(res.status, [], {
    what: describeRequest('HEAD', 'blob', repo, digest),
    secrets: ctx.secrets,
  })
}

/** GET a blob and wrap its body in a digest-verifying stream that resumes broken connections. */
async function openBlob(
  ctx: RegistryContext,
  op: Op,
  repo: Repository,
  digest: string,
  maxSize: number | undefined,
  onProgress: ProgressCallback | undefined,
): Promise<{ stream: ReadableStream<Uint8Array>; size: number | undefined }> {
  parseDigest(digest)
  const what = describeRequest('GET', 'blob', repo, digest)
  const get = async (offset: number) =>
    (
      await ctx.send(op, {
        method: 'GET',
        scope: scopeOf(repo, 'pull'),
        target: v2(repo, `blobs/${digest}`),
        ...(offset > 0 ? { headers: { Range: `bytes=${offset}-` } } : {}),
      })
    ).res
  const res = await get(0)
  if (res.status !== 200) await fail(res, what, ctx.secrets)
  await checkDeclaredSize(res, maxSize, what)
  const stream = verifiedBlobStream({
    response: res,
    reopen: get,
    digest,
    ...(maxSize !== undefined ? { maxSize } : {}),
    resumes: ctx.retryBudget,
    hasher: ctx.hasher,
    ...(onProgress !== undefined ? { onProgress } : {}),
    ...(op.signal !== undefined ? { signal: op.signal } : {}),
    what,
  })
  return { stream, size: parseLength(res) }
}

/** The digest and size of a blob to push: computed for bytes, required with a stream. */
async function blobIdentity(
  source: BlobSource,
  callOptions: PushBlobOptions | undefined,
): Promise<{ digest: string; size: number }> {
  if (source instanceof Uint8Array) {
    // A given digest is not recomputed (hashing 256 MiB costs half a second): the registry checks it on the
    // closing PUT and refuses a mismatch with DIGEST_INVALID.
    const digest = callOptions?.digest ?? (await computeDigest(source))
    parseDigest(digest)
    const size = source.length
    if (callOptions?.size !== undefined && callOptions.size !== size) {
      throw new CountersignError('ERR_INVALID_INPUT', `blob is ${size} bytes, not ${callOptions.size}`)
    }
    return { digest, size }
  }
  if (callOptions?.digest === undefined || callOptions.size === undefined) {
    throw new TypeError('pushBlob of a stream needs options.digest and options.size')
  }
  if (!Number.isSafeInteger(callOptions.size) || callOptions.size < 0) {
    throw new TypeError('options.size must be a non-negative integer')
  }
  parseDigest(callOptions.digest)
  return { digest: callOptions.digest, size: callOptions.size }
}

/** Whether a failed upload session is worth starting again. */
function retryableUpload(e: unknown): boolean {
  if (!(e instanceof CountersignError)) return false
  if (e.code === 'ERR_NETWORK') return true
  return e.code === 'ERR_OCI_HTTP' && e.details?.temporary === true
}

async function pushBlob(
  ctx: RegistryContext,
  op: Op,
  repo: Repository,
  source: BlobSource,
  mediaType: string,
  callOptions: PushBlobOptions | undefined,
): Promise<Descriptor> {
  const { digest, size } = await blobIdentity(source, callOptions)
  const mountFrom = callOptions?.mountFrom
  if (mountFrom !== undefined && mountFrom.registry !== repo.registry) {
    throw new CountersignError('ERR_INVALID_INPUT', 'mountFrom must be a repository on the same registry')
  }
  const descriptor: Descriptor = { mediaType, digest, size }
  const scope: AuthScope = {
    ...scopeOf(repo, 'pull,push'),
    ...(mountFrom !== undefined ? { mountFrom: mountFrom.repository } : {}),
  }
  const onProgress = callOptions?.onProgress
  if (await blobHead(ctx, op, repo, digest, scope)) {
    onProgress?.(size, size)
    return descriptor
  }
  const uploadSend: UploadSend = (r) => ctx.send(op, { ...r, scope })
  // A function opens the content afresh for each session, so consumed bytes do not stop a restart.
  const reopens = typeof source === 'function'
  let consumed = false
  for (let n = 0; ; n++) {
    const body = typeof source === 'function' ? source() : source
    try {
      await uploadBlob(uploadSend, {
        repo,
        digest,
        size,
        source: body,
        chunkSize: ctx.chunkSize,
        secrets: ctx.secrets,
        ...(mountFrom !== undefined ? { mountFrom } : {}),
        ...(onProgress !== undefined ? { onProgress } : {}),
        onConsumed: () => {
          consumed = true
        },
      })
      return descriptor
    } catch (e) {
      // A session that broke is started over from the POST; a half-read stream cannot be replayed.
      if (!retryableUpload(e) || (consumed && !reopens) || n >= ctx.retryBudget || op.signal?.aborted) throw e
      await ctx.sleep(backoffDelay(n, ctx.retry, Math.random), op.signal)
    } finally {
      // Let go of what the function opened (a file handle, say), read to the end or not (a mount reads nothing).
      if (reopens) await (body as ReadableStream<Uint8Array>).cancel().catch(() => {})
    }
  }
}

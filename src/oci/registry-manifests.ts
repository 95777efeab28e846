/**
 * The manifest verbs of the registry client (distribution-spec v1.1 §Pulling manifests, §Pushing manifests,
 * §Deleting manifests): resolve (HEAD, falling back to GET), fetch, push and delete.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { discardBody, readLimited } from '../http/body.js'
import type { AuthScope } from './auth.js'
import { computeDigest, isDigest, parseDigest } from './digest.js'
import { manifestMediaType, parseManifest } from './manifest.js'
import { isIndexMediaType, isManifestMediaType, MANIFEST_ACCEPT_HEADER } from './media-types.js'
import type { RegistryClient } from './registry.js'
import {
  describeRequest,
  fail,
  manifestTarget,
  mismatch,
  type RegistryContext,
  scopeOf,
  v2,
} from './registry-context.js'
import { parseRegistryErrors, registryError, registryErrorFromParts } from './registry-errors.js'
import type { Op } from './registry-operation.js'
import { readWhole } from './registry-read.js'
import { contentType, headerDigest, parseLength } from './transport-headers.js'
import type { Descriptor, FetchedManifest, PushedManifest, Reference } from './types.js'

/** Retries of a manifest PUT refused with DIGEST_INVALID during a concurrent blob commit (see putManifest). */
const MANIFEST_RACE_RETRIES = 3

/**
 * The manifest verbs of a {@link RegistryClient}.
 *
 * @example
 * ```ts
 * const { resolve }: RegistryManifestVerbs = registryManifests(ctx)
 * ```
 */
export type RegistryManifestVerbs = Pick<
  RegistryClient,
  'resolve' | 'fetchManifest' | 'pushManifest' | 'deleteManifest'
>

/**
 * The manifest verbs over a client's shared context.
 *
 * @example
 * ```ts
 * const manifests = registryManifests(createRegistryContext({}))
 * const { descriptor } = await manifests.fetchManifest(parseReference('alpine:3.20'))
 * ```
 */
export function registryManifests(ctx: RegistryContext): RegistryManifestVerbs {
  return {
    resolve: (ref, callOptions) => ctx.operation(callOptions, (op) => resolveManifest(ctx, op, ref)),
    fetchManifest: (ref, callOptions) => ctx.operation(callOptions, (op) => getManifest(ctx, op, ref)),
    pushManifest: (ref, bytes, mediaType, callOptions) =>
      ctx.operation(callOptions, (op) => putManifest(ctx, op, ref, bytes, mediaType, callOptions?.retry !== false)),
    deleteManifest: (ref, callOptions) => ctx.operation(callOptions, (op) => deleteManifest(ctx, op, ref)),
  }
}

/** Send `method` to the manifest `ref` names (its digest, else its tag). */
async function manifestRequest(
  ctx: RegistryContext,
  op: Op,
  ref: Reference,
  method: 'GET' | 'HEAD' | 'DELETE',
  actions: AuthScope['actions'],
): Promise<{ res: Response; what: string }> {
  const id = manifestTarget(ref)
  const what = describeRequest(method, 'manifest', ref, id)
  const { res } = await ctx.send(op, {
    method,
    scope: scopeOf(ref, actions),
    target: v2(ref, `manifests/${id}`),
    ...(method === 'DELETE' ? {} : { headers: { Accept: MANIFEST_ACCEPT_HEADER } }),
  })
  return { res, what }
}

async function resolveManifest(ctx: RegistryContext, op: Op, ref: Reference): Promise<Descriptor> {
  const { res, what } = await manifestRequest(ctx, op, ref, 'HEAD', 'pull')
  await discardBody(res)
  if (res.status !== 200) throw registryErrorFromParts(res.status, [], { what, secrets: ctx.secrets })
  const digest = headerDigest(res)
  const size = parseLength(res)
  const mediaType = contentType(res)
  const usable =
    digest !== undefined &&
    isDigest(digest) &&
    size !== undefined &&
    size <= ctx.maxManifestBytes &&
    mediaType !== undefined &&
    (isManifestMediaType(mediaType) || isIndexMediaType(mediaType))
  if (!usable) {
    // Some registries omit headers on HEAD; ggcr falls back to GET as well.
    return (await getManifest(ctx, op, ref)).descriptor
  }
  if (ref.digest !== undefined && digest !== ref.digest) {
    throw mismatch(`${what}: registry reports digest ${digest}`, ref.digest, digest)
  }
  return { mediaType, digest, size }
}

/** GET a manifest, reading it again when the body breaks off (see registry-read.ts). */
async function getManifest(ctx: RegistryContext, op: Op, ref: Reference): Promise<FetchedManifest> {
  return readWhole(
    ctx,
    op,
    async () => {
      const sent = await manifestRequest(ctx, op, ref, 'GET', 'pull')
      if (sent.res.status !== 200) await fail(sent.res, sent.what, ctx.secrets)
      return sent
    },
    ({ res, what }) => readManifest(ctx, res, ref, what),
  )
}

/** Read and check one manifest response: the requested digest, `Docker-Content-Digest`, and the document. */
async function readManifest(
  ctx: RegistryContext,
  res: Response,
  ref: Reference,
  what: string,
): Promise<FetchedManifest> {
  const bytes = await readLimited(res, ctx.maxManifestBytes, 'manifest')
  const fromHeader = headerDigest(res)
  const algorithm = ref.digest !== undefined ? parseDigest(ref.digest).algorithm : 'sha256'
  const digest = await computeDigest(bytes, algorithm)
  // How many bytes came, and whether their number was declared: a caller that knows the manifest's size can tell
  // a body cut short from different content (docs/formats.md §Registry failures).
  const received = receivedDetails(bytes, res)
  if (ref.digest !== undefined && digest !== ref.digest) {
    throw mismatch(
      `${what}: content digest ${digest} does not match the requested digest`,
      ref.digest,
      digest,
      received,
    )
  }
  if (fromHeader !== undefined) await checkHeaderDigest(what, bytes, fromHeader, digest, algorithm, received)
  const hint = contentType(res)
  const manifest = parseManifest(bytes, hint)
  return { descriptor: { mediaType: manifestMediaType(manifest, hint), digest, size: bytes.length }, bytes, manifest }
}

/** `received` and, when declared, `contentLength`: the details a digest mismatch carries. */
function receivedDetails(bytes: Uint8Array, res: Response): Record<string, number> {
  const declared = parseLength(res)
  return { received: bytes.length, ...(declared !== undefined ? { contentLength: declared } : {}) }
}

/** A `Docker-Content-Digest` must match the content, in whichever algorithm it names. */
async function checkHeaderDigest(
  what: string,
  bytes: Uint8Array,
  fromHeader: string,
  digest: string,
  algorithm: 'sha256' | 'sha512',
  received: Record<string, number>,
): Promise<void> {
  let headerAlgorithm: 'sha256' | 'sha512'
  try {
    headerAlgorithm = parseDigest(fromHeader).algorithm
  } catch {
    throw mismatch(`${what}: registry sent an invalid Docker-Content-Digest`, fromHeader.slice(0, 200), digest)
  }
  const check = headerAlgorithm === algorithm ? digest : await computeDigest(bytes, headerAlgorithm)
  if (check !== fromHeader) {
    throw mismatch(
      `${what}: Docker-Content-Digest ${fromHeader} does not match the content (${check})`,
      fromHeader,
      check,
      received,
    )
  }
}

/**
 * PUT a manifest. `retry` false (StoreCallOptions.retry) sends it exactly once: no transport retries and no
 * DIGEST_INVALID re-sends, because a read-merge-write caller must re-read before it writes again.
 */
async function putManifest(
  ctx: RegistryContext,
  op: Op,
  ref: Reference,
  bytes: Uint8Array,
  mediaType: string,
  retry: boolean,
): Promise<PushedManifest> {
  if (bytes.length > ctx.maxManifestBytes) {
    throw new CountersignError('ERR_OCI_SIZE_LIMIT', `manifest is larger than ${ctx.maxManifestBytes} bytes`)
  }
  const parsed = parseManifest(bytes, mediaType)
  const algorithm = ref.digest !== undefined ? parseDigest(ref.digest).algorithm : 'sha256'
  const digest = await computeDigest(bytes, algorithm)
  if (ref.digest !== undefined && ref.digest !== digest) {
    throw mismatch(`manifest digest ${digest} does not match the reference digest`, ref.digest, digest)
  }
  const id = ref.tag ?? digest
  const what = describeRequest('PUT', 'manifest', ref, id)
  const put = () =>
    ctx.send(op, {
      method: 'PUT',
      scope: scopeOf(ref, 'pull,push'),
      target: v2(ref, `manifests/${id}`),
      headers: { 'Content-Type': mediaType },
      body: bytes,
      retry,
    })
  const res = retry ? await putWithRaceRetries(ctx, op, what, put) : (await put()).res
  if (res.status < 200 || res.status > 299) await fail(res, what, ctx.secrets)
  await discardBody(res)
  const reported = headerDigest(res)
  if (reported !== undefined && algorithm === 'sha256' && reported !== digest) {
    throw mismatch(`${what}: registry stored digest ${reported}, expected ${digest}`, digest, reported)
  }
  const pushed: PushedManifest = { mediaType, digest, size: bytes.length }
  if (parsed.subject === undefined) return pushed
  // distribution-spec v1.1 §Pushing Manifests with Subject: a registry that processed the subject
  // answers with OCI-Subject: <subject digest>; otherwise the client maintains the fallback tag.
  const subjectHeader = res.headers.get('oci-subject')?.trim()
  return { ...pushed, subjectAccepted: subjectHeader === parsed.subject.digest }
}

/**
 * distribution's filesystem driver answers 400 DIGEST_INVALID while another client commits one of this manifest's
 * blobs (its link file is half written). The digest was computed locally, so a few delayed retries are safe; a
 * manifest that is really wrong fails the same way each time.
 */
async function putWithRaceRetries(
  ctx: RegistryContext,
  op: Op,
  what: string,
  put: () => Promise<{ res: Response }>,
): Promise<Response> {
  let { res } = await put()
  for (let retry = 0; retry < MANIFEST_RACE_RETRIES && res.status === 400; retry++) {
    const body = await readLimited(res, 64 * 1024)
    const entries = parseRegistryErrors(body, ctx.secrets)
    if (!entries.some((e) => e.code === 'DIGEST_INVALID')) {
      throw registryErrorFromParts(400, entries, { what, secrets: ctx.secrets })
    }
    await ctx.sleep(25 * 2 ** retry + Math.random() * 50, op.signal)
    res = (await put()).res
  }
  return res
}

async function deleteManifest(ctx: RegistryContext, op: Op, ref: Reference): Promise<void> {
  const { res, what } = await manifestRequest(ctx, op, ref, 'DELETE', 'delete')
  if (res.status === 202 || res.status === 200 || res.status === 204) {
    await discardBody(res)
    return
  }
  const err = await registryError(res, { what, secrets: ctx.secrets })
  const entries = (err.details?.registryErrors ?? []) as { code: string }[]
  if (res.status === 405 || entries.some((e) => e.code === 'UNSUPPORTED')) {
    throw new CountersignError(
      'ERR_OCI_HTTP',
      `${what}: the registry does not allow deleting manifests (HTTP ${res.status}; deletes may be disabled)`,
      { details: err.details ?? {}, cause: err },
    )
  }
  // distribution 2.x parses the reference as a digest and answers 400 DIGEST_INVALID for a tag.
  if (ref.digest === undefined && res.status === 400 && entries.some((e) => e.code === 'DIGEST_INVALID')) {
    throw new CountersignError(
      'ERR_OCI_HTTP',
      `${what}: the registry does not delete manifests by tag; resolve the tag and delete by digest`,
      { details: err.details ?? {}, cause: err },
    )
  }
  throw err
}

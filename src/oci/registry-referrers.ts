/**
 * The Referrers API of the registry client (distribution-spec v1.1 §Listing Referrers): the descriptors whose
 * `subject` is a digest, or `undefined` when the registry has no Referrers API (callers then use the tag schema).
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { discardBody, readLimited } from '../http/body.js'
import { parseDigest } from './digest.js'
import { parseManifest } from './manifest.js'
import { OCI_IMAGE_INDEX_MEDIA_TYPE } from './media-types.js'
import type { RegistryClient } from './registry.js'
import { describeRequest, fail, type RegistryContext, scopeOf, v2 } from './registry-context.js'
import type { Op } from './registry-operation.js'
import { nextPage } from './registry-pages.js'
import { readWhole } from './registry-read.js'
import { contentType } from './transport-headers.js'
import type { Descriptor, ReferrersOptions, Repository } from './types.js'

const MAX_REFERRERS_PAGE_BYTES = 4 * 1024 * 1024
/** Answers to `GET /v2/<name>/referrers/<digest>` that mean "no Referrers API" (ggcr referrers.go, plus 405). */
const NO_REFERRERS_API: ReadonlySet<number> = new Set([200, 400, 404, 405, 406])

/**
 * The referrers verb of a {@link RegistryClient}.
 *
 * @example
 * ```ts
 * const { referrers }: RegistryReferrerVerbs = registryReferrers(ctx)
 * ```
 */
export type RegistryReferrerVerbs = Pick<RegistryClient, 'referrers'>

/**
 * The referrers verb over a client's shared context.
 *
 * @example
 * ```ts
 * const found = await registryReferrers(createRegistryContext({})).referrers(repo, digest)
 * if (found === undefined) {
 *   // no Referrers API: read the referrers tag instead
 * }
 * ```
 */
export function registryReferrers(ctx: RegistryContext): RegistryReferrerVerbs {
  return {
    referrers: (repo, digest, callOptions) =>
      ctx.operation(callOptions, (op) => listReferrerPages(ctx, op, repo, digest, callOptions)),
  }
}

async function listReferrerPages(
  ctx: RegistryContext,
  op: Op,
  repo: Repository,
  digest: string,
  callOptions: ReferrersOptions | undefined,
): Promise<Descriptor[] | undefined> {
  parseDigest(digest)
  const artifactType = callOptions?.artifactType
  const what = describeRequest('GET', 'referrers of', repo, digest)
  let target = v2(repo, `referrers/${digest}`)
  if (artifactType !== undefined) target += `?artifactType=${encodeURIComponent(artifactType)}`
  const out: Descriptor[] = []
  const seen = new Set<string>()
  const limits = { what, maxPages: ctx.referrersMaxPages, tooMany: `more than ${ctx.referrersMaxPages} pages`, seen }
  for (let page = 1; ; page++) {
    const pageTarget = target
    // A page whose body breaks off is fetched again (registry-read.ts); the pages before it are kept.
    const got = await readWhole(
      ctx,
      op,
      async () => {
        const sent = await ctx.send(op, {
          method: 'GET',
          scope: scopeOf(repo, 'pull'),
          target: pageTarget,
          headers: { Accept: OCI_IMAGE_INDEX_MEDIA_TYPE },
        })
        seen.add(sent.url)
        return sent
      },
      async (sent) => {
        const { res } = sent
        const isIndex = res.status === 200 && contentType(res) === OCI_IMAGE_INDEX_MEDIA_TYPE
        if (!isIndex) {
          // ggcr referrers.go: anything but a 200 index from the first request means "use the tag schema".
          if (page === 1 && NO_REFERRERS_API.has(res.status)) {
            await discardBody(res)
            return undefined
          }
          if (res.status !== 200) await fail(res, what, ctx.secrets)
          await discardBody(res)
          throw new CountersignError('ERR_OCI_HTTP', `${what}: page ${page} is not an OCI image index`)
        }
        return { ...sent, found: await referrersOfPage(res, what, artifactType) }
      },
    )
    if (got === undefined) return undefined
    out.push(...got.found)
    const next = nextPage(got.res, got.url, page, limits)
    if (next === undefined) return out
    target = next
  }
}

/** The descriptors of one page, filtered by `artifactType` unless the registry says it already did. */
async function referrersOfPage(res: Response, what: string, artifactType: string | undefined): Promise<Descriptor[]> {
  const body = await readLimited(res, MAX_REFERRERS_PAGE_BYTES, 'referrers response')
  const index = parseManifest(body, OCI_IMAGE_INDEX_MEDIA_TYPE)
  if (!('manifests' in index)) {
    throw new CountersignError('ERR_OCI_MANIFEST_INVALID', `${what}: response is not an image index`)
  }
  const filtered = (res.headers.get('oci-filters-applied') ?? '')
    .split(',')
    .map((f) => f.trim())
    .includes('artifactType')
  return index.manifests.filter((d) => artifactType === undefined || filtered || d.artifactType === artifactType)
}

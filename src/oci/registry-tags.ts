/**
 * The tag listing of the registry client (distribution-spec v1.1 §Listing Tags), following `Link` pages.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { readLimited } from '../http/body.js'
import type { RegistryClient } from './registry.js'
import { describeRequest, fail, type RegistryContext, scopeOf, v2 } from './registry-context.js'
import { nextPage } from './registry-pages.js'
import { readWhole } from './registry-read.js'

const MAX_TAG_PAGE_BYTES = 4 * 1024 * 1024

/**
 * The tag verb of a {@link RegistryClient}.
 *
 * @example
 * ```ts
 * const { listTags }: RegistryTagVerbs = registryTags(ctx)
 * ```
 */
export type RegistryTagVerbs = Pick<RegistryClient, 'listTags'>

/**
 * The tag verb over a client's shared context.
 *
 * @example
 * ```ts
 * const tags = await registryTags(createRegistryContext({})).listTags(parseRepository('ghcr.io/org/app'))
 * ```
 */
export function registryTags(ctx: RegistryContext): RegistryTagVerbs {
  return {
    listTags: (repo, callOptions) =>
      ctx.operation(callOptions, async (op) => {
        const tags: string[] = []
        let target = v2(repo, 'tags/list')
        const what = describeRequest('GET', 'tags of', repo)
        const limits = {
          what,
          maxPages: ctx.tagListMaxPages,
          tooMany: `more than ${ctx.tagListMaxPages} pages of tags`,
        }
        for (let page = 1; ; page++) {
          const pageTarget = target
          // A page whose body breaks off is fetched again (registry-read.ts); the pages before it are kept.
          const { res, url, found } = await readWhole(
            ctx,
            op,
            async () => {
              const sent = await ctx.send(op, {
                method: 'GET',
                scope: scopeOf(repo, 'pull'),
                target: pageTarget,
                headers: { Accept: 'application/json' },
              })
              if (sent.res.status !== 200) await fail(sent.res, what, ctx.secrets)
              return sent
            },
            async (sent) => ({
              ...sent,
              found: tagsOfPage(await readLimited(sent.res, MAX_TAG_PAGE_BYTES, 'tag list page'), what),
            }),
          )
          tags.push(...found)
          const next = nextPage(res, url, page, limits)
          if (next === undefined) return tags
          target = next
        }
      }),
  }
}

/** The `tags` of one page (`null` and absent are none). */
function tagsOfPage(body: Uint8Array, what: string): string[] {
  let doc: unknown
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body))
  } catch {
    throw new CountersignError('ERR_OCI_HTTP', `${what}: response is not valid JSON`, { details: { status: 200 } })
  }
  const list = typeof doc === 'object' && doc !== null ? (doc as { tags?: unknown }).tags : undefined
  if (list === null || list === undefined) return []
  if (!Array.isArray(list) || !list.every((t) => typeof t === 'string')) {
    throw new CountersignError('ERR_OCI_HTTP', `${what}: "tags" is not an array of strings`)
  }
  return list as string[]
}

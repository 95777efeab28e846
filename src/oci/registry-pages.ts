/**
 * Following `Link: <…>; rel="next"` pages of a registry listing (tags, referrers) without letting a registry keep
 * the client paging forever or send it elsewhere.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { nextLink } from './transport-headers.js'

/**
 * The limits on one paged listing.
 *
 * @example
 * ```ts
 * const limits: PageLimits = { what: 'GET tags of ghcr.io/org/app', maxPages: 100, tooMany: 'more than 100 pages' }
 * ```
 */
export interface PageLimits {
  /** The listing as error messages name it. */
  readonly what: string
  readonly maxPages: number
  /** What follows `<what>: ` in the ERR_OCI_SIZE_LIMIT past `maxPages`. */
  readonly tooMany: string
  /** When given, the pages already fetched: a link back to one of them is an error. */
  readonly seen?: ReadonlySet<string>
}

/**
 * The URL of the page after `page` (1-based) fetched from `url`, or undefined when it was the last one.
 *
 * @throws {CountersignError} ERR_OCI_SIZE_LIMIT past `maxPages`; ERR_OCI_HTTP for a link to another origin or, with
 * `seen`, back to a page already fetched.
 * @example
 * ```ts
 * const next = nextPage(res, url, page, { what, maxPages: 100, tooMany: 'more than 100 pages' })
 * if (next === undefined) return out
 * ```
 */
export function nextPage(res: Response, url: string, page: number, limits: PageLimits): string | undefined {
  const { what } = limits
  const next = nextLink(res, url)
  if (next === undefined) return undefined
  // oras-go TagListMaxPages: a hostile registry must not be able to keep us paging forever.
  if (page >= limits.maxPages) throw new CountersignError('ERR_OCI_SIZE_LIMIT', `${what}: ${limits.tooMany}`)
  if (new URL(next).origin !== new URL(url).origin) {
    throw new CountersignError('ERR_OCI_HTTP', `${what}: refusing a pagination link to another origin`)
  }
  if (limits.seen?.has(next)) throw new CountersignError('ERR_OCI_HTTP', `${what}: pagination loops back`)
  return next
}

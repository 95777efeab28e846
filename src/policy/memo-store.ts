/**
 * A read-only view of an OCI store that remembers every answer for the length of one image's evaluation, so the
 * authorities of every matching policy share one listing of referrers, one `.sig`/`.att` manifest and one download
 * of each bundle or layer, however many of them look.
 * @module
 */
import { CountersignError, isCountersignError } from '../errors.js'
import type {
  FetchBlobOptions,
  OCIStore,
  Reference,
  ReferrersOptions,
  Repository,
  StoreCallOptions,
} from '../oci/types.js'

function refKey(ref: Reference): string {
  return `${ref.registry}/${ref.repository}:${ref.tag ?? ''}@${ref.digest ?? ''}`
}

function readOnly(): never {
  throw new CountersignError('ERR_INVALID_INPUT', 'policy verification does not write to the registry')
}

/** Wrap `store`; failed lookups are remembered too (the same answer would come back within one evaluation). */
export function memoizeStore(store: OCIStore): OCIStore {
  const memo = new Map<string, Promise<unknown>>()
  const once = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    let p = memo.get(key) as Promise<T> | undefined
    if (!p) {
      p = fn()
      memo.set(key, p)
      // An aborted call must not poison later callers with the abort; other failures are answers too.
      p.catch((e) => {
        if (isCountersignError(e, 'ERR_ABORTED')) memo.delete(key)
      })
    }
    return p
  }
  return {
    kind: store.kind,
    resolve: (ref: Reference, o?: StoreCallOptions) => once(`resolve ${refKey(ref)}`, () => store.resolve(ref, o)),
    fetchManifest: (ref: Reference, o?: StoreCallOptions) =>
      once(`manifest ${refKey(ref)}`, () => store.fetchManifest(ref, o)),
    referrers: (repo: Repository, digest: string, o?: ReferrersOptions) =>
      once(`referrers ${repo.registry}/${repo.repository}@${digest} ${o?.artifactType ?? ''}`, () =>
        store.referrers(repo, digest, o),
      ),
    blobExists: (repo: Repository, digest: string, o?: StoreCallOptions) =>
      once(`exists ${repo.registry}/${repo.repository}@${digest}`, () => store.blobExists(repo, digest, o)),
    fetchBlob: (repo: Repository, digest: string, o?: FetchBlobOptions) =>
      once(`blob ${repo.registry}/${repo.repository}@${digest} ${o?.maxSize ?? ''}`, () =>
        store.fetchBlob(repo, digest, o),
      ),
    listTags: (repo: Repository, o?: StoreCallOptions) =>
      once(`tags ${repo.registry}/${repo.repository}`, () => store.listTags(repo, o)),
    pushManifest: readOnly,
    deleteManifest: readOnly,
    pushBlob: readOnly,
  }
}

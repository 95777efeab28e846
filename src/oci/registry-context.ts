/**
 * The state one registry client shares across its verbs (manifests, blobs, referrers, tags): resolved options, the
 * transport, the authenticator, the request helper and the operation wrapper; plus the small helpers that name
 * requests and build their paths and scopes.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { createSecretSet, redactError, type SecretSet } from '../http/redact.js'
import { createTransport, defaultSleep, type RetryOptions } from '../http/transport.js'
import { type AuthScope, createAuthenticator } from './auth.js'
import { type HasherFactory, nobleHasher } from './blob-download.js'
import { MAX_MANIFEST_BYTES } from './manifest.js'
import { repositoryName } from './reference.js'
import type { RegistryClientOptions } from './registry.js'
import { registryError } from './registry-errors.js'
import { type Op, runOperation } from './registry-operation.js'
import { createSender, type RawFetch, type Send } from './registry-send.js'
import type { Reference, Repository, StoreCallOptions } from './types.js'

const DEFAULT_MAX_BLOB_BYTES = 128 * 1024 * 1024
const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024

/**
 * What the verbs of one registry client share.
 *
 * @example
 * ```ts
 * const ctx: RegistryContext = createRegistryContext({ timeoutMs: 30_000 })
 * ```
 */
export interface RegistryContext {
  readonly maxManifestBytes: number
  /** Default largest blob for `fetchBlob` without `maxSize`. */
  readonly maxBlobBytes: number
  readonly tagListMaxPages: number
  readonly referrersMaxPages: number
  readonly chunkSize: number
  readonly hasher: HasherFactory
  /** Restarts of a failed upload session, and resumes of a broken blob download. */
  readonly retryBudget: number
  /** The caller's retry policy, for the backoff between upload restarts. */
  readonly retry: RetryOptions | undefined
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>
  /** The secrets redacted from registry answers and from every error an operation throws. */
  readonly secrets: SecretSet
  /** Run one operation under the caller's signal and the client's timeout (see {@link runOperation}). */
  operation<T>(callOptions: StoreCallOptions | undefined, fn: (op: Op) => Promise<T>, streaming?: boolean): Promise<T>
  readonly send: Send
}

/**
 * Resolve a client's options and build its transport, authenticator and request helper.
 *
 * @example
 * ```ts
 * const ctx = createRegistryContext({ plainHTTP: true })
 * ```
 */
export function createRegistryContext(options: RegistryClientOptions): RegistryContext {
  const baseFetch: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const userAgent = options.userAgent ?? 'countersign'
  const sleep = options.sleep ?? defaultSleep
  // Every HTTP request goes through here: concurrency, retries, counting, fetch failures as ERR_NETWORK.
  const transport = createTransport({
    fetch: baseFetch,
    ...(options.retry !== undefined ? { retry: options.retry } : {}),
    sleep,
    ...(options.maxConcurrency !== undefined ? { maxConcurrency: options.maxConcurrency } : {}),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(options.onRequest !== undefined ? { onAttempt: options.onRequest } : {}),
  })
  const rawFetch: RawFetch = (url, init, retry = true) => transport(url, init, { retry })
  const secrets = options.secrets ?? createSecretSet()
  const auth = createAuthenticator({
    fetch: (url, init) => rawFetch(url, init),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    userAgent,
    ...(options.now !== undefined ? { now: options.now } : {}),
    secrets,
  })
  return {
    maxManifestBytes: options.maxManifestBytes ?? MAX_MANIFEST_BYTES,
    maxBlobBytes: options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES,
    tagListMaxPages: options.tagListMaxPages ?? 100,
    referrersMaxPages: options.referrersMaxPages ?? 100,
    chunkSize: Math.max(1, options.chunkSize ?? DEFAULT_CHUNK_SIZE),
    hasher: options.hasher ?? nobleHasher,
    retryBudget: Math.max(0, Math.floor(options.retry?.attempts ?? 3)),
    retry: options.retry,
    sleep,
    secrets,
    // Errors are redacted where they are built from an answer; this catches any other text that quotes one.
    operation: (callOptions, fn, streaming) =>
      runOperation(options.timeoutMs, callOptions, fn, streaming).catch((e: unknown) => {
        throw redactError(e, secrets)
      }),
    send: createSender({ rawFetch, auth, userAgent, options }),
  }
}

/**
 * The auth scope of a request to `repo`.
 *
 * @example
 * ```ts
 * scopeOf(parseRepository('ghcr.io/org/app'), 'pull') // { registry: 'ghcr.io', repository: 'org/app', actions: 'pull' }
 * ```
 */
export function scopeOf(repo: Repository, actions: AuthScope['actions']): AuthScope {
  return { registry: repo.registry, repository: repo.repository, actions }
}

/**
 * The path of an API endpoint of `repo`.
 *
 * @example
 * ```ts
 * v2(repo, 'tags/list') // '/v2/org/app/tags/list'
 * ```
 */
export function v2(repo: Repository, rest: string): string {
  return `/v2/${repo.repository}/${rest}`
}

/**
 * The manifest a reference names: its digest, else its tag.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when it has neither.
 * @example
 * ```ts
 * manifestTarget(parseReference('alpine:3.20')) // '3.20'
 * ```
 */
export function manifestTarget(ref: Reference): string {
  const id = ref.digest ?? ref.tag
  if (id === undefined) throw new CountersignError('ERR_INVALID_INPUT', 'reference needs a tag or a digest')
  return id
}

/**
 * A request as error messages name it: method, what, repository and tag or digest.
 *
 * @example
 * ```ts
 * describeRequest('GET', 'manifest', ref, 'latest') // 'GET manifest ghcr.io/org/app:latest'
 * ```
 */
export function describeRequest(method: string, what: string, ref: Repository, id?: string): string {
  return `${method} ${what} ${repositoryName(ref)}${id === undefined ? '' : id.includes(':') ? `@${id}` : `:${id}`}`
}

/**
 * Throw the registry error a failed response carries, with `secrets` (the client's) redacted from it.
 *
 * @example
 * ```ts
 * if (res.status !== 200) await fail(res, what, ctx.secrets)
 * ```
 */
export async function fail(res: Response, what: string, secrets?: SecretSet): Promise<never> {
  throw await registryError(res, { what, ...(secrets !== undefined ? { secrets } : {}) })
}

/**
 * An ERR_OCI_DIGEST_MISMATCH with the two digests in its details, and any `extra` details (the bytes `received`,
 * the declared `contentLength`).
 *
 * @example
 * ```ts
 * throw mismatch('content does not match', expected, actual, { received: 120 })
 * ```
 */
export function mismatch(
  message: string,
  expected: string,
  actual: string,
  extra: Record<string, unknown> = {},
): CountersignError {
  return new CountersignError('ERR_OCI_DIGEST_MISMATCH', message, { details: { expected, actual, ...extra } })
}

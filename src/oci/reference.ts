/**
 * Image reference parsing with Docker normalisation, matching go-containerregistry `pkg/name`.
 * Pure: no I/O.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import type { Reference, Repository } from './types.js'

/**
 * The registry used when a reference names none (Docker Hub), as go-containerregistry spells it.
 *
 * @example
 * ```ts
 * import { DEFAULT_REGISTRY } from 'countersign/oci'
 * DEFAULT_REGISTRY // 'index.docker.io'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const DEFAULT_REGISTRY = 'index.docker.io'

/**
 * The tag used when a reference has neither a tag nor a digest.
 *
 * @example
 * ```ts
 * import { DEFAULT_TAG } from 'countersign/oci'
 * DEFAULT_TAG // 'latest'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const DEFAULT_TAG = 'latest'

/**
 * Options for {@link parseReference} and {@link parseRepository}.
 *
 * @example
 * ```ts
 * parseReference('gcr.io/p/app:v1', { strict: true })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface ParseReferenceOptions {
  /**
   * ggcr `StrictValidation`: the registry must be explicit, Docker Hub repositories must include their
   * namespace (`library/`), and a tag or digest must be given. Default false.
   */
  readonly strict?: boolean
}

/**
 * The longest reference string {@link parseReference} and {@link parseRepository} accept, checked before anything
 * else looks at it. A reference within the usual component limits is at most 780 characters: host 253 (DNS, RFC 1035
 * §2.3.4) + `:port` 6 + `/` + repository 255 (go-containerregistry, distribution) + `:` + tag 128 + `@sha512:` +
 * 128 hex. 4 KiB leaves ample room (the host is not otherwise bounded here), while keeping untrusted references,
 * such as a Pod's image at admission, from costing more than a few KiB of work in parsing and policy globs.
 *
 * @example
 * ```ts
 * parseReference('a'.repeat(MAX_REFERENCE_LENGTH + 1)) // throws ERR_OCI_REFERENCE_INVALID, details.reason 'too-long'
 * ```
 */
export const MAX_REFERENCE_LENGTH = 4096

const DOCKER_HUB_ALIAS = 'docker.io'
const DEFAULT_NAMESPACE = 'library'
// ggcr repositoryChars / tagChars.
const REPOSITORY_RE = /^[a-z0-9_\-./]+$/
const TAG_RE = /^[A-Za-z0-9_.-]+$/
// A URI authority: host name or bracketed IPv6 literal, optional numeric port (ggcr checks url.Host == name).
const REGISTRY_RE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?::[0-9]{1,5})?$/
const DIGEST_RE = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/

function bad(message: string): CountersignError {
  return new CountersignError('ERR_OCI_REFERENCE_INVALID', message)
}

/** Shorten untrusted input before it goes into an error message. */
function quote(s: string): string {
  return JSON.stringify(s.length > 300 ? `${s.slice(0, 300)}…` : s)
}

/**
 * Refuse a reference (or repository) string longer than {@link MAX_REFERENCE_LENGTH}, before any other work on it.
 *
 * @param s - The untrusted string.
 * @param what - How the message names it.
 * @throws {CountersignError} ERR_OCI_REFERENCE_INVALID with `details.reason` `too-long`, `length` and `limit`.
 * @example
 * ```ts
 * assertReferenceLength(podImage) // throws for a 100,000-character image
 * ```
 */
export function assertReferenceLength(s: string, what = 'reference'): void {
  if (s.length > MAX_REFERENCE_LENGTH) {
    throw new CountersignError(
      'ERR_OCI_REFERENCE_INVALID',
      `${what} is ${s.length} characters long; at most ${MAX_REFERENCE_LENGTH} are accepted: ${quote(s)}`,
      { details: { reason: 'too-long', length: s.length, limit: MAX_REFERENCE_LENGTH } },
    )
  }
}

function checkTag(tag: string): void {
  if (tag.length < 1 || tag.length > 128) throw bad(`tag must be between 1 and 128 characters: ${quote(tag)}`)
  if (!TAG_RE.test(tag)) throw bad(`tag may only contain [A-Za-z0-9_.-]: ${quote(tag)}`)
}

function checkDigest(digest: string): void {
  if (!DIGEST_RE.test(digest)) {
    throw bad(`digest must be sha256:<64 lower-case hex> or sha512:<128 lower-case hex>: ${quote(digest)}`)
  }
}

function checkRepositoryPath(repo: string): void {
  // ggcr counts runes; every allowed character is ASCII so length is the same.
  if (repo.length < 1 || repo.length > 255) throw bad(`repository must be between 1 and 255 characters: ${quote(repo)}`)
  if (!REPOSITORY_RE.test(repo)) {
    throw bad(`repository may only contain lower-case [a-z0-9_-./]: ${quote(repo)}`)
  }
  // Stricter than ggcr: empty or dot components would be rewritten by URL normalisation, so the request
  // would address a different repository than the one named in the signature.
  for (const c of repo.split('/')) {
    if (c === '' || c === '.' || c === '..') throw bad(`repository has an empty or dot path component: ${quote(repo)}`)
  }
}

function splitRepository(name: string, strict: boolean): Repository {
  if (name.length === 0) throw bad('a repository name must be specified')
  let registry = ''
  let repo = name
  const slash = name.indexOf('/')
  if (slash >= 0) {
    const first = name.slice(0, slash)
    if (first === 'localhost' || first.includes('.') || first.includes(':')) {
      registry = first
      repo = name.slice(slash + 1)
    }
  }
  checkRepositoryPath(repo)
  if (registry === '') {
    if (strict) throw bad('strict validation requires the registry to be explicitly defined')
  } else if (!REGISTRY_RE.test(registry)) {
    throw bad(`registry must be a valid host[:port]: ${quote(registry)}`)
  }
  if (registry === '' || registry === DOCKER_HUB_ALIAS) registry = DEFAULT_REGISTRY
  if (registry === DEFAULT_REGISTRY && !repo.includes('/')) {
    if (strict) throw bad("strict validation requires the full repository path (missing 'library')")
    repo = `${DEFAULT_NAMESPACE}/${repo}`
  }
  return { registry, repository: repo }
}

/**
 * Parse an image reference (`[registry/]repository[:tag][@digest]`) with Docker normalisation: no registry
 * means `index.docker.io`, `docker.io` becomes `index.docker.io`, single-component Docker Hub repositories get
 * `library/`, and a reference with neither tag nor digest gets the tag `latest`. A reference with both a tag and
 * a digest keeps both; the digest is what gets addressed.
 *
 * @param s - The reference, e.g. `ubuntu`, `ghcr.io/org/app:v1`, `localhost:5000/app@sha256:…`.
 * @param options - `strict` rejects implicit registries, namespaces and tags.
 * @returns The normalised reference.
 * @throws {CountersignError} ERR_OCI_REFERENCE_INVALID when the reference does not parse, or is longer than 4096
 *   characters (`details.reason` `too-long`, refused before any other check).
 *
 * @example
 * ```ts
 * import { parseReference } from 'countersign/oci'
 * parseReference('ubuntu') // { registry: 'index.docker.io', repository: 'library/ubuntu', tag: 'latest' }
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function parseReference(s: string, options?: ParseReferenceOptions): Reference {
  if (typeof s !== 'string') throw new TypeError('"reference" must be a string')
  assertReferenceLength(s)
  const strict = options?.strict === true
  const at = s.split('@')
  if (at.length > 2) throw bad(`a reference may contain at most one '@': ${quote(s)}`)
  let base = at[0]!
  let digest: string | undefined
  if (at.length === 2) {
    digest = at[1]!
    checkDigest(digest)
  }
  let tag: string | undefined
  const colon = base.lastIndexOf(':')
  if (colon >= 0 && !base.slice(colon + 1).includes('/')) {
    tag = base.slice(colon + 1)
    if (tag === '') throw bad(`${quote(s)} must specify a tag name after the colon`)
    checkTag(tag)
    base = base.slice(0, colon)
  }
  if (tag === undefined && digest === undefined) {
    if (strict) throw bad(`strict validation requires a tag or digest: ${quote(s)}`)
    tag = DEFAULT_TAG
  }
  const repo = splitRepository(base, strict)
  return {
    registry: repo.registry,
    repository: repo.repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  }
}

/**
 * Parse a repository without tag or digest (`[registry/]repository`), normalised like {@link parseReference}.
 * Used for `COSIGN_REPOSITORY`.
 *
 * @param s - The repository, e.g. `ghcr.io/org/signatures`.
 * @param options - `strict` rejects an implicit registry or namespace.
 * @throws {CountersignError} ERR_OCI_REFERENCE_INVALID when it does not parse (a tag or digest included) or is longer
 *   than 4096 characters.
 *
 * @example
 * ```ts
 * import { parseRepository } from 'countersign/oci'
 * parseRepository('docker.io/alpine') // { registry: 'index.docker.io', repository: 'library/alpine' }
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function parseRepository(s: string, options?: ParseReferenceOptions): Repository {
  if (typeof s !== 'string') throw new TypeError('"repository" must be a string')
  assertReferenceLength(s, 'repository')
  return splitRepository(s, options?.strict === true)
}

/**
 * The fully qualified repository name, `registry/repository`: cosign's `docker-reference` identity string.
 *
 * @example
 * ```ts
 * import { parseReference, repositoryName } from 'countersign/oci'
 * repositoryName(parseReference('ubuntu')) // 'index.docker.io/library/ubuntu'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function repositoryName(r: Repository): string {
  return `${r.registry}/${r.repository}`
}

/**
 * Format a reference as `registry/repository[:tag][@digest]`.
 *
 * @example
 * ```ts
 * import { parseReference, referenceToString } from 'countersign/oci'
 * referenceToString(parseReference('alpine:3')) // 'index.docker.io/library/alpine:3'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function referenceToString(r: Reference): string {
  let s = repositoryName(r)
  if (r.tag !== undefined) s += `:${r.tag}`
  if (r.digest !== undefined) s += `@${r.digest}`
  return s
}

/**
 * The same repository addressed by `digest` (any tag is dropped).
 *
 * @throws {CountersignError} ERR_OCI_REFERENCE_INVALID when the digest is malformed.
 * @example
 * ```ts
 * import { parseReference, withDigest } from 'countersign/oci'
 * withDigest(parseReference('alpine'), 'sha256:' + 'a'.repeat(64))
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function withDigest(r: Repository, digest: string): Reference {
  checkDigest(digest)
  return { registry: r.registry, repository: r.repository, digest }
}

/**
 * The same repository addressed by `tag` (any digest is dropped).
 *
 * @throws {CountersignError} ERR_OCI_REFERENCE_INVALID when the tag is malformed.
 * @example
 * ```ts
 * import { parseReference, withTag } from 'countersign/oci'
 * withTag(parseReference('alpine'), 'sha256-abc.sig')
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function withTag(r: Repository, tag: string): Reference {
  checkTag(tag)
  return { registry: r.registry, repository: r.repository, tag }
}

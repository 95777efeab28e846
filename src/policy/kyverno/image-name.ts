/**
 * Kyverno's image names (`pkg/utils/image/infos.go` `GetImageInfo`, distribution/reference v0.6 `Parse`): the
 * canonical string its `imageReferences` and `skipImageReferences` are matched against, the `image` variable of its
 * JMESPath context, and the value its `mutateDigest` writes. It differs from countersign's own normalisation
 * (`src/oci/reference.ts`, go-containerregistry): the default registry is `docker.io`, never `index.docker.io`;
 * there is no `library/` rewrite, so `nginx` is `docker.io/nginx:latest` while `docker.io/library/nginx` stays
 * itself; and a reference with a digest loses its tag (`registry/path@digest`). Pure: no I/O.
 * @module
 */
import { CountersignError } from '../../errors.js'
import { assertReferenceLength } from '../../oci/reference.js'

/**
 * The registry Kyverno puts in front of a name without one (its ConfigMap's `defaultRegistry`, default `docker.io`).
 *
 * @example
 * ```ts
 * import { KYVERNO_DEFAULT_REGISTRY } from 'countersign/policy'
 * KYVERNO_DEFAULT_REGISTRY // 'docker.io'
 * ```
 *
 * Exported from `countersign/policy`.
 */
export const KYVERNO_DEFAULT_REGISTRY = 'docker.io'

/**
 * An image as Kyverno describes it (its `ImageInfo`; the `image` variable a rule's context sees). Absent parts are
 * empty strings (Kyverno's JSON leaves `registry`, `tag` and `digest` out when they are empty).
 *
 * @example
 * ```ts
 * kyvernoImageInfo('ghcr.io/acme/app:v1@sha256:' + 'a'.repeat(64))
 * // { registry: 'ghcr.io', path: 'acme/app', name: 'app', tag: 'v1', digest: 'sha256:aaa…',
 * //   reference: 'ghcr.io/acme/app@sha256:aaa…', referenceWithTag: 'ghcr.io/acme/app:v1' }
 * ```
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoImageInfo {
  /** The registry host[:port], e.g. `docker.io`, `localhost:5000`; empty when registry mutation is off. */
  readonly registry: string
  /** The repository path, e.g. `nginx`, `acme/app` (no `library/` is added). */
  readonly path: string
  /** The last path component, e.g. `app`. */
  readonly name: string
  /** The tag; `latest` when the reference has neither tag nor digest; empty when it has only a digest. */
  readonly tag: string
  /** `algorithm:hex`, or empty. */
  readonly digest: string
  /**
   * Kyverno's `String()`: `registry/path@digest` when there is a digest (the tag is dropped), else
   * `registry/path:tag`. This is what `imageReferences` and `skipImageReferences` are matched against, and the key
   * of the `kyverno.io/verify-images` annotation.
   */
  readonly reference: string
  /** `registry/path:tag`, even when the tag is empty (`docker.io/test/centos:` for a digest-only reference). */
  readonly referenceWithTag: string
}

/**
 * The two settings of Kyverno's ConfigMap that change image names.
 *
 * @example
 * ```ts
 * kyvernoImageInfo('test/nginx', { defaultRegistry: 'gcr.io' }).reference // 'gcr.io/test/nginx:latest'
 * ```
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoImageInfoOptions {
  /** `defaultRegistry`: put in front of a name without a registry; default `docker.io`. */
  readonly defaultRegistry?: string
  /**
   * `enableDefaultRegistryMutation`: when false, a registry that had to be added is reported empty (so `nginx` is
   * `nginx:latest`). Default true.
   */
  readonly enableDefaultRegistryMutation?: boolean
}

// distribution/reference v0.6 regexp.go, in forms a backtracking engine runs in linear time: each repetition begins
// with a character the one before cannot end with. Matched per part, never as one expression over the whole string.
const DOMAIN_RE =
  /^(?:[a-zA-Z0-9]+(?:-+[a-zA-Z0-9]+)*(?:\.[a-zA-Z0-9]+(?:-+[a-zA-Z0-9]+)*)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG_RE = /^\w[\w.-]{0,127}$/
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/
// opencontainers/go-digest v1.0.0: the algorithms Kyverno's binary links (crypto.SHA256/384/512), lower-case hex of
// the hash's exact length. Others parse as a digest but are "unsupported digest algorithm".
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 }
// distribution/reference RepositoryNameTotalLengthMax (the path, not the domain).
const MAX_PATH_LENGTH = 255

function bad(message: string, reason: string): CountersignError {
  return new CountersignError('ERR_OCI_REFERENCE_INVALID', message, { details: { reason } })
}

/** Shorten untrusted input before it goes into an error message. */
function quote(s: string): string {
  return JSON.stringify(s.length > 300 ? `${s.slice(0, 300)}…` : s)
}

function checkDigest(digest: string, image: string): void {
  if (!DIGEST_RE.test(digest)) throw bad(`invalid digest in image ${quote(image)}`, 'digest')
  const colon = digest.indexOf(':')
  const hexLength = DIGEST_HEX_LENGTH[digest.slice(0, colon)]
  if (hexLength === undefined) throw bad(`unsupported digest algorithm in image ${quote(image)}`, 'digest')
  const hex = digest.slice(colon + 1)
  if (hex.length !== hexLength || !/^[a-f0-9]+$/.test(hex)) {
    throw bad(`invalid digest in image ${quote(image)}`, 'digest')
  }
}

function isRemoteName(s: string): boolean {
  return s.split('/').every((c) => PATH_COMPONENT_RE.test(c))
}

/** `addDefaultRegistry`: Docker's rule for "the first component is a registry", but a capital letter also counts. */
function withDefaultRegistry(name: string, defaultRegistry: string): string {
  const slash = name.indexOf('/')
  if (slash === -1) return `${defaultRegistry}/${name}`
  const first = name.slice(0, slash)
  if (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first) return `${defaultRegistry}/${name}`
  return name
}

interface Parsed {
  readonly domain: string
  readonly path: string
  readonly tag: string
  readonly digest: string
}

/**
 * distribution/reference `Parse`: `name[:tag][@digest]`, where the name's first component is the domain when it
 * matches the domain grammar and the rest is a valid path (the grammar tries the domain first).
 */
function parseDistributionReference(s: string, image: string): Parsed {
  const invalid = (): CountersignError => {
    const lower = s.toLowerCase()
    if (lower !== s && tryParse(lower) !== undefined) {
      return bad(`repository name must be lowercase: ${quote(image)}`, 'uppercase')
    }
    return bad(`invalid reference format: ${quote(image)}`, 'format')
  }
  const parsed = tryParse(s)
  if (parsed === undefined) throw invalid()
  if (parsed.path.length > MAX_PATH_LENGTH) {
    throw bad(`repository name must not be more than ${MAX_PATH_LENGTH} characters: ${quote(image)}`, 'too-long')
  }
  if (parsed.digest !== '') checkDigest(parsed.digest, image)
  return parsed
}

function tryParse(s: string): Parsed | undefined {
  // No part of the grammar but the digest may contain '@', and the digest contains none.
  const at = s.indexOf('@')
  let rest = s
  let digest = ''
  if (at !== -1) {
    digest = s.slice(at + 1)
    rest = s.slice(0, at)
    if (!DIGEST_RE.test(digest)) return undefined
  }
  // A ':' followed by no '/' can only introduce the tag; one followed by a '/' can only be a port in the domain.
  let tag = ''
  const colon = rest.lastIndexOf(':')
  if (colon !== -1 && !rest.slice(colon + 1).includes('/')) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG_RE.test(tag)) return undefined
  }
  const slash = rest.indexOf('/')
  if (slash !== -1) {
    const first = rest.slice(0, slash)
    const remainder = rest.slice(slash + 1)
    if (DOMAIN_RE.test(first) && isRemoteName(remainder)) return { domain: first, path: remainder, tag, digest }
  }
  if (isRemoteName(rest)) return { domain: '', path: rest, tag, digest }
  return undefined
}

/**
 * Kyverno's description of an image reference (`GetImageInfo`): the default registry (`docker.io`) is put in front of
 * a name whose first component is not a registry, the result is parsed with distribution/reference's grammar (no
 * `library/`), `latest` is the tag when there is neither tag nor digest, and `reference` is Kyverno's canonical
 * string, the one its `imageReferences` globs see.
 *
 * @param image - The image as written in the resource, e.g. `nginx`, `ghcr.io/acme/app:v1@sha256:…`.
 * @param options - Kyverno's `defaultRegistry` and `enableDefaultRegistryMutation` settings.
 * @returns The parts and the two canonical strings.
 * @throws {CountersignError} ERR_OCI_REFERENCE_INVALID when the reference does not parse (Kyverno's "bad image"),
 *   has a digest of another algorithm than sha256, sha384 or sha512 or of the wrong length, or is longer than 4096
 *   characters; `details.reason` says which.
 * @example
 * ```ts
 * import { kyvernoImageInfo } from 'countersign/policy'
 * kyvernoImageInfo('nginx').reference // 'docker.io/nginx:latest' (not docker.io/library/nginx)
 * kyvernoImageInfo('localhost:4443/test/nginx').reference // 'localhost:4443/test/nginx:latest'
 * kyvernoImageInfo('ghcr.io/acme/app:v1@sha256:' + 'a'.repeat(64)).reference // 'ghcr.io/acme/app@sha256:aaa…'
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function kyvernoImageInfo(image: string, options?: KyvernoImageInfoOptions): KyvernoImageInfo {
  if (typeof image !== 'string') throw new TypeError('"image" must be a string')
  // The image comes from whoever may create a Pod: bound the work before looking at it.
  assertReferenceLength(image, 'image')
  const full = withDefaultRegistry(image, options?.defaultRegistry ?? KYVERNO_DEFAULT_REGISTRY)
  const parsed = parseDistributionReference(full, image)
  let registry = parsed.domain
  let path = parsed.path
  const name = path.slice(path.lastIndexOf('/') + 1)
  const digest = parsed.digest
  const tag = parsed.tag === '' && digest === '' ? 'latest' : parsed.tag
  if (full !== image && options?.enableDefaultRegistryMutation === false) registry = ''
  const repository = registry === '' ? path : `${registry}/${path}`
  const referenceWithTag = `${repository}:${tag}`
  const reference = digest === '' ? `${repository}:${tag}` : `${repository}@${digest}`
  // Kyverno's own afterthought, kept for fidelity: with no registry, a first component holding '_' (which the domain
  // grammar refuses) is reported as the registry. The canonical strings above were computed before and do not change.
  const slash = path.indexOf('/')
  if (registry === '' && slash !== -1 && path.slice(0, slash).includes('_')) {
    registry = path.slice(0, slash)
    path = path.slice(slash + 1)
  }
  return { registry, path, name, tag, digest, reference, referenceWithTag }
}

/**
 * What Kyverno's `mutateDigest` writes into the resource for an image verified (or resolved) to `digest`: the
 * canonical name with its tag kept, then `@digest` (`ghcr.io/acme/app:v1@sha256:…`; a bare `nginx` becomes
 * `docker.io/nginx:latest@sha256:…`). An image that already names a digest is not rewritten and comes back as given.
 *
 * @param image - The image as written in the resource.
 * @param digest - The digest the image resolved to, `sha256:<hex>` (or sha384/sha512).
 * @param options - Kyverno's registry settings, as for {@link kyvernoImageInfo}.
 * @returns The value for the image field.
 * @throws {CountersignError} ERR_OCI_REFERENCE_INVALID when the image does not parse or the digest is malformed.
 * @example
 * ```ts
 * import { kyvernoPinnedImage } from 'countersign/policy'
 * kyvernoPinnedImage('ghcr.io/kyverno/zulu:v0.0.14', 'sha256:476b21f1…')
 * // 'ghcr.io/kyverno/zulu:v0.0.14@sha256:476b21f1…'
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function kyvernoPinnedImage(image: string, digest: string, options?: KyvernoImageInfoOptions): string {
  const info = kyvernoImageInfo(image, options)
  if (info.digest !== '') return image
  if (typeof digest !== 'string') throw new TypeError('"digest" must be a string')
  // The digest goes into the Pod the cluster then pulls: refuse anything that is not a well-formed digest.
  checkDigest(digest, `${image}@${digest}`)
  return `${info.reference}@${digest}`
}

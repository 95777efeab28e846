/**
 * Image globs with sigstore policy-controller's semantics (`pkg/apis/glob`): `*` is any run of characters other than
 * `/`, `**` any run at all; the glob is anchored at both ends and matched against the fully qualified reference
 * (`index.docker.io/library/…`, `:latest` implied), then, as a deprecated fallback policy-controller still applies,
 * against the reference as written. Matching takes linear time whatever the input (see `glob-matcher.ts`): the image
 * is chosen by whoever may create a Pod, and a backtracking RegExp would let `*.*.*.*.*.io/**` run for minutes.
 * @module
 */
import { CountersignError } from '../errors.js'
import { parseReference } from '../oci/reference.js'
import type { Reference } from '../oci/types.js'
import { compileGlobProgram, type GlobProgram, runGlobProgram } from './glob-matcher.js'

// policy-controller's validGlob: the only characters a glob may contain.
const VALID_GLOB = /^[a-zA-Z0-9\-_:/*.@]+$/

/**
 * The RegExp {@link compileImageGlob} returns: same `source` as before, but `test` and `exec` (which
 * `String.prototype.match`, `search` and `replace` call) run the linear matcher instead of backtracking.
 */
class ImageGlobRegExp extends RegExp {
  readonly #program: GlobProgram

  constructor(source: string, program: GlobProgram) {
    super(source)
    this.#program = program
  }

  // split and matchAll build a fresh RegExp through the species; a plain one takes the source as is.
  static override get [Symbol.species](): RegExpConstructor {
    return RegExp
  }

  override test(text: string): boolean {
    return runGlobProgram(this.#program, String(text))
  }

  override exec(text: string): RegExpExecArray | null {
    const s = String(text)
    if (!runGlobProgram(this.#program, s)) return null
    // Anchored at both ends, no groups: a match is always the whole text.
    return Object.assign([s], { index: 0, input: s, groups: undefined }) as RegExpExecArray
  }
}

/** The glob as upstream rewrites and validates it (bare `*` and `*` `/` `*` mean Docker Hub). */
function normalizedGlob(glob: string): string {
  let g = glob
  if (g === '*/*') g = 'index.docker.io/*/*'
  if (g === '*') g = 'index.docker.io/library/*'
  if (typeof g !== 'string' || !VALID_GLOB.test(g)) {
    throw new CountersignError('ERR_INVALID_INPUT', `invalid glob ${JSON.stringify(glob)}`)
  }
  return g
}

// Programs of recent globs (they are immutable): the webhook matches every image against the same few policy globs.
// Bounded in count, and only globs of ordinary size are kept.
const PROGRAM_CACHE_SIZE = 256
const MAX_CACHED_GLOB_LENGTH = 4096
const programs = new Map<string, GlobProgram>()

function cachedProgram(glob: string): GlobProgram {
  const hit = programs.get(glob)
  if (hit !== undefined) return hit
  const program = compileGlobProgram(normalizedGlob(glob))
  if (glob.length <= MAX_CACHED_GLOB_LENGTH) {
    if (programs.size >= PROGRAM_CACHE_SIZE) programs.delete(programs.keys().next().value as string)
    programs.set(glob, program)
  }
  return program
}

/**
 * Compile a policy-controller image glob to an anchored regular expression. A bare `*` means
 * `index.docker.io/library/*` and star-slash-star means `index.docker.io/` followed by it, as policy-controller
 * rewrites them.
 *
 * @param glob - The `images[].glob` value.
 * @returns The anchored expression; its `test` and `exec` take time linear in the text (times the glob's length).
 * @throws {CountersignError} ERR_INVALID_INPUT when the glob holds characters outside `[a-zA-Z0-9-_:/*.@]`.
 * @example
 * ```ts
 * import { compileImageGlob } from 'countersign/policy'
 * compileImageGlob('ghcr.io/acme/app:**').test('ghcr.io/acme/app:v1') // true
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function compileImageGlob(glob: string): RegExp {
  const g = normalizedGlob(glob)
  // Same order as upstream: escape dots, stash `**`, expand `*`, then restore `**` as "anything". The source is
  // kept for display and for callers that read it; matching goes through the program.
  const source = g.replaceAll('.', '\\.').replaceAll('**', '#').replaceAll('*', '[^/]*').replaceAll('#', '.*')
  return new ImageGlobRegExp(`^${source}$`, cachedProgram(glob))
}

/**
 * go-containerregistry's `Reference.Name()`: `registry/repository:tag`, or `registry/repository@digest` for a digest
 * reference (a tag next to a digest is dropped, as ggcr drops it).
 *
 * @example
 * ```ts
 * import { parseReference } from 'countersign/oci'
 * import { qualifiedImageName } from 'countersign/policy'
 * qualifiedImageName(parseReference('busybox')) // 'index.docker.io/library/busybox:latest'
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function qualifiedImageName(ref: Reference): string {
  const repo = `${ref.registry}/${ref.repository}`
  return ref.digest ? `${repo}@${ref.digest}` : `${repo}:${ref.tag ?? 'latest'}`
}

/**
 * Whether `image` matches `glob`, exactly as policy-controller's `glob.Match`: the fully qualified name first, then
 * the image as written when that differs.
 *
 * @param glob - The `images[].glob` value.
 * @param image - An image reference as written in a workload.
 * @throws {CountersignError} ERR_INVALID_INPUT for an invalid glob; ERR_OCI_REFERENCE_INVALID for an image that does
 *   not parse, including one longer than 4096 characters (policy-controller reports an error, and matches
 *   nothing, for both).
 * @example
 * ```ts
 * import { matchImageGlob } from 'countersign/policy'
 * matchImageGlob('index.docker.io/library/*', 'busybox') // true
 * matchImageGlob('ghcr.io/foo*', 'ghcr.io/foo') // true: matched as ghcr.io/foo:latest
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function matchImageGlob(glob: string | RegExp, image: string): boolean {
  // A string glob skips the RegExp wrapper and runs its (cached) program directly.
  const program = typeof glob === 'string' ? cachedProgram(glob) : undefined
  const matches = (s: string) => (program !== undefined ? runGlobProgram(program, s) : (glob as RegExp).test(s))
  const name = qualifiedImageName(parseReference(image))
  if (matches(name)) return true
  return name !== image && matches(image)
}

/**
 * Go RE2 (`regexp` package) patterns, compiled and run by re2js (a port of Go's `regexp`), so identity patterns
 * mean here exactly what they mean to cosign and match in time linear in the input. A JavaScript `RegExp`
 * backtracks: `^(a+)+$` against a certificate e-mail of 34 a's and a `!` runs for over an hour, where Go answers
 * in microseconds.
 *
 * re2js is about 150 KB minified (46 KB gzipped), so the verifiers do not import it statically: `loadRE2Engine`
 * brings it in (dynamic `import()`) when a policy has a regexp, and synchronous entry points that take patterns
 * hand it over with `useRE2Engine`.
 *
 * @module
 */
import type { RE2JS } from 're2js'
import { CountersignError } from '../errors.js'
import { clipText, MAX_ITEM_LENGTH, MAX_QUOTED_LENGTH, quoteClipped } from '../internal/bounded-text.js'

/**
 * The re2js pattern class (`import('re2js').RE2JS`), which compiles and matches.
 *
 * @example
 * ```ts
 * const engine: RE2Engine = (await import('re2js')).RE2JS
 * ```
 */
export type RE2Engine = typeof RE2JS

let engine: RE2Engine | undefined
let loading: Promise<void> | undefined

/**
 * Install the RE2 engine a module imported statically, for synchronous code paths that cannot await
 * `loadRE2Engine`. The first engine installed stays.
 *
 * @param e - `RE2JS` from `re2js`.
 * @example
 * ```ts
 * import { RE2JS } from 're2js'
 * useRE2Engine(RE2JS)
 * ```
 */
export function useRE2Engine(e: RE2Engine): void {
  engine ??= e
}

/**
 * Load re2js on first use (a dynamic import, so bundles that never see a regexp do not evaluate it). Concurrent
 * callers share one import; a failed import is retried by the next call.
 *
 * @returns Settles once `compileRE2` can run.
 * @example
 * ```ts
 * await loadRE2Engine()
 * compileRE2('^https://github\\.com/acme/').test(subject)
 * ```
 */
export function loadRE2Engine(): Promise<void> {
  if (engine !== undefined) return Promise.resolve()
  loading ??= import('re2js').then(
    (m) => {
      engine ??= m.RE2JS
    },
    (cause: unknown) => {
      loading = undefined
      throw cause
    },
  )
  return loading
}

type Compiled = ReturnType<RE2Engine['compile']>

/**
 * A RegExp whose matching is done by RE2. `test` and `exec` (and so `String.prototype.match`, `search` and
 * `replace`, which call `exec`) run on RE2 with the Go pattern; `source` is that pattern. `split` and `matchAll`
 * would rebuild a backtracking RegExp from the source, so they are refused.
 */
class RE2RegExp extends RegExp {
  readonly #re2: Compiled

  constructor(pattern: string, re2: Compiled) {
    // The native half never matches anything; every matching method below goes to RE2.
    super('(?!)')
    this.#re2 = re2
    Object.defineProperty(this, 'source', { value: pattern })
  }

  override test(input: string): boolean {
    return this.#re2.test(String(input))
  }

  override exec(input: string): RegExpExecArray | null {
    return this.#re2.exec(String(input)) as RegExpExecArray | null
  }

  override [Symbol.split](): never {
    throw new TypeError('an RE2 pattern cannot split strings')
  }

  override [Symbol.matchAll](): never {
    throw new TypeError('an RE2 pattern cannot iterate over matches')
  }

  override compile(): never {
    throw new TypeError('an RE2 pattern cannot be recompiled')
  }
}

// What RE2's parser says, and the fragment it quotes, for the constructs users bring from PCRE or JavaScript.
function incompatibility(error: string, fragment: string): string | undefined {
  if (/^\(\?(=|!|<=|<!)/.test(fragment) && /unsupported Perl syntax|invalid named capture/.test(error)) {
    return 'uses a look-around, which RE2 does not support'
  }
  if (/^\\([1-9]|k)/.test(fragment) && error === 'invalid escape sequence') {
    return 'uses a backreference, which RE2 does not support'
  }
  return undefined
}

function refusal(pattern: string, cause: unknown): CountersignError {
  const error = typeof (cause as { error?: unknown })?.error === 'string' ? (cause as { error: string }).error : ''
  const fragment = typeof (cause as { input?: unknown })?.input === 'string' ? (cause as { input: string }).input : ''
  const why = incompatibility(error, fragment)
  if (why !== undefined) {
    return new CountersignError('ERR_INVALID_INPUT', `regular expression ${quoteClipped(pattern)} ${why}`, {
      cause,
      details: { reason: 're2-incompatible', pattern: clipText(pattern, MAX_QUOTED_LENGTH) },
    })
  }
  // RE2's own words, as Go's regexp.Compile reports them ("error parsing regexp: missing closing ]: `[a`").
  const said = cause instanceof Error ? `: ${cause.message}` : ''
  return new CountersignError(
    'ERR_INVALID_INPUT',
    `regular expression ${quoteClipped(pattern)} is invalid${clipText(said, MAX_ITEM_LENGTH)}`,
    { cause, details: { reason: 'invalid-regexp', pattern: clipText(pattern, MAX_QUOTED_LENGTH) } },
  )
}

/**
 * Longest pattern compiled. Identity and issuer patterns are a line or two, and the values they match are refused
 * past 8 KiB anyway; RE2's parser spends seconds on a pattern of megabytes (3 MiB: 4–15 s, found by fuzzing).
 */
const MAX_RE2_PATTERN_LENGTH = 8192

/**
 * Compile a Go RE2 pattern (the whole Go syntax: `(?i)`, `(?U)`, `(?P<name>…)`, `\pL`, `\Q…\E`, `[[:alpha:]]`, …)
 * into a RegExp whose `test` is Go's unanchored `MatchString`, in time linear in the input. The engine must be
 * loaded first (`loadRE2Engine` or `useRE2Engine`).
 *
 * @param pattern - Go `regexp` syntax.
 * @returns A RegExp backed by RE2 (no flags; flags live in the pattern as in Go).
 * @throws {CountersignError} ERR_INVALID_INPUT for a pattern Go refuses: `details.reason` `re2-incompatible` for
 *   look-arounds and backreferences, `invalid-regexp` for anything else.
 * @example
 * ```ts
 * await loadRE2Engine()
 * compileRE2('^https://github\\.com/acme/').test('https://github.com/acme/app') // true
 * ```
 */
export function compileRE2(pattern: string): RegExp {
  if (typeof pattern !== 'string') throw new TypeError('pattern must be a string')
  if (engine === undefined) throw new Error('the RE2 engine is not loaded: await loadRE2Engine() first')
  if (pattern.length > MAX_RE2_PATTERN_LENGTH) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      `regular expression ${quoteClipped(pattern)} is longer than ${MAX_RE2_PATTERN_LENGTH} characters`,
      { details: { reason: 'too-long', length: pattern.length } },
    )
  }
  let compiled: Compiled
  try {
    compiled = engine.compile(pattern)
  } catch (cause) {
    throw refusal(pattern, cause)
  }
  return new RE2RegExp(pattern, compiled)
}

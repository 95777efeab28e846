/**
 * Semantic versions as Kyverno reads them (github.com/blang/semver v4.0.0): the strict `MAJOR.MINOR.PATCH[-pre][+build]`
 * form the `GreaterThan`/`LessThan` operators fall back to for strings, and the range syntax of the `semver_compare`
 * JMESPath function (`">=1.0.0 <2.0.0 || 3.x"`). No `v` prefix, no missing parts, no leading zeros, as in Go.
 * @module
 */

/**
 * A parsed version. Numeric parts are `bigint` (Go parses them as uint64).
 *
 * @example
 * ```ts
 * parseSemver('1.2.3-rc.1+build') // { major: 1n, minor: 2n, patch: 3n, pre: ['rc', 1n], build: ['build'] }
 * ```
 */
export interface Semver {
  readonly major: bigint
  readonly minor: bigint
  readonly patch: bigint
  /** Pre-release identifiers: numeric ones as `bigint`, others as strings. */
  readonly pre: readonly (bigint | string)[]
  readonly build: readonly string[]
}

const UINT64_MAX = (1n << 64n) - 1n
const NUMBERS = /^[0-9]*$/
const ALPHANUM = /^[0-9A-Za-z-]*$/

function number(s: string): bigint | undefined {
  // blang: only digits (an empty part passes this test and then fails ParseUint), no leading zero.
  if (s === '' || !NUMBERS.test(s) || (s.length > 1 && s[0] === '0')) return undefined
  const v = BigInt(s)
  return v > UINT64_MAX ? undefined : v
}

/**
 * Parse a version as blang/semver's `Parse` does (strict).
 *
 * @param s - e.g. `"1.2.3"`, `"1.2.3-beta.1+exp.sha.5114f85"`.
 * @returns The version, or `undefined` when blang/semver returns an error.
 * @example
 * ```ts
 * parseSemver('1.2') // undefined: all three parts are required
 * ```
 */
export function parseSemver(s: string): Semver | undefined {
  if (typeof s !== 'string' || s.length === 0) return undefined
  const first = s.indexOf('.')
  const second = first < 0 ? -1 : s.indexOf('.', first + 1)
  if (second < 0) return undefined
  const major = number(s.slice(0, first))
  const minor = number(s.slice(first + 1, second))
  if (major === undefined || minor === undefined) return undefined
  let patchText = s.slice(second + 1)
  let build: string[] = []
  let preParts: string[] = []
  const plus = patchText.indexOf('+')
  if (plus >= 0) {
    build = patchText.slice(plus + 1).split('.')
    patchText = patchText.slice(0, plus)
  }
  const dash = patchText.indexOf('-')
  if (dash >= 0) {
    preParts = patchText.slice(dash + 1).split('.')
    patchText = patchText.slice(0, dash)
  }
  const patch = number(patchText)
  if (patch === undefined) return undefined
  const pre: (bigint | string)[] = []
  for (const part of preParts) {
    if (part === '') return undefined
    if (NUMBERS.test(part)) {
      const v = number(part)
      if (v === undefined) return undefined
      pre.push(v)
    } else if (ALPHANUM.test(part)) pre.push(part)
    else return undefined
  }
  for (const part of build) if (part === '' || !ALPHANUM.test(part)) return undefined
  return { major, minor, patch, pre, build }
}

function cmp<T extends bigint | string>(a: T, b: T): -1 | 0 | 1 {
  return a === b ? 0 : a < b ? -1 : 1
}

/**
 * Compare two versions by semver precedence (build metadata ignored; a pre-release sorts before its release;
 * numeric identifiers before alphanumeric ones).
 *
 * @returns -1, 0 or 1.
 * @example
 * ```ts
 * compareSemver(parseSemver('1.0.0-rc.1')!, parseSemver('1.0.0')!) // -1
 * ```
 */
export function compareSemver(a: Semver, b: Semver): -1 | 0 | 1 {
  for (const [x, y] of [
    [a.major, b.major],
    [a.minor, b.minor],
    [a.patch, b.patch],
  ] as const) {
    if (x !== y) return x < y ? -1 : 1
  }
  if (a.pre.length === 0 && b.pre.length === 0) return 0
  if (a.pre.length === 0) return 1
  if (b.pre.length === 0) return -1
  for (let i = 0; i < a.pre.length && i < b.pre.length; i++) {
    const x = a.pre[i]!
    const y = b.pre[i]!
    if (typeof x !== typeof y) return typeof x === 'bigint' ? -1 : 1
    // Strings compare as Go compares them: by UTF-8 bytes, which for these ASCII identifiers is code units.
    const c = cmp(x, y)
    if (c !== 0) return c
  }
  return a.pre.length === b.pre.length ? 0 : a.pre.length < b.pre.length ? -1 : 1
}

type Comparator = (c: number) => boolean
const COMPARATORS: Readonly<Record<string, Comparator>> = {
  '': (c) => c === 0,
  '=': (c) => c === 0,
  '==': (c) => c === 0,
  '>': (c) => c === 1,
  '>=': (c) => c >= 0,
  '<': (c) => c === -1,
  '<=': (c) => c <= 0,
  '!': (c) => c !== 0,
  '!=': (c) => c !== 0,
}

// splitAndTrim: split on spaces, except a space right after '>', '<' or '=' (so ">= 1.0.0" stays one part).
function splitAndTrim(s: string): string[] {
  const result: string[] = []
  let last = 0
  let lastChar = ''
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ' ' && !'><='.includes(lastChar || '\u0000')) {
      if (last < i - 1) result.push(s.slice(last, i))
      last = i + 1
    } else if (s[i] !== ' ') lastChar = s[i]!
  }
  if (last < s.length - 1) result.push(s.slice(last))
  return result.map((p) => p.replaceAll(' ', ''))
}

function splitComparator(s: string): { op: string; version: string } | undefined {
  // The operator is everything before the first digit (unicode.IsDigit; ASCII digits are what versions use).
  const i = s.search(/\p{Nd}/u)
  if (i < 0) return undefined
  return { op: s.slice(0, i).trim(), version: s.slice(i) }
}

function increment(version: string, index: 0 | 1): string {
  // strconv.Atoi on the part; a failure leaves blang with an empty version (which then does not parse).
  const parts = version.split('.')
  const part = parts[index] ?? ''
  if (!/^[+-]?[0-9]+$/.test(part)) return ''
  parts[index] = String(BigInt(part) + 1n)
  return parts.join('.')
}

// expandWildcardVersion: ">=1.2.x" → ">=1.2.0", "1.x" → ">=1.0.0 <2.0.0", "!=1.2.x" → "<1.2.0 >=1.3.0" (AND, as blang).
function expandWildcards(part: readonly string[]): string[] | undefined {
  const out: string[] = []
  for (let ap of part) {
    if (ap.includes('x')) {
      const split = splitComparator(ap)
      if (split === undefined) return undefined
      const pieces = split.version.split('.')
      const wildcard = pieces[pieces.length - 1] === 'x' ? pieces.length : 0
      let flat = split.version.replace('.x.x', '.x').replace('.x', '.0')
      if (flat.split('.').length === 2) flat += '.0'
      let operator = ''
      let bump = false
      switch (split.op) {
        case '>':
          operator = '>='
          bump = true
          break
        case '>=':
          operator = '>='
          break
        case '<':
          operator = '<'
          break
        case '<=':
          operator = '<'
          bump = true
          break
        case '':
        case '=':
        case '==':
          out.push(`>=${flat}`)
          operator = '<'
          bump = true
          break
        case '!=':
        case '!':
          out.push(`<${flat}`)
          operator = '>='
          bump = true
          break
      }
      let version = flat
      if (bump) version = wildcard === 3 ? increment(flat, 1) : wildcard === 2 ? increment(flat, 0) : ''
      ap = operator + version
    }
    out.push(ap)
  }
  return out
}

/**
 * Parse a blang/semver range (`ParseRange`): space-separated comparisons are AND-ed, `||` separates alternatives,
 * and `x` wildcards expand (`1.2.x` is `>=1.2.0 <1.3.0`).
 *
 * @param s - e.g. `">=1.0.0 <2.0.0 || >=3.0.0"`.
 * @returns A predicate, or `undefined` when blang/semver refuses the range.
 * @example
 * ```ts
 * parseSemverRange('>1.0.0 <2.0.0')?.(parseSemver('1.8.6')!) // true
 * ```
 */
export function parseSemverRange(s: string): ((v: Semver) => boolean) | undefined {
  const parts = splitAndTrim(s)
  const alternatives: string[][] = []
  let last = 0
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === '||') {
      if (i === 0) return undefined
      alternatives.push(parts.slice(last, i))
      last = i + 1
    }
  }
  if (last === parts.length) return undefined
  alternatives.push(parts.slice(last))
  const compiled: ((v: Semver) => boolean)[][] = []
  for (const alternative of alternatives) {
    const expanded = expandWildcards(alternative)
    if (expanded === undefined) return undefined
    const ands: ((v: Semver) => boolean)[] = []
    for (const ap of expanded) {
      const split = splitComparator(ap)
      if (split === undefined) return undefined
      const comparator = COMPARATORS[split.op]
      const bound = parseSemver(split.version)
      if (comparator === undefined || bound === undefined) return undefined
      ands.push((v) => comparator(compareSemver(v, bound)))
    }
    compiled.push(ands)
  }
  return (v) => compiled.some((ands) => ands.every((f) => f(v)))
}

/**
 * Kyverno's pattern functions: `regex_match`, `regex_replace_all`, `regex_replace_all_literal` (Go `regexp`, i.e.
 * RE2) and `pattern_match` (Kyverno wildcards). Regular expressions run on re2js, a port of Go's `regexp`, so a
 * pattern means what it means to Kyverno (`(?i)`, `\pL`, `(?P<name>…)`; no look-arounds, no backreferences, which
 * are refused with a clear error) and matching takes time linear in the input: no pattern can backtrack
 * catastrophically. Replacement templates expand `$1`, `${1}`, `$name` and `$$` as Go's `Expand` does, and empty
 * matches advance as Go's `ReplaceAll` does.
 * @module
 */
import type { RE2JS } from 're2js'
import { CountersignError } from '../../errors.js'
import { compileRE2 } from '../../x509/re2.js'
import { evaluationError, kyvernoFunctionError } from './jmespath-errors.js'
import type { JMESPathFunction } from './jmespath-functions.js'
import { kyvernoIfaceToString } from './operators-go-values.js'
import { matchKyvernoWildcard } from './wildcard.js'

let engine: typeof RE2JS | undefined
const compiled = new Map<string, RE2JS>()
const MAX_CACHED = 256

/**
 * Give the regex functions the re2js class (loadJMESPathEngine does, after importing re2js).
 *
 * @example
 * ```ts
 * useKyvernoRegexEngine((await import('re2js')).RE2JS)
 * ```
 */
export function useKyvernoRegexEngine(e: typeof RE2JS): void {
  engine ??= e
}

function compile(name: string, pattern: string): RE2JS {
  const cached = compiled.get(pattern)
  if (cached !== undefined) return cached
  if (engine === undefined) throw evaluationError(`JMESPath function '${name}': the RE2 engine is not loaded`)
  try {
    // compileRE2 checks the length and explains look-arounds and backreferences; re2js then gives positions.
    compileRE2(pattern)
  } catch (e) {
    throw evaluationError(`JMESPath function '${name}': ${e instanceof CountersignError ? e.message : String(e)}`)
  }
  const re = engine.compile(pattern)
  if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value as string)
  compiled.set(pattern, re)
  return re
}

function text(name: string, v: unknown, position: number): string {
  const s = kyvernoIfaceToString(v)
  if (s === undefined) throw kyvernoFunctionError(name, `argument #${position} is not of type String or Real`)
  return s
}

// Go's regexp extract(): a name of letters, digits and '_', optionally in braces; all digits means a group number.
function expand(template: string, groups: readonly (string | null)[], names: Readonly<Record<string, number>>): string {
  let out = ''
  let rest = template
  for (;;) {
    const dollar = rest.indexOf('$')
    if (dollar < 0) break
    out += rest.slice(0, dollar)
    rest = rest.slice(dollar + 1)
    if (rest.startsWith('$')) {
      out += '$'
      rest = rest.slice(1)
      continue
    }
    const m = /^(?:\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/u.exec(rest)
    if (m === null) {
      out += '$'
      continue
    }
    rest = rest.slice(m[0].length)
    const name = (m[1] ?? m[2])!
    const index = /^(?:0|[1-9][0-9]{0,8})$/.test(name) ? Number(name) : names[name]
    if (index !== undefined) out += groups[index] ?? ''
  }
  return out + rest
}

function replaceAll(re: RE2JS, src: string, replacement: (groups: (string | null)[]) => string): string {
  const matcher = re.matcher(src)
  const count = re.groupCount()
  let out = ''
  let lastEnd = 0
  let searchPos = 0
  while (searchPos <= src.length && matcher.find(searchPos)) {
    const start = matcher.start()
    const end = matcher.end()
    out += src.slice(lastEnd, start)
    // Go inserts no replacement for an empty match right after the previous match.
    if (end > lastEnd || start === 0) {
      const groups = Array.from({ length: count + 1 }, (_, i) => matcher.group(i))
      out += replacement(groups)
    }
    lastEnd = end
    const width = searchPos < src.length ? (src.codePointAt(searchPos)! > 0xffff ? 2 : 1) : 0
    if (searchPos + width > end) searchPos += width
    else if (searchPos + 1 > end) searchPos++
    else searchPos = end
  }
  return out + src.slice(lastEnd)
}

/**
 * Kyverno's regular-expression and wildcard functions.
 *
 * @example
 * ```ts
 * REGEX_FUNCTIONS.regex_match.call(['^v[0-9]+$', 'v12'], context) // true
 * ```
 */
export const REGEX_FUNCTIONS: Readonly<Record<string, JMESPathFunction>> = {
  regex_match: {
    args: [['string'], ['string', 'number']],
    call: ([pattern, src]) => compile('regex_match', pattern as string).test(text('regex_match', src, 2)),
  },
  regex_replace_all: {
    args: [['string'], ['string', 'number'], ['string', 'number']],
    call: ([pattern, src, repl]) => {
      const re = compile('regex_replace_all', pattern as string)
      const template = text('regex_replace_all', repl, 3)
      const names = re.namedGroups()
      return replaceAll(re, text('regex_replace_all', src, 2), (groups) => expand(template, groups, names))
    },
  },
  regex_replace_all_literal: {
    args: [['string'], ['string', 'number'], ['string', 'number']],
    call: ([pattern, src, repl]) => {
      const re = compile('regex_replace_all_literal', pattern as string)
      const literal = text('regex_replace_all_literal', repl, 3)
      return replaceAll(re, text('regex_replace_all_literal', src, 2), () => literal)
    },
  },
  pattern_match: {
    args: [['string'], ['string', 'number']],
    call: ([pattern, src]) => matchKyvernoWildcard(pattern as string, text('pattern_match', src, 2)),
  },
}

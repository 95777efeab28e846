/**
 * Kyverno's numeric ranges in the `AnyIn`/`AllIn`/`AnyNotIn`/`AllNotIn` operators: a value such as `"1-10"` or
 * `"100Mi-1Gi"` holds a key that lies within it, inclusive. Kyverno checks this with its general pattern matcher
 * (`pkg/engine/pattern`), which reads the range as `>= 1 & <= 10` and compares durations first, then quantities,
 * and nothing else; this file reproduces the part of that matcher ranges reach, quirks included (a key equal to the
 * range text is inside it; `|` and `&` split the text first).
 * @module
 */

import { parseGoDuration } from './duration.js'
import { compareKubernetesQuantities, parseKubernetesQuantity } from './quantity.js'
import { matchKyvernoWildcard } from './wildcard.js'

type PatternOperator = '' | '>=' | '<=' | '!' | '>' | '<' | '-' | '!-'

// pkg/engine/operator: `[-|\+]` is Kyverno's class (it admits '|').
const IN_RANGE = /^([-|+]?\d+(?:\.\d+)?[A-Za-z]*)-([-|+]?\d+(?:\.\d+)?[A-Za-z]*)$/
const NOT_IN_RANGE = /^([-|+]?\d+(?:\.\d+)?[A-Za-z]*)!-([-|+]?\d+(?:\.\d+)?[A-Za-z]*)$/

/**
 * Kyverno's `GetOperatorFromStringPattern`: the comparison a pattern string starts with, or `-` for a range
 * (`"1-5"`), `!-` for an excluded range, `''` for plain equality.
 *
 * @example
 * ```ts
 * kyvernoPatternOperator('1-5') // '-'
 * kyvernoPatternOperator('>=3') // '>='
 * ```
 */
export function kyvernoPatternOperator(pattern: string): PatternOperator {
  if (pattern.length < 2) return ''
  if (pattern.startsWith('>=')) return '>='
  if (pattern.startsWith('<=')) return '<='
  if (pattern.startsWith('>')) return '>'
  if (pattern.startsWith('<')) return '<'
  if (pattern.startsWith('!')) return '!'
  if (NOT_IN_RANGE.test(pattern)) return '!-'
  if (IN_RANGE.test(pattern)) return '-'
  return ''
}

function compare(c: number, op: PatternOperator): boolean {
  switch (op) {
    case '':
      return c === 0
    case '!':
      return c !== 0
    case '>':
      return c > 0
    case '<':
      return c < 0
    case '>=':
      return c >= 0
    case '<=':
      return c <= 0
    default:
      return false
  }
}

// validateString: durations, then quantities, then (for = and ! only) a wildcard over the text.
function validateString(value: string, pattern: string, op: PatternOperator): boolean {
  const pd = parseGoDuration(pattern)
  const vd = pd === undefined ? undefined : parseGoDuration(value)
  if (pd !== undefined && vd !== undefined) return compare(vd < pd ? -1 : vd > pd ? 1 : 0, op)
  const pq = parseKubernetesQuantity(pattern)
  const vq = pq === undefined ? undefined : parseKubernetesQuantity(value)
  if (pq !== undefined && vq !== undefined) return compare(compareKubernetesQuantities(vq, pq), op)
  if (op === '' || op === '!') {
    const matched = matchKyvernoWildcard(pattern, value)
    return op === '!' ? !matched : matched
  }
  return false
}

function validateStringPattern(value: string, pattern: string): boolean {
  const op = kyvernoPatternOperator(pattern)
  if (op === '-') {
    const m = IN_RANGE.exec(pattern)
    return m !== null && validateStringPattern(value, `>= ${m[1]}`) && validateStringPattern(value, `<= ${m[2]}`)
  }
  if (op === '!-') {
    const m = NOT_IN_RANGE.exec(pattern)
    return m !== null && (validateStringPattern(value, `< ${m[1]}`) || validateStringPattern(value, `> ${m[2]}`))
  }
  return validateString(value, pattern.slice(op.length).trim(), op)
}

function trimSpaces(s: string): string {
  // strings.Trim(s, " "): spaces only, not other whitespace.
  return s.replace(/^ +| +$/g, '')
}

/**
 * Kyverno's `pattern.Validate` for a string value and a string pattern, the form its range operators use: equal
 * texts match; otherwise `|` separates alternatives and `&` conditions that must all hold; `a-b` is
 * `>= a & <= b` and `a!-b` is `< a | > b`; each comparison is between durations, else quantities.
 *
 * @param value - The condition key (already a string).
 * @param pattern - The range text, e.g. `"1-10"`, `"1Ki-1Mi"`, `"1h-2h"`.
 * @example
 * ```ts
 * matchKyvernoStringPattern('5', '1-10') // true
 * matchKyvernoStringPattern('abc', '1-10') // false: neither a duration nor a quantity
 * ```
 */
export function matchKyvernoStringPattern(value: string, pattern: string): boolean {
  if (value === pattern) return true
  return pattern.split('|').some((alternative) =>
    trimSpaces(alternative)
      .split('&')
      .every((condition) => validateStringPattern(value, trimSpaces(condition))),
  )
}

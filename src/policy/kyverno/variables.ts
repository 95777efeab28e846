/**
 * Kyverno's variable substitution (`pkg/engine/variables/vars.go`): every `{{ jmespath }}` in the strings (and
 * object keys) of a document is replaced by its value over a context.
 *
 * - Variables are found with Kyverno's own regular expression; the innermost `{{…}}` comes first and the string is
 *   scanned again after each round, so `{{ regex_match('^x', '{{ builder.id }}') }}` works (the inner value is
 *   pasted into the outer expression as raw text, quotes unescaped, as in Kyverno).
 * - A string that is exactly one variable takes the value's JSON type (number, boolean, object, array, null);
 *   otherwise values are pasted in, strings as they are and anything else as Go's `json.Marshal` writes it.
 * - `\{{` is not a variable (the backslash is dropped at the end); `{{- expr }}` is substituted once and its result
 *   is not scanned again.
 * - An object or array a variable produced is walked in turn, as Kyverno's traversal does (so `{{ }}` inside data
 *   the context supplies is substituted too; `{{- }}` is the way to paste text verbatim).
 * - Errors read as Kyverno's: `failed to resolve builder.id at path /0/all/0/key: JMESPath query failed: Unknown
 *   key "builder" in path`.
 *
 * Unlike Kyverno, which loops forever on a value that expands to itself and lets strings grow without limit, this
 * stops: at most 1000 variables are resolved per call, no string grows past 1 MiB, at most 32 MiB of text is
 * scanned for variables, nesting stops at 512 levels; past those it throws ERR_INVALID_INPUT (`details.reason`
 * `too-many-substitutions`, `too-large`, `too-deep`).
 * @module
 */
import { CountersignError, isCountersignError } from '../../errors.js'
import { isJSONObject } from '../../internal/json.js'
import { type KyvernoJMESPathOptions, searchKyvernoJMESPath } from './jmespath.js'
import { goJSONMarshal } from './jmespath-go-json.js'
import { compareGoStrings, MAX_VALUE_DEPTH, valueTooDeep } from './operators-go-values.js'

/** Kyverno's `RegexVariables`: a `{{…}}` at the start, or after any character but a backslash. */
const VARIABLES = /(^|[^\\])(\{\{(?:\{[^{}]*\}|[^{}])*\}\})/g
/** Kyverno's `RegexVariableInit`: the match starts with the variable itself (no preceding character). */
const VARIABLE_AT_START = /^\{\{(\{[^{}]*\}|[^{}])*\}\}/

/**
 * Most variables resolved in one call (a self-referencing value would otherwise loop forever).
 *
 * @example
 * ```ts
 * substituteKyvernoVariables('x{{ a }}', { a: '{{ a }}' }) // throws after MAX_SUBSTITUTIONS lookups
 * ```
 */
export const MAX_SUBSTITUTIONS = 1000
/**
 * Longest string substitution may produce (1 MiB).
 *
 * @example
 * ```ts
 * substituteKyvernoVariables('x{{ big }}', { big: 'y'.repeat(MAX_SUBSTITUTED_LENGTH) }) // throws: too-large
 * ```
 */
export const MAX_SUBSTITUTED_LENGTH = 1 << 20

/**
 * Options of {@link substituteKyvernoVariables}.
 *
 * @example
 * ```ts
 * const options: KyvernoSubstitutionOptions = { now: new Date('2024-01-01T00:00:00Z') }
 * ```
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoSubstitutionOptions extends KyvernoJMESPathOptions {}

/** Most text scanned for variables in one call: re-scanning a string that grows each round costs its square. */
const MAX_SCANNED = 32 << 20

interface Budget {
  substitutions: number
  scanned: number
  readonly options: KyvernoSubstitutionOptions | undefined
  readonly deleting: boolean
}

function failure(message: string, reason: string, cause?: unknown): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', message, { cause, details: { reason } })
}

function tooLarge(): CountersignError {
  return failure(`variable substitution produced a string longer than ${MAX_SUBSTITUTED_LENGTH}`, 'too-large')
}

/** Kyverno's `replaceBracesAndTrimSpaces`: drop every `{{` and `}}`, trim; a leading `-` marks a shallow variable. */
function variableOf(text: string): { query: string; shallow: boolean } {
  const inner = text.replaceAll('{{', '').replaceAll('}}', '').trim()
  return inner.startsWith('-') ? { query: inner.slice(1).trim(), shallow: true } : { query: inner, shallow: false }
}

/** Kyverno's context `Query`, with its error texts around countersign's JMESPath errors. */
function query(variable: string, context: unknown, path: string, budget: Budget): unknown {
  const q = variable.trim()
  const resolveError = (detail: string, cause?: unknown) =>
    failure(`failed to resolve ${variable} at path ${path}: ${detail}`, 'substitution', cause)
  if (q === '') throw resolveError('invalid query (nil)')
  if (++budget.substitutions > MAX_SUBSTITUTIONS) {
    throw failure(`more than ${MAX_SUBSTITUTIONS} variables to substitute`, 'too-many-substitutions')
  }
  try {
    return searchKyvernoJMESPath(q, context, budget.options)
  } catch (e) {
    if (!isCountersignError(e) || e.code === 'ERR_DEPENDENCY_MISSING') throw e
    if (e.details?.reason === 'syntax') throw resolveError(`incorrect query ${q}: ${e.message}`, e)
    throw resolveError(`JMESPath query failed: ${e.message}`, e)
  }
}

function findVariables(s: string, budget: Budget): string[] {
  budget.scanned += s.length
  if (budget.scanned > MAX_SCANNED)
    throw failure(`variable substitution scanned more than ${MAX_SCANNED} characters`, 'too-large')
  return Array.from(s.matchAll(VARIABLES), (m) => m[0])
}

function replaceFirst(s: string, search: string, replacement: string): string {
  const i = s.indexOf(search)
  return i < 0 ? s : s.slice(0, i) + replacement + s.slice(i + search.length)
}

/** Kyverno's `substituteVariablesIfAny` for one string. */
function substituteString(input: string, context: unknown, path: string, budget: Budget): unknown {
  let value = input
  let variables = findVariables(value, budget)
  while (variables.length > 0) {
    const original = value
    let shallow = false
    for (const found of variables) {
      const initial = VARIABLE_AT_START.test(found)
      const prefix = initial ? '' : found[0]!
      const text = initial ? found : found.slice(1)
      // Go slices off one byte: a non-ASCII character right before `{{` leaves a broken byte in the query, which
      // go-jmespath refuses. The outcome (an error) is kept.
      if (prefix !== '' && prefix.charCodeAt(0) > 0x7f) {
        throw failure(
          `failed to resolve ${text} at path ${path}: Kyverno cannot substitute a variable right after a non-ASCII ` +
            `character (${JSON.stringify(prefix)})`,
          'substitution',
        )
      }
      const v = variableOf(text)
      shallow = v.shallow
      // On a DELETE request Kyverno reads the old object instead.
      const variable = budget.deleting ? v.query.replaceAll('request.object', 'request.oldObject') : v.query
      let result = query(variable, context, path, budget)
      if (original === text) return result
      if (shallow && result !== null && result !== undefined) {
        if (typeof result !== 'string') {
          throw failure(`failed to resolve ${variable} at path ${path}: {{- }} needs a string value`, 'substitution')
        }
        result = result.replaceAll('{{', '\\{{')
      }
      let pasted: string
      try {
        pasted = typeof result === 'string' ? result : goJSONMarshal(result ?? null, MAX_SUBSTITUTED_LENGTH)
      } catch (e) {
        if (isCountersignError(e) && e.details?.reason === 'too-large') throw tooLarge()
        throw failure(
          `failed to resolve ${variable} at path ${path}: failed to marshal: ${(e as Error).message}`,
          'substitution',
          e,
        )
      }
      value = replaceFirst(value, prefix + text, prefix + pasted)
      if (value.length > MAX_SUBSTITUTED_LENGTH) throw tooLarge()
    }
    // Kyverno looks at the last variable of the round only: if it was shallow, nothing is scanned again.
    variables = shallow ? [] : findVariables(value, budget)
  }
  return value.replaceAll('\\{{', '{{')
}

function isDelete(context: unknown): boolean {
  const request = isJSONObject(context) ? context.request : undefined
  return isJSONObject(request) && request.operation === 'DELETE'
}

/** Kyverno's traversal: substitute a node, then walk whatever it became (objects and arrays are copies). */
function traverse(element: unknown, context: unknown, path: string, budget: Budget, depth: number): unknown {
  if (depth > MAX_VALUE_DEPTH) throw valueTooDeep()
  const value = typeof element === 'string' ? substituteString(element, context, path, budget) : element
  if (Array.isArray(value)) return value.map((e, i) => traverse(e, context, `${path}/${i}`, budget, depth + 1))
  if (isJSONObject(value)) {
    const entries: [string, unknown][] = []
    // Go walks the map in random order; sorted keys make errors deterministic.
    for (const key of Object.keys(value).sort(compareGoStrings)) {
      const renamed = traverse(key, context, path, budget, depth + 1)
      if (renamed !== null && renamed !== undefined && typeof renamed !== 'string') {
        throw failure(`expected string after substituting variables in key "${key}"`, 'substitution')
      }
      const child = traverse(value[key], context, `${path}/${key.replaceAll('/', '\\/')}`, budget, depth + 1)
      entries.push([typeof renamed === 'string' ? renamed : key, child])
    }
    return Object.fromEntries(entries)
  }
  return value
}

/**
 * Substitute Kyverno variables (`{{ jmespath }}`) in a JSON document, as Kyverno substitutes them in a rule's
 * conditions: strings and object keys, at any depth. The JMESPath engine must be loaded
 * (`loadJMESPathEngine`) when the document holds a variable.
 *
 * @param value - A JSON value: a string, or objects and arrays holding strings.
 * @param context - The data variables are evaluated against (for attestation conditions,
 *   `kyvernoAttestationContext(predicate)`).
 * @param options - `now`: the clock for `time_now`/`time_since`.
 * @returns The substituted copy; a string that is exactly one variable becomes the variable's value, whatever its
 *   type.
 * @throws {CountersignError} ERR_INVALID_INPUT for a variable that cannot be resolved (Kyverno's message:
 *   `failed to resolve x at path /p: JMESPath query failed: Unknown key "x" in path`, `details.reason:
 *   'substitution'`), and past the bounds (`too-many-substitutions`, `too-large`, `too-deep`);
 *   ERR_DEPENDENCY_MISSING when the JMESPath engine is not loaded.
 * @example
 * ```ts
 * await loadJMESPathEngine()
 * substituteKyvernoVariables('{{ repo.branch }}', { repo: { branch: 'main' } }) // 'main'
 * substituteKyvernoVariables('{{ count }}', { count: 3 }) // 3 (a number: the whole string was the variable)
 * substituteKyvernoVariables('n={{ count }}', { count: 3 }) // 'n=3'
 * substituteKyvernoVariables('\\{{ not a variable }}', {}) // '{{ not a variable }}'
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function substituteKyvernoVariables(
  value: unknown,
  context: unknown,
  options?: KyvernoSubstitutionOptions,
): unknown {
  return traverse(value, context, '', { substitutions: 0, scanned: 0, options, deleting: isDelete(context) }, 0)
}

/**
 * Whether a JSON document holds a Kyverno variable (`{{` in a string or key), i.e. needs the JMESPath engine.
 *
 * @example
 * ```ts
 * kyvernoValueHasVariables({ key: '{{ builder.id }}' }) // true
 * kyvernoValueHasVariables(['main', 3]) // false
 * ```
 */
export function kyvernoValueHasVariables(value: unknown, depth = 0): boolean {
  if (depth > MAX_VALUE_DEPTH) return true
  if (typeof value === 'string') return value.includes('{{')
  if (Array.isArray(value)) return value.some((e) => kyvernoValueHasVariables(e, depth + 1))
  if (isJSONObject(value)) {
    return Object.entries(value).some(([k, v]) => k.includes('{{') || kyvernoValueHasVariables(v, depth + 1))
  }
  return false
}

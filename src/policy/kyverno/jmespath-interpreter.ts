/**
 * The evaluator of Kyverno's JMESPath dialect (github.com/kyverno/go-jmespath, a fork of jmespath/go-jmespath, the
 * original specification). It walks the tree jmespath.ts builds from the community parser's output, with the
 * fork's rules for missing data:
 *
 * - a field absent from an object is an error, `Unknown key "x" in path`; a field of anything that is not an
 *   object (null, a string, an array) is null;
 * - that error propagates through `a.b`, `a[0]` and the right side of `&&`, and is the result of the search;
 * - everywhere else it stands for null: comparison operands, function arguments, `||`, `!`, pipes, multi-select
 *   members, projection and filter elements (which are then dropped), `map()` results;
 * - the left side of a filter, flatten or `*` projection swallows every error, not only a missing key.
 *
 * Evaluation is bounded: each search may visit a fixed number of nodes, so no expression and document pair can
 * keep it busy for long.
 * @module
 */
import { CountersignError } from '../../errors.js'
import { isJSONObject } from '../../internal/json.js'
import { evaluationError } from './jmespath-errors.js'
import { callKyvernoJMESPathFunction, type JMESPathCallContext, type JMESPathExpref } from './jmespath-functions.js'
import { kyvernoDeepEqual } from './operators.js'
import { compareGoStrings } from './operators-go-values.js'

/**
 * The expression tree, in go-jmespath's terms (`a[0]` and `a.b` are the same node; so are `@` and the implicit
 * current node).
 *
 * @example
 * ```ts
 * const tree: KyvernoJMESPathNode = { t: 'sub', left: { t: 'field', name: 'repo' }, right: { t: 'field', name: 'uri' } }
 * ```
 */
export type KyvernoJMESPathNode =
  | { readonly t: 'field'; readonly name: string }
  | { readonly t: 'sub'; readonly left: KyvernoJMESPathNode; readonly right: KyvernoJMESPathNode }
  | { readonly t: 'index'; readonly index: number }
  | { readonly t: 'slice'; readonly start: number | null; readonly stop: number | null; readonly step: number | null }
  | { readonly t: 'project'; readonly left: KyvernoJMESPathNode; readonly right: KyvernoJMESPathNode }
  | { readonly t: 'values'; readonly left: KyvernoJMESPathNode; readonly right: KyvernoJMESPathNode }
  | {
      readonly t: 'filter'
      readonly left: KyvernoJMESPathNode
      readonly right: KyvernoJMESPathNode
      readonly condition: KyvernoJMESPathNode
    }
  | { readonly t: 'flatten'; readonly child: KyvernoJMESPathNode }
  | { readonly t: 'current' }
  | { readonly t: 'literal'; readonly value: unknown }
  | { readonly t: 'list'; readonly children: readonly KyvernoJMESPathNode[] }
  | { readonly t: 'hash'; readonly entries: readonly (readonly [string, KyvernoJMESPathNode])[] }
  | { readonly t: 'or' | 'and' | 'pipe'; readonly left: KyvernoJMESPathNode; readonly right: KyvernoJMESPathNode }
  | { readonly t: 'not'; readonly child: KyvernoJMESPathNode }
  | {
      readonly t: 'compare'
      readonly op: 'EQ' | 'NE' | 'LT' | 'LTE' | 'GT' | 'GTE'
      readonly left: KyvernoJMESPathNode
      readonly right: KyvernoJMESPathNode
    }
  | { readonly t: 'call'; readonly name: string; readonly args: readonly KyvernoJMESPathNode[] }
  | { readonly t: 'expref'; readonly child: KyvernoJMESPathNode }

/** go-jmespath's NotFoundError: internal, never leaves this module except as a CountersignError. */
class UnknownKey {
  constructor(readonly key: string) {}
}

/** Node visits allowed per search (a policy expression over an attestation needs a few thousand at most). */
const MAX_STEPS = 1_000_000

const EXPREF = Symbol('expref')

interface State {
  steps: number
  readonly now: Date
}

/**
 * go-jmespath's `isFalse`: false, null, and empty strings, arrays and objects are false; numbers never are.
 *
 * @example
 * ```ts
 * isJMESPathFalse(0) // false
 * isJMESPathFalse('') // true
 * ```
 */
export function isJMESPathFalse(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return true
  if (typeof v === 'string' || Array.isArray(v)) return v.length === 0
  if (isJSONObject(v)) return Object.keys(v).length === 0
  return false
}

/** Evaluate, treating a missing key as null (what most constructs do with go-jmespath's NotFoundError). */
function lenient(node: KyvernoJMESPathNode, value: unknown, s: State): unknown {
  try {
    return visit(node, value, s)
  } catch (e) {
    if (e instanceof UnknownKey) return null
    throw e
  }
}

/** Evaluate, turning every error into null (the left side of filters, flattens and `*` projections). */
function forgiving(node: KyvernoJMESPathNode, value: unknown, s: State): unknown {
  try {
    return visit(node, value, s)
  } catch (e) {
    // The step budget and the stack are limits, not evaluation errors: they must still stop the search.
    if ((e instanceof CountersignError && e.details?.reason === 'too-costly') || e instanceof RangeError) throw e
    return null
  }
}

function clampSlice(length: number, actual: number, step: number): number {
  if (actual < 0) {
    const v = actual + length
    return v < 0 ? (step < 0 ? -1 : 0) : v
  }
  if (actual >= length) return step < 0 ? length - 1 : length
  return actual
}

function slice(list: readonly unknown[], node: Extract<KyvernoJMESPathNode, { t: 'slice' }>): unknown[] {
  if (node.step === 0) throw evaluationError('Invalid slice, step cannot be 0')
  const step = node.step ?? 1
  const start = node.start === null ? (step < 0 ? list.length - 1 : 0) : clampSlice(list.length, node.start, step)
  const stop = node.stop === null ? (step < 0 ? -1 : list.length) : clampSlice(list.length, node.stop, step)
  const out: unknown[] = []
  if (step > 0) for (let i = start; i < stop; i += step) out.push(list[i])
  else for (let i = start; i > stop; i += step) out.push(list[i])
  return out
}

function visit(node: KyvernoJMESPathNode, value: unknown, s: State): unknown {
  if (++s.steps > MAX_STEPS) {
    throw new CountersignError('ERR_INVALID_INPUT', `JMESPath evaluation took more than ${MAX_STEPS} steps`, {
      details: { reason: 'too-costly' },
    })
  }
  switch (node.t) {
    case 'field':
      if (isJSONObject(value)) {
        if (!Object.hasOwn(value, node.name)) throw new UnknownKey(node.name)
        return value[node.name] ?? null
      }
      return null
    case 'sub':
      return visit(node.right, visit(node.left, value, s), s)
    case 'index': {
      if (!Array.isArray(value)) return null
      const i = node.index < 0 ? node.index + value.length : node.index
      return i >= 0 && i < value.length ? (value[i] ?? null) : null
    }
    case 'slice':
      return Array.isArray(value) ? slice(value, node) : null
    case 'current':
      return value
    case 'literal':
      return node.value
    case 'project': {
      const left = lenient(node.left, value, s)
      if (!Array.isArray(left)) return null
      const out: unknown[] = []
      for (const e of left) {
        const r = lenient(node.right, e, s)
        if (r !== null && r !== undefined) out.push(r)
      }
      return out
    }
    case 'values': {
      const left = forgiving(node.left, value, s)
      if (!isJSONObject(left)) return null
      const out: unknown[] = []
      // Go walks the map in random order; sorted keys make the result deterministic.
      for (const k of Object.keys(left).sort(compareGoStrings)) {
        const r = lenient(node.right, left[k], s)
        if (r !== null && r !== undefined) out.push(r)
      }
      return out
    }
    case 'filter': {
      const left = forgiving(node.left, value, s)
      if (!Array.isArray(left)) return null
      const out: unknown[] = []
      for (const e of left) {
        if (isJMESPathFalse(lenient(node.condition, e, s))) continue
        const r = lenient(node.right, e, s)
        if (r !== null && r !== undefined) out.push(r)
      }
      return out
    }
    case 'flatten': {
      const left = forgiving(node.child, value, s)
      if (!Array.isArray(left)) return null
      return left.flatMap((e) => (Array.isArray(e) ? e : [e]))
    }
    case 'list':
      if (value === null || value === undefined) return null
      return node.children.map((c) => lenient(c, value, s))
    case 'hash': {
      if (value === null || value === undefined) return null
      // fromEntries defines own properties: a "__proto__" key stays a key.
      return Object.fromEntries(node.entries.map(([k, c]) => [k, lenient(c, value, s)]))
    }
    case 'or': {
      const left = lenient(node.left, value, s)
      return isJMESPathFalse(left) ? lenient(node.right, value, s) : left
    }
    case 'and': {
      const left = lenient(node.left, value, s)
      // The right side's missing key is not forgiven (go-jmespath returns its error as is).
      return isJMESPathFalse(left) ? left : visit(node.right, value, s)
    }
    case 'not':
      return isJMESPathFalse(lenient(node.child, value, s))
    case 'pipe':
      return lenient(node.right, lenient(node.left, value, s), s)
    case 'compare': {
      const left = lenient(node.left, value, s)
      const right = lenient(node.right, value, s)
      if (node.op === 'EQ') return kyvernoDeepEqual(left, right)
      if (node.op === 'NE') return !kyvernoDeepEqual(left, right)
      if (typeof left !== 'number' || typeof right !== 'number') return null
      if (node.op === 'LT') return left < right
      if (node.op === 'LTE') return left <= right
      if (node.op === 'GT') return left > right
      return left >= right
    }
    case 'expref':
      return Object.freeze({ [EXPREF]: node.child }) as JMESPathExpref
    case 'call': {
      const args = node.args.map((a) => lenient(a, value, s))
      return callKyvernoJMESPathFunction(node.name, args, context(s))
    }
  }
}

function context(s: State): JMESPathCallContext {
  return {
    now: s.now,
    evaluate(ref, value) {
      const child = (ref as unknown as { [EXPREF]: KyvernoJMESPathNode })[EXPREF]
      try {
        return { found: true, value: visit(child, value, s) }
      } catch (e) {
        if (e instanceof UnknownKey) return { found: false, key: e.key }
        throw e
      }
    },
  }
}

/**
 * Evaluate a tree over `data`.
 *
 * @param now - The clock `time_now` and `time_since` read.
 * @throws {CountersignError} ERR_INVALID_INPUT: `details.reason` `unknown-key` (`details.key`) for a field missing
 *   from an object on the path, `evaluation` for a function's error, `too-costly` past the step budget.
 * @example
 * ```ts
 * evaluateKyvernoJMESPath({ t: 'field', name: 'a' }, { a: 1 }, new Date()) // 1
 * ```
 */
export function evaluateKyvernoJMESPath(node: KyvernoJMESPathNode, data: unknown, now: Date): unknown {
  try {
    return visit(node, data ?? null, { steps: 0, now })
  } catch (e) {
    if (e instanceof UnknownKey) {
      // go-jmespath's text, key unquoted inside the quotes as Go's %s prints it.
      throw new CountersignError('ERR_INVALID_INPUT', `Unknown key "${e.key}" in path`, {
        details: { reason: 'unknown-key', key: e.key },
      })
    }
    if (e instanceof RangeError) throw evaluationError(`JMESPath evaluation failed: ${e.message}`)
    throw e
  }
}

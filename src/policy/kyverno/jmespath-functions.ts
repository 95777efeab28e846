/**
 * The function table of Kyverno's JMESPath: the original specification's built-ins (with go-jmespath's semantics)
 * and Kyverno's own functions (`pkg/engine/jmespath/{functions,time,arithmetic}.go`), which replace any built-in
 * of the same name (Kyverno's `sum` is its arithmetic one). Names the jmespath-community library adds (`lower`,
 * `upper`, `find_first`, `group_by`, …) do not exist here, as they do not in Kyverno: calling them is "unknown
 * function". The table is countersign's own; nothing is registered in the library's global function registry.
 *
 * Arguments are checked as go-jmespath checks them before a function runs (arity, then each argument against the
 * accepted types), with its messages.
 * @module
 */
import { evaluationError } from './jmespath-errors.js'
import { ARITHMETIC_FUNCTIONS } from './jmespath-functions-arithmetic.js'
import { BUILTIN_FUNCTIONS } from './jmespath-functions-builtin.js'
import { DATA_FUNCTIONS } from './jmespath-functions-data.js'
import { REGEX_FUNCTIONS } from './jmespath-functions-regex.js'
import { STRING_FUNCTIONS } from './jmespath-functions-strings.js'
import { TIME_FUNCTIONS } from './jmespath-functions-time.js'
import { goSprint } from './operators-go-values.js'

/**
 * go-jmespath's argument types.
 *
 * @example
 * ```ts
 * const accepts: JPType[] = ['string', 'number']
 * ```
 */
export type JPType = 'number' | 'string' | 'array' | 'object' | 'array[number]' | 'array[string]' | 'expref' | 'any'

/**
 * An expression reference (`&expr`) as a function receives it: opaque, evaluated through the call context.
 *
 * @example
 * ```ts
 * const r = context.evaluate(ref as JMESPathExpref, item)
 * ```
 */
export interface JMESPathExpref {
  readonly __kyvernoExpref?: never
}

/**
 * What a function may ask of the evaluator.
 *
 * @example
 * ```ts
 * const call = (args: unknown[], context: JMESPathCallContext) => context.now.toISOString()
 * ```
 */
export interface JMESPathCallContext {
  /** The clock (`time_now`, `time_since` with no end). */
  readonly now: Date
  /** Evaluate an expression reference; a missing key is reported, not thrown (go-jmespath's NotFoundError). */
  evaluate(ref: JMESPathExpref, value: unknown): { found: true; value: unknown } | { found: false; key: string }
}

/**
 * One function: the types each argument accepts (the last one repeats when `variadic`), and its body.
 *
 * @example
 * ```ts
 * const abs: JMESPathFunction = { args: [['number']], call: ([n]) => Math.abs(n as number) }
 * ```
 */
export interface JMESPathFunction {
  /** Absent: any number of arguments of any type (go-jmespath's rule for entries without a signature). */
  readonly args?: readonly (readonly JPType[])[]
  readonly variadic?: boolean
  readonly call: (args: unknown[], context: JMESPathCallContext) => unknown
}

/** Longest string or array a function may return: nested `replace_all` calls must not grow without bound. */
const MAX_RESULT_LENGTH = 1 << 20

const TABLE: ReadonlyMap<string, JMESPathFunction> = new Map([
  ...Object.entries(BUILTIN_FUNCTIONS),
  ...Object.entries(STRING_FUNCTIONS),
  ...Object.entries(REGEX_FUNCTIONS),
  ...Object.entries(DATA_FUNCTIONS),
  ...Object.entries(ARITHMETIC_FUNCTIONS),
  ...Object.entries(TIME_FUNCTIONS),
])

/**
 * The names of every function Kyverno's JMESPath offers here.
 *
 * @example
 * ```ts
 * kyvernoJMESPathFunctionNames().includes('regex_match') // true
 * ```
 */
export function kyvernoJMESPathFunctionNames(): string[] {
  return [...TABLE.keys()].sort()
}

function isNumberArray(v: unknown): boolean {
  return Array.isArray(v) && v.every((e) => typeof e === 'number')
}

function isStringArray(v: unknown): boolean {
  return Array.isArray(v) && v.every((e) => typeof e === 'string')
}

function accepts(type: JPType, v: unknown): boolean {
  switch (type) {
    case 'number':
      return typeof v === 'number'
    case 'string':
      return typeof v === 'string'
    case 'array':
      return Array.isArray(v)
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v) && !isExprefLike(v)
    case 'array[number]':
      return isNumberArray(v)
    case 'array[string]':
      return isStringArray(v)
    case 'expref':
      return isExprefLike(v)
    case 'any':
      return true
  }
}

function isExprefLike(v: unknown): boolean {
  return typeof v === 'object' && v !== null && Object.getOwnPropertySymbols(v).length > 0
}

function checkArgs(name: string, f: JMESPathFunction, args: readonly unknown[]): void {
  const spec = f.args
  if (spec === undefined || spec.length === 0) return
  if (!f.variadic) {
    if (args.length !== spec.length) throw evaluationError(`JMESPath function '${name}': incorrect number of args`)
  } else if (args.length < spec.length) {
    throw evaluationError(`JMESPath function '${name}': Invalid arity.`)
  }
  args.forEach((arg, i) => {
    const types = spec[Math.min(i, spec.length - 1)]!
    if (!types.some((t) => accepts(t, arg))) {
      // go-jmespath: "Invalid type for: %v, expected: %#v".
      const expected = `[]jmespath.JpType{${types.map((t) => JSON.stringify(t)).join(', ')}}`
      throw evaluationError(`Invalid type for: ${isExprefLike(arg) ? '&expr' : goSprint(arg)}, expected: ${expected}`)
    }
  })
}

/**
 * Call a function by name with evaluated arguments.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT (`details.reason: 'evaluation'`): unknown function, wrong arity or
 *   argument type, the function's own error, or a result longer than 2^20.
 * @example
 * ```ts
 * callKyvernoJMESPathFunction('to_upper', ['abc'], context) // 'ABC'
 * ```
 */
export function callKyvernoJMESPathFunction(name: string, args: unknown[], context: JMESPathCallContext): unknown {
  const f = TABLE.get(name)
  if (f === undefined) throw evaluationError(`unknown function: ${name}`)
  checkArgs(name, f, args)
  const result = f.call(args, context)
  if ((typeof result === 'string' || Array.isArray(result)) && result.length > MAX_RESULT_LENGTH) {
    throw evaluationError(`JMESPath function '${name}': result longer than ${MAX_RESULT_LENGTH}`)
  }
  return result
}

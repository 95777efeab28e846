/**
 * CEL conditions (the Common Expression Language Kubernetes uses for admission rules), evaluated over plain JSON
 * with @bufbuild/cel: parsed once, planned once, run per statement. A condition passes only when it evaluates to
 * `true`; any error (a missing field, a type mismatch) fails it with CEL's message.
 * @module
 */
import { celEnv, isCelError, parse, plan } from '@bufbuild/cel'
import { CountersignError } from '../errors.js'
import { isJSONObject } from '../internal/json.js'

/** Longer expressions are refused: a policy is configuration, not a program to ship megabytes of. */
const MAX_EXPRESSION_LENGTH = 16 * 1024

/**
 * A compiled CEL condition.
 *
 * Exported from `countersign/policy`.
 */
export interface CELCondition {
  readonly expression: string
  /** Run over `bindings` (top-level variables); `ok` only when the result is the boolean `true`. */
  evaluate(bindings: Readonly<Record<string, unknown>>): { readonly ok: true } | { readonly ok: false; message: string }
}

/**
 * Compile a CEL expression.
 *
 * @param expression - e.g. `predicate.builder.id == "https://github.com/actions/runner"`.
 * @throws {CountersignError} ERR_INVALID_INPUT when it does not parse (CEL's message, with line and column).
 * @example
 * ```ts
 * import { compileCELCondition } from 'countersign/policy'
 * const c = compileCELCondition('predicate.Data == "ok"')
 * c.evaluate({ predicate: { Data: 'ok' } }) // { ok: true }
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function compileCELCondition(expression: string): CELCondition {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new CountersignError('ERR_INVALID_INPUT', 'CEL expression is empty')
  }
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw new CountersignError('ERR_INVALID_INPUT', `CEL expression is longer than ${MAX_EXPRESSION_LENGTH} characters`)
  }
  let program: (bindings: Record<string, unknown>) => unknown
  try {
    const planned = plan(celEnv(), parse(expression))
    program = planned as unknown as (bindings: Record<string, unknown>) => unknown
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', `CEL expression does not parse: ${(cause as Error).message}`, {
      cause,
    })
  }
  return Object.freeze({
    expression,
    evaluate(bindings: Readonly<Record<string, unknown>>) {
      let result: unknown
      try {
        result = program({ ...bindings })
      } catch (e) {
        return { ok: false as const, message: `CEL evaluation failed: ${(e as Error).message}` }
      }
      if (isCelError(result)) return { ok: false as const, message: `CEL evaluation failed: ${result.message}` }
      if (result === true) return { ok: true as const }
      const shown = typeof result === 'boolean' ? 'false' : `a ${describe(result)}, not a bool`
      return { ok: false as const, message: `condition ${JSON.stringify(expression)} evaluated to ${shown}` }
    },
  })
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v) || (typeof v === 'object' && v !== null && Symbol.iterator in v)) return 'list'
  if (isJSONObject(v)) return 'map'
  return typeof v
}

const compiled = new WeakMap<object, CELCondition>()

/** Compile once per condition object (parsed policies are frozen and reused across evaluations). */
export function celConditionFor(owner: object, expression: string): CELCondition {
  let c = compiled.get(owner)
  if (!c || c.expression !== expression) {
    c = compileCELCondition(expression)
    compiled.set(owner, c)
  }
  return c
}

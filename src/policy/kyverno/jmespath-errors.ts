/**
 * The errors Kyverno's JMESPath reports once an expression runs: a function's error, a bad slice, an unknown
 * function. All are ERR_INVALID_INPUT with `details.reason: 'evaluation'`, so callers tell them from a syntax error
 * (`syntax`) and a missing key (`unknown-key`).
 * @module
 */
import { CountersignError } from '../../errors.js'

/**
 * An evaluation error with go-jmespath's or Kyverno's own text.
 *
 * @example
 * ```ts
 * throw evaluationError('unknown function: foo')
 * ```
 */
export function evaluationError(message: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', message, { details: { reason: 'evaluation' } })
}

/**
 * Kyverno's message for a function's own failure: `JMESPath function 'name': message`.
 *
 * @example
 * ```ts
 * throw kyvernoFunctionError('divide', 'Zero divisor passed')
 * ```
 */
export function kyvernoFunctionError(name: string, message: string): CountersignError {
  return evaluationError(`JMESPath function '${name}': ${message}`)
}

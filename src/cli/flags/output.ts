/** `-o/--output` of the verification verbs: cosign's JSON (default) or the signed payloads as text. @module */
import { CountersignError } from '../../errors.js'
import type { FlagSpec } from '../args.js'

/**
 * `-o/--output json|text`, json by default (read with {@link outputFlag}).
 *
 * @example
 * const flags: readonly FlagSpec[] = [JSON_OUTPUT_FLAG]
 */
export const JSON_OUTPUT_FLAG: FlagSpec = {
  name: 'output',
  short: 'o',
  type: 'string',
  default: 'json',
  help: 'output format: json or text',
}

/**
 * `-o/--output`: json (default) or text; anything else is cosign's "unsupported output format".
 *
 * @example
 * if (outputFlag(flags.output) === 'text') io.stdout.write(payload)
 */
export function outputFlag(value: unknown): 'json' | 'text' {
  const output = String(value)
  if (output !== 'json' && output !== 'text') {
    throw new CountersignError('ERR_INVALID_INPUT', `unsupported output format: ${output}`)
  }
  return output
}

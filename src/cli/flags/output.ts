/**
 * `-o/--output`: for the verification verbs, cosign's JSON (default) or the signed payloads as text; for the verbs that
 * report what they did (sign, attest, tree, attach, …), their human text (default) or one JSON document of ours, whose
 * shapes `docs/cli-output.md` lists.
 * @module
 */
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
  values: ['json', 'text'],
}

/**
 * `-o/--output text|json` of the reporting verbs, text by default: `json` prints one JSON document on stdout instead
 * of the human text (read with {@link reportFormat}, write with {@link writeReport}).
 *
 * @example
 * const flags: readonly FlagSpec[] = [REPORT_OUTPUT_FLAG, ...REGISTRY_FLAGS]
 */
export const REPORT_OUTPUT_FLAG: FlagSpec = {
  name: 'output',
  short: 'o',
  type: 'string',
  default: 'text',
  help: 'output format: text, or json for one JSON document on stdout (see docs/cli-output.md)',
  values: ['text', 'json'],
}

/**
 * The format a reporting verb was asked for (`-o`, or the flag named `name`); anything else than text or json is
 * cosign's "unsupported output format", raised before the verb does anything.
 *
 * @example
 * const format = reportFormat(flags)
 */
export function reportFormat(flags: Readonly<Record<string, unknown>>, name = 'output'): 'json' | 'text' {
  return outputFlag(flags[name] ?? 'text')
}

/**
 * Print a verb's JSON report: one document, two-space indented, ending in a newline.
 *
 * @example
 * writeReport(io.stdout, { image, reference })
 */
export function writeReport(stdout: NodeJS.WritableStream, report: unknown): void {
  stdout.write(`${JSON.stringify(report, null, 2)}\n`)
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

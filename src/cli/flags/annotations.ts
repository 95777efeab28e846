/** `-a/--annotations key=value`: claims `sign` adds to the payload and `verify` requires of it. @module */
import { parseAnnotationFlags } from '../../signature/annotations.js'
import type { FlagSpec, ParsedFlags } from '../args.js'

/**
 * `-a/--annotations`, repeatable; a value may hold commas, so it is never split.
 *
 * @example
 * const flags: readonly FlagSpec[] = [withHelp(ANNOTATIONS_FLAG, 'key=value annotations to require')]
 */
export const ANNOTATIONS_FLAG: FlagSpec = {
  name: 'annotations',
  short: 'a',
  type: 'strings',
  noSplit: true,
  help: 'extra key=value pairs to sign',
}

/**
 * The `-a` pairs as a record (a malformed pair is cosign's error).
 *
 * @example
 * const annotations = annotationsFromFlags(flags) // -a env=prod → { env: 'prod' }
 */
export function annotationsFromFlags(flags: ParsedFlags): Record<string, string> {
  return parseAnnotationFlags(flags.annotations as string[])
}

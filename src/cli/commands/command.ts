/** The shape of a CLI verb. @module */
import type { FlagSpec, ParsedFlags } from '../args.js'
import type { CliIO } from '../context.js'

/** One verb: its flags, help text and action (returns the exit code). */
export interface Command {
  readonly name: string
  readonly usage: string
  readonly description: string
  readonly flags: readonly FlagSpec[]
  /** The words the first argument may be (`attach sbom|signature|attestation`), for shell completion. */
  readonly subcommands?: readonly string[]
  run(input: { readonly flags: ParsedFlags; readonly args: readonly string[] }, io: CliIO): Promise<number>
}

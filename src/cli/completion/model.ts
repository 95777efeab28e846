/**
 * What the shell completion scripts complete, read from the verb registry and each verb's flag table: the scripts
 * are generated from the same data the parser uses, so a new verb or flag completes without anyone editing them.
 * @module
 */
import type { FlagSpec } from '../args.js'
import { VERBS } from '../registry.js'

/** One flag as completion sees it. */
export interface CompletionFlag {
  readonly long: string
  readonly short?: string
  /** Whether the next word (or the text after `=`) is the flag's value. */
  readonly takesValue: boolean
  /** The fixed set of values, when there is one; otherwise values complete as file names. */
  readonly values?: readonly string[]
  readonly help: string
}

/** One verb as completion sees it. */
export interface CompletionVerb {
  readonly name: string
  readonly summary: string
  readonly flags: readonly CompletionFlag[]
  /** Words the first argument may be (`attach sbom|signature|attestation`); empty when it is a file or image. */
  readonly subcommands: readonly string[]
}

/** Names, flags and values go into shell code unquoted in places: anything else than these characters is refused. */
const SAFE_WORD = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

function safe(word: string, what: string): string {
  if (!SAFE_WORD.test(word)) throw new Error(`completion: ${what} ${JSON.stringify(word)} is not a plain word`)
  return word
}

const HELP_FLAG: CompletionFlag = { long: 'help', short: 'h', takesValue: false, help: 'help for this command' }

/**
 * A verb's flags for completion, `--help` included (the dispatcher answers it for every verb).
 *
 * @example
 * completionFlags(signCommand.flags).map((f) => `--${f.long}`) // ['--key', …, '--help']
 */
export function completionFlags(specs: readonly FlagSpec[]): CompletionFlag[] {
  return [
    ...specs.map((s) => ({
      long: safe(s.name, 'flag'),
      ...(s.short !== undefined ? { short: safe(s.short, 'flag') } : {}),
      takesValue: s.type !== 'bool',
      ...(s.values !== undefined ? { values: s.values.map((v) => safe(v, 'value')) } : {}),
      help: s.help,
    })),
    HELP_FLAG,
  ]
}

/**
 * Every verb with its flags, loading each verb's module (only the completion verb does this), plus the two words
 * the dispatcher answers itself: `version` and `help`.
 *
 * @example
 * const verbs = await completionModel()
 * process.stdout.write(bashCompletion(verbs))
 */
export async function completionModel(): Promise<CompletionVerb[]> {
  const verbs = await Promise.all(
    VERBS.map(async (entry) => {
      const command = await entry.load()
      return {
        name: safe(entry.name, 'verb'),
        summary: entry.summary,
        flags: completionFlags(command.flags),
        subcommands: (command.subcommands ?? []).map((s) => safe(s, 'subcommand')),
      }
    }),
  )
  return [
    ...verbs,
    {
      name: 'version',
      summary: 'Print the version (-o json for details)',
      flags: [
        { long: 'output', short: 'o', takesValue: true, values: ['text', 'json'], help: 'output format: text or json' },
        { long: 'json', takesValue: false, help: 'same as -o json' },
      ],
      subcommands: [],
    },
    { name: 'help', summary: 'Print the list of commands', flags: [], subcommands: [] },
  ]
}

/** A small flag parser with Go pflag semantics, so cosign command lines work unchanged. @module */
import { CountersignError } from '../errors.js'
import { didYouMean, suggest } from './suggest.js'

/** One flag of a command. */
export interface FlagSpec {
  readonly name: string
  readonly short?: string
  /** `bool` takes no value (`--x`, `--x=false`); `string` takes one; `strings` repeats and splits on commas. */
  readonly type: 'bool' | 'string' | 'strings'
  readonly default?: boolean | string
  readonly help: string
  /** `strings` flags whose values may contain commas (like `-a k=v,w`) are not split. */
  readonly noSplit?: boolean
  /** The values a `string` flag accepts, when it is a fixed set (offered by shell completion). */
  readonly values?: readonly string[]
}

/** Parsed flags: bool → boolean, string → string | undefined, strings → string[]. */
export type ParsedFlags = Record<string, boolean | string | string[] | undefined>

/** Parse `argv` (after the verb) against `specs`; unknown flags and missing values are errors. */
export function parseFlags(
  argv: readonly string[],
  specs: readonly FlagSpec[],
): { flags: ParsedFlags; args: string[] } {
  const byName = new Map(specs.map((s) => [s.name, s]))
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]))
  const flags: ParsedFlags = {}
  for (const s of specs) flags[s.name] = s.type === 'strings' ? [] : s.default
  const args: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') {
      args.push(...argv.slice(i + 1))
      break
    }
    if (!a.startsWith('-') || a === '-') {
      args.push(a)
      continue
    }
    const long = a.startsWith('--')
    const body = a.slice(long ? 2 : 1)
    const eq = body.indexOf('=')
    const key = eq >= 0 ? body.slice(0, eq) : body
    const spec = long ? byName.get(key) : byShort.get(key)
    if (!spec) throw unknownFlag(long, key, specs)
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined
    if (spec.type === 'bool') {
      if (value === undefined) flags[spec.name] = true
      else if (/^(true|1|t|TRUE|True|T)$/.test(value)) flags[spec.name] = true
      else if (/^(false|0|f|FALSE|False|F)$/.test(value)) flags[spec.name] = false
      else throw new CountersignError('ERR_INVALID_INPUT', `invalid boolean value "${value}" for --${spec.name}`)
      continue
    }
    if (value === undefined) {
      value = argv[++i]
      if (value === undefined) throw new CountersignError('ERR_INVALID_INPUT', `flag needs an argument: --${spec.name}`)
    }
    if (spec.type === 'string') flags[spec.name] = value
    else (flags[spec.name] as string[]).push(...(spec.noSplit ? [value] : value.split(',').filter((v) => v !== '')))
  }
  return { flags, args }
}

/**
 * pflag's `unknown flag: --kye`, first line unchanged (scripts match it), then cobra's "Did you mean this?" paragraph
 * naming the verb's close flags. A long name typed with one dash (`-key`) is matched against the long names.
 */
function unknownFlag(long: boolean, key: string, specs: readonly FlagSpec[]): CountersignError {
  const typed = `${long ? '--' : '-'}${key}`
  // Two edits make most short names alike (--kye would offer --yes): names of four letters or fewer get one.
  const names = specs.map((s) => s.name)
  const close = long || key.length > 1 ? suggest(key, names, key.length <= 4 ? 1 : 2).map((n) => `--${n}`) : []
  return new CountersignError('ERR_INVALID_INPUT', `unknown flag: ${typed}${didYouMean(close)}`, {
    details: { flag: typed, suggestions: close },
  })
}

/** Render a command's help text. */
export function formatHelp(usage: string, description: string, specs: readonly FlagSpec[]): string {
  const rows = specs.map((s) => {
    const names = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.type === 'bool' ? '' : ` ${s.type === 'strings' ? 'strings' : 'string'}`}`
    const def = s.default !== undefined && s.default !== '' ? ` (default ${String(s.default)})` : ''
    return `  ${names.padEnd(38)} ${s.help}${def}`
  })
  return `${description}\n\nUsage:\n  ${usage}\n\nFlags:\n${rows.join('\n')}\n`
}

/** A string flag's value, or undefined when the flag is absent or empty (`--flag ""` means "not given"). */
export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const v = flags[name]
  return typeof v === 'string' && v !== '' ? v : undefined
}

/**
 * A shared flag with a verb's own help line: name, type, short form and default stay those of the group's table.
 *
 * @example
 * const flags = [withHelp(NEW_BUNDLE_FORMAT_FLAG, 'store a Sigstore bundle as an OCI 1.1 referrer')]
 */
export function withHelp(spec: FlagSpec, help: string): FlagSpec {
  return { ...spec, help }
}

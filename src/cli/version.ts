/**
 * `countersign version`, `--version` and `-v`. Kept free of other imports: the executable answers these before
 * loading anything else, so asking for the version costs a bare Node start.
 * @module
 */

/** The package version (a test checks it against package.json). */
export const VERSION = '0.1.0'

/** The output format a version request asks for, or undefined when the flags are not a version request's. */
function format(rest: readonly string[]): 'text' | 'json' | undefined {
  if (rest.length === 0) return 'text'
  if (rest.length === 1 && rest[0] === '--json') return 'json'
  const joined = rest.length === 2 && (rest[0] === '-o' || rest[0] === '--output') ? rest[1] : undefined
  const inline = rest.length === 1 ? /^(?:-o|--output)=(.*)$/.exec(rest[0]!)?.[1] : undefined
  const value = joined ?? inline
  return value === 'json' || value === 'text' ? value : undefined
}

/**
 * What a version request prints, or undefined when `argv` is not one (the caller then reports the bad flags).
 *
 * `version -o json` (and cosign's `version --json`) print `{"version", "node", "platform"}` on one line.
 *
 * @example
 * ```ts
 * versionOutput(['--version']) // 'countersign 0.1.0\n'
 * versionOutput(['sign', 'x']) // undefined
 * ```
 */
export function versionOutput(argv: readonly string[]): string | undefined {
  const [verb, ...rest] = argv
  if (verb !== 'version' && verb !== '--version' && verb !== '-v') return undefined
  const f = format(rest)
  if (f === 'json') {
    const platform = `${process.platform}/${process.arch}`
    return `${JSON.stringify({ version: VERSION, node: process.version, platform })}\n`
  }
  return f === 'text' ? `countersign ${VERSION}\n` : undefined
}

/** Dispatch a command line to its verb and turn errors into cosign's exit codes. @module */
import { type ErrorCode, isCountersignError } from '../errors.js'
import { createSecretSet } from '../http/redact.js'
import { formatHelp, parseFlags } from './args.js'
import type { CliIO } from './context.js'
import { findVerb, VERBS } from './registry.js'
import { registerCliSecrets } from './secrets.js'
import { didYouMean, suggest } from './suggest.js'
import { versionOutput } from './version.js'

/** cosign's exit codes (cmd/cosign/errors/exit_codes.go). */
export const EXIT_CODES = {
  noSignatures: 10,
  imageNotFound: 11,
  noMatchingSignatures: 12,
} as const

const TOP_HELP = `countersign: sign and verify container images, compatible with cosign.

Usage:
  countersign <command> [flags] [args]

Commands:
${VERBS.map((v) => `  ${v.name.padEnd(24)} ${v.summary}`).join('\n')}
  version                  Print the version (-o json for details)

Run 'countersign <command> --help' for a command's flags.
`

/** Run one command line; resolves to the process exit code (never throws). */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [verb, ...rest] = argv
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    io.stdout.write(TOP_HELP)
    return verb === undefined ? 1 : 0
  }
  const version = versionOutput(argv)
  if (version !== undefined) {
    io.stdout.write(version)
    return 0
  }
  if (verb === 'version') {
    io.stderr.write('Error: usage: countersign version [-o text|json]\n')
    return 1
  }
  const entry = findVerb(verb)
  if (!entry) {
    const hint = didYouMean(
      suggest(
        verb,
        VERBS.map((v) => v.name),
      ),
    )
    io.stderr.write(
      `Error: unknown command "${verb}" for "countersign"${hint}\n\nRun 'countersign --help' for usage.\n`,
    )
    return 1
  }
  const command = await entry.load()
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(formatHelp(command.usage, command.description, command.flags))
    return 0
  }
  // The run's secrets: what the flags and the environment hold, then whatever the clients resolve.
  const secrets = io.secrets ?? createSecretSet()
  registerCliSecrets(secrets, io.env)
  const runIO: CliIO = { ...io, secrets }
  try {
    const parsed = parseFlags(rest, command.flags)
    registerCliSecrets(secrets, io.env, parsed.flags)
    return await command.run(parsed, parsed.flags.verbose === true ? { ...runIO, verbose: true } : runIO)
  } catch (e) {
    // Clients redact what they build from answers; this catches anything else that quotes one.
    io.stderr.write(`Error: ${secrets.redact(e instanceof Error ? e.message : String(e))}\n`)
    return exitCodeFor(e)
  }
}

/** Map an error to cosign's exit code: 10 no signatures, 11 image/tag not found, 12 no matching signatures. */
export function exitCodeFor(e: unknown): number {
  if (!isCountersignError(e)) return 1
  const byCode: Partial<Record<ErrorCode, number>> = {
    ERR_NO_SIGNATURES: EXIT_CODES.noSignatures,
    ERR_NO_MATCHING_SIGNATURES: EXIT_CODES.noMatchingSignatures,
  }
  if (e.code === 'ERR_OCI_NOT_FOUND' && e.details?.target === 'image') return EXIT_CODES.imageNotFound
  return byCode[e.code] ?? 1
}

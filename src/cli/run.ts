/** Dispatch a command line to its verb and turn errors into cosign's exit codes. @module */
import { type ErrorCode, isCountersignError } from '../errors.js'
import { createSecretSet } from '../http/redact.js'
import { formatHelp, parseFlags } from './args.js'
import { policyAdmissionWebhookCommand } from './commands/admission-policy.js'
import { attachCommand } from './commands/attach.js'
import { attestCommand } from './commands/attest.js'
import { attestBlobCommand } from './commands/attest-blob.js'
import { cleanCommand } from './commands/clean.js'
import type { Command } from './commands/command.js'
import { downloadCommand } from './commands/download.js'
import { initializeCommand } from './commands/initialize.js'
import { generateKeyPairCommand, importKeyPairCommand, publicKeyCommand } from './commands/keys.js'
import { loadCommand } from './commands/load.js'
import { policyCommand } from './commands/policy.js'
import { rekorCommand } from './commands/rekor.js'
import { saveCommand } from './commands/save.js'
import { signCommand } from './commands/sign.js'
import { signBlobCommand } from './commands/sign-blob.js'
import { treeCommand } from './commands/tree.js'
import { triangulateCommand } from './commands/triangulate.js'
import { trustedRootCommand } from './commands/trusted-root.js'
import { verifyCommand } from './commands/verify.js'
import { verifyAttestationCommand } from './commands/verify-attestation.js'
import { verifyBlobCommand } from './commands/verify-blob.js'
import { verifyBlobAttestationCommand } from './commands/verify-blob-attestation.js'
import { verifyBundleCommand } from './commands/verify-bundle.js'
import type { CliIO } from './context.js'
import { registerCliSecrets } from './secrets.js'

/** Every verb, in help order. */
export const COMMANDS: readonly Command[] = [
  generateKeyPairCommand,
  importKeyPairCommand,
  publicKeyCommand,
  signCommand,
  verifyCommand,
  attestCommand,
  verifyAttestationCommand,
  signBlobCommand,
  attestBlobCommand,
  verifyBlobAttestationCommand,
  policyCommand,
  rekorCommand,
  policyAdmissionWebhookCommand,
  verifyBlobCommand,
  verifyBundleCommand,
  attachCommand,
  downloadCommand,
  treeCommand,
  cleanCommand,
  saveCommand,
  loadCommand,
  triangulateCommand,
  initializeCommand,
  trustedRootCommand,
]

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
${COMMANDS.map((c) => `  ${c.name.padEnd(20)} ${c.description.split('\n')[0]}`).join('\n')}

Run 'countersign <command> --help' for a command's flags.
`

/** Run one command line; resolves to the process exit code (never throws). */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [verb, ...rest] = argv
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    io.stdout.write(TOP_HELP)
    return verb === undefined ? 1 : 0
  }
  if (verb === 'version' || verb === '--version') {
    io.stdout.write('countersign 0.1.0\n')
    return 0
  }
  const command = COMMANDS.find((c) => c.name === verb)
  if (!command) {
    io.stderr.write(`Error: unknown command "${verb}" for "countersign"\n\n${TOP_HELP}`)
    return 1
  }
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
    return await command.run(parsed, runIO)
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

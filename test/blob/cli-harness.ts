/** Runs a CLI verb object in-process the way runCli does, for verbs not yet registered in src/cli/run.ts. */
import { PassThrough, Readable } from 'node:stream'
import { parseFlags } from '../../src/cli/args.js'
import type { Command } from '../../src/cli/commands/command.js'
import { exitCodeFor } from '../../src/cli/run.js'

export interface VerbRun {
  code: number
  stdout: Buffer
  stderr: string
}

export async function runVerb(
  command: Command,
  argv: readonly string[],
  options: { cwd: string; env?: Record<string, string | undefined>; stdin?: string | Uint8Array },
): Promise<VerbRun> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const out: Buffer[] = []
  const err: Buffer[] = []
  stdout.on('data', (c) => out.push(c))
  stderr.on('data', (c) => err.push(c))
  const stdin = Readable.from(
    options.stdin === undefined ? [] : [Buffer.from(options.stdin)],
  ) as unknown as NodeJS.ReadStream
  const io = { stdout, stderr, stdin, env: { HOME: options.cwd, ...options.env }, cwd: options.cwd }
  let code: number
  try {
    code = await command.run(parseFlags(argv, command.flags), io)
  } catch (e) {
    io.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`)
    code = exitCodeFor(e)
  }
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }
}

import { PassThrough, Readable } from 'node:stream'
import { runCli } from '../../src/cli/run.js'

/** Result of one in-process CLI run. */
export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** Run the CLI in-process with captured output, a non-TTY stdin holding `stdin`, and the given env and cwd. */
export async function cli(
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string | undefined>; stdin?: string },
): Promise<CliRun> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const out: Buffer[] = []
  const err: Buffer[] = []
  stdout.on('data', (c) => out.push(c))
  stderr.on('data', (c) => err.push(c))
  const stdin = Readable.from(
    options.stdin === undefined ? [] : [Buffer.from(options.stdin)],
  ) as unknown as NodeJS.ReadStream
  const code = await runCli(args, {
    stdout,
    stderr,
    stdin,
    env: { HOME: options.cwd, DOCKER_CONFIG: `${options.cwd}/.docker`, ...options.env },
    cwd: options.cwd,
  })
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }
}

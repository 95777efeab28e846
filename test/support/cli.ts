/**
 * The one in-process runner of the countersign CLI for tests: a command line goes through `runCli` (verb lookup,
 * `--help`, flag parsing, errors to exit codes) with captured output, a chosen stdin, env and cwd.
 * @module
 */
import { PassThrough, Readable } from 'node:stream'
import { inject } from 'vitest'
import { runCli } from '../../src/cli/run.js'

/** Result of one in-process CLI run. */
export interface CliRun {
  code: number
  stdout: string
  /** stdout as written, for binary output (`download sbom`, `sign-blob --b64=false`). */
  stdoutBytes: Buffer
  stderr: string
}

/** Where and how the CLI runs. */
export interface CliOptions {
  /** The working directory; also `HOME`, with `DOCKER_CONFIG` at `<cwd>/.docker` (no credentials leak in). */
  cwd: string
  /** Extra environment, over `HOME` and `DOCKER_CONFIG`. */
  env?: Record<string, string | undefined>
  /** What stdin holds (empty when absent). */
  stdin?: string | Uint8Array
  /** stdin claims to be a terminal (for confirmation prompts). */
  tty?: boolean
}

/**
 * Run `countersign <args>` in-process.
 *
 * @example
 * const r = await cli(['verify', '--key', 'cosign.pub', 'oci:layout'], { cwd: dir })
 * expect(r.code, r.stderr).toBe(0)
 */
export async function cli(args: readonly string[], options: CliOptions): Promise<CliRun> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const out: Buffer[] = []
  const err: Buffer[] = []
  stdout.on('data', (c) => out.push(c))
  stderr.on('data', (c) => err.push(c))
  const input = options.stdin === undefined ? [] : [Buffer.from(options.stdin)]
  let stdin: NodeJS.ReadStream
  if (options.tty) {
    const s = new PassThrough()
    s.end(Buffer.concat(input))
    stdin = Object.assign(s, { isTTY: true }) as unknown as NodeJS.ReadStream
  } else {
    stdin = Readable.from(input) as unknown as NodeJS.ReadStream
  }
  const code = await runCli(args, {
    stdout,
    stderr,
    stdin,
    // TUF_ROOT: the run's shared TUF cache (test/global-setup.ts), as after `countersign initialize`.
    env: { HOME: options.cwd, DOCKER_CONFIG: `${options.cwd}/.docker`, TUF_ROOT: inject('tufRoot'), ...options.env },
    cwd: options.cwd,
  })
  // Let writes still queued in the streams arrive before the output is read.
  await new Promise((r) => setImmediate(r))
  const stdoutBytes = Buffer.concat(out)
  return { code, stdout: stdoutBytes.toString(), stdoutBytes, stderr: Buffer.concat(err).toString() }
}

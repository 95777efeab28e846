/**
 * Running a credential helper program (a Docker credential helper, the Vault CLI's token helper): the program with
 * its arguments and no shell, its standard output kept up to a limit, killed at a time limit. What a helper prints
 * may be a secret, so the outcome comes back as data and each caller words its own error, naming the program and
 * how it ended, never what it printed. Internal to `countersign/node`.
 *
 * @module
 */
import { spawn } from 'node:child_process'

/** How a helper run ended. */
export type HelperOutcome =
  | {
      readonly kind: 'exited'
      readonly code: number | null
      readonly signal: NodeJS.Signals | null
      readonly stdout: string
      readonly stderr: string
    }
  /** Killed at `timeoutMs`. */
  | { readonly kind: 'timeout' }
  /** Killed for printing more than `maxStdout` bytes. */
  | { readonly kind: 'too-much-output' }
  /** The program could not be started (`error.code` says why, e.g. `ENOENT`). */
  | { readonly kind: 'not-started'; readonly error: NodeJS.ErrnoException }

/** Options of {@link runHelperProgram}. */
export interface HelperRunOptions {
  /** The helper's whole environment. */
  readonly env: Readonly<Record<string, string | undefined>>
  readonly timeoutMs: number
  /** Most bytes of standard output accepted; a helper printing more is killed. */
  readonly maxStdout: number
  /** Written to the helper's standard input, which is then closed; without it the helper has no standard input. */
  readonly input?: string
  /** Bytes of standard error kept; without it standard error is not read at all. */
  readonly maxStderr?: number
}

/**
 * Run `program` with `args` and report how it ended. Never rejects: a helper that cannot start, hangs or floods its
 * output is an outcome, which the caller turns into its own error.
 *
 * @example
 * ```ts
 * const outcome = await runHelperProgram('docker-credential-pass', ['get'], {
 *   env: process.env,
 *   timeoutMs: 30_000,
 *   maxStdout: 1 << 20,
 *   input: 'ghcr.io',
 * })
 * if (outcome.kind === 'exited' && outcome.code === 0) console.log('answered')
 * ```
 */
export function runHelperProgram(
  program: string,
  args: readonly string[],
  options: HelperRunOptions,
): Promise<HelperOutcome> {
  return new Promise((resolve) => {
    const child = spawn(program, args, {
      env: options.env as NodeJS.ProcessEnv,
      stdio: [
        options.input !== undefined ? 'pipe' : 'ignore',
        'pipe',
        options.maxStderr !== undefined ? 'pipe' : 'ignore',
      ],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let outBytes = 0
    let errBytes = 0
    let settled = false
    const finish = (outcome: HelperOutcome) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(outcome)
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      finish({ kind: 'timeout' })
    }, options.timeoutMs)
    child.stdout?.on('data', (c: Buffer) => {
      outBytes += c.length
      if (outBytes > options.maxStdout) {
        child.kill('SIGKILL')
        finish({ kind: 'too-much-output' })
      } else out.push(c)
    })
    child.stderr?.on('data', (c: Buffer) => {
      errBytes += c.length
      if (errBytes <= (options.maxStderr ?? 0)) err.push(c)
    })
    child.on('error', (error: NodeJS.ErrnoException) => finish({ kind: 'not-started', error }))
    child.on('close', (code, signal) =>
      finish({
        kind: 'exited',
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    )
    if (options.input !== undefined) {
      child.stdin?.on('error', () => {
        // The helper may exit without reading its input; how it exited tells the story.
      })
      child.stdin?.end(options.input)
    }
  })
}

/**
 * One shell step of a CI job, as the GitHub Actions and GitLab CI runners of the example tests run it: a script
 * file executed by `bash` with a given environment (nothing inherited from the test process), working directory
 * and time limit; exit code and output captured.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** What one shell step did. */
export interface ShellResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

/** How to run a script. */
export interface ShellOptions {
  /** bash arguments before the script file, e.g. `['--noprofile', '--norc', '-eo', 'pipefail']`. */
  readonly bashArgs: readonly string[]
  /** The complete environment of the step (PATH included). */
  readonly env: Readonly<Record<string, string>>
  readonly cwd: string
  /** Where the script file is written. */
  readonly scriptDir: string
  /** Killed after this long (default 120 s); the step then fails with exit code 124, as `timeout` reports. */
  readonly timeoutMs?: number
}

let counter = 0

/**
 * Write `script` to a file and run it with bash.
 *
 * @example
 * const r = await runBash('echo hi', { bashArgs: ['-e'], env: { PATH: process.env.PATH! }, cwd, scriptDir: cwd })
 */
export function runBash(script: string, options: ShellOptions): Promise<ShellResult> {
  const file = join(options.scriptDir, `step-${process.pid}-${++counter}.sh`)
  writeFileSync(file, script.endsWith('\n') ? script : `${script}\n`)
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [...options.bashArgs, file], {
      cwd: options.cwd,
      env: { ...options.env },
      // A CI step has no input (stdin is not a terminal either, so countersign never prompts).
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, options.timeoutMs ?? 120_000)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        exitCode: timedOut ? 124 : (code ?? (signal ? 128 : 1)),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (timedOut ? '\n[killed: step timed out]\n' : ''),
      })
    })
  })
}

/**
 * Find another runtime's binary among the npm devDependencies and run it as a child process. A missing binary
 * fails the test with how to install it: the runtime tests are never skipped.
 */
import { execFile } from 'node:child_process'
import { accessSync, closeSync, constants, openSync, readSync } from 'node:fs'
import { ROOT } from './ensure-dist.js'

/** True when `path` is an executable ELF/Mach-O/script, not the text placeholder a package ships before postinstall. */
function isRunnable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    const fd = openSync(path, 'r')
    const head = Buffer.alloc(4)
    readSync(fd, head, 0, 4, 0)
    closeSync(fd)
    return head.toString('latin1') === '\x7fELF' || head.toString('latin1', 0, 2) === '#!'
  } catch {
    return false
  }
}

/** The first runnable candidate (paths relative to the repository root), or an Error saying how to install it. */
export function findRuntime(candidates: readonly string[], install: string): string {
  for (const c of candidates) if (isRunnable(`${ROOT}${c}`)) return `${ROOT}${c}`
  throw new Error(`no runnable binary at ${candidates.join(' or ')}: ${install}`)
}

export interface RunResult {
  readonly code: number
  readonly output: string
}

/** Run a command in the repository root; resolves with its exit code and combined output (never rejects on exit). */
export function runCommand(
  file: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 120_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        // A numeric code is the exit status; anything else (ENOENT, killed at the timeout) is reported as -1.
        const code = !error ? 0 : typeof error.code === 'number' ? error.code : -1
        resolve({ code, output: `${stdout}${stderr}${code === -1 ? `\n${error?.message}` : ''}` })
      },
    )
  })
}

/**
 * Which modules a Node process loads: a module-load hook (registered with `--import`) appends every URL it loads to
 * a log file. Tests use it to check that a verb or a policy never loads what it does not need.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface LoggedRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** Every non-builtin module URL the process loaded, in load order. */
  readonly modules: string[]
}

/** Write the hook into `dir` (once) and return a runner: `node --import <hook> ...args` with its module log. */
export function createModuleLogger(
  dir: string,
): (args: readonly string[], options?: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv }) => LoggedRun {
  writeFileSync(
    join(dir, 'module-log-hooks.mjs'),
    `import { appendFileSync } from 'node:fs'
export async function load(url, context, next) {
  if (!url.startsWith('node:')) appendFileSync(process.env.MODULE_LOG, url + '\\n')
  return next(url, context)
}`,
  )
  const register = join(dir, 'module-log-register.mjs')
  writeFileSync(
    register,
    `import { register } from 'node:module'\nregister(${JSON.stringify(`file://${join(dir, 'module-log-hooks.mjs')}`)})\n`,
  )
  let runs = 0
  return (args, options = {}) => {
    const log = join(dir, `modules-${runs++}.txt`)
    writeFileSync(log, '')
    const r = spawnSync(process.execPath, ['--import', register, ...args], {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: { ...(options.env ?? process.env), MODULE_LOG: log },
      encoding: 'utf8',
    })
    const modules = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, modules }
  }
}

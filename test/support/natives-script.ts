/**
 * Run a TypeScript snippet in a child Node with `--allow-natives-syntax` (for V8's `%HaveSameMap`, which the test
 * process cannot parse), through tsx as the suite's sources are, and return the JSON its last line prints.
 * @module
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * `lines` written as a module and run; its last line of output parsed as JSON. Import sources by absolute URL
 * (`srcURL('admission/handler.js')`).
 *
 * @example
 * const { changes } = runNativesScript<{ changes: number }>([`import { x } from ${srcURL('x.js')}`, 'console.log("{}")'])
 */
export function runNativesScript<T>(lines: readonly string[]): T {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-natives-'))
  try {
    const script = join(dir, 'script.mts')
    writeFileSync(script, lines.join('\n'))
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', script], {
      cwd: new URL('../..', import.meta.url),
      encoding: 'utf8',
    })
    return JSON.parse(out.trim().split('\n').pop()!) as T
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A quoted absolute URL of `src/<path>`, for an import in a {@link runNativesScript} snippet. */
export function srcURL(path: string): string {
  return JSON.stringify(new URL(`../../src/${path}`, import.meta.url).href)
}

/** A quoted absolute URL of `test/support/<path>`. */
export function supportURL(path: string): string {
  return JSON.stringify(new URL(`./${path}`, import.meta.url).href)
}

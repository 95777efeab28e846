/**
 * The runtime tests exercise the built package (dist/), as other runtimes would import it. scripts/test-all.sh
 * builds before vitest; `npx vitest run` alone builds here once, when dist/ lacks what the tests import.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, rmdirSync, rmSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The built entries the runtime tests load. */
export const DIST_ENTRIES = ['dist/verify.js', 'dist/trust/index.js', 'dist/keys/index.js', 'dist/cli/main.js'] as const

const LOCK = `${ROOT}.tmp/runtime-build.lock`

const built = () => DIST_ENTRIES.every((f) => existsSync(`${ROOT}${f}`))

/**
 * Build dist/ unless it is there. Several runtime test files may ask at once (vitest runs files in parallel, and
 * `npm run build` starts with `rm -rf dist`), so one holds a directory lock and the others wait for it.
 */
export async function ensureDist(timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  mkdirSync(`${ROOT}.tmp`, { recursive: true })
  for (;;) {
    let locked = false
    try {
      mkdirSync(LOCK)
      locked = true
    } catch {
      // Another test file is building, or a killed run left the lock behind (older than any build).
      const lock = statSync(LOCK, { throwIfNoEntry: false })
      if (lock && Date.now() - lock.mtimeMs > timeoutMs) rmSync(LOCK, { recursive: true, force: true })
    }
    if (locked) {
      try {
        if (!built()) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'pipe' })
      } finally {
        rmdirSync(LOCK)
      }
      if (!built()) throw new Error(`npm run build did not produce ${DIST_ENTRIES.join(', ')}`)
      return
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK} (remove it if no build is running)`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

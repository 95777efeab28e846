/**
 * countersign laid out as npm installs it in a consumer project: package.json and the published files copied into
 * `<dir>/node_modules/countersign`, its runtime dependencies linked from this checkout's node_modules, and of the
 * optional peer dependencies only those asked for. For tests of what the built package does without an optional
 * package. The consumer directory must sit below a fresh temporary directory, never directly in /tmp: Node looks
 * for packages in every parent's node_modules.
 */
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { ROOT } from '../runtime/ensure-dist.js'

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  files: string[]
  dependencies?: Record<string, string>
}

/**
 * Install the built package (run `ensureDist()` first) into `dir` (created), with `peers` linked besides the runtime
 * dependencies, and write `files` (name → content) next to it. Returns `dir`.
 */
export function installCountersign(
  dir: string,
  peers: readonly string[],
  files: Readonly<Record<string, string>> = {},
): string {
  const installed = join(dir, 'node_modules', 'countersign')
  mkdirSync(installed, { recursive: true })
  cpSync(join(ROOT, 'package.json'), join(installed, 'package.json'))
  for (const f of pkg.files) cpSync(join(ROOT, f), join(installed, f), { recursive: true })
  for (const dep of [...Object.keys(pkg.dependencies ?? {}), ...peers]) {
    const link = join(dir, 'node_modules', dep)
    mkdirSync(dirname(link), { recursive: true })
    symlinkSync(join(ROOT, 'node_modules', dep), link, 'dir')
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content)
  return dir
}

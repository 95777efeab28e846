/** Layering check in the spirit of ggcr's depcheck: core code must stay runtime-neutral (STYLE.md §2.1, §2.5). */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { describe, expect, test } from 'vitest'

const root = resolve(import.meta.dirname, '..')
const src = join(root, 'src')
const ADAPTER_DIRS = [join(src, 'node'), join(src, 'cli')]
const NODE_BUILTINS = [
  'fs',
  'fs/promises',
  'path',
  'crypto',
  'child_process',
  'os',
  'http',
  'https',
  'http2',
  'net',
  'tls',
  'stream',
  'stream/promises',
  'stream/web',
  'util',
  'url',
  'buffer',
  'process',
  'events',
  'worker_threads',
  'zlib',
  'dns',
  'readline',
  'module',
  'vm',
  'assert',
  'perf_hooks',
  'timers',
  'timers/promises',
  'string_decoder',
  'tty',
]

function walk(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...walk(p))
    else if (/\.(m|c)?[tj]sx?$/.test(name)) out.push(p)
  }
  return out
}

const isAdapter = (file: string) => ADAPTER_DIRS.some((d) => file === d || file.startsWith(d + sep))
const coreFiles = walk(src).filter((f) => !isAdapter(f))

/** Module specifiers of static imports/exports, dynamic import() and require(). */
function specifiers(code: string): string[] {
  const out: string[] = []
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ]
  for (const re of patterns) for (const m of code.matchAll(re)) out.push(m[1]!)
  return out
}

function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
}

describe('layering', () => {
  test('there are core files to check', () => {
    expect(coreFiles.length).toBeGreaterThan(0)
  })

  test.each(coreFiles.map((f) => [relative(root, f), f]))(
    '%s imports no Node modules, undici, or adapters',
    (_name, file) => {
      const code = stripComments(readFileSync(file, 'utf8'))
      const bad: string[] = []
      for (const spec of specifiers(code)) {
        if (spec.startsWith('node:')) bad.push(spec)
        else if (NODE_BUILTINS.includes(spec)) bad.push(spec)
        else if (spec === 'undici' || spec.startsWith('undici/')) bad.push(spec)
        else if (spec.startsWith('.')) {
          const target = resolve(join(file, '..'), spec)
          if (isAdapter(target)) bad.push(spec)
        }
      }
      expect(bad).toEqual([])
    },
  )

  test.each(coreFiles.map((f) => [relative(root, f), f]))('%s uses no Buffer or process', (_name, file) => {
    const code = stripComments(readFileSync(file, 'utf8'))
    expect(code).not.toMatch(/\bBuffer\b/)
    expect(code).not.toMatch(/\bprocess\s*\./)
  })
})

/**
 * Layering, checked in the spirit of go-containerregistry's depcheck: every folder of `src/` may import only the
 * folders its layer allows (the table in docs/architecture.md), core code stays runtime-neutral (no `node:`, no
 * undici, no `Buffer`/`process`), and folders form no import cycle except the type-only ones listed below.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { describe, expect, test } from 'vitest'

const root = resolve(import.meta.dirname, '..')
const src = join(root, 'src')

/** L0 core: formats and cryptography; no I/O. */
const CORE = ['errors', 'internal', 'contracts', 'keys', 'trust', 'x509', 'dsse', 'attestation', 'bundle', 'signature']
/**
 * Which folders each folder may import (besides itself). Folders that hold both a format (L0) and its client (L1):
 * `oci`, `rekor`, `timestamp`; inside them only the client files may use `http` (see CLIENT_FILES).
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  // L0 pure core
  errors: [],
  internal: ['errors'],
  contracts: ['bundle', 'rekor', 'timestamp', 'keys', 'internal'], // types only (checked below); internal: host types
  keys: ['errors', 'internal', 'contracts'],
  trust: ['errors', 'internal', 'keys', 'oci'], // oci: media types only (OCI_MEDIA_TYPES_ONLY)
  x509: ['errors', 'internal', 'keys', 'trust'],
  dsse: ['errors', 'internal', 'keys', 'contracts', 'oci'], // oci: media types only
  attestation: ['errors', 'internal'],
  bundle: ['errors', 'internal', 'keys', 'dsse', 'contracts', 'oci'], // oci: media types only
  signature: ['errors', 'internal', 'oci', 'bundle', 'contracts'],
  // L0 formats with their L1 clients
  oci: ['errors', 'internal', 'http'],
  rekor: ['errors', 'internal', 'keys', 'trust', 'x509', 'dsse', 'bundle', 'contracts', 'http'],
  timestamp: ['errors', 'internal', 'keys', 'trust', 'x509', 'contracts', 'http'],
  // L0 verification of everything above (no I/O)
  verifier: [
    'errors',
    'internal',
    'keys',
    'trust',
    'x509',
    'dsse',
    'attestation',
    'bundle',
    'rekor',
    'timestamp',
    'oci',
  ],
  // L1 I/O clients
  http: ['errors', 'internal'],
  oidc: ['errors', 'internal', 'keys', 'http'],
  fulcio: ['errors', 'internal', 'keys', 'trust', 'x509', 'contracts', 'http', 'oidc'],
  kms: ['errors', 'internal', 'keys', 'contracts', 'http'],
  signers: ['errors', 'keys', 'contracts'],
  // L2 orchestration
  witness: ['errors', 'internal', 'bundle', 'contracts', 'signature', 'trust', 'rekor', 'timestamp', 'fulcio', 'http'],
  image: [...CORE, 'oci', 'rekor', 'timestamp', 'verifier', 'witness'],
  blob: [...CORE, 'oci', 'verifier', 'witness'], // oci: media types only
  artifacts: [...CORE, 'oci', 'image'],
  admission: ['errors', 'internal', 'oci'],
  policy: [...CORE, 'oci', 'image', 'admission'],
  // L3 adapters
  node: [...CORE, 'oci', 'rekor', 'timestamp', 'verifier', 'http', 'oidc', 'fulcio', 'kms', 'signers', 'admission'],
  cli: [], // everything: see allowedFor
  index: [...CORE, 'oci', 'image', 'signers'],
}
/**
 * Folders whose only business with `oci` is its media-type constants (every media type lives in
 * `oci/media-types.ts`): they may import that file and nothing else of `oci` (no registry client, no OCI formats).
 */
const OCI_MEDIA_TYPES_ONLY = ['trust', 'dsse', 'bundle', 'verifier', 'blob']
const OCI_MEDIA_TYPES = join(src, 'oci', 'media-types')
const EVERYTHING = Object.keys(ALLOWED).filter((f) => f !== 'cli' && f !== 'index')
const allowedFor = (folder: string) => (folder === 'cli' ? EVERYTHING : (ALLOWED[folder] ?? []))

/** Files of the mixed folders that are I/O clients, or re-export them (the only ones there that may import `http`). */
const CLIENT_FILES =
  /^(oci\/(registry[-\w]*|auth|blob-download|blob-upload|index)|rekor\/(client(-v2)?|index)|timestamp\/(client|index))\.ts$/

/**
 * Folder cycles allowed because every import on one side is type-only (erased at build time), each with why.
 * Key: the two folders, sorted, joined by ` ↔ `.
 */
const TYPE_ONLY_CYCLES: Readonly<Record<string, string>> = {
  'bundle ↔ contracts':
    'the log-writer contract names the bundle content it logs; verification material is built from a signer’s KeyMaterial',
  'contracts ↔ rekor':
    'WitnessResult names Rekor’s verified entry; the Rekor clients implement the log-writer contract',
  'contracts ↔ timestamp':
    'WitnessResult names a verified timestamp; the TSA client implements the timestamp-authority contract',
}

const ADAPTERS = ['node', 'cli']
const NODE_BUILTINS = new Set(
  'fs fs/promises path crypto child_process os http https http2 net tls stream stream/promises stream/web util url buffer process events worker_threads zlib dns readline module vm assert perf_hooks timers timers/promises string_decoder tty'.split(
    ' ',
  ),
)

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? walk(p) : /\.(m|c)?[tj]sx?$/.test(name) ? [p] : []
  })
}

/** The layer folder of a file: its top folder under src/, or the root file's name (`errors`, `index`). */
function folderOf(file: string): string {
  const parts = relative(src, file).split(sep)
  return parts.length === 1 ? parts[0]!.replace(/\.[jt]s$/, '') : parts[0]!
}

function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
}

interface Import {
  readonly spec: string
  readonly typeOnly: boolean
}

/** Static imports/exports (with whether they are type-only), dynamic import() and require(). */
function imports(code: string): Import[] {
  const out: Import[] = []
  for (const m of code.matchAll(/\b(import|export)(\s+type)?(\s[^'"`;]*?\bfrom\s*|\s*)['"]([^'"]+)['"]/g)) {
    const clause = m[3] ?? ''
    // `import { type A, type B } from` is as erasable as `import type { A, B } from`.
    const named = /^\s*\{([^}]*)\}\s*from\s*$/.exec(clause)
    const allTypes = named !== null && named[1]!.split(',').every((n) => n.trim() === '' || /^type\s/.test(n.trim()))
    out.push({ spec: m[4]!, typeOnly: m[2] !== undefined || allTypes })
  }
  for (const m of code.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    out.push({ spec: m[1]!, typeOnly: false })
  }
  return out
}

const files = walk(src)
const coreFiles = files.filter((f) => !ADAPTERS.includes(folderOf(f)))
const parsed = files.map((file) => ({
  file,
  name: relative(src, file).split(sep).join('/'),
  folder: folderOf(file),
  imports: imports(stripComments(readFileSync(file, 'utf8'))),
}))

describe('layering', () => {
  test('every folder of src/ has a row in the layer table', () => {
    const folders = [...new Set(parsed.map((p) => p.folder))].sort()
    expect(folders.filter((f) => !(f in ALLOWED))).toEqual([])
  })

  test('the root of src/ holds only the package entry points', () => {
    const rootFiles = files.filter((f) => dirname(f) === src).map((f) => relative(src, f))
    expect(rootFiles.sort()).toEqual(['errors.ts', 'index.ts'])
  })

  test.each(parsed.map((p) => [p.name, p] as const))('%s imports only folders its layer allows', (_name, p) => {
    const bad: string[] = []
    for (const { spec, typeOnly } of p.imports) {
      if (!spec.startsWith('.')) continue
      const target = resolve(dirname(p.file), spec)
      const to = folderOf(target)
      if (to === p.folder) continue
      if (!allowedFor(p.folder).includes(to)) bad.push(`${spec} (${p.folder} → ${to})`)
      else if (p.folder === 'contracts' && !typeOnly) bad.push(`${spec} (contracts hold types only)`)
      else if (
        to === 'oci' &&
        OCI_MEDIA_TYPES_ONLY.includes(p.folder) &&
        target.replace(/\.[jt]s$/, '') !== OCI_MEDIA_TYPES
      ) {
        bad.push(`${spec} (${p.folder} may use only oci/media-types from oci)`)
      } else if (to === 'http' && ['oci', 'rekor', 'timestamp'].includes(p.folder) && !CLIENT_FILES.test(p.name)) {
        bad.push(`${spec} (only the client files of ${p.folder} may use http)`)
      }
    }
    expect(bad).toEqual([])
  })

  test('folder-level import cycles are only the listed type-only ones', () => {
    const edges = new Map<string, { typeOnly: boolean }>()
    for (const p of parsed) {
      for (const { spec, typeOnly } of p.imports) {
        if (!spec.startsWith('.')) continue
        const to = folderOf(resolve(dirname(p.file), spec))
        if (to === p.folder) continue
        const key = `${p.folder}→${to}`
        const e = edges.get(key)
        edges.set(key, { typeOnly: (e?.typeOnly ?? true) && typeOnly })
      }
    }
    const cycles: Record<string, boolean> = {}
    for (const [key, e] of edges) {
      const [a, b] = key.split('→') as [string, string]
      const back = edges.get(`${b}→${a}`)
      if (back === undefined) continue
      cycles[[a, b].sort().join(' ↔ ')] = e.typeOnly || back.typeOnly
    }
    // A cycle is tolerated only when one direction is erased at build time, and only when it is listed.
    expect(Object.keys(cycles).sort()).toEqual(Object.keys(TYPE_ONLY_CYCLES).sort())
    expect(Object.values(cycles).every(Boolean)).toBe(true)
  })

  test.each(coreFiles.map((f) => [relative(root, f), f]))(
    '%s imports no Node modules, undici, or adapters',
    (_name, file) => {
      const bad: string[] = []
      for (const { spec } of imports(stripComments(readFileSync(file, 'utf8')))) {
        if (spec.startsWith('node:') || NODE_BUILTINS.has(spec)) bad.push(spec)
        else if (spec === 'undici' || spec.startsWith('undici/')) bad.push(spec)
        else if (spec.startsWith('.') && ADAPTERS.includes(folderOf(resolve(dirname(file), spec)))) bad.push(spec)
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

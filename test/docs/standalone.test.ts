/**
 * The repository stands alone: nothing under src/, test/, bench/, scripts/, examples/, docs/ or README.md points at
 * reference notes or fixture folders kept outside it, and every `docs/<name>.md §<heading>` citation names a heading
 * that document has.
 * Under test/vectors only the `SOURCE.md` provenance notes are ours; the rest is upstream data and is not read.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, join, relative, resolve, sep } from 'node:path'
import { describe, expect, test } from 'vitest'

const root = resolve(import.meta.dirname, '../..')
const SCANNED = ['src', 'test', 'bench', 'scripts', 'examples', 'docs', 'README.md']
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git'])
const TEXT_FILE = /\.(?:[cm]?[jt]sx?|json|md|sh|ya?ml|txt|html|cue|rego)$/
const VECTORS = join('test', 'vectors')

// Built from pieces so that this file does not match itself. The notes files, and the folder of reference material
// the test vectors were first gathered in (under any of the names it was reached by): provenance must name the
// upstream origin instead (see test/vectors/*/SOURCE.md).
const OUTSIDE_REFERENCES = [
  ...['cosign', 'sigstore', 'STYLE'].map((name) => `${name}.md`),
  ['..', 'shared'].join('/'),
  ['shared', 'fixtures'].join('/'),
  ['', 'work', 'shared'].join('/'),
]
// The same folder named in prose: the word "shared" followed by "fixture…" or by a backticked `fixtures/` path.
const OUTSIDE_PROSE = /\bshared (?:fixture|`fixtures\/)/

/** The outside references `line` contains. */
function outsideReferences(line: string): string[] {
  const found = OUTSIDE_REFERENCES.filter((needle) => line.includes(needle))
  const prose = OUTSIDE_PROSE.exec(line)
  return prose ? [...found, prose[0]] : found
}

function scannedFiles(): string[] {
  const files: string[] = []
  const walk = (path: string): void => {
    const rel = relative(root, path)
    if (statSync(path).isDirectory()) {
      if (SKIPPED_DIRS.has(basename(path))) return
      for (const name of readdirSync(path).sort()) walk(join(path, name))
      return
    }
    if (!TEXT_FILE.test(path)) return
    if (rel.startsWith(VECTORS + sep) && basename(path) !== 'SOURCE.md') return
    files.push(rel)
  }
  for (const entry of SCANNED) {
    const path = join(root, entry)
    if (existsSync(path)) walk(path)
  }
  return files
}

/** Heading texts of a Markdown document, outside code fences. */
function markdownHeadings(markdown: string): string[] {
  const headings: string[] = []
  let fenced = false
  for (const line of markdown.split('\n')) {
    if (/^\s*(?:```|~~~)/.test(line)) fenced = !fenced
    if (fenced) continue
    const m = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line)
    if (m) headings.push(m[1]!)
  }
  return headings
}

const CITATION = /(?<![\w./-])docs\/([a-z0-9-]+)\.md`?/g
const NEXT_SECTION = /^(?:\s*,\s*(?:and\s+)?|\s+and\s+)§/

/**
 * Citations of `docs/<name>.md` sections in `text` whose heading `docsHeadings(name)` lacks. A citation is the file
 * name (optionally in backticks) followed by `§Heading`, more sections joined with `,` or `and`
 * (`docs/x.md §A, §B`); comment continuation markers between lines are ignored. Documents `docsHeadings` does not
 * know (upstream paths such as fulcio's `docs/oid-info.md`) are not checked.
 */
function badCitations(text: string, docsHeadings: (name: string) => readonly string[] | undefined): string[] {
  const joined = text.replace(/\n[ \t]*(?:\*(?!\/)|\/\/)?[ \t]*/g, ' ')
  const problems: string[] = []
  for (const m of joined.matchAll(CITATION)) {
    const headings = docsHeadings(m[1]!)
    if (!headings) continue
    let rest = joined.slice(m.index + m[0].length)
    const first = /^\s*§/.exec(rest)
    if (!first) continue
    rest = rest.slice(first[0].length)
    for (;;) {
      const found = headings
        .filter((h) => rest.startsWith(h) && !/^[\w-]/.test(rest.slice(h.length)))
        .sort((a, b) => b.length - a.length)[0]
      if (found === undefined) {
        problems.push(`docs/${m[1]}.md §${rest.slice(0, 40)}…`)
        break
      }
      rest = rest.slice(found.length)
      const next = NEXT_SECTION.exec(rest)
      if (!next) break
      rest = rest.slice(next[0].length)
    }
  }
  return problems
}

const headingsByDoc = new Map<string, string[] | undefined>()
function repoDocHeadings(name: string): string[] | undefined {
  if (!headingsByDoc.has(name)) {
    const path = join(root, 'docs', `${name}.md`)
    headingsByDoc.set(name, existsSync(path) ? markdownHeadings(readFileSync(path, 'utf8')) : undefined)
  }
  return headingsByDoc.get(name)
}

describe('the repository stands alone', () => {
  const files = scannedFiles()

  test('scans the tree', () => {
    expect(files).toContain('README.md')
    expect(files).toContain(join('docs', 'formats.md'))
    expect(files.some((f) => f.startsWith(`src${sep}`))).toBe(true)
    expect(files.some((f) => f.startsWith(VECTORS) && !f.endsWith('SOURCE.md'))).toBe(false)
  })

  test('no file points at reference notes outside the repository', () => {
    const problems: string[] = []
    for (const file of files) {
      const lines = readFileSync(join(root, file), 'utf8').split('\n')
      lines.forEach((line, i) => {
        for (const needle of outsideReferences(line)) problems.push(`${file}:${i + 1}: ${needle}`)
      })
    }
    expect(problems).toEqual([])
  })

  test('the outside-reference check catches every spelling of the folder outside', () => {
    const shared = ['shared', 'fixtures'].join('/')
    expect(outsideReferences(`Copied from \`${shared}/bundles/<case>/\``)).toEqual([shared])
    expect(outsideReferences(`see ${['', 'work', 'shared', 'fixtures'].join('/')}/README.md`)).toHaveLength(2)
    expect(outsideReferences(`import x from '${['..', 'shared'].join('/')}/x.js'`)).toHaveLength(1)
    expect(outsideReferences('sigstore/sigstore-conformance @ a73de497 `test/assets/bundle-verify/`')).toEqual([])
    const prose = ['the', 'shared', 'fixture set'].join(' ')
    expect(outsideReferences(`Copied verbatim from ${prose} \`fixtures/keys/<id>/\``)).toHaveLength(1)
    expect(outsideReferences(`copied from the ${['shared', '`fixtures/cosign/`'].join(' ')}`)).toHaveLength(1)
    expect(outsideReferences('a sharedFixtures helper; shared test data')).toEqual([])
  })

  test('every docs/<name>.md §heading citation names an existing heading', () => {
    const problems: string[] = []
    let cited = 0
    for (const file of files) {
      const text = readFileSync(join(root, file), 'utf8')
      cited += (text.match(/docs\/formats\.md`? §/g) ?? []).length
      for (const p of badCitations(text, repoDocHeadings)) problems.push(`${file}: ${p}`)
    }
    expect(problems).toEqual([])
    expect(cited).toBeGreaterThan(10)
  })

  test('the citation check catches a missing heading', () => {
    const headings = (name: string) => (name === 'x' ? ['Alpha', 'Beta gamma', 'Beta'] : undefined)
    const doc = ['docs', 'x.md'].join('/')
    expect(badCitations(`/**\n * See ${doc} §Alpha, §Beta gamma and §Beta.\n */`, headings)).toEqual([])
    expect(badCitations(`// (${doc}\n// §Beta gamma)`, headings)).toEqual([])
    expect(badCitations(`\`${doc}\` §Alpha: more`, headings)).toEqual([])
    expect(badCitations(`${doc} §Alphabet`, headings)).toEqual([`${doc} §Alphabet…`])
    expect(badCitations(`${doc} §Alpha, §Delta)`, headings)).toEqual([`${doc} §Delta)…`])
    expect(badCitations(`${doc} with RFC 1 §2`, headings)).toEqual([])
    expect(badCitations(`other/${doc} §Nope`, headings)).toEqual([])
  })
})

// Issue 14: the yaml composer recursed once per nesting level, so ~100 KB of nested brackets or indentation
// overflowed the stack (reported as "YAML: Maximum call stack size exceeded" after most of a second). Parsing now
// stops once collections nest past 64 levels, before the composer sees them (docs/formats.md §Input limits).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { parsePolicies } from '../../src/policy/parse.js'
import { parseYAMLDocumentsBounded } from '../../src/policy/yaml-nesting.js'
import { expectShapeError, HOSTILE_DEPTH, nestedArrays, nestedObjects } from '../support/deep-json.js'

const root = resolve(import.meta.dirname, '../..')
const HEADER = 'apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata:\n  name: p\n'

describe('parsePolicies refuses deeply nested input with a coded error', () => {
  const cases: [string, string][] = [
    ['flow sequences (the reproduction)', `${HEADER}spec: ${nestedArrays()}\n`],
    ['flow mappings', `${HEADER}spec: ${nestedObjects()}\n`],
    ['JSON text', nestedObjects()],
    ['compact block sequences', `${HEADER}spec:\n  images:\n  ${'- '.repeat(HOSTILE_DEPTH)}a\n`],
    ['indented block mappings', Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')],
    ['a second document', `${HEADER}---\n${nestedArrays(1000)}\n`],
  ]
  for (const [name, text] of cases) {
    it(name, async () => {
      const e = await expectShapeError(() => parsePolicies(text, { source: 'p.yaml' }), 'ERR_INVALID_INPUT', 'too-deep')
      expect(e.message).toBe('p.yaml: policy is nested too deeply (more than 64 levels)')
    })
  }

  it('refuses a decoded document as deep, and keeps the size limit coded', async () => {
    const e = await expectShapeError(() => parsePolicies(JSON.parse(nestedArrays())), 'ERR_INVALID_INPUT', 'too-deep')
    expect(e.message).toBe('policy is nested too deeply (more than 64 levels)')
    await expectShapeError(() => parsePolicies('#'.repeat(5 * 1024 * 1024)), 'ERR_INVALID_INPUT', 'too-large')
  })
})

describe('parseYAMLDocumentsBounded', () => {
  const depthOf = (text: string) => {
    let d = 0
    while (parseYAMLDocumentsBounded(text, d) === 'too-deep') d++
    return d
  }

  it('bounds the nesting of collections, block or flow, as the parser sees it', () => {
    // Collections, plus one for a scalar in block context: never fewer than the composer's recursion.
    expect(depthOf('a: 1\n')).toBe(2)
    expect(depthOf('a:\n  b:\n    c: 1\n')).toBe(4)
    expect(depthOf('- - - a\n')).toBe(4)
    expect(depthOf('a: [[[1]]]\n')).toBe(4)
    expect(depthOf('{"a": [[{"b": 1}]]}')).toBe(5)
    expect(depthOf('[[[1]]]')).toBe(3)
    expect(depthOf('a:\n- b:\n  - c: [d]\n')).toBe(6)
    expect(parseYAMLDocumentsBounded(nestedArrays(), 64)).toBe('too-deep')
  })

  it('does not count brackets in quoted scalars, comments or block scalars', () => {
    const text = [
      'a: "[[[[[[[[{{{{"',
      "b: '[[[[''[[[['",
      'c: x[[[[[[[[',
      'd: 1 # [[[[[[[[[',
      'e: |',
      '      [[[[[[[[',
      '            deeply',
      'f: ok',
    ].join('\n')
    const docs = parseYAMLDocumentsBounded(text, 3, { uniqueKeys: true })
    expect(docs).not.toBe('too-deep')
    if (typeof docs === 'string') return
    expect(docs[0]!.errors).toEqual([])
    expect(docs[0]!.toJS()).toMatchObject({ a: '[[[[[[[[{{{{', c: 'x[[[[[[[[', d: 1, f: 'ok' })
  })

  it('reads every YAML file of the repository (fixtures, examples) well under the limit, as parseAllDocuments does', () => {
    const files = execFileSync('git', ['ls-files', '*.yaml', '*.yml'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f !== '')
    expect(files.length).toBeGreaterThan(50)
    for (const f of files) {
      const text = readFileSync(join(root, f), 'utf8')
      const docs = parseYAMLDocumentsBounded(text, 16, { uniqueKeys: true })
      expect(docs, f).toBeInstanceOf(Array)
      const expected = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true })
      const list = Array.isArray(expected) ? expected : []
      if (typeof docs === 'string') continue
      expect(
        docs.map((d) => [d.toJS(), d.errors.length]),
        f,
      ).toEqual(list.map((d) => [d.toJS(), d.errors.length]))
    }
  })
})

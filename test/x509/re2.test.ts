// Identity regexps run on RE2 (re2js): Go's syntax and verdicts, time linear in the input for the patterns that
// make a backtracking RegExp run for minutes (issue 14), and re2js loaded only when a regexp is given.
import { resolve } from 'node:path'
import { build } from 'esbuild'
import { describe, expect, test, vi } from 'vitest'
import { identityRegExpMatches, MAX_MATCHED_IDENTITY_LENGTH } from '../../src/x509/identity.js'
import { compileIdentityRegExp } from '../../src/x509/index.js'

const N = 100_000

/** Compile and test once, timed: RE2's verdict and how long it took, compile included. */
function timed(pattern: string, input: string): { verdict: boolean; ms: number } {
  const start = performance.now()
  const verdict = compileIdentityRegExp(pattern).test(input)
  return { verdict, ms: performance.now() - start }
}

describe('pathological patterns run in linear time (100,000 characters, < 1 s each)', () => {
  // Each row: the pattern, an input on which a backtracking RegExp runs for minutes (the no-match case), and a
  // matching input of the same size, with the verdicts Go's regexp.MatchString gives.
  test.each([
    ['^(a+)+$', `${'a'.repeat(N)}!@example.com`, 'a'.repeat(N)],
    [
      '^https://github\\.com/([a-z]+-?)+/app/',
      `https://github.com/${'a'.repeat(N)}/ap`,
      `https://github.com/${'ab-'.repeat(N / 3)}/app/x`,
    ],
    ['.*.*.*@example\\.com', `${'a'.repeat(N)}@example.co`, `${'a'.repeat(N)}@example.com`],
    [
      '^https://github.com/.*/.*/.*/.*@refs/.*$',
      `https://github.com/${'/'.repeat(N)}`,
      `https://github.com/${'/'.repeat(N)}@refs/heads/main`,
    ],
  ])('%s', (pattern, hostile, matching) => {
    const no = timed(pattern, hostile)
    expect(no.verdict).toBe(false)
    expect(no.ms).toBeLessThan(1000)
    const yes = timed(pattern, matching)
    expect(yes.verdict).toBe(true)
    expect(yes.ms).toBeLessThan(1000)
  })

  test("the issue's e-mail: 34 a's and a '!' against ^(a+)+$", () => {
    const { verdict, ms } = timed('^(a+)+$', `${'a'.repeat(34)}!@example.com`)
    expect(verdict).toBe(false)
    expect(ms).toBeLessThan(1000)
  })
})

describe("Go's regexp syntax and semantics", () => {
  test.each([
    ['^https://github\\.com/acme/', 'https://github.com/acme/app', true],
    ['acme', 'https://github.com/acme/app', true], // unanchored, like MatchString
    ['^acme', 'https://github.com/acme/app', false],
    ['(?i)^HTTPS://', 'https://x', true],
    ['a(?i)b', 'aB', true], // flags anywhere, as Go allows
    ['a(?i:b)c', 'aBc', true],
    ['a(?i:b)c', 'aBC', false],
    ['(?i)k', '\u212a', true], // Go folds the Kelvin sign to k
    ['(?P<org>[a-z]+)/app', 'acme/app', true],
    ['(?<org>[a-z]+)/app', 'acme/app', true],
    ['^\\pL+$', 'héllo', true],
    ['^\\pL+$', 'h3llo', false],
    ['^\\p{Greek}+$', 'αβγ', true],
    ['^\\PL$', '3', true],
    ['\\Ahttps\\z', 'https', true],
    ['\\Ahttps\\z', 'https\n', false],
    ['^a$', 'a\n', false], // $ is \z without (?m)
    ['(?m)^b$', 'a\nb\nc', true],
    ['a.b', 'a\nb', false],
    ['(?s)a.b', 'a\nb', true],
    ['^.$', '😀', true], // one code point
    ['[[:alpha:]]+@example\\.com$', 'me@example.com', true],
    ['^[[:^alpha:]]+$', '123', true],
    ['a\\sb', 'a\u00a0b', false], // Go's \s is ASCII only
    ['a\\sb', 'a\vb', false],
    ['a\\sb', 'a b', true],
    ['\\Q.*\\E', 'x.*y', true],
    ['\\Q.*\\E', 'xxy', false],
    ['[]a]', ']', true],
    ['\\x{41}', 'A', true],
    ['\\x{1F600}', '😀', true],
  ])('%s on %j → %s', (pattern, input, want) => {
    expect(compileIdentityRegExp(pattern).test(input)).toBe(want)
  })

  test('(?U) swaps greedy and lazy, as in Go', () => {
    expect(compileIdentityRegExp('(?U)a+').exec('aaa')?.[0]).toBe('a')
    expect(compileIdentityRegExp('(?U)a+?').exec('aaa')?.[0]).toBe('aaa')
    expect(compileIdentityRegExp('a+').exec('aaa')?.[0]).toBe('aaa')
  })

  test('named groups are reported like a JavaScript match', () => {
    const m = compileIdentityRegExp('^https://github\\.com/(?P<org>[^/]+)/(?<repo>[^/]+)/').exec(
      'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
    )
    expect(m?.groups).toEqual({ org: 'acme', repo: 'app' })
    expect(m?.index).toBe(0)
  })

  test.each([
    ['a(?=b)', 're2-incompatible'],
    ['a(?!b)', 're2-incompatible'],
    ['(?<=a)b', 're2-incompatible'],
    ['(?<!a)b', 're2-incompatible'],
    ['(a)\\1', 're2-incompatible'],
    ['\\k<x>', 're2-incompatible'],
    ['[a', 'invalid-regexp'],
    ['a**', 'invalid-regexp'],
    ['a++', 'invalid-regexp'], // possessive: PCRE, not Go
    ['\\Z', 'invalid-regexp'],
    ['\\C', 'invalid-regexp'],
    ['\\p{NoSuchClass}', 'invalid-regexp'],
    ['a{1001}', 'invalid-regexp'],
    ['(', 'invalid-regexp'],
  ])('%s is refused (%s)', (pattern, reason) => {
    expect(() => compileIdentityRegExp(pattern)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT', details: { reason, pattern } }),
    )
  })

  test('refusals say why, in the words of Go for syntax errors', () => {
    expect(() => compileIdentityRegExp('a(?=b)')).toThrow(
      'regular expression "a(?=b)" uses a look-around, which RE2 does not support',
    )
    expect(() => compileIdentityRegExp('(a)\\1')).toThrow(
      'regular expression "(a)\\\\1" uses a backreference, which RE2 does not support',
    )
    expect(() => compileIdentityRegExp('[a')).toThrow(
      'regular expression "[a" is invalid: error parsing regexp: missing closing ]: `[a`',
    )
  })
})

describe('the RegExp returned', () => {
  test('is a RegExp whose source is the Go pattern and whose matching is RE2', () => {
    const re = compileIdentityRegExp('(?P<user>[a-z]+)@example\\.com')
    expect(re).toBeInstanceOf(RegExp)
    expect(re.source).toBe('(?P<user>[a-z]+)@example\\.com')
    expect(re.flags).toBe('')
    expect('mail: me@example.com'.match(re)?.groups).toEqual({ user: 'me' })
    expect('mail: me@example.com'.search(re)).toBe(6)
    expect('me@example.com'.replace(re, '<$<user>>')).toBe('<me>')
    expect(() => 'a,b'.split(re)).toThrow(TypeError)
    expect(() => [...'a'.matchAll(re)]).toThrow(TypeError)
  })

  test('is cached per pattern', () => {
    expect(compileIdentityRegExp('^x$')).toBe(compileIdentityRegExp('^x$'))
  })
})

describe('identity length bound', () => {
  test(`values over ${MAX_MATCHED_IDENTITY_LENGTH} characters are not matched`, () => {
    const atBound = `${'a'.repeat(MAX_MATCHED_IDENTITY_LENGTH - 12)}@example.com`
    expect(atBound).toHaveLength(MAX_MATCHED_IDENTITY_LENGTH)
    expect(identityRegExpMatches(atBound, '@example\\.com$')).toBe(true)
    expect(identityRegExpMatches(`a${atBound}`, '@example\\.com$')).toBe(false)
    expect(identityRegExpMatches(`a${atBound}`, '')).toBe(false)
  })
})

describe('re2js is loaded on demand', () => {
  test('the RE2 compiler needs the engine loaded, and loading is shared', async () => {
    vi.resetModules()
    const re2 = await import('../../src/x509/re2.js')
    expect(() => re2.compileRE2('a')).toThrow('the RE2 engine is not loaded')
    const [a, b] = [re2.loadRE2Engine(), re2.loadRE2Engine()]
    expect(a).toBe(b)
    await a
    expect(re2.compileRE2('a+').test('baa')).toBe(true)
    await re2.loadRE2Engine()
  })

  test('the lazy identity check asks for the engine; loadIdentityRegExps loads it only for regexps', async () => {
    vi.resetModules()
    const identity = await import('../../src/x509/identity.js')
    const re2 = await import('../../src/x509/re2.js')
    await identity.loadIdentityRegExps({ subject: 'x', issuer: 'y' })
    await identity.loadIdentityRegExps(undefined)
    expect(() => identity.compileIdentityRegExp('a')).toThrow('the RE2 engine is not loaded')
    await identity.loadIdentityRegExps({ subjectRegExp: 'x', issuer: 'y' })
    expect(identity.compileIdentityRegExp('a').test('a')).toBe(true)
    expect(() => re2.compileRE2('a')).not.toThrow()
  })

  test('countersign/verify bundles re2js only in a chunk it imports dynamically', async () => {
    const result = await build({
      entryPoints: { verify: 'src/image/verify.ts' },
      absWorkingDir: resolve(import.meta.dirname, '../..'),
      bundle: true,
      platform: 'browser',
      format: 'esm',
      splitting: true,
      outdir: '/nonexistent',
      write: false,
      metafile: true,
      logLevel: 'silent',
    })
    const outputs = Object.values(result.metafile.outputs)
    const entry = outputs.find((o) => o.entryPoint === 'src/image/verify.ts')!
    const has = (o: (typeof outputs)[number]) => Object.keys(o.inputs).some((i) => i.includes('node_modules/re2js/'))
    expect(has(entry)).toBe(false)
    const chunks = (kind: string) =>
      entry.imports.filter((i) => i.kind === kind).map((i) => result.metafile.outputs[i.path]!)
    expect(chunks('import-statement').some(has)).toBe(false)
    expect(chunks('dynamic-import').some(has)).toBe(true)
  }, 60_000)
})

describe('pattern length (found by fuzzing)', () => {
  test('a pattern over 8192 characters is refused before parsing (3 MiB took 4-15 s)', () => {
    const start = performance.now()
    let error: unknown
    try {
      compileIdentityRegExp('A'.repeat(3 * 1024 * 1024))
    } catch (e) {
      error = e
    }
    expect(performance.now() - start).toBeLessThan(100)
    expect(error).toMatchObject({ code: 'ERR_INVALID_INPUT', details: { reason: 'too-long', length: 3 * 1024 * 1024 } })
    expect((error as Error).message.length).toBeLessThan(400)
    expect(compileIdentityRegExp(`^${'a'.repeat(8191)}`).test('a'.repeat(8191))).toBe(true)
  })
})

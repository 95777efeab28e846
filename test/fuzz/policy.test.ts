/**
 * Fuzz: ClusterImagePolicy documents (`parsePolicies`) as YAML text, JSON text, bytes and decoded documents.
 * Seeds: policy-controller's valid policies (test/vectors/policy-controller/valid). Hostile YAML (alias bombs,
 * deep flow nesting, merge keys, custom tags) is generated too.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments, stringify } from 'yaml'
import { parsePolicies } from '../../src/policy/index.js'
import { jsonMutants, randomText, textMutants, utf8 } from './generators.js'
import { FUZZ_RUNS, fuzz, INPUT_LIMIT_MS } from './harness.js'
import { vectorFiles, vectorText } from './seeds.js'

const files = vectorFiles('policy-controller/valid', /\.yaml$/)
const texts = files.map(vectorText)
const docs = texts.map((t) =>
  parseAllDocuments(t)
    .map((d) => d.toJS())
    .filter((d) => d !== null && d !== undefined),
)

/**
 * Largest text input generated here. YAML parses at about 2 s per MiB of hostile text (documented in
 * src/policy/parse.ts and docs/policy.md "Limits"; the 4 MiB cap is tested in test/policy/parse-bounds.test.ts), and
 * a flow sequence of one-character items (`[0,0,0,…]`) measured about three times that here (reported with issue
 * 14's fuzzing), so inputs past 64 KiB would only measure the YAML library.
 */
const MAX_TEXT = 64 * 1024
/** That documented rate (with slack for a loaded machine) on top of the harness default. */
const YAML_MS_PER_BYTE = 2500 / (1024 * 1024)

/** YAML built to hurt a reader: exponential aliases, deep flow collections, merge keys, tags, huge scalars. */
const hostileYAML: fc.Arbitrary<{ how: string; seed: number; value: string }> = fc
  .oneof(
    fc.integer({ min: 2, max: 40 }).map((n) => {
      const lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
      for (let i = 1; i < n; i++)
        lines.push(
          `a${i}: &a${i} [${Array(9)
            .fill(`*a${i - 1}`)
            .join(',')}]`,
        )
      return `apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: bomb}\n${lines.join('\n')}\nspec: {images: *a${n - 1}}\n`
    }),
    fc.integer({ min: 1, max: 5000 }).map((d) => `${'['.repeat(d)}${']'.repeat(d)}`),
    fc.integer({ min: 1, max: 5000 }).map((d) => `${'{a: '.repeat(d)}1${'}'.repeat(d)}`),
    fc
      .integer({ min: 1, max: 2000 })
      .map((d) => `${Array.from({ length: d }, (_, i) => `${'  '.repeat(i)}- `).join('\n')}x`),
    fc.constantFrom(
      'base: &b {images: [{glob: "**"}]}\nspec:\n  <<: *b\n  <<: *b\n',
      'spec: !!binary aGVsbG8=\n',
      'spec: !!js/function "function(){}"\n',
      '%YAML 1.1\n---\nspec: !<tag:yaml.org,2002:set> {a, b}\n',
      'a: &x [*x]\n',
      '? [complex, key]\n: value\n',
      '--- |\n  literal\n--- >\n  folded\n',
      '\ufeffapiVersion: v1\n',
    ),
    fc.integer({ min: 1000, max: MAX_TEXT }).map((n) => `metadata: {name: ${'n'.repeat(n)}}\n`),
  )
  .map((value) => ({ how: 'hostile yaml', seed: -1, value }))

type Input = { how: string; seed: number; value: unknown }

function textLength(v: unknown): number {
  return typeof v === 'string' ? v.length : v instanceof Uint8Array ? v.length : 0
}

describe('fuzz: ClusterImagePolicy', () => {
  it('every seed policy file parses to at least one policy', () => {
    expect(texts.length).toBeGreaterThan(10)
    for (const t of texts) expect(parsePolicies(t).policies.length).toBeGreaterThan(0)
  })

  it(`parsePolicies returns or throws a CountersignError (${FUZZ_RUNS} inputs)`, async () => {
    await fuzz<Input>({
      name: 'policy',
      arbitrary: fc
        .oneof(
          { weight: 3, arbitrary: textMutants(texts) },
          {
            weight: 5,
            arbitrary: fc
              .record({ m: jsonMutants(docs), form: fc.constantFrom('value', 'json', 'yaml', 'bytes') })
              .map(({ m, form }) => {
                const value =
                  form === 'value'
                    ? m.value
                    : form === 'json'
                      ? m.text
                      : form === 'bytes'
                        ? utf8(m.text)
                        : yamlOf(m.value, m.text)
                return { how: `${m.how} as ${form}`, seed: m.seed, value }
              }),
          },
          { weight: 1, arbitrary: hostileYAML },
          { weight: 1, arbitrary: randomText() },
        )
        .filter((i) => textLength(i.value) <= MAX_TEXT),
      describe: (i) => `seed ${i.seed >= 0 ? files[i.seed] : '-'} ${i.how}`,
      limitMs: (i) => INPUT_LIMIT_MS + textLength(i.value) * YAML_MS_PER_BYTE,
      run: (i) => {
        parsePolicies(i.value, { source: 'fuzz.yaml' })
        return 'parsed'
      },
    })
  })
})

/** Multi-document YAML of the mutated documents (JSON text when the YAML printer refuses, e.g. too deep). */
function yamlOf(value: unknown, text: string): string {
  try {
    return Array.isArray(value) ? value.map((d) => `---\n${stringify(d)}`).join('') : stringify(value)
  } catch {
    return text
  }
}

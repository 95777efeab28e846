/**
 * Fuzz: trusted roots (`parseTrustedRoot`) and signing configs (`parseSigningConfig`), as bytes, text and decoded
 * JSON. Seeds: the production, staging and conformance roots of test/vectors and the roots of the conformance
 * bundles; the public-good signing config and a hand-written v0.2 one with every service kind.
 */
import { describe, expect, it } from 'vitest'
import { PUBLIC_GOOD_SIGNING_CONFIG_JSON, parseSigningConfig, parseTrustedRoot } from '../../src/trust/index.js'
import { type DocumentInput, documentInputs, documentOf, utf8 } from './generators.js'
import { FUZZ_RUNS, fuzz } from './harness.js'
import { bundleSeeds, vector, vectorFiles } from './seeds.js'

const rootSeeds = (() => {
  const files = vectorFiles('trusted-roots', /\.json$/).filter(
    (f) => !f.includes('_fail') && !f.endsWith('SOURCES.json'),
  )
  const all = [...files.map((f) => new Uint8Array(vector(f))), ...bundleSeeds().map((b) => b.inputs.trustedRoot)]
  const seen = new Set<string>()
  return all.filter((b) => {
    const k = Buffer.from(b).toString('base64')
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
})()

const svc = (url: string, majorApiVersion: number, start: string) => ({
  url,
  majorApiVersion,
  validFor: { start },
  operator: 'example.com',
})
const configSeeds = [
  utf8(PUBLIC_GOOD_SIGNING_CONFIG_JSON),
  utf8(
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [svc('https://fulcio.example.com', 1, '2023-04-14T21:38:40Z')],
      oidcUrls: [svc('https://oauth2.example.com/auth', 1, '2025-04-16T00:00:00Z')],
      rekorTlogUrls: [
        svc('https://rekor.example.com', 1, '2021-01-12T11:53:27Z'),
        svc('https://log2025.example.com', 2, '2025-09-23T00:00:00Z'),
      ],
      rekorTlogConfig: { selector: 'ANY' },
      tsaUrls: [svc('https://tsa.example.com/api/v1/timestamp', 1, '2025-07-04T00:00:00Z')],
      tsaConfig: { selector: 'EXACT', count: 1 },
    }),
  ),
]

/** Half the structured mutants go in as text (a string), the rest as bytes or decoded JSON. */
const asInput = (doc: DocumentInput, text: boolean) =>
  'value' in doc ? doc.value : text ? new TextDecoder().decode(doc.bytes) : doc.bytes

describe('fuzz: trusted roots', () => {
  it('every seed root parses', () => {
    expect(rootSeeds.length).toBeGreaterThan(5)
    for (const r of rootSeeds) {
      const root = parseTrustedRoot(r)
      expect(root.certificateAuthorities.length + root.tlogs.length + root.timestampAuthorities.length).toBeGreaterThan(
        0,
      )
    }
  })

  it(`parseTrustedRoot returns or throws a CountersignError (${FUZZ_RUNS} inputs)`, async () => {
    await fuzz<DocumentInput>({
      name: 'trusted-root',
      arbitrary: documentInputs(rootSeeds),
      describe: (doc) => `seed ${doc.seed} ${doc.how}`,
      run: (doc) => {
        parseTrustedRoot(asInput(doc, doc.bytes.length % 2 === 0))
        return 'parsed'
      },
    })
  })
})

describe('fuzz: signing configs', () => {
  it('every seed config parses', () => {
    for (const c of configSeeds) expect(parseSigningConfig(c).caUrls.length).toBeGreaterThan(0)
  })

  it(`parseSigningConfig returns or throws a CountersignError (${FUZZ_RUNS} inputs)`, async () => {
    await fuzz<DocumentInput>({
      name: 'signing-config',
      arbitrary: documentInputs(configSeeds),
      describe: (doc) => `seed ${doc.seed} ${doc.how}`,
      run: (doc) => {
        parseSigningConfig(documentOf(doc))
        return 'parsed'
      },
    })
  })
})

import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseStatement, statementHasSubjectDigest } from '../../src/attestation/statement.js'
import { parseBundle, serializeBundle } from '../../src/bundle/bundle.js'
import { BUNDLE_V03_MEDIA_TYPE } from '../../src/oci/media-types.js'

const dir = new URL('../vectors/bundles/', import.meta.url)
const read = (c: string) => readFileSync(new URL(`${c}/bundle.sigstore.json`, dir))

/**
 * Cases whose stated failure is in the bundle's own structure (case.json "why"), so parsing must already reject
 * them. `sigstore-js-client-v0.4-media-type-accepted` is optional lenience (shared/README.md): we reject unknown
 * bundle versions.
 */
const PARSE_FAILS = new Set([
  'conformance-bundle-malformed-json_fail',
  'conformance-bundle-unknown-version_fail',
  'conformance-bundle-empty-certificate-chain_fail',
  'conformance-bundle-invalid-base64-signature_fail',
  'sigstore-python-empty-cert-chain-v0.1_fail',
  'sigstore-python-invalid-media-type_fail',
  'sigstore-js-client-v0.4-media-type-accepted',
])

describe('parseBundle on real bundles', () => {
  for (const c of readdirSync(dir).filter((d) => !d.endsWith('.md'))) {
    const rejected = PARSE_FAILS.has(c)
    it(`${c}: ${rejected ? 'rejected at parse time' : 'parses'}`, () => {
      if (rejected) {
        expect(() => parseBundle(read(c))).toThrow(expect.objectContaining({ code: 'ERR_BUNDLE_INVALID' }))
        return
      }
      const b = parseBundle(read(c))
      expect(['0.1', '0.2', '0.3']).toContain(b.version)
      expect(['publicKey', 'certificate', 'x509CertificateChain']).toContain(b.verificationMaterial.type)
    })
  }

  it('reads the cosign attestation bundle: DSSE in-toto v0.1 statement about the test image', () => {
    const b = parseBundle(read('cosign-oci-attestation'))
    expect(b.mediaType).toBe(BUNDLE_V03_MEDIA_TYPE)
    expect(b.verificationMaterial.type).toBe('certificate')
    expect(b.tlogEntries).toHaveLength(1)
    if (b.content.type !== 'dsseEnvelope') throw new Error('expected DSSE')
    const st = parseStatement(b.content.envelope.payload)
    expect(st._type).toBe('https://in-toto.io/Statement/v0.1')
    expect(st.predicateType).toBe('https://cosign.sigstore.dev/attestation/v1')
    expect(
      statementHasSubjectDigest(st, 'sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4'),
    ).toBe(true)
  })

  it('serialises a parsed v0.3 bundle back to the same JSON value (protojson field order, tlog entries kept)', () => {
    const text = read('conformance-managed-key-happy-path').toString('utf8')
    const parsed = parseBundle(JSON.parse(text))
    expect(JSON.parse(new TextDecoder().decode(serializeBundle(parsed)))).toEqual(JSON.parse(text))
  })

  it.each([
    ['no verification material', { mediaType: BUNDLE_V03_MEDIA_TYPE, dsseEnvelope: {} }],
    ['no content', { mediaType: BUNDLE_V03_MEDIA_TYPE, verificationMaterial: { publicKey: { hint: 'x' } } }],
    ['array', []],
    [
      'tlogEntries not a list',
      { mediaType: BUNDLE_V03_MEDIA_TYPE, verificationMaterial: { publicKey: {}, tlogEntries: 1 } },
    ],
    [
      'bad certificate base64',
      {
        mediaType: BUNDLE_V03_MEDIA_TYPE,
        verificationMaterial: { certificate: { rawBytes: '%%' } },
        messageSignature: { signature: 'AA==' },
      },
    ],
  ])('rejects a bundle with %s', (_, doc) => {
    expect(() => parseBundle(doc)).toThrow(expect.objectContaining({ code: 'ERR_BUNDLE_INVALID' }))
  })
})

// Issue 18: the content is a protobuf oneof. Before, a bundle with both was accepted (the DSSE envelope was used).
describe('bundle content is one of dsseEnvelope or messageSignature', () => {
  const dsse = JSON.parse(read('conformance-happy-path-intoto-in-dsse-v3').toString('utf8'))
  const message = JSON.parse(read('conformance-happy-path-v0.3').toString('utf8'))

  it('refuses a bundle carrying both', () => {
    for (const both of [
      { ...dsse, messageSignature: message.messageSignature },
      { ...message, dsseEnvelope: dsse.dsseEnvelope },
    ]) {
      expect(() => parseBundle(new TextEncoder().encode(JSON.stringify(both)))).toThrow(
        expect.objectContaining({
          code: 'ERR_BUNDLE_INVALID',
          message: 'bundle has both dsseEnvelope and messageSignature',
        }),
      )
    }
  })

  it('reads each alone, and an explicit null messageSignature as absent (protojson)', () => {
    expect(parseBundle(new TextEncoder().encode(JSON.stringify(dsse))).content.type).toBe('dsseEnvelope')
    expect(parseBundle(new TextEncoder().encode(JSON.stringify(message))).content.type).toBe('messageSignature')
    const withNull = { ...dsse, messageSignature: null }
    expect(parseBundle(new TextEncoder().encode(JSON.stringify(withNull))).content.type).toBe('dsseEnvelope')
  })
})

import { describe, expect, it } from 'vitest'
import { normalizeLinkPredicate } from '../../src/attestation/link.js'
import {
  createAttestationStatement,
  PREDICATE_TYPE_ALIASES,
  resolvePredicateType,
} from '../../src/attestation/predicates.js'
import {
  createSLSAProvenanceV1,
  normalizeSLSAProvenanceV1,
  normalizeSLSAProvenanceV02,
} from '../../src/attestation/slsa-provenance.js'
import { createCosignVulnPredicate, normalizeCosignVulnPredicate } from '../../src/attestation/vuln.js'

const dec = new TextDecoder()
const HEX = 'ab'.repeat(32)
const base = { subjectName: '127.0.0.1:5000/repo', digest: `sha256:${HEX}` }
const SUBJECT = `"subject":[{"name":"127.0.0.1:5000/repo","digest":{"sha256":"${HEX}"}}]`

describe('predicate types', () => {
  it('maps cosign --type aliases to URIs and takes other URIs verbatim', () => {
    expect(PREDICATE_TYPE_ALIASES).toEqual({
      custom: 'https://cosign.sigstore.dev/attestation/v1',
      slsaprovenance: 'https://slsa.dev/provenance/v0.2',
      slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
      slsaprovenance1: 'https://slsa.dev/provenance/v1',
      spdx: 'https://spdx.dev/Document',
      spdxjson: 'https://spdx.dev/Document',
      cyclonedx: 'https://cyclonedx.org/bom',
      link: 'https://in-toto.io/Link/v1',
      vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
      openvex: 'https://openvex.dev/ns',
    })
    expect(resolvePredicateType('https://example.com/p/v1')).toBe('https://example.com/p/v1')
    expect(resolvePredicateType('/abs/path')).toBe('/abs/path')
    for (const bad of ['', 'custom2', 'urn:x', 'has space:/x', 'toString']) {
      expect(() => resolvePredicateType(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_INPUT', message: `invalid predicate type: ${bad}` }),
      )
    }
  })
})

describe('createAttestationStatement (cosign attest)', () => {
  it('custom: wraps the file text with a UTC second Timestamp in a v0.1 statement, protojson order', () => {
    const { predicateType, statement } = createAttestationStatement({
      ...base,
      type: 'custom',
      predicate: 'a <b> & "c"\n',
      timestamp: new Date('2024-05-06T07:08:09.999Z'),
    })
    expect(predicateType).toBe('https://cosign.sigstore.dev/attestation/v1')
    expect(dec.decode(statement)).toBe(
      `{"_type":"https://in-toto.io/Statement/v0.1",${SUBJECT},"predicateType":"https://cosign.sigstore.dev/attestation/v1","predicate":{"Data":"a <b> & \\"c\\"\\n","Timestamp":"2024-05-06T07:08:09Z"}}`,
    )
  })

  it('a URI type needs a JSON object; keys are sorted, no HTML escaping', () => {
    const { statement } = createAttestationStatement({
      ...base,
      type: 'https://e.com/t',
      predicate: '{"z":1,"a":"<x>"}',
    })
    expect(dec.decode(statement)).toBe(
      `{"_type":"https://in-toto.io/Statement/v0.1",${SUBJECT},"predicateType":"https://e.com/t","predicate":{"a":"<x>","z":1}}`,
    )
    expect(() => createAttestationStatement({ ...base, type: 'https://e.com/t', predicate: 'nope' })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_INPUT',
        message: expect.stringMatching(/^invalid JSON payload for predicate type https:\/\/e\.com\/t: /),
      }),
    )
    expect(() => createAttestationStatement({ ...base, type: 'cyclonedx', predicate: '"str"' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
    expect(() => createAttestationStatement({ ...base, type: 'spdxjson', predicate: new Uint8Array([0xff]) })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
  })

  it('spdx: the raw file as a JSON string, statement as a Go map (sorted keys, HTML escaped)', () => {
    const { statement } = createAttestationStatement({ ...base, type: 'spdx', predicate: 'SPDXVersion: <2.3>\n' })
    expect(dec.decode(statement)).toBe(
      `{"_type":"https://in-toto.io/Statement/v0.1","predicate":"SPDXVersion: \\u003c2.3\\u003e\\n","predicateType":"https://spdx.dev/Document",${SUBJECT}}`,
    )
  })

  it('slsaprovenance1: invocationID renamed, unknown fields and defaults dropped, timestamps in UTC', () => {
    const input = {
      buildDefinition: {
        buildType: 'https://example.com/t',
        external_parameters: { b: 1, a: [true, null] },
        resolvedDependencies: [{ uri: 'git+https://x', digest: { sha1: 'ff' }, content: 'aGk', name: '' }],
        bogus: 1,
      },
      runDetails: {
        builder: { id: 'https://example.com/b', version: {} },
        metadata: { invocationID: 'run-1', startedOn: '2024-01-02T05:04:05.120+02:00', finishedOn: null },
        byproducts: [],
      },
      extra: 'dropped',
    }
    expect(normalizeSLSAProvenanceV1(input)).toEqual({
      buildDefinition: {
        buildType: 'https://example.com/t',
        externalParameters: { b: 1, a: [true, null] },
        resolvedDependencies: [{ uri: 'git+https://x', digest: { sha1: 'ff' }, content: 'aGk=' }],
      },
      runDetails: {
        builder: { id: 'https://example.com/b' },
        metadata: { invocationId: 'run-1', startedOn: '2024-01-02T03:04:05.120Z' },
      },
    })
    const { statement } = createAttestationStatement({
      ...base,
      type: 'slsaprovenance1',
      predicate: JSON.stringify(input),
    })
    expect(dec.decode(statement)).toContain(
      '"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"buildType":"https://example.com/t","externalParameters":{"a":[true,null],"b":1},"resolvedDependencies":[{"content":"aGk=","digest":{"sha1":"ff"},"uri":"git+https://x"}]},"runDetails":{"builder":{"id":"https://example.com/b"},"metadata":{"invocationId":"run-1","startedOn":"2024-01-02T03:04:05.120Z"}}}}',
    )
    expect(
      createSLSAProvenanceV1({
        buildDefinition: { buildType: 't', externalParameters: {} },
        runDetails: { builder: { id: 'b' }, metadata: { startedOn: new Date('2024-01-01T00:00:00Z') } },
      }),
    ).toEqual({
      buildDefinition: { buildType: 't', externalParameters: {} },
      runDetails: { builder: { id: 'b' }, metadata: { startedOn: '2024-01-01T00:00:00Z' } },
    })
    for (const bad of [
      { buildDefinition: { buildType: 1 } },
      { runDetails: { metadata: { startedOn: '2024-02-30T00:00:00Z' } } },
      { runDetails: { builder: { version: { a: 1 } } } },
      { buildDefinition: { buildType: 'a', build_type: 'b' } },
      [],
    ]) {
      expect(() => normalizeSLSAProvenanceV1(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
    }
  })

  it('slsaprovenance02: proto JSON names, so buildInvocationID is dropped as cosign does', () => {
    expect(
      normalizeSLSAProvenanceV02({
        builder: { id: 'b' },
        buildType: 't',
        invocation: { configSource: { uri: 'u', digest: { sha1: 'x' }, entryPoint: 'e' } },
        metadata: {
          buildInvocationID: 'gone',
          completeness: { parameters: true, environment: false },
          reproducible: false,
        },
        materials: [{ uri: 'm' }],
      }),
    ).toEqual({
      builder: { id: 'b' },
      buildType: 't',
      invocation: { configSource: { uri: 'u', digest: { sha1: 'x' }, entryPoint: 'e' } },
      metadata: { completeness: { parameters: true } },
      materials: [{ uri: 'm' }],
    })
  })

  it('vuln: every field present, Go time format keeping the offset, case-insensitive keys', () => {
    expect(
      normalizeCosignVulnPredicate({
        Scanner: { URI: 'pkg:x', result: { n: 1 } },
        metadata: { scanStartedOn: '2024-01-02T03:04:05.500+01:00' },
      }),
    ).toEqual({
      invocation: { parameters: null, uri: '', event_id: '', 'builder.id': '' },
      scanner: { uri: 'pkg:x', version: '', db: { uri: '', version: '' }, result: { n: 1 } },
      metadata: { scanStartedOn: '2024-01-02T03:04:05.5+01:00', scanFinishedOn: '0001-01-01T00:00:00Z' },
    })
    expect(
      createCosignVulnPredicate({ metadata: { scanFinishedOn: new Date('2024-01-01T00:00:00Z') } }).metadata,
    ).toEqual({
      scanStartedOn: '0001-01-01T00:00:00Z',
      scanFinishedOn: '2024-01-01T00:00:00Z',
    })
    expect(() => normalizeCosignVulnPredicate({ scanner: { uri: 5 } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
  })

  it('link: the seven in-toto link fields are required', () => {
    const link = {
      _type: 'link',
      name: 'build',
      materials: {},
      products: {},
      byproducts: {},
      command: ['make'],
      environment: {},
    }
    expect(normalizeLinkPredicate({ ...link, extra: 1 })).toEqual(link)
    const { environment: _, ...missing } = link
    expect(() => normalizeLinkPredicate(missing)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_INPUT',
        message: 'link statement: required field environment missing',
      }),
    )
  })
})

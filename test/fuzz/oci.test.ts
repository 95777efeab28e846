/**
 * Fuzz: OCI references (`parseReference`, loose and strict; a reference that parses must print to one that parses
 * to the same thing) and manifests/indexes (`parseManifest`, with and without a media-type hint).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DOCKER_MANIFEST_LIST_MEDIA_TYPE,
  DOCKER_MANIFEST_SCHEMA2_MEDIA_TYPE,
  EMPTY_JSON_DIGEST,
  OCI_IMAGE_INDEX_MEDIA_TYPE,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
  parseManifest,
  parseReference,
  referenceToString,
} from '../../src/oci/index.js'
import { type DocumentInput, documentInputs, randomText, textMutants, utf8 } from './generators.js'
import { FUZZ_RUNS, fuzz } from './harness.js'
import { vector } from './seeds.js'

const D = `sha256:${'a'.repeat(64)}`
const REFERENCES = [
  'ubuntu',
  'ubuntu:22.04',
  'docker.io/namespace/image',
  'index.docker.io/library/ubuntu',
  'gcr.io/proj/app:v1',
  'localhost:5000/foo/bar:t',
  '127.0.0.1:5000/x',
  '[::1]:5000/x:y',
  `ubuntu@${D}`,
  `ghcr.io/o/r:1.0@${D}`,
  `r@sha512:${'b'.repeat(128)}`,
  'a.b/c_d/e-f/g.h:T_a-g.1',
  'registry.example.com/shop/web:v1.4.2',
  `ghcr.io/sigstore/cosign/cosign:sha256-${'c'.repeat(64)}.sig`,
]

const desc = (mediaType: string, n: number, size = 2) => ({
  mediaType,
  digest: `sha256:${n.toString(16).padStart(64, '0')}`,
  size,
})
const MANIFESTS: unknown[] = [
  JSON.parse(vector('cosign/sig-image-manifest.json').toString('utf8')),
  {
    schemaVersion: 2,
    mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
    artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: EMPTY_JSON_DIGEST, size: 2 },
    layers: [{ ...desc('application/vnd.dev.sigstore.bundle.v0.3+json', 7, 4321) }],
    subject: desc(OCI_IMAGE_MANIFEST_MEDIA_TYPE, 8, 1234),
    annotations: { 'org.opencontainers.image.created': '2025-01-01T00:00:00Z' },
  },
  {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST_SCHEMA2_MEDIA_TYPE,
    config: desc('application/vnd.docker.container.image.v1+json', 1, 1469),
    layers: [desc('application/vnd.docker.image.rootfs.diff.tar.gzip', 2, 2_479_000)],
  },
  {
    schemaVersion: 2,
    mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE,
    manifests: [
      { ...desc(OCI_IMAGE_MANIFEST_MEDIA_TYPE, 3, 1000), platform: { architecture: 'amd64', os: 'linux' } },
      {
        ...desc(OCI_IMAGE_MANIFEST_MEDIA_TYPE, 4, 1000),
        platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
      },
      {
        ...desc(OCI_IMAGE_MANIFEST_MEDIA_TYPE, 5, 800),
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': D },
        platform: { architecture: 'unknown', os: 'unknown' },
      },
    ],
  },
  {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST_LIST_MEDIA_TYPE,
    manifests: [
      { ...desc(DOCKER_MANIFEST_SCHEMA2_MEDIA_TYPE, 6, 528), platform: { architecture: 's390x', os: 'linux' } },
    ],
  },
]
const HINTS = [
  undefined,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
  OCI_IMAGE_INDEX_MEDIA_TYPE,
  DOCKER_MANIFEST_SCHEMA2_MEDIA_TYPE,
  `${DOCKER_MANIFEST_LIST_MEDIA_TYPE}; charset=utf-8`,
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'text/plain',
]

describe('fuzz: OCI references', () => {
  it('every seed reference parses, strict ones strictly, and round-trips', () => {
    for (const r of REFERENCES) expect(parseReference(referenceToString(parseReference(r)))).toEqual(parseReference(r))
  })

  it(`parseReference returns or throws a CountersignError; what parses round-trips (${FUZZ_RUNS} inputs)`, async () => {
    await fuzz<{ m: { how: string; seed: number; value: string }; strict: boolean }>({
      name: 'oci-reference',
      arbitrary: fc.record({
        m: fc.oneof({ weight: 4, arbitrary: textMutants(REFERENCES) }, { weight: 1, arbitrary: randomText() }),
        strict: fc.boolean(),
      }),
      describe: ({ m, strict }) => `${JSON.stringify(m.value.slice(0, 200))} ${m.how}${strict ? ' strict' : ''}`,
      run: ({ m, strict }) => {
        const ref = parseReference(m.value, { strict })
        const again = parseReference(referenceToString(ref))
        if (JSON.stringify(again) !== JSON.stringify(ref))
          throw new Error(`round trip changed the reference: ${JSON.stringify(ref)} → ${JSON.stringify(again)}`)
        return 'parsed'
      },
    })
  })
})

describe('fuzz: manifests and indexes', () => {
  const seeds = MANIFESTS.map((m) => utf8(JSON.stringify(m)))
  it('every seed manifest and index parses', () => {
    for (const s of seeds) expect(parseManifest(s).schemaVersion).toBe(2)
  })

  it(`parseManifest returns or throws a CountersignError (${FUZZ_RUNS} inputs)`, async () => {
    await fuzz<{ doc: DocumentInput; hint: number }>({
      name: 'oci-manifest',
      arbitrary: fc.record({ doc: documentInputs(seeds, { json: MANIFESTS, decoded: false }), hint: fc.nat() }),
      describe: ({ doc, hint }) => `seed ${doc.seed} ${doc.how} hint ${HINTS[hint % HINTS.length]}`,
      run: ({ doc, hint }) => {
        parseManifest(doc.bytes, HINTS[hint % HINTS.length])
        return 'parsed'
      },
    })
  })
})

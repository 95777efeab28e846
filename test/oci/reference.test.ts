import { describe, expect, test } from 'vitest'
import {
  DEFAULT_REGISTRY,
  DEFAULT_TAG,
  parseReference,
  parseRepository,
  referenceToString,
  repositoryName,
  withDigest,
  withTag,
} from '../../src/oci/reference.js'

const D = `sha256:${'a'.repeat(64)}`

describe('parseReference', () => {
  test.each([
    ['ubuntu', { registry: 'index.docker.io', repository: 'library/ubuntu', tag: 'latest' }],
    ['ubuntu:22.04', { registry: 'index.docker.io', repository: 'library/ubuntu', tag: '22.04' }],
    ['docker.io/ubuntu', { registry: 'index.docker.io', repository: 'library/ubuntu', tag: 'latest' }],
    ['index.docker.io/library/ubuntu', { registry: 'index.docker.io', repository: 'library/ubuntu', tag: 'latest' }],
    ['docker.io/namespace/image', { registry: 'index.docker.io', repository: 'namespace/image', tag: 'latest' }],
    ['registry-1.docker.io/ubuntu', { registry: 'registry-1.docker.io', repository: 'ubuntu', tag: 'latest' }],
    ['gcr.io/proj/app:v1', { registry: 'gcr.io', repository: 'proj/app', tag: 'v1' }],
    ['gcr.io/a', { registry: 'gcr.io', repository: 'a', tag: 'latest' }],
    ['localhost/foo', { registry: 'localhost', repository: 'foo', tag: 'latest' }],
    ['localhost:5000/foo/bar:t', { registry: 'localhost:5000', repository: 'foo/bar', tag: 't' }],
    ['localhost:5000', { registry: 'index.docker.io', repository: 'library/localhost', tag: '5000' }],
    ['127.0.0.1:5000/x', { registry: '127.0.0.1:5000', repository: 'x', tag: 'latest' }],
    ['[::1]:5000/x:y', { registry: '[::1]:5000', repository: 'x', tag: 'y' }],
    ['[::1]:5000/x', { registry: '[::1]:5000', repository: 'x', tag: 'latest' }],
    ['foo/bar', { registry: 'index.docker.io', repository: 'foo/bar', tag: 'latest' }],
    [`ubuntu@${D}`, { registry: 'index.docker.io', repository: 'library/ubuntu', digest: D }],
    [`ghcr.io/o/r:1.0@${D}`, { registry: 'ghcr.io', repository: 'o/r', tag: '1.0', digest: D }],
    [`localhost:5000/r@${D}`, { registry: 'localhost:5000', repository: 'r', digest: D }],
    [
      `r@sha512:${'b'.repeat(128)}`,
      { registry: 'index.docker.io', repository: 'library/r', digest: `sha512:${'b'.repeat(128)}` },
    ],
    ['a.b/c_d/e-f/g.h:T_a-g.1', { registry: 'a.b', repository: 'c_d/e-f/g.h', tag: 'T_a-g.1' }],
  ])('%s', (input, expected) => {
    expect(parseReference(input)).toEqual(expected)
  })

  test.each([
    '',
    'UPPER/case',
    'ubuntu:',
    'ubuntu:bad tag',
    `ubuntu:${'t'.repeat(129)}`,
    'ubuntu@sha256:abc',
    `ubuntu@sha256:${'A'.repeat(64)}`,
    `ubuntu@md5:${'a'.repeat(32)}`,
    `a@${D}@${D}`,
    'gcr.io/',
    'gcr.io//x',
    'gcr.io/a/../b',
    'host:port/x',
    'bad host.io/x',
    `gcr.io/${'a'.repeat(256)}`,
  ])('rejects %j', (input) => {
    expect(() => parseReference(input)).toThrow(expect.objectContaining({ code: 'ERR_OCI_REFERENCE_INVALID' }))
  })

  test('strict mode', () => {
    expect(() => parseReference('ubuntu', { strict: true })).toThrow(
      expect.objectContaining({ code: 'ERR_OCI_REFERENCE_INVALID' }),
    )
    expect(() => parseReference('docker.io/ubuntu:1', { strict: true })).toThrow()
    expect(() => parseReference('gcr.io/a/b', { strict: true })).toThrow()
    expect(parseReference('gcr.io/a/b:1', { strict: true })).toEqual({
      registry: 'gcr.io',
      repository: 'a/b',
      tag: '1',
    })
    expect(parseReference('docker.io/library/ubuntu:1', { strict: true }).repository).toBe('library/ubuntu')
  })

  test('constants and formatting', () => {
    expect(DEFAULT_REGISTRY).toBe('index.docker.io')
    expect(DEFAULT_TAG).toBe('latest')
    const r = parseReference(`ubuntu:1@${D}`)
    expect(repositoryName(r)).toBe('index.docker.io/library/ubuntu')
    expect(referenceToString(r)).toBe(`index.docker.io/library/ubuntu:1@${D}`)
    expect(referenceToString(withDigest(r, D))).toBe(`index.docker.io/library/ubuntu@${D}`)
    expect(referenceToString(withTag(r, 'sha256-abc.sig'))).toBe('index.docker.io/library/ubuntu:sha256-abc.sig')
    expect(() => withDigest(r, 'sha256:zz')).toThrow()
    expect(() => withTag(r, 'a/b')).toThrow()
  })
})

describe('parseRepository', () => {
  test('normalises like ggcr NewRepository', () => {
    expect(parseRepository('alpine')).toEqual({ registry: 'index.docker.io', repository: 'library/alpine' })
    expect(parseRepository('ghcr.io/org/sigs')).toEqual({ registry: 'ghcr.io', repository: 'org/sigs' })
    expect(parseRepository('localhost:5000/sigs')).toEqual({ registry: 'localhost:5000', repository: 'sigs' })
  })
  test('rejects tags and digests', () => {
    expect(() => parseRepository('ghcr.io/org/sigs:v1')).toThrow(
      expect.objectContaining({ code: 'ERR_OCI_REFERENCE_INVALID' }),
    )
    expect(() => parseRepository(`ghcr.io/org/sigs@${D}`)).toThrow()
  })
})

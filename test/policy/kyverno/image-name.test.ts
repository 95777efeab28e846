import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import {
  KYVERNO_DEFAULT_REGISTRY,
  kyvernoImageInfo,
  kyvernoPinnedImage,
} from '../../../src/policy/kyverno/image-name.js'
import { matchKyvernoWildcard } from '../../../src/policy/kyverno/wildcard.js'

// kyverno/kyverno@111e07bb pkg/utils/image/infos_test.go; see test/vectors/kyverno/PROVENANCE.md.
interface ImageInfoVectors {
  readonly getImageInfo: readonly {
    raw: string
    name: string
    path: string
    registry: string
    tag: string
    digest: string
    string: string
    cfgDefaultRegistry: string
    cfgEnableDefaultRegistryMutation: boolean
  }[]
  readonly referenceWithTag: readonly { input: string; referenceWithTag: string }[]
  readonly reference: readonly { input: string; reference: string; referenceWithTag: string }[]
  readonly parseError: readonly string[]
  readonly addDefaultRegistry: readonly { input: string; defaultRegistry: string; want: string }[]
}
const vectors: ImageInfoVectors = JSON.parse(
  readFileSync(new URL('../../vectors/kyverno/image-info-cases.json', import.meta.url), 'utf8'),
)
const chainsaw = new URL('../../vectors/kyverno/chainsaw/standard/', import.meta.url)
const D476 = 'sha256:476b21f1a75dc90fac3579ee757f4607bb5546f476195cf645c54badf558c0db'
const HEX = 'dead07b4d8ed7e29e98de0f4504d87e8880d4347859d839686a31da35a3b532f'

describe('kyvernoImageInfo: upstream GetImageInfo cases', () => {
  it('has the whole upstream tables', () => {
    expect(vectors.getImageInfo).toHaveLength(8)
    expect(vectors.referenceWithTag).toHaveLength(6)
    expect(vectors.reference).toHaveLength(6)
    expect(vectors.parseError).toHaveLength(1)
    expect(vectors.addDefaultRegistry).toHaveLength(7)
  })

  it.each(
    vectors.getImageInfo.map(
      (c) => [`${c.raw} (${c.cfgDefaultRegistry}, ${c.cfgEnableDefaultRegistryMutation})`, c] as const,
    ),
  )('Test_GetImageInfo %s', (_n, c) => {
    const info = kyvernoImageInfo(c.raw, {
      defaultRegistry: c.cfgDefaultRegistry,
      enableDefaultRegistryMutation: c.cfgEnableDefaultRegistryMutation,
    })
    expect(info).toMatchObject({ name: c.name, path: c.path, registry: c.registry, tag: c.tag, digest: c.digest })
    expect(info.reference).toBe(c.string)
  })

  it.each(vectors.referenceWithTag.map((c) => [c.input, c] as const))('Test_ReferenceWithTag %s', (_n, c) => {
    expect(kyvernoImageInfo(c.input).referenceWithTag).toBe(c.referenceWithTag)
  })

  it.each(vectors.reference.map((c) => [c.input, c] as const))('Test_ParseError/Test_Reference %s', (_n, c) => {
    const info = kyvernoImageInfo(c.input)
    expect(info.reference).toBe(c.reference)
    expect(info.referenceWithTag).toBe(c.referenceWithTag)
  })

  it.each(vectors.parseError.map((c) => [c] as const))('Test_ParseError %s', (raw) => {
    expect(() => kyvernoImageInfo(raw)).toThrow(expect.objectContaining({ code: 'ERR_OCI_REFERENCE_INVALID' }))
  })

  // Upstream builds these configs with mutation on (the row's flag is ignored), so `reference` shows the prefixed name.
  it.each(vectors.addDefaultRegistry.map((c) => [`${c.input} + ${c.defaultRegistry}`, c] as const))(
    'Test_addDefaultRegistry %s',
    (_n, c) => {
      expect(kyvernoImageInfo(c.input, { defaultRegistry: c.defaultRegistry }).reference).toBe(c.want)
    },
  )
})

describe('kyvernoImageInfo: Kyverno normalisation, not countersign’s', () => {
  it('uses docker.io and no library/ namespace', () => {
    expect(KYVERNO_DEFAULT_REGISTRY).toBe('docker.io')
    expect(kyvernoImageInfo('nginx')).toEqual({
      registry: 'docker.io',
      path: 'nginx',
      name: 'nginx',
      tag: 'latest',
      digest: '',
      reference: 'docker.io/nginx:latest',
      referenceWithTag: 'docker.io/nginx:latest',
    })
    expect(kyvernoImageInfo('docker.io/library/nginx').reference).toBe('docker.io/library/nginx:latest')
    expect(kyvernoImageInfo('index.docker.io/nginx:1').reference).toBe('index.docker.io/nginx:1')
  })

  it('drops the tag from reference when there is a digest, and keeps it in tag and referenceWithTag', () => {
    const info = kyvernoImageInfo(`ghcr.io/acme/app:v1@sha256:${HEX}`)
    expect(info).toMatchObject({
      registry: 'ghcr.io',
      path: 'acme/app',
      name: 'app',
      tag: 'v1',
      digest: `sha256:${HEX}`,
    })
    expect(info.reference).toBe(`ghcr.io/acme/app@sha256:${HEX}`)
    expect(info.referenceWithTag).toBe('ghcr.io/acme/app:v1')
    // So a tag glob does not see a digest-pinned image's tag (research spec §2.3).
    expect(matchKyvernoWildcard('ghcr.io/acme/app:v1*', info.reference)).toBe(false)
    expect(matchKyvernoWildcard('nginx:*', kyvernoImageInfo('nginx:1.25').reference)).toBe(false)
    expect(matchKyvernoWildcard('docker.io/nginx:*', kyvernoImageInfo('nginx:1.25').reference)).toBe(true)
  })

  it('reads the first component as a registry as Kyverno does', () => {
    expect(kyvernoImageInfo('localhost/netd:v0.4.4-gke.0')).toMatchObject({ registry: 'localhost', path: 'netd' })
    expect(kyvernoImageInfo('localhost:5000/a/b')).toMatchObject({ registry: 'localhost:5000', path: 'a/b' })
    expect(kyvernoImageInfo('registry.example.com:443/team/app:1.0').reference).toBe(
      'registry.example.com:443/team/app:1.0',
    )
    expect(kyvernoImageInfo('[::1]:5000/app').reference).toBe('[::1]:5000/app:latest')
    // A capital letter in the first component makes it a registry (addDefaultRegistry's lower-case test).
    expect(kyvernoImageInfo('Registry/app')).toMatchObject({ registry: 'Registry', path: 'app' })
    // A first component the domain grammar refuses ('_') is kept in the path, then reported as the registry.
    expect(kyvernoImageInfo('my_reg.io/app')).toMatchObject({
      registry: 'my_reg.io',
      path: 'app',
      reference: 'my_reg.io/app:latest',
    })
  })

  it('reports the registry empty when default-registry mutation is off and one was added', () => {
    const info = kyvernoImageInfo('nginx', { enableDefaultRegistryMutation: false })
    expect(info).toMatchObject({
      registry: '',
      path: 'nginx',
      reference: 'nginx:latest',
      referenceWithTag: 'nginx:latest',
    })
    expect(kyvernoImageInfo('ghcr.io/a/b', { enableDefaultRegistryMutation: false }).registry).toBe('ghcr.io')
  })

  it('accepts the digests go-digest supports and refuses the rest', () => {
    expect(kyvernoImageInfo(`a/b@sha384:${'a'.repeat(96)}`).digest).toBe(`sha384:${'a'.repeat(96)}`)
    expect(kyvernoImageInfo(`a/b@sha512:${'a'.repeat(128)}`).digest).toBe(`sha512:${'a'.repeat(128)}`)
    for (const bad of [
      `a/b@sha256:${'a'.repeat(63)}`,
      `a/b@sha256:${'A'.repeat(64)}`,
      `a/b@md5:${'a'.repeat(32)}`,
      `a/b@sha256:${'a'.repeat(31)}`,
      `a/b@sha256:${HEX}@sha256:${HEX}`,
    ]) {
      expect(() => kyvernoImageInfo(bad), bad).toThrow(
        expect.objectContaining({ code: 'ERR_OCI_REFERENCE_INVALID', details: expect.objectContaining({}) }),
      )
    }
  })

  it('refuses what distribution/reference refuses', () => {
    for (const bad of [
      '',
      '++',
      'ghcr.io/Acme/app',
      'ghcr.io/acme/app:',
      'ghcr.io/acme/app:-v1',
      `ghcr.io/acme/app:${'t'.repeat(129)}`,
      'ghcr.io//app',
      'ghcr.io/acme/app/',
      'ghcr.io/acme/-app',
      'ghcr.io/acme/a..b',
      'ghcr.io/acme/a b',
      'ghcr.io:port/app',
      `ghcr.io/${'a'.repeat(256)}`,
    ]) {
      expect(() => kyvernoImageInfo(bad), bad).toThrow(expect.objectContaining({ code: 'ERR_OCI_REFERENCE_INVALID' }))
    }
    expect(kyvernoImageInfo(`ghcr.io/${'a'.repeat(255)}`).path).toHaveLength(255)
    expect(kyvernoImageInfo(`ghcr.io/acme/app:${'t'.repeat(128)}`).tag).toHaveLength(128)
    expect(kyvernoImageInfo('ghcr.io/a__b/c-d.e_f---g:V1_x.y-z').path).toBe('a__b/c-d.e_f---g')
  })

  it('says when lower case would have parsed', () => {
    expect(() => kyvernoImageInfo('ghcr.io/Acme/app')).toThrow(
      expect.objectContaining({ details: { reason: 'uppercase' } }),
    )
    expect(() => kyvernoImageInfo('++')).toThrow(expect.objectContaining({ details: { reason: 'format' } }))
  })

  it('refuses non-strings and bounds hostile input', () => {
    expect(() => kyvernoImageInfo(42 as unknown as string)).toThrow(TypeError)
    expect(() => kyvernoImageInfo(`ghcr.io/${'a'.repeat(100_000)}`)).toThrow(
      expect.objectContaining({
        code: 'ERR_OCI_REFERENCE_INVALID',
        details: expect.objectContaining({ reason: 'too-long' }),
      }),
    )
    // Just under the bound, in shapes that make backtracking parsers slow: it returns.
    expect(() => kyvernoImageInfo(`${'a-'.repeat(2000)}!`)).toThrow(
      expect.objectContaining({ code: 'ERR_OCI_REFERENCE_INVALID' }),
    )
    expect(() => kyvernoImageInfo(`${'a.'.repeat(2000)}/x!`)).toThrow(
      expect.objectContaining({ code: 'ERR_OCI_REFERENCE_INVALID' }),
    )
    expect(() => kyvernoImageInfo(`x/${'a_'.repeat(2000)}:`)).toThrow(
      expect.objectContaining({ code: 'ERR_OCI_REFERENCE_INVALID' }),
    )
  })
})

/** The first container image of the single Pod in a chainsaw file. */
function podImage(dir: string, file: string): string {
  const [doc] = parseAllDocuments(readFileSync(new URL(`${dir}/${file}`, chainsaw), 'utf8'))
  return (doc!.toJS() as { spec: { containers: { image: string }[] } }).spec.containers[0]!.image
}
function verifyImagesAnnotation(dir: string, file: string): Record<string, string> {
  const [doc] = parseAllDocuments(readFileSync(new URL(`${dir}/${file}`, chainsaw), 'utf8'))
  const meta = (doc!.toJS() as { metadata: { annotations: Record<string, string> } }).metadata
  return JSON.parse(meta.annotations['kyverno.io/verify-images']!)
}

describe('kyvernoPinnedImage and the canonical string against the chainsaw asserts', () => {
  it('writes name:tag@digest, as mutateDigest (mutateDigest-noverifyDigest-norequired)', () => {
    const applied = podImage('mutateDigest-noverifyDigest-norequired', 'chainsaw-step-02-apply-1.yaml')
    const asserted = podImage('mutateDigest-noverifyDigest-norequired', 'chainsaw-step-03-assert-1.yaml')
    expect(applied).toBe('ghcr.io/kyverno/test-verify-image:signed-keyless')
    const digest = kyvernoImageInfo(asserted).digest
    expect(kyvernoPinnedImage(applied, digest)).toBe(asserted)
  })

  it.each([['keyless-mutatedigest-verifydigest-required'], ['keyless-attestations-multiple-subjects-4']])(
    '%s: pinned image and the annotation key of the mutated image',
    (dir) => {
      const applied = podImage(dir, 'chainsaw-step-02-apply-1.yaml')
      const asserted = podImage(dir, 'chainsaw-step-02-assert-1.yaml')
      expect(kyvernoPinnedImage(applied, D476)).toBe(asserted)
      // The annotation is keyed by the post-mutation canonical string (tag dropped).
      expect(Object.keys(verifyImagesAnnotation(dir, 'chainsaw-step-02-assert-1.yaml'))).toEqual([
        kyvernoImageInfo(asserted).reference,
      ])
      expect(kyvernoImageInfo(asserted).reference).toBe(`ghcr.io/kyverno/zulu@${D476}`)
    },
  )

  it('keys an unpinned image by its implicit :latest (keyless-nomutatedigest-noverifydigest-norequired)', () => {
    const dir = 'keyless-nomutatedigest-noverifydigest-norequired'
    const applied = podImage(dir, 'chainsaw-step-02-apply-1.yaml')
    expect(applied).toBe('ghcr.io/kyverno/zulu')
    expect(podImage(dir, 'chainsaw-step-02-assert-1.yaml')).toBe(applied)
    expect(Object.keys(verifyImagesAnnotation(dir, 'chainsaw-step-02-assert-1.yaml'))).toEqual([
      kyvernoImageInfo(applied).reference,
    ])
  })

  it('puts the default registry in front of a short name and keeps the tag', () => {
    expect(kyvernoPinnedImage('nginx', `sha256:${HEX}`)).toBe(`docker.io/nginx:latest@sha256:${HEX}`)
    expect(kyvernoPinnedImage('acme/app:v2', `sha256:${HEX}`)).toBe(`docker.io/acme/app:v2@sha256:${HEX}`)
    expect(kyvernoPinnedImage('nginx', `sha256:${HEX}`, { enableDefaultRegistryMutation: false })).toBe(
      `nginx:latest@sha256:${HEX}`,
    )
  })

  it('leaves an image that has a digest as written', () => {
    const pinned = `ghcr.io/kyverno/zulu:v0.0.14@${D476}`
    expect(kyvernoPinnedImage(pinned, `sha256:${HEX}`)).toBe(pinned)
    expect(kyvernoPinnedImage(`zulu@${D476}`, `sha256:${HEX}`)).toBe(`zulu@${D476}`)
  })

  it('refuses a malformed digest or image', () => {
    for (const bad of ['', 'sha256:abc', `sha256:${HEX}@x`, `SHA256:${HEX}`, `sha256:${HEX.toUpperCase()}`]) {
      expect(() => kyvernoPinnedImage('ghcr.io/a/b:v1', bad), bad).toThrow(
        expect.objectContaining({ code: 'ERR_OCI_REFERENCE_INVALID' }),
      )
    }
    expect(() => kyvernoPinnedImage('++', `sha256:${HEX}`)).toThrow(
      expect.objectContaining({ code: 'ERR_OCI_REFERENCE_INVALID' }),
    )
  })

  it('covers every chainsaw directory this file reads', () => {
    const dirs = readdirSync(chainsaw)
    for (const d of [
      'mutateDigest-noverifyDigest-norequired',
      'keyless-mutatedigest-verifydigest-required',
      'keyless-attestations-multiple-subjects-4',
      'keyless-nomutatedigest-noverifydigest-norequired',
    ]) {
      expect(dirs).toContain(d)
    }
  })
})

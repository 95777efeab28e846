// The synchronous path for decisions that need no registry (a cached digest, an image no policy matches): the same
// decision as verifyImageAgainstPolicies, made without reading the store or the caller's signal.
import { describe, expect, it } from 'vitest'
import { signImage } from '../../src/image/sign.js'
import { generateKeyPair, publicKeyToPEM } from '../../src/keys/index.js'
import type { PrivateKey } from '../../src/keys/types.js'
import { createLayoutStore } from '../../src/oci/layout.js'
import { createMemoryFileSystem } from '../../src/oci/memory-fs.js'
import type { OCIStore } from '../../src/oci/types.js'
import { createPolicyCache } from '../../src/policy/cache.js'
import { createPolicyImageCheck } from '../../src/policy/image-check.js'
import { parsePolicies } from '../../src/policy/parse.js'
import { decideWithoutRegistry, verifyImageAgainstPolicies } from '../../src/policy/verify-policies.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { pushTinyImage } from '../support/oci-image.js'

const repo = { registry: 'localhost', repository: 'demo/app' }

function keyPolicyYAML(key: PrivateKey): string {
  const pem = publicKeyToPEM(key.publicKey)
    .trim()
    .split('\n')
    .map((l) => `          ${l}`)
    .join('\n')
  return [
    'apiVersion: policy.sigstore.dev/v1beta1',
    'kind: ClusterImagePolicy',
    'metadata:',
    '  name: signed',
    'spec:',
    '  images:',
    '    - glob: "**demo**"',
    '  authorities:',
    '    - key:',
    '        data: |',
    pem,
    '',
  ].join('\n')
}

/** A store that fails the test if asked anything. */
const noStore = new Proxy({} as OCIStore, {
  get: (_t, p) => {
    if (p === 'kind') return 'layout'
    throw new Error(`the store was asked for ${String(p)}`)
  },
})

async function signedSetup() {
  const key = await generateKeyPair()
  const store = createLayoutStore(createMemoryFileSystem())
  const digest = await pushTinyImage(store, { ...repo, tag: 'v1' }, `demo ${Math.random()}`)
  await signImage({ ...repo, tag: 'v1' }, createKeySigner(key), { store, tlogUpload: false })
  const { policies } = parsePolicies(keyPolicyYAML(key))
  return { key, store, digest, policies }
}

describe('decideWithoutRegistry', () => {
  it('a cached digest: the decision verifyImageAgainstPolicies gives, marked cached, without the store', async () => {
    const { store, digest, policies } = await signedSetup()
    const cache = createPolicyCache()
    const byDigest = `localhost/demo/app@${digest}`
    expect(decideWithoutRegistry(byDigest, policies, { cache })).toBeUndefined() // nothing cached yet
    const first = await verifyImageAgainstPolicies('localhost/demo/app:v1', policies, { store, cache })
    expect(first.cached).toBeUndefined()
    const quick = decideWithoutRegistry(byDigest, policies, { cache })
    expect(quick).toMatchObject({ image: byDigest, allowed: true, cached: true, digest })
    expect(quick).toEqual(await verifyImageAgainstPolicies(byDigest, policies, { store: noStore, cache }))
    // Cached under the digest as written: the stored decision itself, shared by every hit, so frozen.
    const byDigestCache = createPolicyCache()
    await verifyImageAgainstPolicies(byDigest, policies, { store, cache: byDigestCache })
    const stored = decideWithoutRegistry(byDigest, policies, { cache: byDigestCache })
    expect(Object.isFrozen(stored)).toBe(true)
    expect(decideWithoutRegistry(byDigest, policies, { cache: byDigestCache })).toBe(stored)
  })

  it('images no policy matches and references that do not parse: decided as the full path does', async () => {
    const { policies } = await signedSetup()
    for (const image of ['ghcr.io/elsewhere/x:1', 'Not A Reference!!']) {
      for (const noMatchPolicy of ['allow', 'deny', 'warn'] as const) {
        const quick = decideWithoutRegistry(image, policies, { noMatchPolicy })
        expect(quick).toBeDefined()
        expect(quick).toEqual(await verifyImageAgainstPolicies(image, policies, { store: noStore, noMatchPolicy }))
      }
    }
  })

  it('left to the full path: a tag, an uncached digest, no cache, a policy never hashed, Kyverno policies', async () => {
    const { store, digest, policies } = await signedSetup()
    const cache = createPolicyCache()
    await verifyImageAgainstPolicies('localhost/demo/app:v1', policies, { store, cache })
    expect(decideWithoutRegistry('localhost/demo/app:v1', policies, { cache })).toBeUndefined()
    expect(decideWithoutRegistry(`localhost/demo/app@sha256:${'0'.repeat(64)}`, policies, { cache })).toBeUndefined()
    expect(decideWithoutRegistry(`localhost/demo/app@${digest}`, policies, {})).toBeUndefined()
    // The same policy text parsed again is a new object whose content hash has not been computed yet.
    const reparsed = parsePolicies(keyPolicyYAML(await generateKeyPair())).policies
    expect(decideWithoutRegistry(`localhost/demo/app@${digest}`, reparsed, { cache })).toBeUndefined()
    const pem = publicKeyToPEM((await generateKeyPair()).publicKey)
      .trim()
      .split('\n')
      .map((l) => `                      ${l}`)
      .join('\n')
    const kyverno = parsePolicies(
      [
        'apiVersion: kyverno.io/v1',
        'kind: ClusterPolicy',
        'metadata:',
        '  name: k',
        'spec:',
        '  validationFailureAction: Enforce',
        '  rules:',
        '    - name: r',
        '      match: { any: [{ resources: { kinds: [Pod] } }] }',
        '      verifyImages:',
        '        - imageReferences: ["ghcr.io/*"]',
        '          attestors:',
        '            - entries:',
        '                - keys:',
        '                    publicKeys: |-',
        pem,
        '',
      ].join('\n'),
    ).kyverno
    expect(kyverno).toHaveLength(1)
    expect(decideWithoutRegistry('ghcr.io/elsewhere/x:1', [...policies, ...kyverno], {})).toBeUndefined()
  })
})

describe('createPolicyImageCheck without reading the signal', () => {
  it('a cached digest and an unmatched image are answered without reading context.signal; a miss reads it', async () => {
    const { store, digest, policies } = await signedSetup()
    const check = createPolicyImageCheck(policies, { store, noMatchPolicy: 'allow' })
    await check('localhost/demo/app:v1', {})
    let reads = 0
    const context = {
      get signal() {
        reads++
        return undefined
      },
    }
    expect(await check(`localhost/demo/app@${digest}`, context)).toMatchObject({ allowed: true, cached: true })
    expect(await check('ghcr.io/elsewhere/x:1', context)).toMatchObject({ allowed: true })
    expect(reads).toBe(0)
    expect(await check('localhost/demo/app:v1', context)).toMatchObject({ allowed: true, cached: true })
    expect(reads).toBeGreaterThan(0)
  })
})

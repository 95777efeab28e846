/**
 * @bufbuild/cel is an optional peer dependency, loaded on demand: a missing package fails closed with
 * ERR_DEPENDENCY_MISSING and says what to install; the synchronous APIs refuse CEL until the engine is loaded; the
 * async entry points load it for policies with CEL conditions only. Each test imports a fresh copy of the policy
 * modules (vi.resetModules), so the engine starts unloaded. test/package/cel-optional.test.ts checks the same
 * against the built package with the package really absent.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createLayoutStore } from '../../src/oci/layout.js'
import { createMemoryFileSystem } from '../../src/oci/memory-fs.js'
import type { ClusterImagePolicy } from '../../src/policy/types.js'
import { pushTinyImage } from '../support/oci-image.js'

type PolicyModule = typeof import('../../src/policy/index.js')
type CELModule = typeof import('../../src/policy/cel.js')

async function fresh(): Promise<{ policy: PolicyModule; cel: CELModule }> {
  vi.resetModules()
  const policy = await import('../../src/policy/index.js')
  const cel = await import('../../src/policy/cel.js')
  return { policy, cel }
}

beforeEach(() => {
  vi.resetModules()
})

const KEY = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEIcbqK2RAVZOfPzo+kbOhNYq8DK9f
B2BGbU7jAXEvYthJ3vRcYq8l7g9UAXXiz9P2awFuTa4COcZU2IdEDVU0uA==
-----END PUBLIC KEY-----`

const withAttestationCEL = `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: provenance}
spec:
  images: [{glob: "ghcr.io/acme/**"}]
  authorities:
    - key: {data: ${JSON.stringify(KEY)}}
      attestations:
        - name: built-by-actions
          predicateType: https://slsa.dev/provenance/v0.2
          policy:
            type: cel
            data: predicate.builder.id == "https://github.com/actions/runner"
`

const celFree = `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: signed}
spec:
  images: [{glob: "ghcr.io/acme/**"}]
  authorities:
    - key: {data: ${JSON.stringify(KEY)}}
      attestations:
        - name: rego-only
          predicateType: https://slsa.dev/provenance/v0.2
          policy: {type: rego, data: "package sigstore"}
`

/** A CIP-level condition, as a decoded List (the other place and form the async parse looks at). */
const cipLevelCEL = {
  kind: 'List',
  items: [
    {
      apiVersion: 'policy.sigstore.dev/v1beta1',
      kind: 'ClusterImagePolicy',
      metadata: { name: 'two' },
      spec: {
        images: [{ glob: '**' }],
        authorities: [{ name: 'a', static: { action: 'pass' } }],
        policy: { type: 'cel', data: 'authorityMatches.a.static == true' },
      },
    },
  ],
}

/** Node's error for a package that is not installed (import() of a bare specifier nothing provides). */
function notFound(): Error {
  return Object.assign(new Error("Cannot find package '@bufbuild/cel' imported from /app/dist/policy/index.js"), {
    code: 'ERR_MODULE_NOT_FOUND',
  })
}

describe('loading @bufbuild/cel', () => {
  it('fails closed with ERR_DEPENDENCY_MISSING and the install command when the package is missing', async () => {
    const { cel } = await fresh()
    const importer = vi.fn(() => Promise.reject(notFound()))
    const err = await cel.loadCELEngineWith(importer).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toMatchObject({
      name: 'CountersignError',
      code: 'ERR_DEPENDENCY_MISSING',
      details: { package: '@bufbuild/cel', reason: 'not-installed' },
    })
    const message = (err as Error).message
    expect(message).toBe(
      'CEL policy conditions need the optional package @bufbuild/cel (it is not installed): run ' +
        '`npm install @bufbuild/cel` in your project, or `npm install -g @bufbuild/cel` for a global countersign CLI',
    )
    expect((err as Error).cause).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' })
    expect(cel.isCELEngineLoaded()).toBe(false)
    // Still refused by the synchronous API, and the next load tries again (the package may have been installed).
    expect(() => cel.compileCELCondition('1 == 1')).toThrow(expect.objectContaining({ code: 'ERR_DEPENDENCY_MISSING' }))
    await cel.loadCELEngineWith(() => import('@bufbuild/cel'))
    expect(importer).toHaveBeenCalledTimes(1)
    expect(cel.compileCELCondition('1 == 1').evaluate({})).toEqual({ ok: true })
  })

  it('reports a package that is there but does not load, with its error, as load-failed', async () => {
    const { cel } = await fresh()
    const err = await cel.loadCELEngineWith(() => Promise.reject(new SyntaxError('Unexpected token'))).catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_DEPENDENCY_MISSING', details: { reason: 'load-failed' } })
    expect(err.message).toContain('(loading it failed: Unexpected token)')
    expect(err.message).toContain('`npm install @bufbuild/cel`')
  })

  it('shares one import between concurrent callers', async () => {
    const { cel } = await fresh()
    let resolve!: (m: typeof import('@bufbuild/cel')) => void
    const importer = vi.fn(() => new Promise<typeof import('@bufbuild/cel')>((r) => (resolve = r)))
    const a = cel.loadCELEngineWith(importer)
    const b = cel.loadCELEngineWith(importer)
    resolve(await import('@bufbuild/cel'))
    await Promise.all([a, b])
    expect(importer).toHaveBeenCalledTimes(1)
    expect(cel.isCELEngineLoaded()).toBe(true)
  })
})

describe('synchronous APIs before the engine is loaded', () => {
  it('parsePolicies refuses a CEL condition with a clear error, and parses CEL-free policies without loading', async () => {
    const { policy, cel } = await fresh()
    let err: unknown
    try {
      policy.parsePolicies(withAttestationCEL)
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({
      code: 'ERR_DEPENDENCY_MISSING',
      details: { package: '@bufbuild/cel', reason: 'not-loaded' },
    })
    // Not reported as a field error of the policy: nothing is wrong with the policy.
    expect((err as { details: Record<string, unknown> }).details.errors).toBeUndefined()
    expect((err as Error).message).toBe(
      'CEL policy conditions need @bufbuild/cel, which is not loaded yet: call `await loadCELEngine()` ' +
        '(countersign/policy) before parsing or evaluating synchronously, or use parsePoliciesAsync',
    )
    expect(() => policy.compileCELCondition('1 == 1')).toThrow(
      expect.objectContaining({ code: 'ERR_DEPENDENCY_MISSING' }),
    )
    // Validation that needs no engine still runs first: an empty or oversized expression is the policy's fault.
    expect(() => policy.compileCELCondition(' ')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))

    expect(policy.parsePolicies(celFree).policies.map((p) => p.name)).toEqual(['signed'])
    expect(cel.isCELEngineLoaded()).toBe(false)

    await policy.loadCELEngine()
    expect(policy.parsePolicies(withAttestationCEL).policies[0]!.authorities[0]!.attestations![0]!.policy).toEqual({
      type: 'cel',
      data: 'predicate.builder.id == "https://github.com/actions/runner"',
    })
  })

  it('evaluatePolicy fails a CEL condition closed (a denial naming the loader), never throwing', async () => {
    const { policy, cel } = await fresh()
    const built: ClusterImagePolicy = {
      name: 'p',
      apiVersion: 'policy.sigstore.dev/v1beta1',
      images: [{ glob: '**' }],
      authorities: [{ name: 'a', static: { action: 'pass' } }] as ClusterImagePolicy['authorities'],
      policy: { type: 'cel', data: 'authorityMatches.a.static == true' },
      mode: 'enforce',
    }
    const denied = policy.evaluatePolicy('ghcr.io/acme/app@sha256:' + 'a'.repeat(64), [built], { p: [undefined] })
    expect(denied.allowed).toBe(false)
    expect(denied.reasons.map((r) => r.message).join('\n')).toContain('await loadCELEngine()')
    expect(cel.isCELEngineLoaded()).toBe(false)
    await policy.loadCELEngine()
    expect(
      policy.evaluatePolicy('ghcr.io/acme/app@sha256:' + 'a'.repeat(64), [built], { p: [undefined] }),
    ).toMatchObject({
      allowed: true,
    })
  })
})

describe('async entry points load the engine themselves, only when a policy needs it', () => {
  it('parsePoliciesAsync: not for CEL-free policies; yes for attestation and CIP-level conditions', async () => {
    const { policy, cel } = await fresh()
    expect((await policy.parsePoliciesAsync(celFree)).policies).toHaveLength(1)
    // A decoded document whose condition is not CEL (nor inline) does not either.
    const remote = structuredClone(cipLevelCEL)
    remote.items[0]!.spec.policy = { type: 'cel', remote: { url: 'https://x.example/p.cel', sha256sum: 'ab' } } as never
    expect((await policy.parsePoliciesAsync(remote)).policies).toHaveLength(1)
    expect(cel.isCELEngineLoaded()).toBe(false)
    const parsed = await policy.parsePoliciesAsync(withAttestationCEL, { source: 'p.yaml' })
    expect(parsed.policies[0]!.name).toBe('provenance')
    expect(cel.isCELEngineLoaded()).toBe(true)
  })

  it('parsePoliciesAsync: a CIP-level condition in a decoded List loads it too', async () => {
    const { policy, cel } = await fresh()
    const { policies } = await policy.parsePoliciesAsync(cipLevelCEL)
    expect(policies[0]!.policy).toEqual({ type: 'cel', data: 'authorityMatches.a.static == true' })
    expect(cel.isCELEngineLoaded()).toBe(true)
  })

  it('verifyImageAgainstPolicies loads it for policies built in code, and decides with the condition', async () => {
    const { policy, cel } = await fresh()
    const store = createLayoutStore(createMemoryFileSystem())
    const repo = { registry: 'localhost', repository: 'demo/app' }
    await pushTinyImage(store, { ...repo, tag: 'v1' }, 'cel loader')
    expect(cel.isCELEngineLoaded()).toBe(false)
    const built = (data: string): ClusterImagePolicy => ({
      name: 'p',
      apiVersion: 'policy.sigstore.dev/v1beta1',
      images: [{ glob: '**demo**' }],
      authorities: [{ name: 'a', static: { action: 'pass' } }] as ClusterImagePolicy['authorities'],
      policy: { type: 'cel', data },
      mode: 'enforce',
    })
    const allowed = await policy.verifyImageAgainstPolicies(
      'localhost/demo/app:v1',
      [built('authorityMatches.a.static == true')],
      {
        store,
      },
    )
    expect(cel.isCELEngineLoaded()).toBe(true)
    expect(allowed).toMatchObject({ allowed: true, matched: ['p'] })
    const denied = await policy.verifyImageAgainstPolicies(
      'localhost/demo/app:v1',
      [built('size(authorityMatches) == 2')],
      {
        store,
      },
    )
    expect(denied.allowed).toBe(false)
  })
})

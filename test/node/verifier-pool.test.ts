// createVerifierPool: the built module (worker threads load it themselves, so the test uses dist/, which the test
// command builds first; ensureDist builds it when missing). Verdicts must be those of the verifier on the main thread,
// for accepted and rejected bundles.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isCountersignError } from '../../src/errors.js'
import type { VerifierPool } from '../../src/node/verifier-pool.js'
import { createVerifier } from '../../src/verifier/verifier.js'
import { ensureDist } from '../runtime/ensure-dist.js'
import { countersignInputs, countersignRoot, loadCase } from '../support/bundle-cases.js'

const happy = countersignInputs(loadCase('conformance-happy-path-v0.3'))
const managed = countersignInputs(loadCase('conformance-managed-key-happy-path'))
let createVerifierPool: typeof import('../../src/node/verifier-pool.js').createVerifierPool
let pool: VerifierPool
beforeAll(async () => {
  await ensureDist()
  // A computed specifier: the type check runs before the build, when dist/ may not exist yet.
  const built = new URL('../../dist/node/index.js', import.meta.url).href
  ;({ createVerifierPool } = (await import(built)) as typeof import('../../src/node/verifier-pool.js'))
  pool = createVerifierPool(happy.trustedRoot, { threads: 2, verifier: happy.options })
}, 200_000)
afterAll(() => pool.close())

function keyPolicy(policy: typeof managed.policy) {
  const { key, ...rest } = policy
  if (typeof key === 'function') throw new Error('lookup')
  return { ...rest, ...(key ? { key } : {}) }
}

describe('createVerifierPool', () => {
  it('gives the main-thread verdict and facts for a keyless bundle, on every thread', async () => {
    const expected = await createVerifier(countersignRoot(happy), happy.options).verify(
      happy.bundle,
      happy.artifact,
      happy.policy,
    )
    const results = await Promise.all(
      Array.from({ length: 8 }, () => pool.verify(happy.bundle, happy.artifact, keyPolicy(happy.policy))),
    )
    expect(pool.threads).toBe(2)
    for (const r of results) {
      expect(r.signer.type).toBe('certificate')
      if (r.signer.type !== 'certificate' || expected.signer.type !== 'certificate') throw new Error('signer')
      expect(r.signer.identity).toEqual(expected.signer.identity)
      expect(Buffer.from(r.signer.certificate)).toEqual(Buffer.from(expected.signer.certificate.raw))
      expect(r.tlogEntries.map((t) => t.logIndex)).toEqual(expected.tlogEntries.map((t) => t.entry.logIndex))
      expect(r.verifiedTimes.map(Number)).toEqual(expected.verifiedTimes.map(Number))
    }
  })

  it('rejects with the main-thread verifier’s error (code and message) for a wrong artifact, identity or bundle', async () => {
    const main = createVerifier(countersignRoot(happy), happy.options)
    const cases: [Uint8Array, Parameters<typeof pool.verify>[1], Parameters<typeof pool.verify>[2]][] = [
      [happy.bundle, new TextEncoder().encode('not the artifact'), keyPolicy(happy.policy)],
      [
        happy.bundle,
        happy.artifact,
        { identity: { subject: 'else@example.com', issuer: 'https://accounts.google.com' } },
      ],
      [new TextEncoder().encode('{"mediaType":'), happy.artifact, keyPolicy(happy.policy)],
    ]
    for (const [bundle, artifact, policy] of cases) {
      const expected = await main.verify(bundle, artifact, policy).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isCountersignError(expected)).toBe(true)
      const got = await pool.verify(bundle, artifact, policy).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isCountersignError(got)).toBe(true)
      if (!isCountersignError(got) || !isCountersignError(expected)) throw new Error('unreachable')
      expect([got.code, got.message]).toEqual([expected.code, expected.message])
    }
  })

  it('verifies a managed-key bundle with the key passed across threads', async () => {
    const own = createVerifierPool(managed.trustedRoot, { threads: 1, verifier: managed.options })
    try {
      const r = await own.verify(managed.bundle, managed.artifact, keyPolicy(managed.policy))
      expect(r.signer.type).toBe('key')
      expect(r.tlogEntries.length).toBeGreaterThan(0)
      await expect(own.verify(managed.bundle, managed.artifact, {})).rejects.toSatisfy((e: unknown) =>
        isCountersignError(e),
      )
    } finally {
      await own.close()
    }
  })

  it('a malformed trusted root fails every verification, and a closed pool refuses work', async () => {
    const broken = createVerifierPool(new TextEncoder().encode('{}'), { threads: 1 })
    await expect(broken.verify(happy.bundle, happy.artifact, keyPolicy(happy.policy))).rejects.toSatisfy(
      (e: unknown) => isCountersignError(e) && e.code !== 'ERR_ABORTED',
    )
    await broken.close()
    await expect(broken.verify(happy.bundle, happy.artifact, {})).rejects.toSatisfy((e: unknown) =>
      isCountersignError(e, 'ERR_ABORTED'),
    )
  })

  it('a thread that runs out of memory fails its work and is given no more: later calls reject, never hang', async () => {
    // Heap limits far below what loading the verifier needs: the thread ends at start-up.
    const starved = createVerifierPool(happy.trustedRoot, {
      threads: 1,
      resourceLimits: { maxOldGenerationSizeMb: 2, maxYoungGenerationSizeMb: 1 },
    })
    try {
      await expect(starved.verify(happy.bundle, happy.artifact, keyPolicy(happy.policy))).rejects.toSatisfy(
        (e: unknown) => isCountersignError(e, 'ERR_ABORTED'),
      )
      const later = starved.verify(happy.bundle, happy.artifact, keyPolicy(happy.policy))
      const hung = new Promise((resolve) => setTimeout(() => resolve('hung'), 5000).unref())
      const outcome = await Promise.race([
        later.then(
          () => 'verified',
          (e: unknown) => e,
        ),
        hung,
      ])
      expect(isCountersignError(outcome, 'ERR_ABORTED')).toBe(true)
    } finally {
      await starved.close()
    }
  })
})

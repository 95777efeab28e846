/**
 * Fuzz: Sigstore bundles through full offline verification (`verifyBundle`), each mutant with the trusted root,
 * policy, artifact and options of the conformance case it came from, with the Web Crypto and the Node backend.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nodeSignatureBackend } from '../../src/node/signature-backend.js'
import { verifyBundle } from '../../src/verifier/verify-bundle.js'
import { type DocumentInput, documentInputs, documentOf } from './generators.js'
import { FUZZ_RUNS, fuzz, pick } from './harness.js'
import { type BundleSeed, bundleSeeds } from './seeds.js'

const seeds = bundleSeeds()

function verify(seed: BundleSeed, bundle: unknown, node: boolean) {
  return verifyBundle(bundle, seed.inputs.artifact, {
    trustedRoot: seed.root,
    policy: seed.inputs.policy,
    ...seed.inputs.options,
    signatureBackend: node ? nodeSignatureBackend : undefined,
  })
}

describe('fuzz: bundle verification', () => {
  it('every seed bundle verifies with both backends', async () => {
    expect(seeds.length).toBeGreaterThan(20)
    for (const s of seeds) {
      for (const node of [false, true]) {
        await expect(verify(s, s.inputs.bundle, node), s.name).resolves.toMatchObject({ bundle: expect.anything() })
      }
    }
  })

  it(`verifyBundle returns or throws a CountersignError (${FUZZ_RUNS} inputs)`, async () => {
    const stats = await fuzz<{ doc: DocumentInput; node: boolean; at: number }>({
      name: 'bundle',
      arbitrary: fc.record({
        doc: documentInputs(
          seeds.map((s) => s.inputs.bundle),
          { json: seeds.map((s) => s.json) },
        ),
        node: fc.boolean(),
        at: fc.nat(),
      }),
      describe: ({ doc, node, at }) =>
        `${doc.seed >= 0 ? seeds[doc.seed]!.name : `random for ${pick(seeds, at).name}`} ${doc.how} ${node ? 'node' : 'webcrypto'}`,
      run: async ({ doc, node, at }) => {
        const seed = doc.seed >= 0 ? seeds[doc.seed]! : pick(seeds, at)
        await verify(seed, documentOf(doc), node)
        return 'verified'
      },
    })
    expect(stats.runs).toBe(FUZZ_RUNS)
  })
})

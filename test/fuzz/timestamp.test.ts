/**
 * Fuzz: RFC 3161 timestamps (`parseTimestamp` + `verifyTimestamp`) over the data they cover, with the trusted root
 * of their case. Seeds: the sigstore-python issue-1482 TimeStampResp and every token of the passing conformance
 * bundles (each over its bundle's signature).
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { nodeSignatureBackend } from '../../src/node/signature-backend.js'
import { parseTimestamp, verifyTimestamp } from '../../src/timestamp/index.js'
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/index.js'
import { byteMutants, randomBytes } from './generators.js'
import { FUZZ_RUNS, fuzz, pick } from './harness.js'
import { bundleSeeds, bundleTimestamps, timestampedData, vector } from './seeds.js'

interface TimestampSeed {
  readonly name: string
  readonly der: Uint8Array
  readonly data: Uint8Array
  readonly root: TrustedRoot
}

const ISSUE_1482 = 'timestamps/sigstore-python-issue1482-token-without-certs'
const candidates: TimestampSeed[] = [
  {
    name: 'issue1482-token-without-certs',
    der: new Uint8Array(vector(`${ISSUE_1482}/timestamp.tsr`)),
    data: new Uint8Array(vector(`${ISSUE_1482}/message`)),
    root: parseTrustedRoot(vector(`${ISSUE_1482}/trusted_root.json`)),
  },
  ...bundleSeeds().flatMap((b) =>
    bundleTimestamps(b.json).map((der, i) => ({
      name: `${b.name}#${i}`,
      der,
      data: timestampedData(b.json),
      root: b.root,
    })),
  ),
]

/** The candidates that verify over their data (a bundle may carry a token that does not; verifyBundle drops it). */
let seeds: TimestampSeed[] = []
beforeAll(async () => {
  const ok = await Promise.all(
    candidates.map((s) =>
      verifyTimestamp(s.der, s.data, { trustedRoot: s.root }).then(
        () => true,
        () => false,
      ),
    ),
  )
  seeds = candidates.filter((_, i) => ok[i])
})

describe('fuzz: RFC 3161 timestamps', () => {
  it('every candidate token parses; most verify over their data (those are the seeds)', async () => {
    for (const s of candidates) parseTimestamp(s.der)
    expect(seeds.length).toBeGreaterThan(5)
    expect(seeds.length).toBeGreaterThan(candidates.length / 2)
    for (const s of seeds) {
      const { time } = await verifyTimestamp(s.der, s.data, { trustedRoot: s.root })
      expect(time.getTime(), s.name).toBeGreaterThan(0)
    }
  })

  it(`parseTimestamp + verifyTimestamp return or throw a CountersignError (${FUZZ_RUNS} inputs)`, async () => {
    await fuzz<{ m: { how: string; seed: number; value: Uint8Array }; node: boolean; at: number }>({
      name: 'rfc3161-timestamp',
      arbitrary: fc.record({
        m: fc.oneof(
          { weight: 9, arbitrary: byteMutants(seeds.map((s) => s.der)) },
          { weight: 1, arbitrary: randomBytes() },
        ),
        node: fc.boolean(),
        at: fc.nat(),
      }),
      describe: ({ m, node, at }) =>
        `${m.seed >= 0 ? seeds[m.seed]!.name : `random for ${pick(seeds, at).name}`} ${m.how} ${node ? 'node' : 'webcrypto'}`,
      run: async ({ m, node, at }) => {
        const seed = m.seed >= 0 ? seeds[m.seed]! : pick(seeds, at)
        parseTimestamp(m.value)
        await verifyTimestamp(m.value, seed.data, {
          trustedRoot: seed.root,
          signatureBackend: node ? nodeSignatureBackend : undefined,
        })
        return 'verified'
      },
    })
  })
})

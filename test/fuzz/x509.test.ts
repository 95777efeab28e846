/**
 * Fuzz: X.509 certificates (`parseCertificate`, DER and PEM) and, for what parses, chain verification
 * (`verifyCertificateChain`) against the trusted root of the bundle the seed came from, at a time inside the
 * mutant's own validity, plus the identity read from it (`certificateIdentity`). Seeds: the leaf and chain
 * certificates of the conformance bundles and the CA certificates of their trusted roots.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nodeSignatureBackend } from '../../src/node/signature-backend.js'
import type { TrustedRoot } from '../../src/trust/trusted-root.js'
import { certificateIdentity, parseCertificate, verifyCertificateChain } from '../../src/x509/index.js'
import { byteMutants, randomBytes, textMutants } from './generators.js'
import { FUZZ_RUNS, fuzz, pick } from './harness.js'
import { bundleCertificates, bundleSeeds, toPEM } from './seeds.js'

interface CertSeed {
  readonly name: string
  readonly der: Uint8Array
  readonly root: TrustedRoot
  readonly leaf: boolean
}

const seen = new Set<string>()
const seeds: CertSeed[] = []
for (const b of bundleSeeds()) {
  const add = (der: Uint8Array, leaf: boolean, what: string) => {
    const key = Buffer.from(der).toString('base64')
    if (seen.has(key)) return
    seen.add(key)
    seeds.push({ name: `${b.name} ${what}`, der, root: b.root, leaf })
  }
  bundleCertificates(b.json).forEach((der, i) => {
    add(der, i === 0, i === 0 ? 'leaf' : `chain[${i}]`)
  })
  for (const ca of b.root.certificateAuthorities)
    ca.certChain.forEach((der, i) => {
      add(der, false, `CA[${i}]`)
    })
}
const pems = seeds.map((s) => toPEM('CERTIFICATE', s.der))

/** A time inside the certificate's validity (the middle), which is where chain checks go deepest. */
function midpoint(notBefore: Date, notAfter: Date): Date {
  const t = new Date((notBefore.getTime() + notAfter.getTime()) / 2)
  return Number.isNaN(t.getTime()) ? notBefore : t
}

type Input =
  | { kind: 'der'; m: { how: string; seed: number; value: Uint8Array } }
  | { kind: 'pem'; m: { how: string; seed: number; value: string } }

describe('fuzz: X.509 certificates', () => {
  it('every seed certificate parses; every leaf with a Fulcio EKU chains to its trusted root', async () => {
    expect(seeds.filter((s) => s.leaf).length).toBeGreaterThan(10)
    for (const s of seeds) {
      const cert = parseCertificate(s.der)
      expect(parseCertificate(pems[seeds.indexOf(s)]!).raw).toEqual(cert.raw)
      if (s.leaf && cert.extendedKeyUsage?.includes('1.3.6.1.5.5.7.3.3')) {
        const { path } = await verifyCertificateChain(cert, s.root.certificateAuthorities, {
          time: midpoint(cert.notBefore, cert.notAfter),
        })
        expect(path.length, s.name).toBeGreaterThan(1)
      }
    }
  })

  it(`parseCertificate + verifyCertificateChain return or throw a CountersignError (${FUZZ_RUNS} inputs)`, async () => {
    await fuzz<{ input: Input; node: boolean; at: number }>({
      name: 'x509-certificate',
      arbitrary: fc.record({
        input: fc.oneof(
          { weight: 6, arbitrary: byteMutants(seeds.map((s) => s.der)).map((m) => ({ kind: 'der' as const, m })) },
          { weight: 2, arbitrary: textMutants(pems).map((m) => ({ kind: 'pem' as const, m })) },
          { weight: 1, arbitrary: randomBytes().map((m) => ({ kind: 'der' as const, m })) },
        ),
        node: fc.boolean(),
        at: fc.nat(),
      }),
      describe: ({ input, node }) =>
        `${input.kind} ${input.m.seed >= 0 ? seeds[input.m.seed]!.name : 'random'} ${input.m.how} ${node ? 'node' : 'webcrypto'}`,
      run: async ({ input, node, at }) => {
        const cert = parseCertificate(input.m.value)
        certificateIdentity(cert)
        const seed = input.m.seed >= 0 ? seeds[input.m.seed]! : pick(seeds, at)
        await verifyCertificateChain(cert, seed.root.certificateAuthorities, {
          time: midpoint(cert.notBefore, cert.notAfter),
          signatureBackend: node ? nodeSignatureBackend : undefined,
        })
        return 'chain-verified'
      },
    })
  })
})

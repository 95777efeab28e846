/**
 * Fuzz: DSSE envelopes (`parseDSSEEnvelope` + `verifyDSSE` with the signing keys) and in-toto statements
 * (`parseStatement`). Envelope seeds are signed here with the test/vectors keys (P-256, Ed25519, RSA), plus the
 * envelopes of the conformance bundles; statement seeds are the in-toto payloads of those envelopes.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { createStatement, parseStatement } from '../../src/attestation/index.js'
import {
  IN_TOTO_PAYLOAD_TYPE,
  parseDSSEEnvelope,
  serializeDSSEEnvelope,
  signDSSE,
  verifyDSSE,
} from '../../src/dsse/index.js'
import { type PublicKey, parsePrivateKey, parsePublicKey } from '../../src/keys/index.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { type DocumentInput, documentInputs, documentOf, utf8 } from './generators.js'
import { FUZZ_RUNS, fuzz } from './harness.js'
import { bundleEnvelopes, vectorText } from './seeds.js'

const KEYS = ['ec-p256', 'ed25519', 'rsa-2048'] as const
const bundleEnvelopeSeeds = bundleEnvelopes()
const statementSeeds = bundleEnvelopeSeeds
  .filter((e) => e.payloadType === IN_TOTO_PAYLOAD_TYPE)
  .map((e) => new Uint8Array(Buffer.from(e.payload as string, 'base64')))

let keys: PublicKey[] = []
/** Envelopes signed by `keys[i]`, as JSON bytes; then the bundle envelopes (signed by certificates). */
let envelopeSeeds: Uint8Array[] = []
/** The (payloadType, payload) each signed seed covers: the only ones a verifying mutant may carry. */
let signedContent: string[] = []

const contentKey = (payloadType: string, payload: Uint8Array) =>
  `${payloadType}\n${Buffer.from(payload).toString('base64')}`

beforeAll(async () => {
  keys = KEYS.map((k) => parsePublicKey(vectorText(`keys/openssl/${k}.pub.pem`)))
  const statement = createStatement(
    [{ name: 'ghcr.io/example/app', digest: { sha256: 'a'.repeat(64) } }],
    'https://slsa.dev/provenance/v1',
    { buildDefinition: { buildType: 'https://example.com/build' } },
  )
  const signed = await Promise.all(
    KEYS.map((k) =>
      signDSSE(
        statement,
        IN_TOTO_PAYLOAD_TYPE,
        createKeySigner(parsePrivateKey(vectorText(`keys/openssl/${k}.pkcs8.pem`)), {
          // verifyDSSE checks pure Ed25519 by default; cosign's key signer would pick Ed25519ph.
          ...(k === 'ed25519' ? { algorithm: 'ed25519' as const } : {}),
        }),
      ),
    ),
  )
  signedContent = signed.map((e) => contentKey(e.payloadType, e.payload))
  envelopeSeeds = [
    ...signed.map((e) => utf8(serializeDSSEEnvelope(e))),
    ...bundleEnvelopeSeeds.map((e) => utf8(JSON.stringify(e))),
  ]
})

describe('fuzz: DSSE envelopes', () => {
  it('every signed seed parses and verifies with its key; bundle envelopes parse', async () => {
    expect(bundleEnvelopeSeeds.length).toBeGreaterThan(3)
    for (let i = 0; i < envelopeSeeds.length; i++) {
      const env = parseDSSEEnvelope(envelopeSeeds[i]!)
      if (i < KEYS.length) expect(await verifyDSSE(env, keys)).toBe(i)
    }
  })

  it(`parseDSSEEnvelope + verifyDSSE return or throw a CountersignError; only signed content verifies (${FUZZ_RUNS} inputs)`, async () => {
    await fuzz<DocumentInput>({
      name: 'dsse',
      arbitrary: documentInputs(envelopeSeeds),
      describe: (doc) => `seed ${doc.seed} ${doc.how}`,
      run: async (doc) => {
        const env = parseDSSEEnvelope(documentOf(doc))
        const index = await verifyDSSE(env, keys)
        if (index < 0) return 'parsed'
        // A signature is only valid over what was signed: a mutant that verifies carries a seed's exact content.
        if (!signedContent.includes(contentKey(env.payloadType, env.payload)))
          throw new Error(`a mutated envelope verified with key ${index}: ${env.payloadType}`)
        return 'verified'
      },
    })
  })
})

describe('fuzz: in-toto statements', () => {
  it('every seed statement parses', () => {
    expect(statementSeeds.length).toBeGreaterThan(1)
    for (const s of statementSeeds) expect(parseStatement(s).subject.length).toBeGreaterThan(0)
  })

  it(`parseStatement returns or throws a CountersignError (${FUZZ_RUNS} inputs)`, async () => {
    await fuzz<DocumentInput>({
      name: 'in-toto-statement',
      arbitrary: documentInputs(statementSeeds, { decoded: false }),
      describe: (doc) => `seed ${doc.seed} ${doc.how}`,
      run: (doc) => {
        parseStatement(doc.bytes)
      },
    })
  })
})

import { readFileSync } from 'node:fs'
import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expect, it } from 'vitest'
import { parseBundle } from '../../src/bundle/bundle.js'
import { parseDSSEEnvelope, serializeDSSEEnvelope } from '../../src/dsse/envelope.js'
import { dssePAE } from '../../src/dsse/pae.js'
import { signDSSE } from '../../src/dsse/sign.js'
import { verifyDSSE } from '../../src/dsse/verify.js'
import { toHex } from '../../src/internal/bytes.js'
import { ecdsaP1363ToDER, generateKeyPair, parsePublicKey } from '../../src/keys/index.js'
import { BUNDLE_V03_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { createKeySigner } from '../../src/signers/key-signer.js'

const load = (dir: string) =>
  JSON.parse(readFileSync(new URL(`../vectors/dsse/${dir}/vectors.json`, import.meta.url), 'utf8')) as Record<
    string,
    // biome-ignore lint/suspicious/noExplicitAny: vector files are free-form JSON
    any
  >[]
const enc = new TextEncoder()

describe('DSSE PAE vectors', () => {
  for (const v of [...load('dsse-spec-test-vector'), ...load('sigstore-js-pae')].filter((v) => v.expectedPaeHex)) {
    it(v.desc, () => {
      const pae = dssePAE(v.payloadType, enc.encode(v.payloadUtf8))
      expect(toHex(pae)).toBe(v.expectedPaeHex)
      if (v.mustDifferFromPaeHex) expect(toHex(pae)).not.toBe(v.mustDifferFromPaeHex)
    })
  }

  for (const v of load('sigstore-bundle-envelopes')) {
    it(`PAE of a real bundle envelope hashes to the logged value: ${v.desc}`, () => {
      const env = parseDSSEEnvelope(v.envelope)
      const pae = dssePAE(env.payloadType, env.payload)
      expect(pae.length).toBe(Number(v.paeLength))
      expect(toHex(sha256(pae))).toBe(v.expectedPaeSha256Hex)
    })
  }
})

describe('DSSE spec envelope signatures', () => {
  for (const v of load('dsse-spec-test-vector').filter((v) => v.envelope)) {
    it(`${v.desc} → ${v.expect}`, async () => {
      const parsed = parseDSSEEnvelope(v.envelope)
      // The spec signs in P1363 form (r||s); cosign (and we) verify DER, so convert it first.
      const env = { ...parsed, signatures: parsed.signatures.map((s) => ({ sig: ecdsaP1363ToDER(s.sig) })) }
      if (v.signatureDerB64) expect(Buffer.from(env.signatures[0]!.sig).toString('base64')).toBe(v.signatureDerB64)
      const idx = await verifyDSSE(env, [parsePublicKey(v.publicKeyPem)])
      expect(idx >= 0).toBe(v.expect === 'pass')
    })
  }
})

describe('DSSE envelopes inside bundles (sigstore-python parse rules)', () => {
  for (const v of load('sigstore-python-envelope-parse')) {
    it(`${v.desc} → ${v.expect}`, () => {
      const doc = {
        mediaType: BUNDLE_V03_MEDIA_TYPE,
        verificationMaterial: { publicKey: { hint: 'x' } },
        dsseEnvelope: v.envelope,
      }
      if (v.expect === 'pass') {
        const b = parseBundle(doc)
        expect(b.content.type).toBe('dsseEnvelope')
        if (b.content.type === 'dsseEnvelope') {
          expect(new TextDecoder().decode(b.content.envelope.payload)).toBe(v.parsed.payloadUtf8)
          expect(new TextDecoder().decode(b.content.envelope.signatures[0]!.sig)).toBe(v.parsed.signatureUtf8)
        }
      } else {
        expect(() => parseBundle(doc)).toThrow(expect.objectContaining({ code: 'ERR_BUNDLE_INVALID' }))
      }
    })
  }
})

describe('signDSSE / verifyDSSE / serialisation', () => {
  it('round-trips, verifies over the exact payload bytes, and serialises in both cosign key orders', async () => {
    const key = await generateKeyPair()
    const env = await signDSSE(enc.encode('{"a":1}'), 'application/vnd.in-toto+json', createKeySigner(key))
    expect(await verifyDSSE(env, [(await generateKeyPair()).publicKey, key.publicKey])).toBe(1)
    const v3 = serializeDSSEEnvelope(env)
    expect(v3).toMatch(
      /^\{"payload":"eyJhIjoxfQ==","payloadType":"application\/vnd.in-toto\+json","signatures":\[\{"sig":"[^"]+"\}\]\}$/,
    )
    const v2 = serializeDSSEEnvelope(env, { order: 'v2' })
    expect(v2).toMatch(
      /^\{"payloadType":"application\/vnd.in-toto\+json","payload":"eyJhIjoxfQ==","signatures":\[\{"keyid":"","sig":"[^"]+"\}\]\}$/,
    )
    for (const text of [v3, v2]) expect(await verifyDSSE(parseDSSEEnvelope(enc.encode(text)), [key.publicKey])).toBe(0)
    const tampered = { ...env, payload: enc.encode('{"a":2}') }
    expect(await verifyDSSE(tampered, [key.publicKey])).toBe(-1)
    expect(await verifyDSSE({ ...env, payloadType: 'text/plain' }, [key.publicKey])).toBe(-1)
  })

  it.each([
    ['not JSON', '{'],
    ['no payload', '{"payloadType":"x","signatures":[]}'],
    ['bad base64', '{"payloadType":"x","payload":"***","signatures":[]}'],
    ['signature without sig', '{"payloadType":"x","payload":"","signatures":[{}]}'],
  ])('rejects an envelope with %s', (_, text) => {
    expect(() => parseDSSEEnvelope(enc.encode(text))).toThrow(expect.objectContaining({ code: 'ERR_DSSE_INVALID' }))
  })
})

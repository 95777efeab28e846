// The real cosign attestation bundle (test/vectors/bundles/cosign-oci-attestation, see SOURCE.md there): its DSSE
// signature verifies with the key of its embedded Fulcio certificate. Only the signature is checked here; the
// certificate chain, SCT and Rekor entry are verified by the Sigstore verification issue (not yet implemented).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createAttestationStatement } from '../../src/attestation/predicates.js'
import { parseStatement, statementHasSubjectDigest } from '../../src/attestation/statement.js'
import { parseBundle } from '../../src/bundle/bundle.js'
import { type DSSEEnvelope, parseDSSEEnvelope, serializeDSSEEnvelope } from '../../src/dsse/envelope.js'
import { verifyDSSE } from '../../src/dsse/verify.js'
import { fromBase64, toHex } from '../../src/internal/bytes.js'
import { parseDER, readChildren } from '../../src/internal/der.js'
import { parsePublicKey } from '../../src/keys/index.js'
import { sha256Digest } from '../../src/oci/digest.js'

const dir = join(import.meta.dirname, '../vectors/bundles/cosign-oci-attestation')
const text = readFileSync(join(dir, 'bundle.sigstore.json'), 'utf8')
const bundle = parseBundle(JSON.parse(text))
const SUBJECT = 'sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4'

/** SubjectPublicKeyInfo of an X.509 certificate: Certificate → tbsCertificate → the 7th field (after [0] version). */
function certificateSPKI(der: Uint8Array): Uint8Array {
  const tbs = readChildren(readChildren(parseDER(der))[0]!)
  const fields = tbs[0]!.tag === 0xa0 ? tbs.slice(1) : tbs
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
  return fields[5]!.raw
}

function envelope(): DSSEEnvelope {
  if (bundle.content.type !== 'dsseEnvelope') throw new Error('expected a DSSE bundle')
  return bundle.content.envelope
}

describe('cosign attestation bundle fixture', () => {
  it('its DSSE signature verifies with the public key of its embedded certificate, and only over the exact payload', async () => {
    if (bundle.verificationMaterial.type !== 'certificate') throw new Error('expected a certificate')
    const key = parsePublicKey(certificateSPKI(bundle.verificationMaterial.certificate))
    expect(key.algorithm).toBe('ecdsa-p256')
    expect(await verifyDSSE(envelope(), [key], { hash: 'sha256' })).toBe(0)
    const tampered = new Uint8Array(envelope().payload)
    tampered[tampered.length - 2] = tampered[tampered.length - 2]! ^ 1
    expect(await verifyDSSE({ ...envelope(), payload: tampered }, [key], { hash: 'sha256' })).toBe(-1)
    expect(await verifyDSSE({ ...envelope(), payloadType: 'application/json' }, [key], { hash: 'sha256' })).toBe(-1)
  })

  it('holds an in-toto v0.1 statement about the README subject digest, as cosign v2 serialised it', () => {
    const st = parseStatement(envelope().payload)
    expect(st._type).toBe('https://in-toto.io/Statement/v0.1')
    expect(st.predicateType).toBe('https://cosign.sigstore.dev/attestation/v1')
    expect(statementHasSubjectDigest(st, SUBJECT)).toBe(true)
    expect(st.subject[0]!.name).toBe('127.0.0.1:60943/repo')
    // The same statement built by countersign: equal as JSON (cosign v3 writes protojson's key order instead).
    const built = createAttestationStatement({
      type: 'custom',
      predicate: new TextEncoder().encode('{"foo": "bar"}\n'),
      subjectName: '127.0.0.1:60943/repo',
      digest: SUBJECT,
      timestamp: new Date('2025-02-28T19:18:11Z'),
    })
    expect(JSON.parse(new TextDecoder().decode(built.statement))).toEqual(
      JSON.parse(new TextDecoder().decode(envelope().payload)),
    )
  })

  it('envelope key orders: the v2 order is what Rekor hashed; both orders parse to the same envelope', async () => {
    const rekorBody = JSON.parse(
      new TextDecoder().decode(fromBase64((bundle.tlogEntries[0] as { canonicalizedBody: string }).canonicalizedBody)),
    )
    const v2 = serializeDSSEEnvelope(envelope(), { order: 'v2' })
    expect(`sha256:${rekorBody.spec.envelopeHash.value}`).toBe(await sha256Digest(new TextEncoder().encode(v2)))
    const v3 = serializeDSSEEnvelope(envelope())
    expect(v3.startsWith('{"payload":')).toBe(true)
    for (const json of [v2, v3]) {
      const parsed = parseDSSEEnvelope(new TextEncoder().encode(json))
      expect(toHex(parsed.payload)).toBe(toHex(envelope().payload))
      expect(toHex(parsed.signatures[0]!.sig)).toBe(toHex(envelope().signatures[0]!.sig))
    }
  })
})

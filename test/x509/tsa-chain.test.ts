// The chain verifier with a purpose other than code signing: timestamp authority chains (EKU timeStamping), whose
// trusted-root certChain starts with the TSA's own certificate and whose intermediate may restrict its EKUs.
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { parseTrustedRoot } from '../../src/trust/trusted-root.js'
import { OID_EKU_TIME_STAMPING } from '../../src/x509/certificate.js'
import { authorityCertificates } from '../../src/x509/chain.js'
import { parseCertificate, verifyCertificateChain } from '../../src/x509/index.js'

const BUNDLES = resolve(import.meta.dirname, '../vectors/timestamps/bundles')
// sigstore-python's local test TSA: leaf, an intermediate whose EKU is exactly timeStamping, and a root.
const root = parseTrustedRoot(readFileSync(join(BUNDLES, 'sigstore-python-tsa-timestamp-local-tsa/trusted_root.json')))
const tsa = root.timestampAuthorities[0]!
const [leaf, intermediate] = authorityCertificates(tsa)
const time = new Date(Math.max(leaf!.notBefore.getTime(), tsa.validFor.start.getTime()) + 1000)

describe('verifyCertificateChain for timestamp authorities', () => {
  test('the TSA certificate verifies to its authority for the timeStamping purpose', async () => {
    expect(intermediate!.extendedKeyUsage).toEqual([OID_EKU_TIME_STAMPING])
    const { path, authority } = await verifyCertificateChain(leaf!, [tsa], {
      time,
      extendedKeyUsage: OID_EKU_TIME_STAMPING,
    })
    expect(authority).toBe(tsa)
    // The leaf is the authority's first certificate; the path continues with the certificates after it.
    expect(path).toEqual(authorityCertificates(tsa))
  })

  test('the default purpose (code signing) refuses the TSA certificate', async () => {
    await expect(verifyCertificateChain(leaf!, [tsa], { time })).rejects.toMatchObject({
      code: 'ERR_CERT_CHAIN_INVALID',
      message: 'leaf certificate lacks the codeSigning extended key usage',
      details: { reason: 'leaf-profile' },
    })
  })

  test('a code-signing leaf is refused for the timeStamping purpose', async () => {
    const fulcio = JSON.parse(readFileSync(join(BUNDLES, 'conformance-rekor2-happy-path/bundle.sigstore.json'), 'utf8'))
      .verificationMaterial.certificate.rawBytes as string
    const codeSigning = parseCertificate(Buffer.from(fulcio, 'base64'))
    await expect(
      verifyCertificateChain(codeSigning, [tsa], { time, extendedKeyUsage: OID_EKU_TIME_STAMPING }),
    ).rejects.toMatchObject({
      message: 'leaf certificate lacks the timeStamping extended key usage',
      details: { reason: 'leaf-profile' },
    })
  })

  test('the parsed authority chain is cached per authority object', () => {
    expect(authorityCertificates(tsa)).toBe(authorityCertificates(tsa))
    expect(authorityCertificates(tsa)[0]).toBe(leaf)
  })
})

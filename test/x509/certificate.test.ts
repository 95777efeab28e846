import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { fromBase64 } from '../../src/internal/bytes.js'
import {
  isCACertificate,
  isLeafCertificate,
  isRootCACertificate,
  parseCertificate,
  parseCertificatePEM,
} from '../../src/x509/index.js'

const PROFILE = resolve(import.meta.dirname, '../vectors/certs/x509/sigstore-python-x509-profile')
const BUNDLES = resolve(import.meta.dirname, '../vectors/certs/bundles')
const profileCase = JSON.parse(readFileSync(join(PROFILE, 'case.json'), 'utf8'))
const pem = (name: string) => parseCertificate(readFileSync(join(PROFILE, name), 'utf8'))

describe('sigstore-python X.509 profile classification', () => {
  const rows = (kind: string) =>
    Object.entries(profileCase.expectations[kind] as Record<string, boolean | 'error'>).map(([f, v]) => [f, v] as const)

  test.each(rows('isCA'))('isCA(%s) = %s', (file, want) => {
    const cert = pem(file)
    if (want === 'error')
      expect(() => isCACertificate(cert)).toThrow(expect.objectContaining({ code: 'ERR_CERT_CHAIN_INVALID' }))
    else expect(isCACertificate(cert)).toBe(want)
  })

  test.each(rows('isRootCA'))('isRootCA(%s) = %s', async (file, want) => {
    const cert = pem(file)
    if (want === 'error')
      await expect(isRootCACertificate(cert)).rejects.toMatchObject({ code: 'ERR_CERT_CHAIN_INVALID' })
    else await expect(isRootCACertificate(cert)).resolves.toBe(want)
  })

  test.each(rows('isLeaf'))('isLeaf(%s) = %s', (file, want) => {
    const cert = pem(file)
    if (want === 'error')
      expect(() => isLeafCertificate(cert)).toThrow(expect.objectContaining({ code: 'ERR_CERT_CHAIN_INVALID' }))
    else expect(isLeafCertificate(cert)).toBe(want)
  })
})

describe('parseCertificate', () => {
  const bundle = JSON.parse(readFileSync(join(BUNDLES, 'conformance-happy-path-v0.3/bundle.sigstore.json'), 'utf8'))
  const der = fromBase64(bundle.verificationMaterial.certificate.rawBytes)

  test('decodes a Fulcio leaf: validity, SAN, EKU, key usage, key identifiers, raw TBS', () => {
    const cert = parseCertificate(der)
    expect(cert.version).toBe(3)
    expect(cert.notBefore.toISOString()).toBe('2024-03-19T17:26:26.000Z')
    expect(cert.notAfter.toISOString()).toBe('2024-03-19T17:36:26.000Z')
    expect(cert.subjectAltNames).toEqual([
      { type: 'uri', value: expect.stringMatching(/^https:\/\/github.com\/sigstore-conformance\//) },
    ])
    expect(cert.extendedKeyUsage).toEqual(['1.3.6.1.5.5.7.3.3'])
    expect(cert.keyUsage).toMatchObject({ critical: true, digitalSignature: true, keyCertSign: false })
    expect(cert.basicConstraints).toBeUndefined()
    expect(cert.subjectKeyId).toHaveLength(20)
    expect(cert.authorityKeyId).toHaveLength(20)
    expect(cert.signatureAlgorithm).toBe('1.2.840.10045.4.3.3')
    expect(cert.issuer.text).toBe('CN=sigstore-intermediate,O=sigstore.dev')
    // tbs is the exact signed slice of the input.
    const at = der.findIndex((_, i) => der.subarray(i, i + cert.tbs.length).every((b, j) => b === cert.tbs[j]))
    expect(at).toBe(4)
  })

  test('keeps a private copy, so mutating the input afterwards changes nothing', () => {
    const input = der.slice()
    const cert = parseCertificate(input)
    input.fill(0)
    expect(cert.raw).toEqual(der)
  })

  test('PEM with an OpenSSL text dump before the block, and multi-block chains', () => {
    const text = readFileSync(
      resolve(import.meta.dirname, '../vectors/certs/sct/ct-embedded-sct-valid/test-embedded-cert.pem'),
      'utf8',
    )
    expect(text.startsWith('-----')).toBe(false)
    expect(parseCertificate(text).version).toBe(3)
    const chain =
      readFileSync(join(PROFILE, 'bogus-root.pem'), 'utf8') + readFileSync(join(PROFILE, 'bogus-leaf.pem'), 'utf8')
    expect(parseCertificatePEM(chain)).toHaveLength(2)
  })

  test('truncations, trailing bytes and every single-byte header flip are coded errors, never crashes', () => {
    for (let n = 0; n < der.length; n += 97) {
      expect(() => parseCertificate(der.subarray(0, n))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
    }
    const trailing = new Uint8Array(der.length + 1)
    trailing.set(der)
    expect(() => parseCertificate(trailing)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
    for (let i = 0; i < der.length; i++) {
      const m = der.slice()
      m[i]! ^= 0x80
      try {
        parseCertificate(m)
      } catch (e) {
        expect(e).toMatchObject({
          code: expect.stringMatching(/^ERR_(INVALID_INPUT|UNSUPPORTED_ALGORITHM|KEY_INVALID)$/),
        })
      }
    }
    expect(() => parseCertificate('not a certificate')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
  })
})

import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expect, test } from 'vitest'
import { fromBase64, toHex } from '../../src/internal/bytes.js'
import { TRUSTED_ROOT_MEDIA_TYPE_V02 } from '../../src/oci/media-types.js'
import { PUBLIC_GOOD_TRUSTED_ROOT_JSON, publicGoodTrustedRoot } from '../../src/trust/public-good.js'
import {
  isValidAt,
  parseTrustedRoot,
  selectCertificateAuthorities,
  selectTransparencyLogs,
  transparencyLogKey,
} from '../../src/trust/trusted-root.js'

const ROOTS = resolve(import.meta.dirname, '../vectors/trusted-roots')
const text = (name: string) => readFileSync(join(ROOTS, name), 'utf8')
const json = (name: string) => JSON.parse(text(name))
/** Mutable trusted-root JSON, edited in place by the mutation tables. */
// biome-ignore lint/suspicious/noExplicitAny: free-form JSON mutated by tests
type RootJSON = any
const INVALID = expect.objectContaining({ code: 'ERR_INVALID_INPUT' })

describe('the public-good root', () => {
  test('is the production trusted_root.json, byte for byte in content', () => {
    expect(JSON.parse(PUBLIC_GOOD_TRUSTED_ROOT_JSON)).toEqual(json('production-trusted_root.json'))
    expect(publicGoodTrustedRoot()).toBe(publicGoodTrustedRoot()) // parsed once
  })

  test('parses into its logs, CAs and TSA, keeping DER', () => {
    const root = publicGoodTrustedRoot()
    expect(root.tlogs.map((l) => l.baseUrl)).toEqual([
      'https://rekor.sigstore.dev',
      'https://log2025-1.rekor.sigstore.dev',
    ])
    expect(root.ctlogs.map((l) => l.baseUrl)).toEqual([
      'https://ctfe.sigstore.dev/test',
      'https://ctfe.sigstore.dev/2022',
    ])
    expect(root.certificateAuthorities.map((c) => c.certChain.length)).toEqual([1, 2])
    expect(root.timestampAuthorities[0]!.subject).toEqual({
      organization: 'sigstore.dev',
      commonName: 'sigstore-tsa-selfsigned',
    })
    for (const ca of [...root.certificateAuthorities, ...root.timestampAuthorities]) {
      for (const der of ca.certChain) expect(der[0]).toBe(0x30)
    }
    const rekor = root.tlogs[0]!
    expect(toHex(rekor.logId)).toBe(toHex(sha256(rekor.publicKey.rawBytes)))
    expect(rekor.publicKey.validFor).toEqual({ start: new Date('2021-01-12T11:53:27Z') })
    expect(root.ctlogs[0]!.publicKey.validFor.end).toEqual(new Date('2022-10-31T23:59:59.999Z'))
    expect(Object.isFrozen(root) && Object.isFrozen(root.tlogs) && Object.isFrozen(rekor)).toBe(true)
  })

  test('every log key parses with the scheme its keyDetails names', () => {
    const root = publicGoodTrustedRoot()
    const keys = [...root.tlogs, ...root.ctlogs].map((l) => transparencyLogKey(l))
    expect(keys.map((k) => k.key.algorithm)).toEqual(['ecdsa-p256', 'ed25519', 'ecdsa-p256', 'ecdsa-p256'])
    expect(keys[0]!.verifyOptions).toEqual({ hash: 'sha256' })
    expect(transparencyLogKey(root.tlogs[0]!)).toBe(keys[0]) // cached
  })
})

describe('the staging root', () => {
  test('parses, including the deprecated PKCS#1 RSA CT log key', () => {
    const root = parseTrustedRoot(text('staging-trusted_root.json'))
    expect(root.tlogs).toHaveLength(4)
    const rsa = root.ctlogs.find((l) => l.publicKey.keyDetails === 'PKCS1_RSA_PKCS1V5')!
    expect(transparencyLogKey(rsa).key.algorithm).toBe('rsa')
  })
})

describe('validity windows', () => {
  test('a log without validFor.start rejects the whole root (conformance trust-root-tlog-missing-validity-start_fail)', () => {
    expect(() => parseTrustedRoot(text('conformance-trust-root-tlog-missing-validity-start_fail.json'))).toThrow(
      INVALID,
    )
  })

  test.each([
    ['tlogs', (r: RootJSON) => delete r.tlogs[0].publicKey.validFor.start],
    ['ctlogs', (r: RootJSON) => delete r.ctlogs[1].publicKey.validFor.start],
    ['certificateAuthorities', (r: RootJSON) => delete r.certificateAuthorities[0].validFor.start],
    ['timestampAuthorities', (r: RootJSON) => delete r.timestampAuthorities[0].validFor],
    ['validFor null', (r: RootJSON) => (r.tlogs[0].publicKey.validFor = null)],
  ])('a missing start in %s is rejected', (_name, mutate) => {
    const root = json('production-trusted_root.json')
    mutate(root)
    expect(() => parseTrustedRoot(root)).toThrow(INVALID)
  })

  test('tlog validity end is inclusive (conformance trust-root-tlog-validity-end-inclusive)', () => {
    const root = parseTrustedRoot(text('conformance-trust-root-tlog-validity-end-inclusive.json'))
    const logId = fromBase64('wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=')
    const integrated = 1689177396
    expect(selectTransparencyLogs(root.tlogs, logId, new Date(integrated * 1000))).toHaveLength(1)
    expect(selectTransparencyLogs(root.tlogs, logId, new Date((integrated + 1) * 1000))).toHaveLength(0)
    expect(selectTransparencyLogs(root.tlogs, logId, new Date('2021-01-12T11:53:26Z'))).toHaveLength(0)
    expect(selectTransparencyLogs(root.tlogs, logId)).toHaveLength(1)
    expect(selectTransparencyLogs(root.tlogs, new Uint8Array(32), new Date(integrated * 1000))).toHaveLength(0)
  })

  test('TSA validity end is inclusive (conformance trust-root-tsa-validity-end-inclusive)', () => {
    const root = parseTrustedRoot(text('conformance-trust-root-tsa-validity-end-inclusive.json'))
    const genTime = new Date('2025-06-12T12:02:20Z')
    expect(selectCertificateAuthorities(root.timestampAuthorities, genTime)).toHaveLength(1)
    expect(selectCertificateAuthorities(root.timestampAuthorities, new Date(genTime.getTime() + 1))).toHaveLength(0)
  })

  test('RFC 3339 forms: offsets, fractions (rounded inward), invalid dates', () => {
    const root = json('production-trusted_root.json')
    const log = root.tlogs[0].publicKey
    log.validFor = { start: '2021-01-12T12:53:27.0000001+01:00', end: '2022-01-01T00:00:00.9999999Z' }
    const v = parseTrustedRoot(root).tlogs[0]!.publicKey.validFor
    expect(v.start).toEqual(new Date('2021-01-12T11:53:27.001Z'))
    expect(v.end).toEqual(new Date('2022-01-01T00:00:00.999Z'))
    expect(isValidAt(v, new Date(Number.NaN))).toBe(false)
    for (const bad of ['2021-02-30T00:00:00Z', '2021-01-12 11:53:27Z', '2021-01-12T11:53:27', '1610452407', '']) {
      log.validFor = { start: bad }
      expect(() => parseTrustedRoot(root)).toThrow(INVALID)
    }
    log.validFor = { start: '2022-01-01T00:00:00Z', end: '2021-01-01T00:00:00Z' }
    expect(() => parseTrustedRoot(root)).toThrow(INVALID)
  })
})

describe('malformed roots', () => {
  test('media types: v0.1 and v0.2 accepted, anything else refused', () => {
    const root = json('production-trusted_root.json')
    expect(parseTrustedRoot({ ...root, mediaType: TRUSTED_ROOT_MEDIA_TYPE_V02 }).mediaType).toBe(
      TRUSTED_ROOT_MEDIA_TYPE_V02,
    )
    for (const mediaType of [undefined, 'application/json', 'application/vnd.dev.sigstore.trustedroot.v0.9+json']) {
      expect(() => parseTrustedRoot({ ...root, mediaType })).toThrow(INVALID)
    }
  })

  test.each([
    ['not JSON', '{'],
    ['not an object', '[]'],
    ['bad UTF-8', new Uint8Array([0xff, 0xfe])],
    ['tlogs not an array', { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: {} }],
  ])('%s', (_name, input) => {
    expect(() => parseTrustedRoot(input)).toThrow(INVALID)
  })

  test.each([
    ['missing public key bytes', (r: RootJSON) => delete r.tlogs[0].publicKey.rawBytes],
    ['missing log ID', (r: RootJSON) => delete r.tlogs[0].logId],
    ['log ID not base64', (r: RootJSON) => (r.tlogs[0].logId.keyId = '***')],
    ['empty certificate chain', (r: RootJSON) => (r.certificateAuthorities[1].certChain.certificates = [])],
    ['certificate without bytes', (r: RootJSON) => (r.certificateAuthorities[1].certChain.certificates[0] = {})],
    ['baseUrl not a string', (r: RootJSON) => (r.tlogs[0].baseUrl = 7)],
  ])('%s is refused', (_name, mutate) => {
    const root = json('production-trusted_root.json')
    mutate(root)
    expect(() => parseTrustedRoot(root)).toThrow(INVALID)
  })

  test('a key that contradicts its keyDetails, or an unknown scheme, is refused when used', () => {
    const root = json('production-trusted_root.json')
    root.tlogs[0].publicKey.keyDetails = 'PKIX_ED25519'
    root.tlogs[1].publicKey.keyDetails = 'PKIX_FANCY_NEW'
    const parsed = parseTrustedRoot(root) // lazily: the rest of the root stays usable
    expect(() => transparencyLogKey(parsed.tlogs[0]!)).toThrow(expect.objectContaining({ code: 'ERR_KEY_INVALID' }))
    expect(() => transparencyLogKey(parsed.tlogs[1]!)).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_ALGORITHM' }),
    )
    expect(transparencyLogKey(parsed.ctlogs[1]!).key.algorithm).toBe('ecdsa-p256')
  })
})

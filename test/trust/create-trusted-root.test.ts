import { generateKeyPairSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expect, test } from 'vitest'
import { concat, fromBase64, toBase64, utf8 } from '../../src/internal/bytes.js'
import { parsePublicKey } from '../../src/keys/parse-public.js'
import { TRUSTED_ROOT_MEDIA_TYPE_V01 } from '../../src/oci/media-types.js'
import {
  createTrustedRoot,
  type TrustedRootAuthorityInput,
  type TrustedRootCertificate,
  type TrustedRootLogInput,
  transparencyLogId,
} from '../../src/trust/create-trusted-root.js'
import { PUBLIC_GOOD_TRUSTED_ROOT_JSON, publicGoodTrustedRoot } from '../../src/trust/public-good.js'
import { parseTrustedRoot, type TransparencyLog, type TrustedRoot } from '../../src/trust/trusted-root.js'
import { parseCertificate } from '../../src/x509/certificate.js'

const STAGING = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '../vectors/trusted-roots/staging-trusted_root.json'), 'utf8'),
)
const INVALID = expect.objectContaining({ code: 'ERR_INVALID_INPUT' })

/** The checkpoint origin of a Rekor v2 log: its URL host (what rekor-tiles signs checkpoints as). */
const originOf = (log: TransparencyLog) => new URL(log.baseUrl).host

/** Rebuild a root's entries from its parts (keys, certificates, URLs, windows), as `trusted-root create` would. */
function partsOf(root: TrustedRoot) {
  const log = (l: TransparencyLog): TrustedRootLogInput => ({
    baseUrl: l.baseUrl,
    publicKey: parsePublicKey(l.publicKey.rawBytes),
    start: l.publicKey.validFor.start,
    ...(l.publicKey.validFor.end ? { end: l.publicKey.validFor.end } : {}),
    ...(l.publicKey.keyDetails === 'PKIX_ED25519' ? { origin: originOf(l) } : {}),
  })
  const authority = (ca: TrustedRoot['certificateAuthorities'][number]): TrustedRootAuthorityInput => ({
    uri: ca.uri,
    certChain: ca.certChain.map((c) => parseCertificate(c)),
    start: ca.validFor.start,
    ...(ca.validFor.end ? { end: ca.validFor.end } : {}),
  })
  return {
    tlogs: root.tlogs.map(log),
    certificateAuthorities: root.certificateAuthorities.map(authority),
    ctlogs: root.ctlogs.map(log),
    timestampAuthorities: root.timestampAuthorities.map(authority),
  }
}

const fakeCert = (
  attributes: { oid: string; value: string }[],
  notBefore = new Date('2024-01-01T00:00:00Z'),
  ca = false,
): TrustedRootCertificate => ({
  raw: utf8(`cert ${Math.random()}`),
  notBefore,
  subject: { attributes },
  basicConstraints: { ca },
})

describe('log IDs', () => {
  const good = publicGoodTrustedRoot()

  test('ECDSA logs (Rekor v1, CT): SHA-256 of the SPKI, with or without an origin', () => {
    const ecdsa = [...good.tlogs, ...good.ctlogs].filter((l) => l.publicKey.keyDetails === 'PKIX_ECDSA_P256_SHA_256')
    expect(ecdsa).toHaveLength(3)
    for (const log of ecdsa) {
      const key = parsePublicKey(log.publicKey.rawBytes)
      expect(transparencyLogId(key)).toEqual(log.logId)
      expect(transparencyLogId(key)).toEqual(sha256(log.publicKey.rawBytes))
      // rekor-tiles note.KeyHash ignores the origin for ECDSA.
      expect(transparencyLogId(key, 'rekor.example.com')).toEqual(log.logId)
    }
  })

  test('Ed25519 Rekor v2 logs: SHA-256(origin ‖ "\\n" ‖ 0x01 ‖ raw key), checked on public-good and staging', () => {
    const staging = parseTrustedRoot(STAGING)
    const v2 = [...good.tlogs, ...staging.tlogs].filter((l) => l.publicKey.keyDetails === 'PKIX_ED25519')
    expect(v2.map(originOf)).toEqual([
      'log2025-1.rekor.sigstore.dev',
      'log2025-alpha1.rekor.sigstage.dev',
      'log2025-alpha2.rekor.sigstage.dev',
      'log2025-alpha3.rekor.sigstage.dev',
    ])
    for (const log of v2) {
      const key = parsePublicKey(log.publicKey.rawBytes)
      const raw = log.publicKey.rawBytes.subarray(-32)
      expect(transparencyLogId(key, originOf(log))).toEqual(log.logId)
      expect(transparencyLogId(key, originOf(log))).toEqual(
        sha256(concat(utf8(`${originOf(log)}\n`), Uint8Array.of(1), raw)),
      )
      // Without the origin it is the v1 rule, which the root does not use for these logs.
      expect(transparencyLogId(key)).not.toEqual(log.logId)
      expect(transparencyLogId(key, 'other.example.com')).not.toEqual(log.logId)
    }
  })

  test('RSA with an origin: SHA-256(origin ‖ "\\n" ‖ 0xff ‖ "PKIX-RSA-PKCS#1v1.5" ‖ SPKI)', () => {
    const spki = new Uint8Array(
      generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }),
    )
    const key = parsePublicKey(spki)
    expect(transparencyLogId(key)).toEqual(sha256(spki))
    expect(transparencyLogId(key, 'ct.example.com')).toEqual(
      sha256(concat(utf8('ct.example.com\n'), Uint8Array.of(0xff), utf8('PKIX-RSA-PKCS#1v1.5'), spki)),
    )
  })

  test('an origin that is not a C2SP note name is refused', () => {
    const key = parsePublicKey(good.tlogs[1]!.publicKey.rawBytes)
    for (const origin of ['', 'a b', 'a+b', 'tab\there', 'new\nline', '\uD800lone']) {
      expect(() => transparencyLogId(key, origin), JSON.stringify(origin)).toThrow(INVALID)
    }
  })
})

describe('createTrustedRoot', () => {
  test('rebuilds the public-good root byte for byte from its keys, certificates, URLs and windows', () => {
    const created = createTrustedRoot(partsOf(publicGoodTrustedRoot()))
    // Same bytes: the same field order (protojson's), subjects from the root certificates, times, IDs.
    expect(JSON.stringify(created)).toBe(PUBLIC_GOOD_TRUSTED_ROOT_JSON)
  })

  test('round-trips through parseTrustedRoot', () => {
    const created = createTrustedRoot(partsOf(publicGoodTrustedRoot()))
    expect(parseTrustedRoot(JSON.stringify(created))).toEqual(publicGoodTrustedRoot())
    expect(parseTrustedRoot(created)).toEqual(publicGoodTrustedRoot())
  })

  test('writes fields in protojson order and leaves empty lists out', () => {
    expect(createTrustedRoot({})).toEqual({ mediaType: TRUSTED_ROOT_MEDIA_TYPE_V01 })
    expect(JSON.stringify(createTrustedRoot())).toBe(
      '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}',
    )
    const parts = partsOf(publicGoodTrustedRoot())
    const created = createTrustedRoot({ timestampAuthorities: parts.timestampAuthorities, tlogs: parts.tlogs })
    expect(Object.keys(created)).toEqual(['mediaType', 'tlogs', 'timestampAuthorities'])
    expect(Object.keys(created.tlogs![0]!)).toEqual(['baseUrl', 'hashAlgorithm', 'publicKey', 'logId'])
    expect(Object.keys(created.tlogs![0]!.publicKey)).toEqual(['rawBytes', 'keyDetails', 'validFor'])
    expect(Object.keys(created.timestampAuthorities![0]!)).toEqual(['subject', 'uri', 'certChain', 'validFor'])
    expect(created.tlogs![0]!.hashAlgorithm).toBe('SHA2_256')
  })

  test('default start times: a CA from its root certificate, a TSA from its leaf', () => {
    const good = publicGoodTrustedRoot()
    const caChain = good.certificateAuthorities[1]!.certChain.map((c) => parseCertificate(c))
    const tsaChain = good.timestampAuthorities[0]!.certChain.map((c) => parseCertificate(c))
    expect(caChain).toHaveLength(2)
    const created = createTrustedRoot({
      certificateAuthorities: [{ uri: 'https://fulcio.example.com', certChain: caChain }],
      timestampAuthorities: [{ uri: 'https://tsa.example.com', certChain: tsaChain }],
    })
    const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z')
    expect(created.certificateAuthorities![0]!.validFor).toEqual({ start: iso(caChain[1]!.notBefore) })
    expect(caChain[0]!.notBefore.getTime()).not.toBe(caChain[1]!.notBefore.getTime()) // the two differ
    expect(created.timestampAuthorities![0]!.validFor).toEqual({ start: iso(tsaChain[0]!.notBefore) })
    // The chain keeps the order given: CA intermediates then root, TSA leaf first.
    expect(created.certificateAuthorities![0]!.certChain.certificates.map((c) => c.rawBytes)).toEqual(
      caChain.map((c) => toBase64(c.raw)),
    )
  })

  test('times: milliseconds only when not zero, end optional', () => {
    const key = parsePublicKey(publicGoodTrustedRoot().tlogs[0]!.publicKey.rawBytes)
    const [log] = createTrustedRoot({
      tlogs: [
        {
          baseUrl: 'https://rekor.example.com',
          publicKey: key,
          start: new Date('2025-01-02T03:04:05.120Z'),
          end: new Date('2026-01-01T00:00:00Z'),
        },
      ],
    }).tlogs!
    expect(log!.publicKey.validFor).toEqual({ start: '2025-01-02T03:04:05.120Z', end: '2026-01-01T00:00:00Z' })
  })

  test('CA subject: the root certificate’s first O and last CN; empty values and an empty uri are left out', () => {
    const O = '2.5.4.10'
    const CN = '2.5.4.3'
    const ca = (attributes: { oid: string; value: string }[], uri = 'https://ca.example.com') =>
      createTrustedRoot({
        certificateAuthorities: [{ uri, certChain: [fakeCert([{ oid: CN, value: 'inter' }]), fakeCert(attributes)] }],
      }).certificateAuthorities![0]!
    expect(
      ca([
        { oid: O, value: 'first-org' },
        { oid: CN, value: 'cn-1' },
        { oid: O, value: 'second-org' },
        { oid: CN, value: 'cn-2' },
      ]).subject,
    ).toEqual({ organization: 'first-org', commonName: 'cn-2' })
    const bare = ca([{ oid: '2.5.4.6', value: 'US' }], '')
    expect(bare.subject).toEqual({})
    expect('uri' in bare).toBe(false)
    expect(parseTrustedRoot(createTrustedRoot({ certificateAuthorities: [] }))).toBeDefined()
  })

  test('sorts each list by start time; equal starts keep their order', () => {
    const c = (start: string, name: string) => ({
      uri: `https://${name}.example.com`,
      certChain: [fakeCert([]), fakeCert([])],
      start: new Date(start),
    })
    const created = createTrustedRoot({
      certificateAuthorities: [
        c('2025-01-01T00:00:00Z', 'late'),
        c('2020-01-01T00:00:00Z', 'early-a'),
        c('2020-01-01T00:00:00Z', 'early-b'),
      ],
    })
    expect(created.certificateAuthorities!.map((a) => a.uri)).toEqual([
      'https://early-a.example.com',
      'https://early-b.example.com',
      'https://late.example.com',
    ])
  })

  test('a later log with the same log ID replaces the earlier one; another origin makes another log', () => {
    const v2 = publicGoodTrustedRoot().tlogs[1]!
    const key = parsePublicKey(v2.publicKey.rawBytes)
    const start = new Date('2025-01-01T00:00:00Z')
    const created = createTrustedRoot({
      tlogs: [
        { baseUrl: 'https://old.example.com', publicKey: key, start, origin: originOf(v2) },
        { baseUrl: 'https://new.example.com', publicKey: key, start, logId: v2.logId },
        { baseUrl: 'https://other.example.com', publicKey: key, start, origin: 'other.example.com' },
      ],
    })
    expect(created.tlogs!.map((l) => l.baseUrl)).toEqual(['https://new.example.com', 'https://other.example.com'])
    expect(fromBase64(created.tlogs![0]!.logId.keyId)).toEqual(v2.logId)
  })

  test('keyDetails from the key type', () => {
    const spki = (type: 'ec' | 'rsa' | 'ed25519', options: object) =>
      parsePublicKey(
        new Uint8Array(
          generateKeyPairSync(type as 'ec', options as { namedCurve: string }).publicKey.export({
            type: 'spki',
            format: 'der',
          }),
        ),
      )
    const details = (key: ReturnType<typeof parsePublicKey>) =>
      createTrustedRoot({ ctlogs: [{ baseUrl: 'https://ct.example.com', publicKey: key, start: new Date(0) }] })
        .ctlogs![0]!.publicKey.keyDetails
    expect(details(spki('ec', { namedCurve: 'P-384' }))).toBe('PKIX_ECDSA_P384_SHA_384')
    expect(details(spki('ec', { namedCurve: 'P-521' }))).toBe('PKIX_ECDSA_P521_SHA_512')
    expect(details(spki('ed25519', {}))).toBe('PKIX_ED25519')
    expect(details(spki('rsa', { modulusLength: 3072 }))).toBe('PKIX_RSA_PKCS1V15_3072_SHA256')
    // sigstore-go knows no PublicKeyDetails for other RSA sizes.
    expect(() => details(spki('rsa', { modulusLength: 2560 }))).toThrow(/unsupported log key rsa \(2560 bits\)/)
  })

  describe('refuses', () => {
    const good = publicGoodTrustedRoot()
    const tsaChain = good.timestampAuthorities[0]!.certChain.map((c) => parseCertificate(c))
    const key = parsePublicKey(good.tlogs[0]!.publicKey.rawBytes)
    const log = (over: Partial<TrustedRootLogInput>): TrustedRootLogInput => ({
      baseUrl: 'https://rekor.example.com',
      publicKey: key,
      start: new Date('2025-01-01T00:00:00Z'),
      ...over,
    })
    const cases: [string, () => unknown, RegExp][] = [
      [
        'a TSA chain whose first certificate is a CA',
        () => createTrustedRoot({ timestampAuthorities: [{ uri: 'u', certChain: [...tsaChain].reverse() }] }),
        /^trusted root timestampAuthorities\[0\]: first certificate in chain must be a leaf certificate$/,
      ],
      [
        'a TSA chain of one certificate (cosign panics)',
        () => createTrustedRoot({ timestampAuthorities: [{ uri: 'u', certChain: [tsaChain[0]!] }] }),
        /timestampAuthorities\[0\]: certificate chain must have at least two certificates/,
      ],
      [
        'an empty CA chain',
        () => createTrustedRoot({ certificateAuthorities: [{ uri: 'u', certChain: [] }] }),
        /certificateAuthorities\[0\]: certificate chain is empty/,
      ],
      [
        'an end before the start',
        () => createTrustedRoot({ tlogs: [log({}), log({ end: new Date('2024-12-31T23:59:59Z') })] }),
        /tlogs\[1\]: end time is before start time/,
      ],
      [
        'an invalid start',
        () => createTrustedRoot({ ctlogs: [log({ start: new Date('nope') })] }),
        /start time is not a valid time/,
      ],
      [
        'a time past 9999',
        () => createTrustedRoot({ tlogs: [log({ end: new Date(Date.UTC(10000, 0, 1)) })] }),
        /end time is outside 0001-01-01/,
      ],
      [
        'a time before year 1',
        () => createTrustedRoot({ tlogs: [log({ start: new Date(Date.UTC(-1, 0, 1)) })] }),
        /start time is outside/,
      ],
      ['a bad origin', () => createTrustedRoot({ tlogs: [log({ origin: 'has space' })] }), /invalid checkpoint origin/],
      [
        'both a log ID and an origin',
        () => createTrustedRoot({ tlogs: [log({ origin: 'a.example', logId: new Uint8Array(32) })] }),
        /either a log ID or an origin/,
      ],
      [
        'a missing start on a log',
        () => createTrustedRoot({ tlogs: [log({ start: undefined as unknown as Date })] }),
        /start time is not a valid time/,
      ],
    ]
    test.each(cases)('%s', (_, run, message) => {
      expect(run).toThrow(INVALID)
      expect(run).toThrow(message)
    })

    test('errors name the entry in details', () => {
      try {
        createTrustedRoot({ tlogs: [log({}), log({ origin: '' })] })
        expect.unreachable()
      } catch (e) {
        expect(e).toMatchObject({ details: { list: 'tlogs', index: 1, reason: expect.stringMatching(/origin/) } })
      }
    })
  })
})

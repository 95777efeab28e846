import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { concat, fromBase64 } from '../../src/internal/bytes.js'
import { parsePublicKey } from '../../src/keys/parse-public.js'
import type { TransparencyLog } from '../../src/trust/trusted-root.js'
import {
  checkSCTThreshold,
  embeddedSCTs,
  parseCertificate,
  parseSCT,
  parseSCTList,
  precertificateEntry,
  type SCTEntry,
  verifyEmbeddedSCTs,
  verifySCT,
} from '../../src/x509/index.js'

const DIR = resolve(import.meta.dirname, '../vectors/certs/sct')
const cases = readdirSync(DIR).sort()
// biome-ignore lint/suspicious/noExplicitAny: free-form fixture JSON
type CaseJSON = any

function ctlog(dir: string, c: CaseJSON, validFrom = new Date(0)): TransparencyLog {
  const key = parsePublicKey(readFileSync(join(dir, c.ctLogPublicKey), 'utf8'))
  return {
    baseUrl: c.ctLogBaseUrl ?? 'https://ct.example',
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: key.spki, keyDetails: c.ctLogKeyDetails, validFor: { start: validFrom } },
    logId: fromBase64(c.ctLogId),
  }
}

async function run(id: string): Promise<{ verified: boolean; reason?: string }> {
  const dir = join(DIR, id)
  const c: CaseJSON = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'))
  const log = ctlog(dir, c)
  const cert = (name: string) => parseCertificate(readFileSync(join(dir, name), 'utf8'))
  if (c.kind === 'embedded-precert-sct') {
    const leaf = cert(c.leafCertificate)
    expect(embeddedSCTs(leaf)).toHaveLength(c.sctCount ?? 1)
    try {
      const results = await verifyEmbeddedSCTs(leaf, cert(c.issuerCertificate), [log])
      return { verified: results.every((r) => r.verified) }
    } catch (e) {
      expect(e).toMatchObject({ code: 'ERR_CERT_CHAIN_INVALID', details: { check: 'sct' } })
      const [result] = (e as { details: { results: { reason: string }[] } }).details.results
      return { verified: false, reason: result!.reason }
    }
  }
  let sct = parseSCT(new Uint8Array(readFileSync(join(dir, c.sct))))
  if (c.overrideSctTimestampMs !== undefined) sct = { ...sct, timestamp: c.overrideSctTimestampMs }
  const [leafName, issuerName] = c.chain as string[]
  const entry: SCTEntry =
    c.kind === 'detached-sct-x509-entry'
      ? { type: 'x509', certificate: cert(leafName!).raw }
      : await precertificateEntry(cert(leafName!), cert(issuerName!))
  const result = await verifySCT(sct, entry, [log])
  return result.reason === undefined
    ? { verified: result.verified }
    : { verified: result.verified, reason: result.reason }
}

describe('SCT vectors (test/vectors/certs/sct)', () => {
  test('all eleven cases are present', () => {
    expect(cases).toHaveLength(11)
  })

  test.each(cases)('%s gives its case.json verdict', async (id) => {
    const c: CaseJSON = JSON.parse(readFileSync(join(DIR, id, 'case.json'), 'utf8'))
    const outcome = await run(id)
    if (c.expect === 'pass') {
      expect(outcome).toEqual({ verified: true })
    } else {
      // Every fail case is a signature that does not verify (wrong issuer key hash, copied SCT, altered time).
      expect(outcome).toEqual({ verified: false, reason: 'signature' })
    }
  })
})

describe('SCT log selection and parsing', () => {
  const dir = join(DIR, 'sigstore-js-fulcio-embedded-sct-valid')
  const c: CaseJSON = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'))
  const leaf = parseCertificate(readFileSync(join(dir, 'leaf.pem'), 'utf8'))
  const issuer = parseCertificate(readFileSync(join(dir, 'issuer.pem'), 'utf8'))

  test('a CT log whose key is not valid at the SCT time is not used', async () => {
    const [sct] = embeddedSCTs(leaf)
    const late = ctlog(dir, c, new Date(sct!.timestamp + 1))
    await expect(verifyEmbeddedSCTs(leaf, issuer, [late])).rejects.toMatchObject({
      code: 'ERR_CERT_CHAIN_INVALID',
      details: { check: 'sct', results: [expect.objectContaining({ reason: 'unknown-log' })] },
    })
    const exact = ctlog(dir, c, new Date(sct!.timestamp))
    await expect(verifyEmbeddedSCTs(leaf, issuer, [exact])).resolves.toHaveLength(1)
  })

  test('no CT logs at all, or a different log ID, fails', async () => {
    await expect(verifyEmbeddedSCTs(leaf, issuer, [])).rejects.toMatchObject({ details: { check: 'sct', verified: 0 } })
    const wrongId = { ...ctlog(dir, c), logId: new Uint8Array(32) }
    await expect(verifyEmbeddedSCTs(leaf, issuer, [wrongId])).rejects.toMatchObject({ details: { check: 'sct' } })
  })

  test('the threshold counts distinct logs: one SCT never satisfies 2', async () => {
    await expect(verifyEmbeddedSCTs(leaf, issuer, [ctlog(dir, c)], { threshold: 2 })).rejects.toMatchObject({
      details: { check: 'sct', verified: 1, threshold: 2 },
    })
    const results = await verifyEmbeddedSCTs(leaf, issuer, [ctlog(dir, c)])
    expect(checkSCTThreshold([...results, ...results], 1)).toBe(1)
    expect(() => checkSCTThreshold([...results, ...results], 2)).toThrow(
      expect.objectContaining({ code: 'ERR_CERT_CHAIN_INVALID' }),
    )
  })

  test('a certificate without SCTs fails a threshold of 1 with a clear message', async () => {
    await expect(verifyEmbeddedSCTs(issuer, issuer, [ctlog(dir, c)])).rejects.toMatchObject({
      code: 'ERR_CERT_CHAIN_INVALID',
      message: 'certificate has no embedded SCT',
    })
  })

  test('malformed SCT lists are coded errors, never crashes', () => {
    const [sct] = embeddedSCTs(leaf)
    expect(sct!.extensions).toHaveLength(0)
    const bad = [
      new Uint8Array(0),
      Uint8Array.of(0, 5, 0, 3, 1, 2, 3),
      Uint8Array.of(0, 2, 0, 0),
      Uint8Array.of(0, 1, 0),
    ]
    for (const b of bad) expect(() => parseSCTList(b)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
    const v2 = concat(Uint8Array.of(1), new Uint8Array(60))
    expect(() => parseSCT(v2)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
    for (let cut = 0; cut < 60; cut += 7) {
      // Zero bytes also name hash/signature algorithm 0, which is unsupported rather than malformed.
      expect(() => parseSCT(new Uint8Array(50).subarray(0, cut))).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/^ERR_(INVALID_INPUT|UNSUPPORTED_ALGORITHM)$/) }),
      )
    }
  })
})

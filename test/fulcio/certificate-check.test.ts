/**
 * verifyFulcioCertificate on certificates from a @sigstore/mock CA issued directly, to reach the rules the mock
 * Fulcio handler cannot exercise (Token Subject extension, a missing issuer extension, foreign chain members).
 */
import { createHash, generateKeyPairSync } from 'node:crypto'
import { initializeCA, initializeCTLog } from '@sigstore/mock'
import { beforeAll, describe, expect, it } from 'vitest'
import { verifyFulcioCertificate } from '../../src/fulcio/certificate-check.js'
import { parseIdentityToken } from '../../src/oidc/token.js'
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js'

interface FailureDetails {
  readonly check?: string
  readonly reason?: string
  readonly status?: number
  readonly reasons?: ReadonlyArray<{ readonly rule: string }>
}

const ISSUER = 'https://token.actions.githubusercontent.com'
const SUB = 'repo:acme/app:ref:refs/heads/main'
const ISSUER_V2 = '1.3.6.1.4.1.57264.1.8'
const TOKEN_SUBJECT = '1.3.6.1.4.1.57264.1.24'
const b64 = (v: Uint8Array | string) => Buffer.from(v).toString('base64')
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const bytes = (v: ArrayBufferView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength)

let ca: Awaited<ReturnType<typeof initializeCA>>
let foreignRoot: Uint8Array
let trustedRoot: TrustedRoot
const leafKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
const spki = new Uint8Array(leafKey.publicKey.export({ format: 'der', type: 'spki' }))

function token(claims: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000)
  const body = { iss: ISSUER, sub: SUB, aud: 'sigstore', iat: now, exp: now + 600, ...claims }
  return parseIdentityToken(`${b64url({ alg: 'none' })}.${b64url(body)}.`)
}

async function issue(san: string, extensions: Array<{ oid: string; value: string }>): Promise<Uint8Array[]> {
  const leaf = await ca.issueCertificate({
    publicKey: spki as Uint8Array<ArrayBuffer>,
    subjectAltName: san,
    extensions,
  })
  return [bytes(leaf), bytes(ca.rootCertificate)]
}

beforeAll(async () => {
  const keyPair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const ctlog = await initializeCTLog(keyPair)
  ca = await initializeCA(keyPair, ctlog)
  const foreign = await initializeCA(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }))
  foreignRoot = bytes(foreign.rootCertificate)
  const start = new Date(Date.now() - 60_000).toISOString()
  const ctSPKI = Buffer.from(ctlog.publicKey)
  trustedRoot = parseTrustedRoot({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    ctlogs: [
      {
        baseUrl: 'https://ct.example',
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(ctSPKI), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: b64(createHash('sha256').update(ctSPKI).digest()) },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'mock', commonName: 'mock' },
        uri: 'https://fulcio.example',
        certChain: { certificates: [{ rawBytes: b64(bytes(ca.rootCertificate)) }] },
        validFor: { start },
      },
    ],
    timestampAuthorities: [],
  })
})

const check = (chain: Uint8Array[], claims: Record<string, unknown> = {}, time = new Date()) =>
  verifyFulcioCertificate(chain, { trustedRoot, publicKey: spki, identityToken: token(claims), time })

async function failure(p: Promise<unknown>) {
  try {
    await p
  } catch (e) {
    return e as { code: string; message: string; details?: FailureDetails }
  }
  throw new Error('expected a rejection')
}

describe('verifyFulcioCertificate', () => {
  it('accepts any SAN when the Token Subject extension is the token sub (Fulcio ≥ 1.8.6)', async () => {
    const chain = await issue('https://ci.example/templated/identity', [
      { oid: ISSUER_V2, value: ISSUER },
      { oid: TOKEN_SUBJECT, value: SUB },
    ])
    const verified = await check(chain)
    expect(verified.identity).toEqual({
      subject: 'https://ci.example/templated/identity',
      subjectType: 'uri',
      issuer: ISSUER,
    })
    expect(verified.path).toHaveLength(2)
  })

  it('rejects a Token Subject extension for another sub', async () => {
    const chain = await issue(SUB, [
      { oid: ISSUER_V2, value: ISSUER },
      { oid: TOKEN_SUBJECT, value: 'repo:evil/app:ref:refs/heads/main' },
    ])
    const e = await failure(check(chain))
    expect(e.code).toBe('ERR_POLICY_DENIED')
    expect(e.details?.reasons?.[0]?.rule).toBe('subject')
  })

  it('rejects a certificate without an issuer extension', async () => {
    const e = await failure(check(await issue(SUB, [])))
    expect(e.code).toBe('ERR_POLICY_DENIED')
    expect(e.details?.reasons?.[0]?.rule).toBe('issuer')
  })

  it('rejects a chain that carries a foreign root after the trusted one', async () => {
    const chain = await issue(SUB, [{ oid: ISSUER_V2, value: ISSUER }])
    const e = await failure(check([...chain, foreignRoot]))
    expect(e.code).toBe('ERR_CERT_CHAIN_INVALID')
    expect(e.details?.check).toBe('chain')
  })

  it('rejects an empty chain, a certificate outside its validity, and garbage', async () => {
    expect((await failure(check([]))).code).toBe('ERR_CERT_CHAIN_INVALID')
    const chain = await issue(SUB, [{ oid: ISSUER_V2, value: ISSUER }])
    expect((await failure(check(chain, {}, new Date(Date.now() + 3_600_000)))).code).toBe('ERR_CERT_EXPIRED')
    expect((await failure(check([new Uint8Array([0x30, 0x03, 1, 2, 3])]))).code).toBe('ERR_INVALID_INPUT')
  })
})

/**
 * The keyless signer against the local mock Fulcio (@sigstore/mock handlers on loopback): certificate, signature,
 * identity; and each way a Fulcio answer must be refused (another key, an untrusted CA, another identity, a bad
 * SCT), with no token text in any error.
 */
import { createHash, createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { isCountersignError } from '../../src/errors.js'
import { createFulcioClient, type FulcioClientOptions } from '../../src/fulcio/client.js'
import { createKeylessSigner, type KeylessSignerOptions } from '../../src/fulcio/keyless-signer.js'
import { detectIdentityToken } from '../../src/oidc/providers.js'
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js'
import { parseCertificate } from '../../src/x509/certificate.js'
import { startOIDCServer } from '../support/oidc-server.js'
import { MOCK_IDENTITY, MOCK_OIDC_ISSUER, type SigstoreMock, startSigstoreMock } from '../support/sigstore-mock.js'

interface FailureDetails {
  readonly check?: string
  readonly reason?: string
  readonly status?: number
  readonly reasons?: ReadonlyArray<{ readonly rule: string }>
}
interface FulcioRequestBody {
  credentials: { oidcIdentityToken: string }
  publicKeyRequest: { publicKey: { content: string } }
}

let mock: SigstoreMock
let other: SigstoreMock
let trustedRoot: TrustedRoot
const noSleep = async () => {}
/** Every token handed to a signer in this file; no error may contain any of them. */
const tokens: string[] = []

beforeAll(async () => {
  ;[mock, other] = await Promise.all([startSigstoreMock(), startSigstoreMock()])
  trustedRoot = parseTrustedRoot(mock.trustedRootJSON)
})
afterAll(async () => {
  await Promise.all([mock?.close(), other?.close()])
})

function token(claims: Record<string, unknown> = {}, from: SigstoreMock = mock): string {
  const t = from.identityToken(claims)
  tokens.push(t)
  return t
}

function signer(overrides: Partial<KeylessSignerOptions> = {}, client: FulcioClientOptions = {}) {
  return createKeylessSigner({
    fulcio: createFulcioClient({ url: mock.url, sleep: noSleep, ...client }),
    identityToken: token(),
    trustedRoot,
    ...overrides,
  })
}

/** A fetch that rewrites the JSON request body before the mock Fulcio sees it (the mock checks no PoP or JWT). */
function rewritingFetch(edit: (body: FulcioRequestBody) => void): typeof fetch {
  return async (input, init) => {
    const body = JSON.parse(Buffer.from(init!.body as Uint8Array).toString('utf8'))
    edit(body)
    return fetch(input, { ...init, body: JSON.stringify(body) })
  }
}

function assertNoTokenText(error: unknown) {
  const text = `${(error as Error).message} ${JSON.stringify((error as { details?: unknown }).details ?? {})}`
  for (const t of tokens) {
    for (const part of t.split('.').filter((p) => p.length >= 16)) expect(text).not.toContain(part)
  }
}

async function failure(p: Promise<unknown>) {
  try {
    await p
  } catch (e) {
    assertNoTokenText(e)
    return e as { code: string; message: string; details?: FailureDetails }
  }
  throw new Error('expected a rejection')
}

const fulcioRequests = (m: SigstoreMock) => m.requests.filter((r) => r.startsWith('POST /api/v2/signingCert')).length

describe('createKeylessSigner', () => {
  it('obtains a verified certificate once and signs with the certified key', async () => {
    const before = fulcioRequests(mock)
    const s = signer()
    expect(s.algorithm).toBe('ecdsa-p256-sha256')
    const data = new TextEncoder().encode('hello keyless')
    // Concurrent first calls share one certificate request.
    const [material, identity, signature] = await Promise.all([s.keyMaterial(), s.identity(), s.sign(data)])
    expect(fulcioRequests(mock) - before).toBe(1)
    expect(material.type).toBe('x509')
    const chain = (material as { chain: readonly Uint8Array[] }).chain
    expect(chain.length).toBe(2)
    const leaf = parseCertificate(chain[0]!)
    // The signature is DER ECDSA over SHA-256 and verifies with the certificate's key (checked by node:crypto).
    expect(signature[0]).toBe(0x30)
    const key = createPublicKey({ key: Buffer.from(leaf.spki), format: 'der', type: 'spki' })
    expect(nodeVerify('sha256', data, key, signature)).toBe(true)
    expect(identity).toEqual({ subject: MOCK_IDENTITY, subjectType: 'uri', issuer: MOCK_OIDC_ISSUER })
    // Later calls reuse the certificate.
    await s.sign(data)
    expect(await s.keyMaterial()).toEqual(material)
    expect(fulcioRequests(mock) - before).toBe(1)
  })

  it('generates a non-extractable P-256 key', async () => {
    const spy = vi.spyOn(globalThis.crypto.subtle, 'generateKey')
    try {
      await signer().keyMaterial()
      expect(spy).toHaveBeenCalledWith({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])
      const pair = (await spy.mock.results[0]!.value) as CryptoKeyPair
      expect(pair.privateKey.extractable).toBe(false)
    } finally {
      spy.mockRestore()
    }
  })

  it('asks a token provider once, when the certificate is first needed', async () => {
    const provider = vi.fn(async () => token())
    const s = signer({ identityToken: provider })
    expect(provider).not.toHaveBeenCalled()
    await Promise.all([s.identity(), s.identity()])
    expect(provider).toHaveBeenCalledTimes(1)
  })

  it('retries Fulcio 500s, and after a failure the next call tries again', async () => {
    mock.failNext('/api/v2/signingCert', 2)
    expect((await signer().identity()).subject).toBe(MOCK_IDENTITY)

    mock.failNext('/api/v2/signingCert', 4)
    const s = signer()
    const e = await failure(s.sign(new Uint8Array([1])))
    expect(e.code).toBe('ERR_FULCIO_HTTP')
    expect(e.details?.status).toBe(500)
    expect((await s.identity()).subject).toBe(MOCK_IDENTITY)
  })

  it('rejects a certificate for another key', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString()
    const fetch = rewritingFetch((b) => {
      b.publicKeyRequest.publicKey.content = pem
    })
    const e = await failure(signer({}, { fetch }).sign(new Uint8Array([1])))
    expect(e.code).toBe('ERR_CERT_CHAIN_INVALID')
    expect(e.details?.check).toBe('public-key')
  })

  it('rejects a certificate from a CA the trusted root does not list', async () => {
    const s = signer({
      fulcio: createFulcioClient({ url: other.url, sleep: noSleep }),
      identityToken: token({}, other),
    })
    const e = await failure(s.keyMaterial())
    expect(e.code).toBe('ERR_CERT_CHAIN_INVALID')
    expect(e.details?.check).toBe('chain')
  })

  it('rejects a certificate for another identity (email SAN)', async () => {
    const fetch = rewritingFetch((b) => {
      b.credentials.oidcIdentityToken = token({ email: 'mallory@example.com' })
    })
    const e = await failure(signer({}, { fetch }).identity())
    expect(e.code).toBe('ERR_POLICY_DENIED')
    expect(e.details?.check).toBe('identity')
    expect(e.details?.reasons?.[0]?.rule).toBe('subject')
    expect(e.message).toContain('mallory@example.com')
  })

  it('rejects a certificate naming another issuer', async () => {
    const fetch = rewritingFetch((b) => {
      b.credentials.oidcIdentityToken = token({ iss: 'https://evil.example' })
    })
    const e = await failure(signer({}, { fetch }).identity())
    expect(e.code).toBe('ERR_POLICY_DENIED')
    expect(e.details?.reasons?.[0]?.rule).toBe('issuer')
  })

  it('accepts the federated connector as issuer for the public Dex', async () => {
    // What Fulcio does for oauth2.sigstore.dev: the certificate issuer is federated_claims.connector_id.
    const github = 'https://github.com/login/oauth'
    const fetch = rewritingFetch((b) => {
      b.credentials.oidcIdentityToken = token({ iss: github })
    })
    const s = signer({ identityToken: token({ federated_claims: { connector_id: github } }) }, { fetch })
    expect(await s.identity()).toMatchObject({ subject: MOCK_IDENTITY, issuer: github })
  })

  it('refuses an expired token before asking Fulcio', async () => {
    const before = fulcioRequests(mock)
    const e = await failure(
      signer({ identityToken: token({ exp: Math.floor(Date.now() / 1000) - 3600 }) }).keyMaterial(),
    )
    expect(e.code).toBe('ERR_OIDC_TOKEN')
    expect(e.details?.reason).toBe('expired')
    expect(fulcioRequests(mock)).toBe(before)
  })

  it('requires an SCT from a trusted CT log unless the threshold is 0', async () => {
    const withoutCT = parseTrustedRoot({ ...JSON.parse(mock.trustedRootJSON), ctlogs: [] })
    const e = await failure(signer({ trustedRoot: withoutCT }).keyMaterial())
    expect(e.code).toBe('ERR_CERT_CHAIN_INVALID')
    expect(e.details?.check).toBe('sct')
    await expect(signer({ trustedRoot: withoutCT, ctlogThreshold: 0 }).keyMaterial()).resolves.toMatchObject({
      type: 'x509',
    })
  })

  it('refuses to sign once the certificate has expired', async () => {
    let now = new Date()
    const s = signer({ now: () => now })
    await s.sign(new Uint8Array([1]))
    now = new Date(Date.now() + 60 * 60 * 1000)
    const e = await failure(s.sign(new Uint8Array([1])))
    expect(e.code).toBe('ERR_CERT_EXPIRED')
  })

  it('verifies a detached SCT against the trusted CT logs', async () => {
    // A CT log of our own signs an x509_entry SCT over the final certificate, as a detached-SCT Fulcio would.
    const ct = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const ctSPKI = ct.publicKey.export({ format: 'der', type: 'spki' })
    const logId = createHash('sha256').update(ctSPKI).digest()
    const rootJSON = JSON.parse(mock.trustedRootJSON)
    rootJSON.ctlogs[0].publicKey.rawBytes = ctSPKI.toString('base64')
    rootJSON.ctlogs[0].logId.keyId = logId.toString('base64')
    const root = parseTrustedRoot(rootJSON)

    const detachedFetch =
      (tamper: boolean): typeof fetch =>
      async (input, init) => {
        const res = await fetch(input, init)
        const body = (await res.json()) as { signedCertificateEmbeddedSct: { chain: { certificates: string[] } } }
        const { certificates } = body.signedCertificateEmbeddedSct.chain
        const leafDER = parseCertificate(certificates[0]!).raw
        const timestamp = Date.now()
        const ts = Buffer.alloc(8)
        ts.writeBigUInt64BE(BigInt(timestamp))
        const len = Buffer.from([(leafDER.length >> 16) & 0xff, (leafDER.length >> 8) & 0xff, leafDER.length & 0xff])
        const signed = Buffer.concat([
          Buffer.from([0, 0]),
          ts,
          Buffer.from([0, 0]),
          len,
          Buffer.from(leafDER),
          Buffer.from([0, 0]),
        ])
        const sig = nodeSign('sha256', tamper ? Buffer.from('something else') : signed, ct.privateKey)
        const digitallySigned = Buffer.concat([Buffer.from([4, 3, sig.length >> 8, sig.length & 0xff]), sig])
        const sct = {
          sct_version: 0,
          id: logId.toString('base64'),
          timestamp,
          extensions: '',
          signature: digitallySigned.toString('base64'),
        }
        return new Response(
          JSON.stringify({
            signedCertificateDetachedSct: {
              chain: { certificates },
              signedCertificateTimestamp: Buffer.from(JSON.stringify(sct)).toString('base64'),
            },
          }),
          { status: 201, headers: { 'Content-Type': 'application/json' } },
        )
      }
    const good = signer({ trustedRoot: root }, { fetch: detachedFetch(false) })
    expect((await good.identity()).subject).toBe(MOCK_IDENTITY)
    const e = await failure(signer({ trustedRoot: root }, { fetch: detachedFetch(true) }).identity())
    expect(e.code).toBe('ERR_CERT_CHAIN_INVALID')
    expect(e.details?.check).toBe('sct')
  })

  it('validates its options', () => {
    expect(() => createKeylessSigner({} as KeylessSignerOptions)).toThrow(TypeError)
    expect(() => signer({ ctlogThreshold: -1 })).toThrow(RangeError)
  })
})

describe('identity rules with a Fulcio that certifies other SANs', () => {
  let sanMock: SigstoreMock
  beforeAll(async () => {
    // The SAN comes from the token claim "san", so a test can make Fulcio certify any URI.
    sanMock = await startSigstoreMock({ fulcioSubjectClaim: 'san' })
  })
  afterAll(async () => {
    await sanMock?.close()
  })
  const ciSigner = (claims: Record<string, unknown>) =>
    createKeylessSigner({
      fulcio: createFulcioClient({ url: sanMock.url, sleep: noSleep }),
      identityToken: token(
        {
          iss: 'https://token.actions.githubusercontent.com',
          sub: 'repo:acme/app:ref:refs/heads/main',
          email: undefined,
          email_verified: undefined,
          job_workflow_ref: 'acme/app/.github/workflows/release.yml@refs/heads/main',
          ...claims,
        },
        sanMock,
      ),
      trustedRoot: parseTrustedRoot(sanMock.trustedRootJSON),
    })

  it('accepts the GitHub workflow URI derived from job_workflow_ref (challenge = sub)', async () => {
    const uri = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main'
    expect(await ciSigner({ san: uri }).identity()).toEqual({
      subject: uri,
      subjectType: 'uri',
      issuer: 'https://token.actions.githubusercontent.com',
    })
  })

  it('accepts a SAN equal to sub (SPIFFE/URI issuers)', async () => {
    expect(
      (await ciSigner({ sub: 'spiffe://acme.example/ns/ci', san: 'spiffe://acme.example/ns/ci' }).identity()).subject,
    ).toBe('spiffe://acme.example/ns/ci')
  })

  it('signs end to end with GitHub Actions ambient credentials', async () => {
    const workflow = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main'
    const oidc = await startOIDCServer({ claims: { san: workflow } })
    try {
      const detected = detectIdentityToken({ env: oidc.githubEnv })
      expect(detected?.source).toBe('github-actions')
      const s = createKeylessSigner({
        fulcio: createFulcioClient({ url: sanMock.url, sleep: noSleep }),
        identityToken: detected!.getToken,
        trustedRoot: parseTrustedRoot(sanMock.trustedRootJSON),
      })
      expect(await s.identity()).toEqual({ subject: workflow, subjectType: 'uri', issuer: oidc.url })
      expect(oidc.requests).toEqual(['GET /gha/token 200'])
      const data = new TextEncoder().encode('from CI')
      const leaf = parseCertificate(((await s.keyMaterial()) as { chain: readonly Uint8Array[] }).chain[0]!)
      const key = createPublicKey({ key: Buffer.from(leaf.spki), format: 'der', type: 'spki' })
      expect(nodeVerify('sha256', data, key, await s.sign(data))).toBe(true)
    } finally {
      await oidc.close()
    }
  })

  it('rejects a SAN the token does not derive', async () => {
    const e = await failure(
      ciSigner({ san: 'https://github.com/evil/app/.github/workflows/x.yml@refs/heads/main' }).identity(),
    )
    expect(isCountersignError(e, 'ERR_POLICY_DENIED')).toBe(true)
  })
})

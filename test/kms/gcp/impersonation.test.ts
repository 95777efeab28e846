// Service account impersonation against loopback stand-ins of IAM Credentials, STS and Cloud KMS: the
// `impersonated_service_account` file gcloud writes for `--impersonate-service-account` (source: authorized_user),
// and `external_account` files with `service_account_impersonation_url` and a token lifetime. The IAM stand-in checks
// the bearer (a token it or the STS issued), delegates, scope and lifetime; Cloud KMS then signs with the token IAM
// issued. Refresh runs on an injected clock: the impersonated token is renewed five minutes before it expires while
// the source token, still valid, is reused.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGCPCredentialsFromJSON, createGCPKMSProvider } from '../../../src/kms/gcp/index.js'
import { gcpKMSProviderFromEnvironment } from '../../../src/node/gcp-credentials.js'
import { readGCPCredentialSourceFile } from '../../../src/node/gcp-external-account.js'
import { bearerRecordingFetch, signAndVerify, testClock } from '../../support/gcp-federation.js'
import { type GCPKMSServer, startGCPKMSServer } from '../../support/gcp-kms-server.js'
import { CLOUD_PLATFORM, type GCPSTSServer, startGCPSTSServer } from '../../support/gcp-sts-server.js'
import { recordProvokedErrors } from '../../support/provoked-errors.js'

const SA = 'release-signer@countersign-test.iam.gserviceaccount.com'
const DELEGATE = 'projects/-/serviceAccounts/hop@countersign-test.iam.gserviceaccount.com'
const AUDIENCE = '//iam.googleapis.com/projects/1234/locations/global/workloadIdentityPools/ci/providers/oidc'
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt'
const KEY = 'projects/countersign-test/locations/global/keyRings/imp/cryptoKeys/release'
const clock = testClock()
const provoked = recordProvokedErrors()
const { rejected } = provoked
const noSleep = { sleep: async () => {} }
const trusted = new Set<string>()
let kms: GCPKMSServer
let sts: GCPSTSServer
let version: string
let dir: string

beforeAll(async () => {
  kms = await startGCPKMSServer()
  sts = await startGCPSTSServer({ issue: (s) => kms.issueToken(s), now: clock.now })
  sts.addServiceAccount(SA, [DELEGATE])
  sts.addServiceAccount(`direct-${SA}`)
  sts.addPool(AUDIENCE, { subjectTokenType: JWT_TYPE, check: (t) => trusted.has(t) })
  version = kms.addKey(KEY)
  dir = mkdtempSync(join(tmpdir(), 'gcp-impersonation-'))
})

afterAll(async () => {
  provoked.expectNoSecrets(/ya29\./, [
    sts.authorizedUser.client_secret!,
    sts.authorizedUser.refresh_token!,
    sts.externalAuthorizedUser.client_secret!,
    sts.externalAuthorizedUser.refresh_token!,
    ...sts.issued,
    ...trusted,
  ])
  rmSync(dir, { recursive: true, force: true })
  await Promise.all([kms?.close(), sts?.close()])
})

/** What `gcloud auth application-default login --impersonate-service-account SA --delegates …` writes. */
function impersonatedFile(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    delegates: [DELEGATE],
    service_account_impersonation_url: sts.impersonationURL(SA),
    source_credentials: sts.authorizedUser,
    type: 'impersonated_service_account',
    ...extra,
  }
}

describe('impersonated_service_account', () => {
  it("gcloud's file: the user's token buys the service account's token, which Cloud KMS accepts", async () => {
    const bearers: string[] = []
    const provider = createGCPKMSProvider({
      endpoint: kms.url,
      credentials: createGCPCredentialsFromJSON(impersonatedFile(), { now: clock.now }),
      now: clock.now,
      fetch: bearerRecordingFetch(bearers),
    })
    await signAndVerify(provider, kms, version)
    expect(sts.impersonations.at(-1)).toEqual({
      email: SA,
      bearer: 'oauth',
      lifetime: '3600s',
      scope: [CLOUD_PLATFORM],
      delegates: [DELEGATE],
      accepted: true,
    })
    expect(bearers).toEqual([`Bearer ${sts.issued.at(-1)}`])
  })

  it('through GOOGLE_APPLICATION_CREDENTIALS, reported as impersonated_service_account', async () => {
    const file = join(dir, 'adc.json')
    writeFileSync(file, JSON.stringify(impersonatedFile()))
    const reports: unknown[] = []
    const provider = gcpKMSProviderFromEnvironment({
      endpoint: kms.url,
      env: { GOOGLE_APPLICATION_CREDENTIALS: file, HOME: dir },
      onCredentialSource: (r) => reports.push(r),
    })
    await signAndVerify(provider, kms, version)
    expect(reports).toEqual([
      {
        provider: 'gcp',
        source: 'impersonated_service_account',
        detail: `GOOGLE_APPLICATION_CREDENTIALS ${file}; impersonating ${SA} with authorized_user`,
      },
    ])
  })

  it('IAM refusals (wrong delegates, unknown account, revoked source) are ERR_KMS with the status', async () => {
    const run = (doc: Record<string, unknown>) =>
      rejected(
        createGCPKMSProvider({
          endpoint: kms.url,
          credentials: createGCPCredentialsFromJSON(doc, { now: clock.now, ...noSleep }),
          now: clock.now,
          ...noSleep,
        }).publicKey(`gcpkms://${KEY}`),
      )
    expect((await run(impersonatedFile({ delegates: [] }))).details).toMatchObject({
      status: 403,
      reason: 'PERMISSION_DENIED',
    })
    const unknown = await run(impersonatedFile({ service_account_impersonation_url: sts.impersonationURL(`x${SA}`) }))
    expect(unknown.details).toMatchObject({ status: 404, reason: 'NOT_FOUND' })
    const badUser = await run(
      impersonatedFile({ source_credentials: { ...sts.authorizedUser, refresh_token: 'revoked-token' } }),
    )
    expect(badUser.details).toMatchObject({ status: 400, reason: 'invalid_grant' })
    expect(badUser.message).not.toContain('revoked-token')
  })

  it('malformed files are ERR_INVALID_INPUT; an IAM answer without expireTime is a bad response', async () => {
    const bad = (doc: Record<string, unknown>) =>
      rejected(Promise.resolve().then(() => createGCPCredentialsFromJSON(doc)))
    for (const doc of [
      impersonatedFile({ source_credentials: undefined }),
      impersonatedFile({ service_account_impersonation_url: undefined }),
      impersonatedFile({ service_account_impersonation_url: 'http://iamcredentials.example.com/v1/x' }),
      impersonatedFile({ delegates: [42] }),
      impersonatedFile({ source_credentials: { type: 'authorized_user' } }),
    ]) {
      expect((await bad(doc)).code).toBe('ERR_INVALID_INPUT')
    }
    const noExpiry = createGCPCredentialsFromJSON(impersonatedFile(), {
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) =>
        String(input).includes('generateAccessToken')
          ? Response.json({ accessToken: 'ya29.impersonated-no-expiry' })
          : fetch(input, init)) as typeof fetch,
    })
    const e = await rejected(noExpiry({}))
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { reason: 'bad-response' } })
    expect(e.message).toContain('no valid expireTime')
  })
})

describe('external_account_authorized_user', () => {
  it('the workforce refresh token is redeemed at token_url with Basic client authentication', async () => {
    const bearers: string[] = []
    const provider = createGCPKMSProvider({
      endpoint: kms.url,
      credentials: createGCPCredentialsFromJSON(sts.externalAuthorizedUser, { now: clock.now }),
      fetch: bearerRecordingFetch(bearers),
      now: clock.now,
    })
    await signAndVerify(provider, kms, version)
    expect(bearers).toEqual([`Bearer ${sts.issued.at(-1)}`])
    const wrong = { ...sts.externalAuthorizedUser, client_secret: 'wrong-client-secret' }
    const e = await rejected(
      createGCPKMSProvider({
        endpoint: kms.url,
        credentials: createGCPCredentialsFromJSON(wrong, noSleep),
        ...noSleep,
      }).publicKey(`gcpkms://${KEY}`),
    )
    expect(e.details).toMatchObject({ status: 400, reason: 'invalid_client' })
  })
})

describe('external_account with service_account_impersonation_url', () => {
  it('STS token (scope cloud-platform) → generateAccessToken with the file lifetime; refresh keeps the STS token', async () => {
    const tokenFile = join(dir, 'oidc')
    const subject = `eyJ.${randomBytes(16).toString('hex')}.s`
    trusted.add(subject)
    writeFileSync(tokenFile, subject)
    const doc = {
      type: 'external_account',
      audience: AUDIENCE,
      subject_token_type: JWT_TYPE,
      token_url: sts.tokenURL,
      credential_source: { file: tokenFile },
      service_account_impersonation_url: sts.impersonationURL(`direct-${SA}`),
      service_account_impersonation: { token_lifetime_seconds: 600 },
    }
    const bearers: string[] = []
    const provider = createGCPKMSProvider({
      endpoint: kms.url,
      credentials: createGCPCredentialsFromJSON(doc, { now: clock.now, readFile: readGCPCredentialSourceFile }),
      now: clock.now,
      fetch: bearerRecordingFetch(bearers),
    })
    const exchanges = sts.exchanges.length
    const impersonations = sts.impersonations.length
    const signer = await provider.createSigner(`gcpkms://${version}`)
    await signer.sign(new Uint8Array([1]))
    expect(sts.exchanges.slice(exchanges)).toMatchObject([
      { accepted: true, scope: CLOUD_PLATFORM, subjectToken: subject },
    ])
    expect(sts.impersonations.slice(impersonations)).toMatchObject([
      { email: `direct-${SA}`, bearer: 'federated', lifetime: '600s', delegates: [], accepted: true },
    ])
    expect(bearers.at(-1)).toBe(`Bearer ${sts.issued.at(-1)}`)

    clock.advance(4 * 60_000) // a 10-minute token is renewed at half its life (the margin is capped at half)
    await signer.sign(new Uint8Array([2]))
    expect(sts.impersonations.length - impersonations).toBe(1)
    clock.advance(2 * 60_000)
    await signer.sign(new Uint8Array([3]))
    expect(sts.impersonations.length - impersonations).toBe(2)
    expect(sts.exchanges.length - exchanges).toBe(1) // the federated token (60 min) is still good
    expect(bearers.at(-1)).toBe(`Bearer ${sts.issued.at(-1)}`)

    clock.advance(56 * 60_000) // past the federated token's refresh point too
    await signer.sign(new Uint8Array([4]))
    expect(sts.exchanges.length - exchanges).toBe(2)
    expect(sts.impersonations.length - impersonations).toBe(3)
  })
})

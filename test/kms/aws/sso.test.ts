// IAM Identity Center (AWS SSO) profiles: the token the AWS CLI caches after `aws sso login`
// (~/.aws/sso/cache/<sha1 of the session name or start URL>.json) is exchanged at the portal stand-in
// (AWS_ENDPOINT_URL_SSO) for role credentials that sign a real KMS request; sso-session tokens are refreshed through
// the OIDC stand-in (AWS_ENDPOINT_URL_SSO_OIDC) and the cache file rewritten; an expired or refused token says to
// run `aws sso login`, and no token, refresh token or client secret appears in an error.
import { createHash } from 'node:crypto'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getSSORoleCredentials } from '../../../src/kms/aws/sso.js'
import { createAWSNodeCredentials } from '../../../src/node/aws-credentials.js'
import { awsHome, manualClock, removeAWSHomes, signThrough, sourceReports } from '../../support/aws-chain.js'
import { type AWSKMSServer, startAWSKMSServer } from '../../support/aws-kms-server.js'
import { type SSOPortal, startSSOPortal } from '../../support/aws-sso-portal.js'

let kms: AWSKMSServer
let portal: SSOPortal
const account = '111122223333'
const startUrl = 'https://corp.awsapps.com/start'
const config = `[profile dev]
sso_session = corp
sso_account_id = ${account}
sso_role_name = Signer
region = eu-west-1

[sso-session corp]
sso_start_url = ${startUrl}
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile legacy]
sso_start_url = ${startUrl}
sso_region = eu-west-1
sso_account_id = ${account}
sso_role_name = Signer

[profile unassigned]
sso_session = corp
sso_account_id = ${account}
sso_role_name = Admin

[profile broken]
sso_session = nowhere
sso_account_id = ${account}
sso_role_name = Signer

[profile partial]
sso_start_url = ${startUrl}
sso_region = eu-west-1
`

beforeAll(async () => {
  kms = await startAWSKMSServer({ region: 'eu-west-1' })
  kms.addKey('ECC_NIST_P256', { alias: 'alias/chain' })
  portal = await startSSOPortal({ onIssue: (c) => kms.addCredential(c) })
  portal.assign(account, 'Signer')
})
afterAll(async () => {
  await kms?.close()
  await portal?.close()
  removeAWSHomes()
})

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex')
const envFor = (profile: string) => ({
  AWS_PROFILE: profile,
  AWS_ENDPOINT_URL_SSO: portal.url,
  AWS_ENDPOINT_URL_SSO_OIDC: portal.url,
  AWS_EC2_METADATA_DISABLED: 'true',
})

/** A home whose cache holds `token` for `key` (session name or start URL). */
function homeWithToken(key: string, token: Record<string, unknown>): { home: string; file: string } {
  const home = awsHome({ config })
  const file = join(home, '.aws', 'sso', 'cache', `${sha1(key)}.json`)
  writeFileSync(file, JSON.stringify(token), { mode: 0o600 })
  return { home, file }
}

function validToken(): string {
  const token = `aoa-${Math.random().toString(36).slice(2)}-access`
  portal.accessTokens.add(token)
  return token
}

describe('SSO profiles', () => {
  it('sso_session: the cached token buys role credentials that sign a KMS request; the source is reported', async () => {
    const accessToken = validToken()
    const { home } = homeWithToken('corp', { accessToken, expiresAt: new Date(Date.now() + 3600_000).toISOString() })
    const { reports, listener } = sourceReports()
    const credentials = createAWSNodeCredentials({ env: envFor('dev'), homeDir: home, onCredentialSource: listener })
    const used = await signThrough(kms, credentials)
    expect(used).toBe(portal.issued.at(-1)!.accessKeyId)
    expect(portal.calls.at(-1)).toEqual({
      kind: 'role-credentials',
      status: 200,
      accountId: account,
      roleName: 'Signer',
    })
    expect(reports).toEqual([
      { provider: 'aws', source: 'sso', detail: `profile dev, session corp, account ${account}, role Signer` },
    ])
    expect(JSON.stringify(reports)).not.toContain(accessToken)
  })

  it('legacy profiles find the token under the SHA-1 of the start URL', async () => {
    const accessToken = validToken()
    const { home } = homeWithToken(startUrl, { accessToken, expiresAt: new Date(Date.now() + 3600_000).toISOString() })
    const credentials = createAWSNodeCredentials({ env: envFor('legacy'), homeDir: home })
    expect(await signThrough(kms, credentials)).toBe(portal.issued.at(-1)!.accessKeyId)
  })

  it('role credentials are fetched again five minutes before they expire, re-reading the cache (injected clock)', async () => {
    const clock = manualClock()
    portal.now = clock.now
    kms.now = clock.now
    try {
      const { home } = homeWithToken('corp', {
        accessToken: validToken(),
        expiresAt: new Date(clock.ms() + 8 * 3600_000).toISOString(),
      })
      const credentials = createAWSNodeCredentials({ env: envFor('dev'), homeDir: home, now: clock.now })
      const first = await signThrough(kms, credentials, clock.now)
      const calls = portal.calls.length
      clock.advance(54 * 60_000) // 6 minutes left of the hour
      expect(await signThrough(kms, credentials, clock.now)).toBe(first)
      expect(portal.calls.length).toBe(calls)
      clock.advance(2 * 60_000) // 4 minutes left
      const second = await signThrough(kms, credentials, clock.now)
      expect(second).not.toBe(first)
      expect(portal.calls.length).toBe(calls + 1)
    } finally {
      portal.now = () => new Date()
      kms.now = () => new Date()
    }
  })

  it('an expired legacy token says to run aws sso login, without the token', async () => {
    const accessToken = validToken()
    const { home } = homeWithToken(startUrl, { accessToken, expiresAt: new Date(Date.now() - 60_000).toISOString() })
    const e = await createAWSNodeCredentials({ env: envFor('legacy'), homeDir: home })().catch((x) => x)
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { provider: 'aws', reason: 'sso-token' } })
    expect(e.message).toContain('expired')
    expect(e.message).toContain('aws sso login --profile legacy')
    expect(`${e.message}${e.stack}`).not.toContain(accessToken)
  })

  it('an expiring sso-session token is refreshed with its refresh token and the cache file rewritten', async () => {
    const client = { clientId: 'client-123', clientSecret: 'client-secret-value', refreshToken: 'aorrt-first' }
    portal.registerClient(client)
    const { home, file } = homeWithToken('corp', {
      accessToken: 'aoa-expired-not-accepted',
      expiresAt: new Date(Date.now() - 1000).toISOString(),
      ...client,
      region: 'eu-west-1',
      startUrl,
    })
    const mode = statSync(file).mode & 0o777
    const credentials = createAWSNodeCredentials({ env: envFor('dev'), homeDir: home })
    expect(await signThrough(kms, credentials)).toBe(portal.issued.at(-1)!.accessKeyId)
    const rewritten = JSON.parse(readFileSync(file, 'utf8'))
    expect(portal.accessTokens.has(rewritten.accessToken)).toBe(true)
    expect(rewritten.refreshToken).toBe(portal.refreshTokenOf(client.clientId))
    expect(rewritten.refreshToken).not.toBe('aorrt-first')
    expect(new Date(rewritten.expiresAt).getTime()).toBeGreaterThan(Date.now() + 7 * 3600_000)
    expect(rewritten).toMatchObject({ clientId: client.clientId, region: 'eu-west-1', startUrl }) // other fields kept
    expect(statSync(file).mode & 0o777).toBe(mode)
  })

  it('a refused refresh of an expired token says to run aws sso login; no secret in the error', async () => {
    portal.registerClient({ clientId: 'client-456', clientSecret: 'other-client-secret', refreshToken: 'aorrt-good' })
    const { home } = homeWithToken('corp', {
      accessToken: 'aoa-stale-token',
      expiresAt: new Date(Date.now() - 1000).toISOString(),
      clientId: 'client-456',
      clientSecret: 'other-client-secret',
      refreshToken: 'aorrt-revoked',
    })
    const e = await createAWSNodeCredentials({ env: envFor('dev'), homeDir: home })().catch((x) => x)
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { reason: 'sso-token' } })
    expect(e.message).toContain('aws sso login --profile dev')
    const text = `${e.message}${e.stack}${JSON.stringify(e.details)}${e.cause?.message}`
    for (const secret of ['aoa-stale-token', 'other-client-secret', 'aorrt-revoked']) expect(text).not.toContain(secret)
  })

  it('a token the portal refuses (signed out) is ERR_KMS naming aws sso login, without the token', async () => {
    const { home } = homeWithToken('corp', {
      accessToken: 'aoa-signed-out-token',
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    })
    const e = await createAWSNodeCredentials({ env: envFor('dev'), homeDir: home })().catch((x) => x)
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { reason: 'sso-token' } })
    expect(e.message).toContain('aws sso login')
    expect(`${e.message}${e.stack}${e.cause?.message}`).not.toContain('aoa-signed-out-token')
  })

  it('a role the user is not assigned: ForbiddenException, the echoed token redacted', async () => {
    const accessToken = validToken()
    const e = await getSSORoleCredentials({
      accessToken,
      accountId: account,
      roleName: 'Admin',
      region: 'eu-west-1',
      endpoint: portal.url,
    }).catch((x) => x)
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { status: 403, awsError: 'ForbiddenException' } })
    expect(e.message).toContain('role Admin')
    expect(e.message).not.toContain(accessToken)
  })

  it('no cached token, a missing sso-session section or missing keys: clear ERR_KMS messages', async () => {
    const home = awsHome({ config })
    const none = await createAWSNodeCredentials({ env: envFor('dev'), homeDir: home })().catch((x) => x)
    expect(none.message).toContain(`no cached token in ${join(home, '.aws', 'sso', 'cache', `${sha1('corp')}.json`)}`)
    expect(none.message).toContain('aws sso login --profile dev')
    const broken = await createAWSNodeCredentials({ env: envFor('broken'), homeDir: home })().catch((x) => x)
    expect(broken).toMatchObject({ code: 'ERR_KMS', details: { reason: 'sso-config' } })
    expect(broken.message).toContain('[sso-session nowhere]')
    const partial = await createAWSNodeCredentials({ env: envFor('partial'), homeDir: home })().catch((x) => x)
    expect(partial.message).toContain('missing sso_account_id, sso_role_name')
  })
})

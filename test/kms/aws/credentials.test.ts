// AWS credential sources in the Go SDK v2's default-chain order (what cosign uses): environment keys, then the web
// identity token file (STS AssumeRoleWithWebIdentity, answered by the test server), then the shared config and
// credentials files for AWS_PROFILE or `default`. Each source is proven by signing against the SigV4-checking KMS.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cacheAWSCredentials } from '../../../src/kms/aws/credentials.js'
import { createWebIdentityCredentials } from '../../../src/kms/aws/web-identity.js'
import {
  awsKMSProviderFromEnvironment,
  createAWSNodeCredentials,
  resolveAWSRegion,
} from '../../../src/node/aws-credentials.js'
import { type AWSKMSServer, startAWSKMSServer } from '../../support/aws-kms-server.js'

let kms: AWSKMSServer
let home: string
const dirs: string[] = []
const profileCredential = { accessKeyId: 'AKIAPROFILERELEASE01', secretAccessKey: 'profile-release-secret' }
const defaultCredential = { accessKeyId: 'AKIAPROFILEDEFAULT01', secretAccessKey: 'profile-default-secret' }
const noSleep = { sleep: async () => {} }

beforeAll(async () => {
  kms = await startAWSKMSServer({ region: 'ap-southeast-2' })
  kms.addCredential(profileCredential)
  kms.addCredential(defaultCredential)
  kms.addKey('ECC_NIST_P256', { alias: 'alias/chain' })
  home = makeHome({
    config: `[default]\nregion = ${kms.region}\n\n[profile release]\nregion = ${kms.region}\naws_access_key_id = AKIACONFIGLOSES00001\n# comment\n; another\n\n[profile assumer]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n`,
    credentials: `[default]\naws_access_key_id = ${defaultCredential.accessKeyId}\naws_secret_access_key = ${defaultCredential.secretAccessKey}\n\n[release]\naws_access_key_id=${profileCredential.accessKeyId}\naws_secret_access_key=${profileCredential.secretAccessKey}\n`,
  })
})
afterAll(async () => {
  await kms?.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function makeHome(files: { config?: string; credentials?: string; token?: string }): string {
  const dir = mkdtempSync(join(tmpdir(), 'aws-home-'))
  dirs.push(dir)
  const aws = join(dir, '.aws')
  mkdirSync(aws)
  if (files.config !== undefined) writeFileSync(join(aws, 'config'), files.config)
  if (files.credentials !== undefined) writeFileSync(join(aws, 'credentials'), files.credentials)
  return dir
}

function tokenFile(token: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'aws-token-'))
  dirs.push(dir)
  const path = join(dir, 'token')
  writeFileSync(path, `${token}\n`)
  return path
}

/** Sign through the provider built from `env`; returns the access key the server saw. */
async function signWith(env: Record<string, string>): Promise<string> {
  const aws = awsKMSProviderFromEnvironment({
    env: { AWS_ENDPOINT_URL: kms.url, ...env },
    homeDir: env.HOME ?? home,
    fetch: (input, init) => globalThis.fetch(input, init),
    ...noSleep,
  })
  const signer = await aws.createSigner('awskms:///alias/chain')
  await signer.sign(new TextEncoder().encode('x'))
  return kms.requests.at(-1)!.accessKeyId!
}

describe('default chain order', () => {
  const envKeys = () => ({
    AWS_ACCESS_KEY_ID: kms.credential.accessKeyId,
    AWS_SECRET_ACCESS_KEY: kms.credential.secretAccessKey,
  })

  it('environment keys win over AWS_PROFILE and over a web identity token file (Go SDK v2 order)', async () => {
    const calls = kms.stsCalls.length
    const used = await signWith({
      ...envKeys(),
      AWS_PROFILE: 'release',
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile(kms.webIdentity.token),
      AWS_ROLE_ARN: kms.webIdentity.roleArn,
    })
    expect(used).toBe(kms.credential.accessKeyId)
    expect(kms.stsCalls.length).toBe(calls)
  })

  it('web identity wins over the shared profile; STS is asked once and its credentials are cached', async () => {
    const calls = kms.stsCalls.length
    const env = {
      AWS_PROFILE: 'release',
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile(kms.webIdentity.token),
      AWS_ROLE_ARN: kms.webIdentity.roleArn,
      AWS_ROLE_SESSION_NAME: 'ci-run-7',
    }
    const aws = awsKMSProviderFromEnvironment({
      env: { AWS_ENDPOINT_URL: kms.url, ...env },
      homeDir: home,
      fetch: globalThis.fetch,
    })
    const signer = await aws.createSigner('awskms:///alias/chain')
    await signer.sign(new Uint8Array([1]))
    await signer.sign(new Uint8Array([2]))
    const used = kms.requests.at(-1)!.accessKeyId!
    expect(used.startsWith('ASIA')).toBe(true) // temporary credentials from STS, sent with their session token
    expect(kms.stsCalls.slice(calls)).toEqual([
      { roleArn: kms.webIdentity.roleArn, roleSessionName: 'ci-run-7', ok: true },
    ])
  })

  it('AWS_PROFILE selects [profile NAME] in config and [NAME] in credentials; the credentials file wins', async () => {
    expect(await signWith({ AWS_PROFILE: 'release' })).toBe(profileCredential.accessKeyId)
  })

  it('without anything else, the default profile (and its region)', async () => {
    expect(await signWith({})).toBe(defaultCredential.accessKeyId)
    expect(await resolveAWSRegion({ env: {}, homeDir: home })).toBe(kms.region)
    expect(await resolveAWSRegion({ env: { AWS_DEFAULT_REGION: 'eu-west-3' }, homeDir: home })).toBe('eu-west-3')
    expect(await resolveAWSRegion({ env: { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-west-3' } })).toBe(
      'eu-west-1',
    )
  })

  it('AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE move the files; a profile may hold a web identity', async () => {
    const other = makeHome({})
    const config = join(other, 'cfg')
    writeFileSync(
      config,
      `[profile wi]\nregion = ${kms.region}\nrole_arn = ${kms.webIdentity.roleArn}\nweb_identity_token_file = ${tokenFile(kms.webIdentity.token)}\n`,
    )
    const calls = kms.stsCalls.length
    const used = await signWith({ HOME: other, AWS_CONFIG_FILE: config, AWS_PROFILE: 'wi' })
    expect(used.startsWith('ASIA')).toBe(true)
    expect(kms.stsCalls.length).toBe(calls + 1)
  })

  it('a missing explicit profile, a refused role, or no source at all: ERR_KMS without secrets', async () => {
    // Instance metadata is the chain's last source: off for these tests (never a non-loopback address).
    const fail = (env: Record<string, string>) =>
      createAWSNodeCredentials({ env: { AWS_EC2_METADATA_DISABLED: 'true', ...env }, homeDir: home })().catch((e) => e)
    expect(await fail({ AWS_PROFILE: 'nope' })).toMatchObject({
      code: 'ERR_KMS',
      details: { reason: 'profile-not-found' },
    })
    // source_profile is now followed: STS (here the KMS stand-in, which knows only AssumeRoleWithWebIdentity) refuses.
    const assumer = await fail({ AWS_PROFILE: 'assumer', AWS_ENDPOINT_URL_STS: kms.url })
    expect(assumer).toMatchObject({ code: 'ERR_KMS', details: { awsError: 'InvalidAction' } })
    expect(assumer.message).toContain('AssumeRole of arn:aws:iam::1:role/x')
    const empty = await createAWSNodeCredentials({
      env: { AWS_EC2_METADATA_DISABLED: 'true' },
      homeDir: makeHome({}),
    })().catch((e) => e)
    expect(empty).toMatchObject({ code: 'ERR_KMS', details: { reason: 'no-credentials' } })
    const noRole = await fail({ AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile('t') })
    expect(noRole.message).toContain('role ARN')
    for (const e of [assumer, empty]) expect(JSON.stringify([e.message, e.details])).not.toContain('secret')
  })
})

describe('web identity (STS AssumeRoleWithWebIdentity)', () => {
  it('a refused token is ERR_KMS with STS error code; the token is not in the error', async () => {
    const token = 'eyJhbGciOi.refused-token-value.sig'
    const creds = createWebIdentityCredentials({
      roleArn: kms.webIdentity.roleArn,
      token: async () => token,
      endpoint: kms.url,
    })
    const e = await creds().catch((x) => x)
    expect(e).toMatchObject({
      code: 'ERR_KMS',
      details: { provider: 'aws', status: 400, awsError: 'InvalidIdentityToken' },
    })
    expect(`${e.message}${e.stack}${JSON.stringify(e.details)}`).not.toContain(token)
    const wrongRole = createWebIdentityCredentials({
      roleArn: 'arn:aws:iam::1:role/other',
      token: async () => kms.webIdentity.token,
      endpoint: kms.url,
    })
    await expect(wrongRole()).rejects.toMatchObject({ details: { status: 403, awsError: 'AccessDenied' } })
  })

  it('temporary credentials are refreshed five minutes before they expire, and the token file re-read', async () => {
    let clock = Date.now()
    const now = () => new Date(clock)
    let reads = 0
    const creds = createWebIdentityCredentials({
      roleArn: kms.webIdentity.roleArn,
      token: async () => {
        reads++
        return kms.webIdentity.token
      },
      endpoint: kms.url,
      now,
    })
    const first = await creds()
    expect(first.sessionToken).toContain('&') // XML entities decoded
    expect(first.expiration!.getTime()).toBeGreaterThan(clock)
    clock += 50 * 60_000 // 10 minutes left of the hour: still fresh
    expect(await creds()).toBe(first)
    clock += 6 * 60_000 // 4 minutes left: refreshed
    const second = await creds()
    expect(second.accessKeyId).not.toBe(first.accessKeyId)
    expect(reads).toBe(2)
  })

  it('garbage from STS is refused', async () => {
    for (const body of ['<x/>', '<Credentials><AccessKeyId>A</AccessKeyId></Credentials>', 'not xml']) {
      const creds = createWebIdentityCredentials({
        roleArn: 'arn:aws:iam::1:role/x',
        token: async () => 't',
        endpoint: 'https://sts.example',
        fetch: async () => new Response(body, { status: 200 }),
      })
      await expect(creds()).rejects.toMatchObject({ code: 'ERR_KMS', details: { reason: 'invalid-response' } })
    }
  })
})

describe('cacheAWSCredentials', () => {
  it('shares one request between concurrent callers and does not cache failures', async () => {
    let calls = 0
    let fail = true
    const cached = cacheAWSCredentials(async () => {
      calls++
      await new Promise((r) => setTimeout(r, 5))
      if (fail) throw new Error('boom')
      return { accessKeyId: 'A', secretAccessKey: 'S', expiration: new Date(Date.now() + 3600_000) }
    })
    await expect(cached()).rejects.toThrow('boom')
    fail = false
    const [a, b] = await Promise.all([cached(), cached()])
    expect(a).toBe(b)
    expect(calls).toBe(2)
    await cached()
    expect(calls).toBe(2)
  })

  it('refuses malformed credentials without echoing them', async () => {
    const cached = cacheAWSCredentials(async () => ({ accessKeyId: '', secretAccessKey: 'do-not-print' }))
    const e = await cached().catch((x) => x)
    expect(e).toMatchObject({ code: 'ERR_KMS' })
    expect(e.message).not.toContain('do-not-print')
  })
})

// EC2 instance metadata credentials (IMDSv2) against an IMDS stand-in that enforces its session token, proven by
// signing with them against the SigV4-checking KMS stand-in (which requires the session token of temporary
// credentials as X-Amz-Security-Token): token use and reuse, refresh before expiry on an injected clock, the Go
// SDK's IMDSv1 fallback, failing fast where nothing listens, the environment switches, and redaction.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createSecretSet } from '../../../src/http/redact.js'
import { createIMDSCredentials } from '../../../src/kms/aws/imds.js'
import { awsInstanceMetadataCredentials } from '../../../src/node/aws-remote-credentials.js'
import { deniedByKMS, standInKMS } from '../../support/aws-chain.js'
import { closedLoopbackURL, type IMDSServer, startIMDSServer } from '../../support/aws-imds-server.js'
import { type AWSKMSServer, startAWSKMSServer } from '../../support/aws-kms-server.js'
import { errorText, leaksOf } from '../../support/secret-leaks.js'

let kms: AWSKMSServer
let imds: IMDSServer
const noSleep = { sleep: async () => {} }
const message = new TextEncoder().encode('signed with instance credentials')

beforeAll(async () => {
  kms = await startAWSKMSServer({ region: 'eu-north-1' })
  kms.addKey('ECC_NIST_P256', { alias: 'alias/imds' })
})
afterAll(() => kms?.close())
afterEach(() => imds?.close())

async function freshIMDS(): Promise<IMDSServer> {
  imds = await startIMDSServer({ onIssue: (c) => kms.addCredential(c) })
  return imds
}

describe('createIMDSCredentials', () => {
  it('resolves the role credentials with an IMDSv2 token and signs a KMS request with them', async () => {
    await freshIMDS()
    const credentials = createIMDSCredentials({ endpoint: imds.url, ...noSleep })
    const signer = await standInKMS(kms, credentials).createSigner('awskms:///alias/imds')
    const signature = await signer.sign(message)
    expect(signature.length).toBeGreaterThan(60)
    const [issued] = imds.issued
    // The stand-in refuses temporary credentials whose session token is missing or wrong, so 200 proves it arrived.
    expect(kms.requests.at(-1)).toMatchObject({
      target: 'TrentService.Sign',
      status: 200,
      accessKeyId: issued!.accessKeyId,
    })
    expect(await credentials()).toMatchObject({ accessKeyId: issued!.accessKeyId, sessionToken: issued!.sessionToken })
    expect(imds.calls).toMatchObject({ tokens: 1, roleLists: 1, credentials: 1, withoutToken: 0, unauthorized: 0 })
  })

  it('keeps credentials until five minutes before they expire, then fetches new ones with the same token', async () => {
    await freshIMDS()
    let clock = Date.parse('2030-01-01T00:00:00Z')
    const now = () => new Date(clock)
    imds.expiration = () => new Date(clock + 30 * 60_000)
    const credentials = createIMDSCredentials({ endpoint: imds.url, now, ...noSleep })
    const first = await credentials()
    clock += 24 * 60_000 // six minutes left
    expect(await credentials()).toBe(first)
    clock += 2 * 60_000 // four minutes left: refreshed
    const second = await credentials()
    expect(second.accessKeyId).not.toBe(first.accessKeyId)
    expect(second.accessKeyId).toBe(imds.issued[1]!.accessKeyId)
    expect(imds.calls).toMatchObject({ tokens: 1, credentials: 2, unauthorized: 0 })
  })

  it('caps the expiry at one hour from the fetch (Go SDK), so six-hour role credentials are fetched hourly', async () => {
    await freshIMDS()
    let clock = Date.parse('2030-01-01T00:00:00Z')
    imds.expiration = () => new Date(clock + 6 * 3600_000)
    const credentials = createIMDSCredentials({ endpoint: imds.url, now: () => new Date(clock), ...noSleep })
    expect((await credentials()).expiration).toEqual(new Date(clock + 3600_000))
    clock += 56 * 60_000
    await credentials()
    expect(imds.calls.credentials).toBe(2)
  })

  it('asks for a new token when IMDS answers 401 (token expired on its side), once', async () => {
    await freshIMDS()
    let clock = Date.parse('2030-01-01T00:00:00Z')
    imds.expiration = () => new Date(clock + 30 * 60_000)
    const credentials = createIMDSCredentials({ endpoint: imds.url, now: () => new Date(clock), ...noSleep })
    await credentials()
    imds.expireTokens()
    clock += 26 * 60_000
    const second = await credentials()
    expect(second.accessKeyId).toBe(imds.issued[1]!.accessKeyId)
    expect(imds.calls).toMatchObject({ tokens: 2, unauthorized: 1, withoutToken: 0 })
    expect(imds.tokens).toHaveLength(2)
  })

  it('asks for a new token before its TTL runs out on the client clock, without a 401', async () => {
    await freshIMDS()
    let clock = Date.parse('2030-01-01T00:00:00Z')
    imds.expiration = () => new Date(clock + 10 * 60_000)
    const credentials = createIMDSCredentials({
      endpoint: imds.url,
      tokenTTLSeconds: 60,
      now: () => new Date(clock),
      ...noSleep,
    })
    await credentials()
    clock += 6 * 60_000
    await credentials()
    expect(imds.calls).toMatchObject({ tokens: 2, credentials: 2, unauthorized: 0 })
  })

  it.each([403, 404, 405])('falls back to IMDSv1 when the token PUT answers %i, as the Go SDK does', async (status) => {
    await freshIMDS()
    imds.tokenStatus = status
    imds.requireToken = false
    const got = await createIMDSCredentials({ endpoint: imds.url, ...noSleep })()
    expect(got.accessKeyId).toBe(imds.issued[0]!.accessKeyId)
    expect(imds.calls).toMatchObject({ tokens: 1, withoutToken: 2, credentials: 1 })
  })

  it('a 401 after the fallback turns tokens back on; disableV1Fallback never sends a tokenless request', async () => {
    await freshIMDS()
    let clock = Date.parse('2030-01-01T00:00:00Z')
    imds.expiration = () => new Date(clock + 30 * 60_000)
    imds.tokenStatus = 404
    imds.requireToken = false
    const credentials = createIMDSCredentials({ endpoint: imds.url, now: () => new Date(clock), ...noSleep })
    await credentials()
    imds.tokenStatus = 200
    imds.requireToken = true
    clock += 26 * 60_000
    await credentials()
    expect(imds.calls).toMatchObject({ tokens: 2, unauthorized: 1 })

    await freshIMDS()
    imds.tokenStatus = 403
    const strict = createIMDSCredentials({ endpoint: imds.url, disableV1Fallback: true, ...noSleep })
    const e = await strict().catch((x) => x)
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { provider: 'aws', status: 403 } })
    expect(e.message).toContain('IMDSv1 fallback is disabled')
    expect(imds.calls.withoutToken).toBe(0)
  })

  it('fails fast, with a clear message, when nothing listens at the endpoint', async () => {
    const endpoint = await closedLoopbackURL()
    const started = performance.now()
    const e = await createIMDSCredentials({ endpoint })().catch((x) => x)
    expect(performance.now() - started).toBeLessThan(2_000)
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { provider: 'aws', reason: 'no-credentials' } })
    expect(e.message).toMatch(/^no EC2 instance metadata endpoint answered .*ECONNREFUSED/)
    expect(e.message).toContain('AWS_EC2_METADATA_DISABLED=true')
  })

  it('gives up on an endpoint that accepts connections but never answers', async () => {
    const silent: Server = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
      const started = performance.now()
      const e = await createIMDSCredentials({ endpoint, timeoutMs: 150, ...noSleep })().catch((x) => x)
      expect(performance.now() - started).toBeLessThan(2_000)
      expect(e).toMatchObject({ code: 'ERR_KMS', details: { reason: 'no-credentials' } })
      expect(e.message).toContain('got no response within 150 ms')
    } finally {
      silent.closeAllConnections()
      await new Promise<void>((resolve) => silent.close(() => resolve()))
    }
  })

  it('an instance without a role, and a role IMDS cannot vend, are ERR_KMS', async () => {
    await freshIMDS()
    imds.role = ''
    await expect(createIMDSCredentials({ endpoint: imds.url })()).rejects.toMatchObject({
      code: 'ERR_KMS',
      details: { reason: 'no-credentials', status: 404 },
      message: expect.stringContaining('no IAM role'),
    })
  })

  it('IPv6 endpoint mode asks http://[fd00:ec2::254]', async () => {
    const asked: string[] = []
    const fetch = async (input: RequestInfo | URL) => {
      asked.push(String(input))
      throw new TypeError('fetch failed')
    }
    const e = await createIMDSCredentials({ endpointMode: 'IPv6', fetch, retry: { attempts: 0 } })().catch((x) => x)
    expect(asked[0]).toBe('http://[fd00:ec2::254]/latest/api/token')
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { reason: 'no-credentials' } })
    expect(() => createIMDSCredentials({ endpoint: 'file:///etc/passwd' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
  })
})

describe('redaction', () => {
  it('the secret key, session token and IMDS token are learned as secrets and never appear in errors', async () => {
    await freshIMDS()
    const secrets = createSecretSet()
    const credentials = createIMDSCredentials({ endpoint: imds.url, secrets, ...noSleep })
    const got = await credentials()
    const imdsToken = imds.tokens[0]!
    for (const secret of [got.secretAccessKey, got.sessionToken!, imdsToken]) {
      expect(secrets.redact(`before ${secret} after`)).toBe('before [REDACTED] after')
    }
    // KMS refuses the instance role: the error must not carry its secret parts.
    const denied = await deniedByKMS(kms, credentials, got.accessKeyId, 'alias/imds', secrets)
    expect(denied).toMatchObject({ code: 'ERR_KMS', details: { awsError: 'AccessDeniedException' } })
    // IMDS refuses the role with a message that quotes the token it was sent.
    imds.code = 'AssumeRoleUnauthorizedAccess'
    const refused = await createIMDSCredentials({ endpoint: imds.url, secrets, ...noSleep })().catch((x) => x)
    expect(refused).toMatchObject({ code: 'ERR_KMS', details: { awsError: 'AssumeRoleUnauthorizedAccess' } })
    expect(refused.message).toContain('[REDACTED]')
    for (const e of [denied, refused]) {
      const text = errorText(e)
      for (const secret of [got.secretAccessKey, got.sessionToken!, ...imds.tokens])
        expect(leaksOf(text, secret)).toEqual([])
    }
  })
})

describe('awsInstanceMetadataCredentials (environment)', () => {
  it('AWS_EC2_METADATA_DISABLED=true (any case) disables the source', () => {
    expect(awsInstanceMetadataCredentials({ env: { AWS_EC2_METADATA_DISABLED: 'true' } })).toBeUndefined()
    expect(awsInstanceMetadataCredentials({ env: { AWS_EC2_METADATA_DISABLED: 'TRUE' } })).toBeUndefined()
    expect(awsInstanceMetadataCredentials({ env: { AWS_EC2_METADATA_DISABLED: 'false' } })).toBeTypeOf('function')
  })

  it('AWS_EC2_METADATA_SERVICE_ENDPOINT points the source at the endpoint; it signs', async () => {
    await freshIMDS()
    const credentials = awsInstanceMetadataCredentials({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url } })!
    await (await standInKMS(kms, credentials).createSigner('awskms:///alias/imds')).sign(message)
    expect(kms.requests.at(-1)).toMatchObject({ status: 200, accessKeyId: imds.issued[0]!.accessKeyId })
  })

  it('AWS_EC2_METADATA_V1_DISABLED (or the profile setting) forbids the fallback; the environment wins', async () => {
    await freshIMDS()
    imds.tokenStatus = 405
    imds.requireToken = false
    const fromProfile = awsInstanceMetadataCredentials({
      env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url },
      profile: { ec2_metadata_v1_disabled: 'true' },
    })!
    await expect(fromProfile()).rejects.toMatchObject({ details: { status: 405 } })
    const envWins = awsInstanceMetadataCredentials({
      env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url, AWS_EC2_METADATA_V1_DISABLED: 'false' },
      profile: { ec2_metadata_v1_disabled: 'true' },
    })!
    await expect(envWins()).resolves.toBeDefined()
  })

  it('malformed settings are ERR_KMS naming the variable', () => {
    const bad = (env: Record<string, string>) => () => awsInstanceMetadataCredentials({ env })
    expect(bad({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'IPv5' })).toThrow(/AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE/)
    expect(bad({ AWS_EC2_METADATA_V1_DISABLED: 'yes' })).toThrow(/AWS_EC2_METADATA_V1_DISABLED/)
    expect(bad({ AWS_EC2_METADATA_SERVICE_ENDPOINT: 'not a url' })).toThrow(
      expect.objectContaining({
        code: 'ERR_KMS',
        message: expect.stringContaining('AWS_EC2_METADATA_SERVICE_ENDPOINT'),
      }),
    )
    expect(awsInstanceMetadataCredentials({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'ipv6' } })).toBeTypeOf(
      'function',
    )
  })
})

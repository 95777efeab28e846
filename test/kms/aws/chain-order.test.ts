// The AWS default chain's order, as aws-sdk-go-v2 config/resolve_credentials.go has it: environment keys, web
// identity token file, the shared profile, container credentials, EC2 instance metadata. Every source is configured
// at once and removed one by one; each time the chain reports the next source and its credentials sign a real KMS
// request. With nothing configured the error lists every source tried, in order, with why it was passed over.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAWSNodeCredentials } from '../../../src/node/aws-credentials.js'
import { awsHome, removeAWSHomes, signThrough, sourceReports } from '../../support/aws-chain.js'
import {
  type ContainerCredentialsServer,
  startContainerCredentialsServer,
} from '../../support/aws-container-credentials-server.js'
import { closedLoopbackURL, type IMDSServer, startIMDSServer } from '../../support/aws-imds-server.js'
import { type AWSKMSServer, startAWSKMSServer } from '../../support/aws-kms-server.js'

let kms: AWSKMSServer
let container: ContainerCredentialsServer
let imds: IMDSServer
let home: string
let tokenFile: string
const profileKeys = { accessKeyId: 'AKIACHAINPROFILE0001', secretAccessKey: 'chain-profile-secret-01' }

beforeAll(async () => {
  kms = await startAWSKMSServer({ region: 'ca-central-1' })
  kms.addKey('ECC_NIST_P256', { alias: 'alias/chain' })
  kms.addCredential(profileKeys)
  container = await startContainerCredentialsServer({ onIssue: (c) => kms.addCredential(c) })
  imds = await startIMDSServer({ onIssue: (c) => kms.addCredential(c) })
  home = awsHome({
    credentials: `[ci]\naws_access_key_id = ${profileKeys.accessKeyId}\naws_secret_access_key = ${profileKeys.secretAccessKey}\n`,
    config: '[profile regional]\nregion = ca-central-1\n',
  })
  tokenFile = join(home, 'web-identity-token')
  writeFileSync(tokenFile, kms.webIdentity.token)
})
afterAll(async () => {
  await Promise.all([kms?.close(), container?.close(), imds?.close()])
  removeAWSHomes()
})

/** Every source configured; `without` removes the named ones. */
function envWithout(...without: string[]): Record<string, string> {
  const all: Record<string, Record<string, string>> = {
    environment: {
      AWS_ACCESS_KEY_ID: kms.credential.accessKeyId,
      AWS_SECRET_ACCESS_KEY: kms.credential.secretAccessKey,
    },
    'web identity': { AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_ARN: kms.webIdentity.roleArn },
    profile: { AWS_PROFILE: 'ci' },
    container: { AWS_CONTAINER_CREDENTIALS_FULL_URI: container.fullURI },
    imds: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url },
  }
  const env: Record<string, string> = { AWS_REGION: kms.region, AWS_ENDPOINT_URL_STS: kms.url }
  for (const [name, vars] of Object.entries(all)) if (!without.includes(name)) Object.assign(env, vars)
  if (without.includes('imds')) env.AWS_EC2_METADATA_DISABLED = 'true'
  return env
}

async function settle(env: Record<string, string>, homeDir = home) {
  const { reports, listener } = sourceReports()
  const credentials = createAWSNodeCredentials({ env, homeDir, onCredentialSource: listener })
  const accessKeyId = await signThrough(kms, credentials)
  await signThrough(kms, credentials)
  expect(reports).toHaveLength(1) // reported once, when the chain settles
  return { accessKeyId, report: reports[0]! }
}

describe('default chain order (aws-sdk-go-v2 config)', () => {
  it('1. environment keys beat everything else', async () => {
    const { accessKeyId, report } = await settle(envWithout())
    expect(accessKeyId).toBe(kms.credential.accessKeyId)
    expect(report).toEqual({ provider: 'aws', source: 'environment', detail: 'AWS_ACCESS_KEY_ID' })
  })

  it('2. then the web identity token file', async () => {
    const calls = kms.stsCalls.length
    const { accessKeyId, report } = await settle(envWithout('environment'))
    expect(accessKeyId.startsWith('ASIA')).toBe(true)
    expect(kms.stsCalls.length).toBe(calls + 1)
    expect(report).toEqual({
      provider: 'aws',
      source: 'web identity',
      detail: `${kms.webIdentity.roleArn}, token file ${tokenFile}`,
    })
  })

  it('3. then the shared profile (AWS_PROFILE)', async () => {
    const { accessKeyId, report } = await settle(envWithout('environment', 'web identity'))
    expect(accessKeyId).toBe(profileKeys.accessKeyId)
    expect(report).toEqual({ provider: 'aws', source: 'profile', detail: 'ci (static keys)' })
  })

  it('4. then container credentials', async () => {
    const { accessKeyId, report } = await settle(envWithout('environment', 'web identity', 'profile'))
    expect(accessKeyId).toBe(container.issued.at(-1)!.accessKeyId)
    expect(report).toEqual({ provider: 'aws', source: 'container' })
  })

  it('5. then EC2 instance metadata', async () => {
    const { accessKeyId, report } = await settle(envWithout('environment', 'web identity', 'profile', 'container'))
    expect(accessKeyId).toBe(imds.issued.at(-1)!.accessKeyId)
    expect(report).toEqual({ provider: 'aws', source: 'ec2 instance metadata' })
  })

  it('a profile without credentials falls through to container credentials, as in Go', async () => {
    const env = { ...envWithout('environment', 'web identity', 'profile'), AWS_PROFILE: 'regional' }
    expect((await settle(env)).report.source).toBe('container')
  })

  it('sharedConfigProfile (Go WithSharedConfigProfile) beats environment keys; AWS_PROFILE does not', async () => {
    const env = envWithout('profile')
    const chosen = createAWSNodeCredentials({ env, homeDir: home, sharedConfigProfile: 'ci' })
    expect(await signThrough(kms, chosen)).toBe(profileKeys.accessKeyId)
  })

  it('the source is chosen once: a later change of the files does not switch it', async () => {
    const other = awsHome({
      credentials: `[default]\naws_access_key_id = ${profileKeys.accessKeyId}\naws_secret_access_key = ${profileKeys.secretAccessKey}\n`,
    })
    const credentials = createAWSNodeCredentials({
      env: envWithout('environment', 'web identity', 'profile', 'imds'),
      homeDir: other,
    })
    expect(await signThrough(kms, credentials)).toBe(profileKeys.accessKeyId)
    writeFileSync(join(other, '.aws', 'credentials'), '')
    expect(await signThrough(kms, credentials)).toBe(profileKeys.accessKeyId)
  })
})

describe('no credentials', () => {
  it('lists every source tried, in order, with why it was passed over', async () => {
    const empty = awsHome()
    const env = envWithout('environment', 'web identity', 'profile', 'container', 'imds')
    const e = await createAWSNodeCredentials({ env, homeDir: empty })().catch((x) => x)
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { provider: 'aws', reason: 'no-credentials' } })
    expect(e.message).toBe(
      'no AWS credentials found; tried in order: ' +
        '1. environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set; ' +
        '2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE not set; ' +
        `3. profile default: not in ${join(empty, '.aws', 'config')} or ${join(empty, '.aws', 'credentials')}; ` +
        '4. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI not set; ' +
        '5. ec2 instance metadata: disabled (AWS_EC2_METADATA_DISABLED)',
    )
  })

  it('a profile with nothing in it, and an instance metadata endpoint that does not answer, are listed too', async () => {
    const env = {
      ...envWithout('environment', 'web identity', 'profile', 'container', 'imds'),
      AWS_PROFILE: 'regional',
      AWS_EC2_METADATA_SERVICE_ENDPOINT: await closedLoopbackURL(),
    }
    delete (env as Record<string, string | undefined>).AWS_EC2_METADATA_DISABLED
    const credentials = createAWSNodeCredentials({ env, homeDir: home, sleep: async () => {} })
    const e = await credentials().catch((x) => x)
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { reason: 'no-credentials' } })
    expect(e.message).toContain('3. profile regional: sets no credentials (keys, role_arn, sso, credential_process)')
    expect(e.message).toMatch(/5\. ec2 instance metadata: .+/)
    // Not settled: the next call asks again (the instance may have got its role since).
    expect((await credentials().catch((x) => x)).message).toBe(e.message)
  })

  it('what instance metadata quotes back (its session token) is redacted from the list', async () => {
    imds.code = 'AssumeRoleUnauthorizedAccess'
    try {
      const env = envWithout('environment', 'web identity', 'profile', 'container')
      const e = await createAWSNodeCredentials({ env, homeDir: awsHome() })().catch((x) => x)
      expect(e.message).toMatch(/5\. ec2 instance metadata: .*AssumeRoleUnauthorizedAccess/)
      expect(imds.tokens.length).toBeGreaterThan(0)
      for (const token of imds.tokens) expect(`${e.message}${JSON.stringify(e.details)}`).not.toContain(token)
    } finally {
      imds.code = 'Success'
    }
  })

  it('an AWS_PROFILE that does not exist is an error of its own, not a fall-through', async () => {
    const e = await createAWSNodeCredentials({
      env: { ...envWithout('environment', 'web identity'), AWS_PROFILE: 'nope' },
      homeDir: home,
    })().catch((x) => x)
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { reason: 'profile-not-found' } })
  })
})

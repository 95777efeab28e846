// Profiles with role_arn: STS AssumeRole (the STS stand-in recomputes the SigV4 signature made with the source
// credentials) over a source_profile (static keys, itself, another role, SSO, credential_process) or a
// credential_source (Environment, EcsContainer, Ec2InstanceMetadata), with role_session_name, external_id and
// duration_seconds sent as the Go SDK sends them. The role's credentials sign a real KMS request; they are fetched
// again five minutes before they expire (injected clock). Loops, mfa_serial and broken profiles are clear ERR_KMS
// messages without secrets.
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AWSNodeCredentialsOptions, createAWSNodeCredentials } from '../../../src/node/aws-credentials.js'
import {
  awsConfig,
  awsCredentials,
  awsHome,
  manualClock,
  removeAWSHomes,
  signThrough,
  sourceReports,
} from '../../support/aws-chain.js'
import {
  type ContainerCredentialsServer,
  startContainerCredentialsServer,
} from '../../support/aws-container-credentials-server.js'
import { type IMDSServer, startIMDSServer } from '../../support/aws-imds-server.js'
import { type AWSKMSServer, startAWSKMSServer } from '../../support/aws-kms-server.js'
import { type SSOPortal, startSSOPortal } from '../../support/aws-sso-portal.js'
import { type STSServer, startSTSServer } from '../../support/aws-sts-server.js'

const region = 'us-west-2'
const arn = (name: string) => `arn:aws:iam::111122223333:role/${name}`
const base = { accessKeyId: 'AKIABASEPROFILE00001', secretAccessKey: 'base-profile-secret-0123' }
const self = { accessKeyId: 'AKIASELFPROFILE00002', secretAccessKey: 'self-profile-secret-4567' }
const untrusted = { accessKeyId: 'AKIAUNKNOWNTOSTS0003', secretAccessKey: 'untrusted-secret-89ab' }
const processKeys = { accessKeyId: 'AKIAPROCESSSOURCE004', secretAccessKey: 'process-source-secret-cd' }

let kms: AWSKMSServer
let sts: STSServer
let portal: SSOPortal
let container: ContainerCredentialsServer
let imds: IMDSServer
let home: string

beforeAll(async () => {
  kms = await startAWSKMSServer({ region })
  kms.addKey('ECC_NIST_P256', { alias: 'alias/chain' })
  sts = await startSTSServer({ region, onIssue: (c) => kms.addCredential(c) })
  for (const c of [base, self, processKeys]) sts.trust(c)
  portal = await startSSOPortal({ onIssue: (c) => sts.trust(c) })
  portal.assign('111122223333', 'Base')
  container = await startContainerCredentialsServer({ onIssue: (c) => sts.trust(c) })
  imds = await startIMDSServer({ onIssue: (c) => sts.trust(c) })
  sts.addRole({ roleArn: arn('signer'), trusted: [base.accessKeyId], externalId: 'ext-42' })
  sts.addRole({ roleArn: arn('second') })
  sts.addRole({ roleArn: arn('self') })
  sts.addRole({ roleArn: arn('plain') })
  sts.addRole({ roleArn: arn('mfa'), mfa: { serialNumber: 'arn:aws:iam::111122223333:mfa/dev', code: '123456' } })
  const processScript = join(awsHome(), 'process.mjs')
  writeFileSync(
    processScript,
    `process.stdout.write(JSON.stringify({ Version: 1, AccessKeyId: '${processKeys.accessKeyId}', SecretAccessKey: '${processKeys.secretAccessKey}' }))`,
  )
  const ssoToken = 'aoa-role-chaining-token'
  portal.accessTokens.add(ssoToken)
  const plain = (source: Record<string, string | number>) => ({ role_arn: arn('plain'), ...source })
  home = awsHome({
    credentials: awsCredentials({ base, self, untrusted }),
    config: awsConfig({
      signer: {
        role_arn: arn('signer'),
        source_profile: 'base',
        role_session_name: 'release-7',
        external_id: 'ext-42',
        duration_seconds: 3600,
      },
      short: plain({ source_profile: 'base', duration_seconds: 900 }),
      chained: { role_arn: arn('second'), source_profile: 'signer' },
      self: { role_arn: arn('self'), source_profile: 'self' },
      'loop-a': plain({ source_profile: 'loop-b' }),
      'loop-b': plain({ source_profile: 'loop-a' }),
      mfa: { role_arn: arn('mfa'), source_profile: 'base', mfa_serial: 'arn:aws:iam::111122223333:mfa/dev' },
      'from-env': plain({ credential_source: 'Environment' }),
      'from-container': plain({ credential_source: 'EcsContainer' }),
      'from-imds': plain({ credential_source: 'Ec2InstanceMetadata' }),
      proc: { credential_process: `"${process.execPath}" "${processScript}"` },
      'from-process': plain({ source_profile: 'proc' }),
      sso: {
        sso_start_url: 'https://corp.awsapps.com/start',
        sso_region: region,
        sso_account_id: '111122223333',
        sso_role_name: 'Base',
      },
      'from-sso': plain({ source_profile: 'sso' }),
      denied: { role_arn: arn('signer'), source_profile: 'self' },
      'bad-signer': plain({ source_profile: 'untrusted' }),
      'no-role': { source_profile: 'base' },
      'ghost-source': plain({ source_profile: 'ghost' }),
      'odd-source': plain({ credential_source: 'Somewhere' }),
      'two-types': plain({ source_profile: 'base', credential_process: '/bin/true' }),
    }),
  })
  const cacheKey = createHash('sha1').update('https://corp.awsapps.com/start').digest('hex')
  writeFileSync(
    join(home, '.aws', 'sso', 'cache', `${cacheKey}.json`),
    JSON.stringify({ accessToken: ssoToken, expiresAt: new Date(Date.now() + 3600_000).toISOString() }),
  )
})
afterAll(async () => {
  await Promise.all([kms?.close(), sts?.close(), portal?.close(), container?.close(), imds?.close()])
  removeAWSHomes()
})

const baseEnv = {
  PATH: process.env.PATH,
  AWS_REGION: region,
  AWS_ENDPOINT_URL_STS: '',
  AWS_ENDPOINT_URL_SSO: '',
  AWS_EC2_METADATA_DISABLED: 'true',
}
const envFor = (profile: string, extra: Record<string, string> = {}) => ({
  ...baseEnv,
  AWS_ENDPOINT_URL_STS: sts.url,
  AWS_ENDPOINT_URL_SSO: portal.url,
  AWS_PROFILE: profile,
  ...extra,
})
const fail = (profile: string) => createAWSNodeCredentials({ env: envFor(profile), homeDir: home })().catch((e) => e)

/** Sign through the Node chain with `env`: the key KMS saw, STS's last AssumeRole call and the sources reported. */
async function assumeVia(env: Record<string, string | undefined>, more: AWSNodeCredentialsOptions = {}) {
  const { reports, listener } = sourceReports()
  const used = await signThrough(
    kms,
    createAWSNodeCredentials({ env, homeDir: home, onCredentialSource: listener, ...more }),
  )
  return { used, call: sts.calls.at(-1), reports }
}

describe('role_arn with source_profile', () => {
  it('static keys → AssumeRole (session name, external id, duration) → a KMS signature; the source is reported', async () => {
    const { used, call, reports } = await assumeVia(envFor('signer'))
    expect(call).toMatchObject({
      roleArn: arn('signer'),
      roleSessionName: 'release-7',
      externalId: 'ext-42',
      durationSeconds: 3600,
      signer: base.accessKeyId,
      issued: used,
    })
    expect(reports).toEqual([
      { provider: 'aws', source: 'assume role', detail: `${arn('signer')} from profile base (static keys)` },
    ])
  })

  it('a role assumed from another role: two AssumeRole calls, the second signed with the first role', async () => {
    const calls = sts.calls.length
    const { used, reports } = await assumeVia(envFor('chained'))
    const [first, second] = sts.calls.slice(calls)
    expect(first).toMatchObject({ roleArn: arn('signer'), signer: base.accessKeyId })
    expect(second).toMatchObject({ roleArn: arn('second'), signer: first!.issued, issued: used })
    expect(second!.roleSessionName).toMatch(/^countersign-\d+$/)
    expect(reports[0]!.detail).toBe(
      `${arn('second')} from assume role ${arn('signer')} from profile base (static keys)`,
    )
  })

  it('source_profile naming the profile itself uses its own keys (Go: the second visit drops role settings)', async () => {
    const { call } = await assumeVia(envFor('self'))
    expect(call).toMatchObject({ roleArn: arn('self'), signer: self.accessKeyId })
  })

  it('duration_seconds of 15 minutes or less is not sent above STS default: 900, as in Go', async () => {
    const { call } = await assumeVia(envFor('short'))
    expect(call).toMatchObject({ roleArn: arn('plain'), durationSeconds: 900 })
  })

  it('a credential_process and an SSO profile can be the source', async () => {
    const fromProcess = await assumeVia(envFor('from-process'))
    expect(fromProcess.call).toMatchObject({ roleArn: arn('plain'), signer: processKeys.accessKeyId })
    const { call, reports } = await assumeVia(envFor('from-sso'))
    expect(call).toMatchObject({ roleArn: arn('plain'), signer: portal.issued.at(-1)!.accessKeyId })
    expect(reports[0]!.detail).toBe(`${arn('plain')} from sso (profile sso)`)
  })

  it('role credentials are fetched again five minutes before they expire (injected clock)', async () => {
    const clock = manualClock()
    sts.now = clock.now
    kms.now = clock.now
    try {
      const credentials = createAWSNodeCredentials({ env: envFor('short'), homeDir: home, now: clock.now })
      const calls = sts.calls.length
      const first = await signThrough(kms, credentials, clock.now)
      clock.advance(9 * 60_000) // 6 of 15 minutes left
      expect(await signThrough(kms, credentials, clock.now)).toBe(first)
      clock.advance(2 * 60_000) // 4 minutes left
      const second = await signThrough(kms, credentials, clock.now)
      expect(second).not.toBe(first)
      expect(sts.calls.length).toBe(calls + 2)
    } finally {
      sts.now = () => new Date()
      kms.now = () => new Date()
    }
  })
})

describe('role_arn with credential_source', () => {
  it('Environment: the access-key variables sign AssumeRole when the profile is chosen in code', async () => {
    const env = envFor('from-env', { AWS_ACCESS_KEY_ID: base.accessKeyId, AWS_SECRET_ACCESS_KEY: base.secretAccessKey })
    const calls = sts.calls.length
    // AWS_PROFILE alone does not beat the variables (Go SDK): they are used as they are, no AssumeRole.
    expect(await createAWSNodeCredentials({ env, homeDir: home })()).toMatchObject({ accessKeyId: base.accessKeyId })
    expect(sts.calls.length).toBe(calls)
    const { call } = await assumeVia(env, { sharedConfigProfile: 'from-env' })
    expect(call).toMatchObject({ roleArn: arn('plain'), signer: base.accessKeyId })
  })

  it('EcsContainer and Ec2InstanceMetadata: the remote source signs AssumeRole', async () => {
    const fromContainer = await assumeVia(
      envFor('from-container', { AWS_CONTAINER_CREDENTIALS_FULL_URI: container.fullURI }),
    )
    expect(fromContainer.call).toMatchObject({ roleArn: arn('plain'), signer: container.issued.at(-1)!.accessKeyId })
    const env = { ...envFor('from-imds'), AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url }
    delete (env as Record<string, string | undefined>).AWS_EC2_METADATA_DISABLED
    const fromIMDS = await assumeVia(env)
    expect(fromIMDS.call).toMatchObject({ roleArn: arn('plain'), signer: imds.issued.at(-1)!.accessKeyId })
    const off = await fail('from-container')
    expect(off.message).toContain(
      'credential_source = EcsContainer, but neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    )
    expect((await fail('from-imds')).message).toContain('instance metadata is disabled')
  })
})

describe('refusals', () => {
  it('a source_profile loop is named as a loop', async () => {
    const e = await fail('loop-a')
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { provider: 'aws' } })
    expect(e.message).toContain('loop through source_profile (loop-a → loop-b → loop-a)')
  })

  it('mfa_serial is refused with the reason and what to do; mfaTokenCode supplies the code', async () => {
    const e = await fail('mfa')
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { reason: 'mfa-required' } })
    expect(e.message).toBe(
      `AWS profile "mfa" sets mfa_serial: assuming ${arn('mfa')} needs an MFA code; countersign does not prompt — use a session from \`aws sts get-session-token\` or remove mfa_serial`,
    )
    const asked: string[] = []
    const { call } = await assumeVia(envFor('mfa'), {
      mfaTokenCode: async (serial) => {
        asked.push(serial)
        return '123456'
      },
    })
    expect(asked).toEqual(['arn:aws:iam::111122223333:mfa/dev'])
    expect(call).toMatchObject({ roleArn: arn('mfa'), serialNumber: asked[0], tokenCode: '123456' })
  })

  it('STS refusals carry the STS code and no secret', async () => {
    const denied = await fail('denied')
    expect(denied).toMatchObject({ code: 'ERR_KMS', details: { status: 403, awsError: 'AccessDenied' } })
    const badSigner = await fail('bad-signer')
    expect(badSigner).toMatchObject({ details: { status: 403, awsError: 'InvalidClientTokenId' } })
    for (const e of [denied, badSigner]) {
      expect(`${e.message}${e.stack}${JSON.stringify(e.details)}`).not.toMatch(/secret-/)
    }
  })

  it('configurations the Go SDK refuses are refused with the setting named', async () => {
    expect((await fail('no-role')).message).toBe('AWS profile "no-role" sets source_profile but no role_arn')
    expect((await fail('ghost-source')).message).toContain('source_profile "ghost", which does not exist')
    expect((await fail('odd-source')).message).toContain('must be EcsContainer, Ec2InstanceMetadata or Environment')
    expect((await fail('two-types')).message).toContain('sets source_profile and credential_process')
  })
})

// Container credentials (ECS task roles, EKS Pod Identity) against a stand-in agent that checks the Authorization
// header, proven by signing with them against the SigV4-checking KMS stand-in: the environment variables as the Go
// SDK v2 reads them (relative URI first, the full URI's allowed hosts, the token file re-read on every fetch and
// winning over the token variable), refresh before expiry on an injected clock, endpoint failures, and redaction.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createSecretSet } from '../../../src/http/redact.js'
import { createContainerCredentials } from '../../../src/kms/aws/container-credentials.js'
import { awsContainerCredentialsFromEnv } from '../../../src/node/aws-remote-credentials.js'
import { deniedByKMS, standInKMS } from '../../support/aws-chain.js'
import {
  type ContainerCredentialsServer,
  startContainerCredentialsServer,
} from '../../support/aws-container-credentials-server.js'
import { closedLoopbackURL } from '../../support/aws-imds-server.js'
import { type AWSKMSServer, startAWSKMSServer } from '../../support/aws-kms-server.js'
import { errorText, leaksOf } from '../../support/secret-leaks.js'

let kms: AWSKMSServer
let agent: ContainerCredentialsServer
let dir: string
const noSleep = { sleep: async () => {} }
const podToken = 'eyJhbGciOiJSUzI1NiJ9.pod-identity-token-one.c2lnbmF0dXJl'
const podToken2 = 'eyJhbGciOiJSUzI1NiJ9.pod-identity-token-two.c2lnbmF0dXJl'

beforeAll(async () => {
  kms = await startAWSKMSServer({ region: 'us-west-2' })
  kms.addKey('ECC_NIST_P256', { alias: 'alias/container' })
  dir = mkdtempSync(join(tmpdir(), 'aws-container-'))
})
afterAll(async () => {
  await kms?.close()
  rmSync(dir, { recursive: true, force: true })
})
afterEach(() => agent?.close())

async function startAgent(options: { flavor?: 'ecs' | 'eks'; token?: string } = {}) {
  agent = await startContainerCredentialsServer({ ...options, onIssue: (c) => kms.addCredential(c) })
  return agent
}

function tokenFile(content: string): string {
  const path = join(dir, `token-${Math.random().toString(36).slice(2)}`)
  writeFileSync(path, content)
  return path
}

async function signWith(credentials: ReturnType<typeof createContainerCredentials>): Promise<string> {
  const aws = standInKMS(kms, credentials)
  await (await aws.createSigner('awskms:///alias/container')).sign(new TextEncoder().encode('x'))
  const last = kms.requests.at(-1)!
  expect(last).toMatchObject({ target: 'TrentService.Sign', status: 200 })
  return last.accessKeyId!
}

describe('awsContainerCredentialsFromEnv', () => {
  it('is undefined when neither container URI variable is set', () => {
    expect(awsContainerCredentialsFromEnv({ env: {} })).toBeUndefined()
    expect(awsContainerCredentialsFromEnv({ env: { AWS_CONTAINER_AUTHORIZATION_TOKEN: 'x' } })).toBeUndefined()
  })

  it('ECS: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is asked of the agent; the task credentials sign', async () => {
    await startAgent({ flavor: 'ecs' })
    const credentials = awsContainerCredentialsFromEnv({
      env: { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: agent.path },
      containerEndpoint: agent.url,
    })!
    expect(await signWith(credentials)).toBe(agent.issued[0]!.accessKeyId)
    expect(agent.authorizations).toEqual([undefined])
  })

  it('the relative URI wins over the full URI (Go SDK order)', async () => {
    await startAgent({ flavor: 'ecs' })
    const credentials = awsContainerCredentialsFromEnv({
      env: {
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: agent.path,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:9/never-asked',
      },
      containerEndpoint: agent.url,
    })!
    expect((await credentials()).accessKeyId).toBe(agent.issued[0]!.accessKeyId)
    expect(agent.issued).toHaveLength(1)
  })

  it('EKS Pod Identity: full URI + token file; the file is read again on every fetch and wins over the variable', async () => {
    await startAgent({ flavor: 'eks', token: podToken })
    let clock = Date.parse('2030-01-01T00:00:00Z')
    agent.expiration = () => new Date(clock + 20 * 60_000)
    const file = tokenFile(podToken)
    const credentials = awsContainerCredentialsFromEnv({
      env: {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.fullURI,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: file,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: 'loses-to-the-token-file',
      },
      now: () => new Date(clock),
    })!
    expect(await signWith(credentials)).toBe(agent.issued[0]!.accessKeyId)
    // The kubelet rotates the projected token; the agent now wants the new one.
    writeFileSync(file, `${podToken2}\n`)
    agent.token = podToken2
    clock += 16 * 60_000 // four minutes left: refreshed with the new token
    const second = await credentials()
    expect(second.accessKeyId).toBe(agent.issued[1]!.accessKeyId)
    expect(agent.authorizations).toEqual([podToken, podToken2])
  })

  it('AWS_CONTAINER_AUTHORIZATION_TOKEN is sent as is when there is no token file', async () => {
    await startAgent({ flavor: 'eks', token: podToken })
    const credentials = awsContainerCredentialsFromEnv({
      env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.fullURI, AWS_CONTAINER_AUTHORIZATION_TOKEN: podToken },
    })!
    expect((await credentials()).sessionToken).toBe(agent.issued[0]!.sessionToken)
    expect(agent.authorizations).toEqual([podToken])
  })

  it('a plain-http full URI must be loopback, the ECS agent or the EKS agent; https may be any host', async () => {
    const refused = (uri: string) => () =>
      awsContainerCredentialsFromEnv({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: uri } })
    for (const uri of [
      'http://10.0.0.1/creds',
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/role',
      'http://[fd00:ec2::254]/creds',
      'http://169.254.170.24/v1/credentials',
    ]) {
      expect(refused(uri)).toThrow(
        expect.objectContaining({ code: 'ERR_KMS', message: expect.stringContaining('is not allowed over http') }),
      )
    }
    expect(refused('ftp://127.0.0.1/creds')).toThrow(/must be an http or https URL/)
    for (const uri of [
      'http://127.0.0.1:8080/creds',
      'http://127.200.1.1/creds',
      'http://[::1]:8080/creds',
      'http://169.254.170.2/v2/credentials/x',
      'http://169.254.170.23/v1/credentials',
      'http://[fd00:ec2::23]/v1/credentials',
      'https://credentials.example.com/creds',
    ]) {
      expect(refused(uri)()).toBeTypeOf('function')
    }
  })

  it('a host name must resolve to allowed addresses only, checked before any request is sent', async () => {
    await startAgent({ flavor: 'eks' })
    const elsewhere = awsContainerCredentialsFromEnv({
      env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://creds.internal:${new URL(agent.url).port}${agent.path}` },
      lookupHost: async () => ['127.0.0.1', '10.1.2.3'],
    })!
    await expect(elsewhere()).rejects.toMatchObject({
      code: 'ERR_KMS',
      message: expect.stringContaining('resolves to 127.0.0.1, 10.1.2.3'),
    })
    expect(agent.authorizations).toEqual([])
    const local = awsContainerCredentialsFromEnv({
      env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://localhost:${new URL(agent.url).port}${agent.path}` },
      lookupHost: async () => ['127.0.0.1'],
      fetch: (input, init) => globalThis.fetch(String(input).replace('//localhost:', '//127.0.0.1:'), init),
    })!
    expect((await local()).accessKeyId).toBe(agent.issued[0]!.accessKeyId)
  })
})

describe('createContainerCredentials', () => {
  it('static credentials (no Expiration) are kept; a 500 is retried', async () => {
    await startAgent({ flavor: 'ecs' })
    agent.expiration = undefined
    agent.fail(1)
    const credentials = createContainerCredentials({ uri: agent.fullURI, ...noSleep })
    const first = await credentials()
    expect(first.expiration).toBeUndefined()
    expect(await credentials()).toBe(first)
    expect(agent.issued).toHaveLength(1)
    expect(agent.authorizations).toHaveLength(2) // the 500, then the answer
  })

  it('a refused token is ERR_KMS with the agent code; the token never appears in the error', async () => {
    await startAgent({ flavor: 'eks', token: podToken })
    const secrets = createSecretSet()
    const wrong = 'eyJhbGciOiJSUzI1NiJ9.a-stale-pod-token.c2lnbmF0dXJl'
    const e = await createContainerCredentials({
      uri: agent.fullURI,
      authorizationToken: async () => wrong,
      secrets,
    })().catch((x) => x)
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { provider: 'aws', status: 401, awsError: 'AccessDenied' } })
    expect(e.message).toContain('invalid authorization token [REDACTED]')
    expect(leaksOf(errorText(e), wrong)).toEqual([])
  })

  it('a token with a line break inside is refused before anything is sent', async () => {
    await startAgent({ flavor: 'eks', token: podToken })
    const e = await createContainerCredentials({
      uri: agent.fullURI,
      authorizationToken: async () => `${podToken}\r\nX-Injected: 1`,
    })().catch((x) => x)
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { reason: 'authorization-token' } })
    expect(agent.authorizations).toEqual([])
    expect(leaksOf(errorText(e), podToken)).toEqual([])
  })

  it('an endpoint that does not answer, or answers garbage, is ERR_KMS', async () => {
    const closed = await closedLoopbackURL()
    const started = performance.now()
    const unreachable = await createContainerCredentials({ uri: `${closed}/v1/credentials`, ...noSleep })().catch(
      (x) => x,
    )
    expect(performance.now() - started).toBeLessThan(2_000)
    expect(unreachable).toMatchObject({ code: 'ERR_KMS', details: { provider: 'aws', reason: 'unreachable' } })
    expect(unreachable.message).toContain('did not answer')
    await startAgent({ flavor: 'ecs' })
    const notFound = await createContainerCredentials({ uri: `${agent.url}/v2/credentials/other` })().catch((x) => x)
    expect(notFound).toMatchObject({ code: 'ERR_KMS', details: { status: 404, awsError: 'NotFound' } })
    expect(() => createContainerCredentials({ uri: 'file:///etc/passwd' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
  })
})

describe('redaction', () => {
  it('the secret key, session token and authorization token join the secret set; errors carry none of them', async () => {
    await startAgent({ flavor: 'eks', token: podToken })
    const secrets = createSecretSet()
    const file = tokenFile(podToken)
    const credentials = awsContainerCredentialsFromEnv({
      env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.fullURI, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: file },
      secrets,
    })!
    const got = await credentials()
    for (const secret of [got.secretAccessKey, got.sessionToken!, podToken]) {
      expect(secrets.redact(`a ${secret} b`)).toBe('a [REDACTED] b')
    }
    const denied = await deniedByKMS(kms, credentials, got.accessKeyId, 'alias/container', secrets)
    expect(denied).toMatchObject({ code: 'ERR_KMS', details: { awsError: 'AccessDeniedException' } })
    const ecsAgent = await startContainerCredentialsServer({ flavor: 'ecs' })
    try {
      // The ECS relative URI is the task's credential id: it joins the secret set too.
      const relative = `${ecsAgent.path}-gone`
      const missing = await awsContainerCredentialsFromEnv({
        env: { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: relative },
        containerEndpoint: ecsAgent.url,
        secrets,
      })!().catch((x) => x)
      expect(missing).toMatchObject({ code: 'ERR_KMS', details: { status: 404 } })
      expect(secrets.redact(relative)).toBe('[REDACTED]')
      for (const e of [denied, missing]) {
        const text = errorText(e)
        for (const secret of [got.secretAccessKey, got.sessionToken!, podToken, relative]) {
          expect(leaksOf(text, secret)).toEqual([])
        }
      }
    } finally {
      await ecsAgent.close()
    }
  })
})

// external_account (workload and workforce identity federation) against loopback stand-ins of Google's STS and
// Cloud KMS: file (text and json) and url credential sources yield a subject token the STS checks and exchanges;
// Cloud KMS then signs with the federated token the STS issued. Expiry and refresh run on an injected clock, the
// subject token is re-read for each exchange, refused files are named, and no provoked error carries a token.
// Executable sources: executable-source.test.ts.
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGCPCredentialsFromJSON } from '../../../src/kms/gcp/index.js'
import { federationStand, JWT_TYPE, signAndVerify } from '../../support/gcp-federation.js'
import { CLOUD_PLATFORM } from '../../support/gcp-sts-server.js'

const AUDIENCE = '//iam.googleapis.com/projects/1234/locations/global/workloadIdentityPools/ci/providers/oidc'
const WORKFORCE = '//iam.googleapis.com/locations/global/workforcePools/staff/providers/okta'
const KEY = 'projects/countersign-test/locations/global/keyRings/fed/cryptoKeys/release'
const stand = federationStand({ audience: AUDIENCE, key: KEY, tmpPrefix: 'gcp-external-', echoSubjectToken: true })
const { clock, trusted, subjectTokens, subject, account, hosted, providerFor } = stand
const { rejected } = stand.provoked

describe('credential_source file', () => {
  it('text: the STS exchanges the file token (every form field checked) and Cloud KMS signs with its token', async () => {
    const file = join(stand.dir, 'oidc-token')
    const token = subject()
    writeFileSync(file, `${token}\n`)
    const bearers: string[] = []
    await signAndVerify(providerFor(account({ file }), bearers), stand.kms, stand.version)
    const exchange = stand.sts.exchanges.at(-1)!
    expect(exchange).toMatchObject({ accepted: true, subjectToken: token, audience: AUDIENCE, scope: CLOUD_PLATFORM })
    expect(exchange.options).toBeUndefined()
    expect(bearers).toEqual([`Bearer ${stand.sts.issued.at(-1)}`])
  })

  it('json format: the token is read from subject_token_field_name', async () => {
    const file = join(stand.dir, 'oidc.json')
    const token = subject()
    writeFileSync(file, JSON.stringify({ id_token: token, other: 'x' }))
    const doc = account({ file, format: { type: 'json', subject_token_field_name: 'id_token' } })
    await signAndVerify(providerFor(doc), stand.kms, stand.version)
    expect(stand.sts.exchanges.at(-1)).toMatchObject({ accepted: true, subjectToken: token })
    writeFileSync(file, JSON.stringify({ access_token: token }))
    const e = await rejected(providerFor(doc).publicKey(`gcpkms://${KEY}`))
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { reason: 'subject-token' } })
    expect(e.message).toContain('has no field "id_token"')
  })

  it('refresh: the federated token is reused until five minutes before expiry, then the file is read again', async () => {
    const file = join(stand.dir, 'rotating-token')
    const first = subject()
    writeFileSync(file, first)
    const bearers: string[] = []
    const provider = providerFor(account({ file }), bearers)
    const signer = await provider.createSigner(`gcpkms://${stand.version}`)
    const before = stand.sts.exchanges.length
    await signer.sign(new Uint8Array([1]))
    const second = subject()
    writeFileSync(file, second) // the workload's token rotates; the cached federated token is still good
    clock.advance(54 * 60_000)
    await signer.sign(new Uint8Array([2]))
    expect(stand.sts.exchanges.length).toBe(before)
    clock.advance(2 * 60_000) // 56 min: inside the five-minute margin of the 60-minute token
    await signer.sign(new Uint8Array([3]))
    expect(stand.sts.exchanges.slice(before).map((x) => x.subjectToken)).toEqual([second])
    expect(new Set(bearers).size).toBe(2)
    expect(bearers.at(-1)).toBe(`Bearer ${stand.sts.issued.at(-1)}`)
  })

  it('a missing token file, an untrusted token, a token-less STS answer: coded errors without the token', async () => {
    const missing = await rejected(
      providerFor(account({ file: join(stand.dir, 'absent') })).publicKey(`gcpkms://${KEY}`),
    )
    expect(missing).toMatchObject({ code: 'ERR_KMS', details: { provider: 'gcpkms', reason: 'subject-token' } })
    expect(missing.message).toContain(join(stand.dir, 'absent'))
    const file = join(stand.dir, 'untrusted')
    const untrusted = `eyJ.${randomBytes(20).toString('hex')}.x`
    subjectTokens.push(untrusted)
    writeFileSync(file, untrusted)
    const e = await rejected(providerFor(account({ file })).publicKey(`gcpkms://${KEY}`))
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { status: 400, reason: 'invalid_grant' } })
    // The hostile STS echoed the subject token; the message keeps its reason without it.
    expect(e.message).toContain('The subject token [REDACTED] is invalid')
    const noExpiry = createGCPCredentialsFromJSON(account({ file }), {
      ...hosted(),
      fetch: (async () => Response.json({ access_token: 'ya29.federated-without-expiry' })) as typeof fetch,
    })
    expect((await rejected(noExpiry({}))).message).toContain('no valid expires_in')
  })
})

describe('credential_source url', () => {
  let server: Server
  let url: string
  let current = ''
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.headers['x-identity'] !== 'countersign-test') return res.writeHead(403).end('forbidden')
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(current)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  it('GET with the file headers; the text answer is the subject token, fetched again on refresh', async () => {
    current = subject()
    const provider = providerFor(account({ url, headers: { 'X-Identity': 'countersign-test' } }))
    const signer = await provider.createSigner(`gcpkms://${stand.version}`)
    await signer.sign(new Uint8Array([1]))
    expect(stand.sts.exchanges.at(-1)).toMatchObject({ accepted: true, subjectToken: current })
    current = subject()
    clock.advance(3600_000)
    await signer.sign(new Uint8Array([2]))
    expect(stand.sts.exchanges.at(-1)).toMatchObject({ accepted: true, subjectToken: current })
    const refused = await rejected(providerFor(account({ url })).publicKey(`gcpkms://${KEY}`))
    expect(refused).toMatchObject({ code: 'ERR_KMS', details: { status: 403 } })
    expect(refused.message).toContain('subject token URL')
  })
})

describe('external_account files that are refused', () => {
  const bad = (doc: Record<string, unknown>) => Promise.resolve().then(() => createGCPCredentialsFromJSON(doc))
  it('AWS and X.509 sources are unsupported; malformed fields are ERR_INVALID_INPUT', async () => {
    const aws = await rejected(
      bad(account({ environment_id: 'aws1', region_url: 'http://169.254.169.254/latest/meta-data/placement' })),
    )
    expect(aws.code).toBe('ERR_UNSUPPORTED_ALGORITHM')
    expect(aws.message).toContain('AWS credential_source (environment_id aws1) are not supported')
    expect((await rejected(bad(account({ certificate: { use_default_certificate_config: true } })))).code).toBe(
      'ERR_UNSUPPORTED_ALGORITHM',
    )
    expect((await rejected(bad({ type: 'external_account' }))).code).toBe('ERR_UNSUPPORTED_ALGORITHM')
    for (const doc of [
      account({ file: 'x' }, { audience: undefined }),
      account({ file: 'x' }, { subject_token_type: '' }),
      account({ file: 'x', format: { type: 'json' } }),
      account({ file: 'x', format: { type: 'xml' } }),
      account({ url: 'http://sts.example.com/token' }),
      account({ url: 'https://x.example/t', headers: { 'Bad Header': 'v' } }),
      account({ file: 'x' }, { token_url: 'http://sts.example.com/v1/token' }),
      account({ file: 'x' }, { workforce_pool_user_project: 'p' }),
      account({ file: 'x' }, { service_account_impersonation: { token_lifetime_seconds: 50_000 } }),
      account({ executable: { command: 'x', timeout_millis: 1000 } }),
      account({ executable: { command: '   ' } }),
    ]) {
      expect((await rejected(bad(doc))).code, JSON.stringify(doc)).toBe('ERR_INVALID_INPUT')
    }
  })

  it('file and executable sources need the host hooks (countersign/node)', async () => {
    const source = createGCPCredentialsFromJSON(account({ file: join(stand.dir, 'x') }))
    expect((await rejected(source({}))).code).toBe('ERR_UNSUPPORTED_ALGORITHM')
  })
})

describe('workforce identity federation', () => {
  it('workforce_pool_user_project goes in options; with a client, Basic authentication instead', async () => {
    const file = join(stand.dir, 'workforce-token')
    writeFileSync(file, subject())
    const doc = account({ file }, { audience: WORKFORCE, workforce_pool_user_project: 'billing-project' })
    stand.sts.addPool(WORKFORCE, {
      subjectTokenType: JWT_TYPE,
      check: (t) => trusted.has(t),
      userProject: 'billing-project',
    })
    await signAndVerify(providerFor(doc), stand.kms, stand.version)
    expect(JSON.parse(stand.sts.exchanges.at(-1)!.options!)).toEqual({ userProject: 'billing-project' })

    const client = { id: 'workforce-client', secret: `wf-secret-${randomBytes(8).toString('hex')}` }
    subjectTokens.push(client.secret)
    const withClient = WORKFORCE.replace('okta', 'okta-client')
    stand.sts.addPool(withClient, { subjectTokenType: JWT_TYPE, check: (t) => trusted.has(t), client })
    const clientDoc = { ...doc, audience: withClient, client_id: client.id, client_secret: client.secret }
    await signAndVerify(providerFor(clientDoc), stand.kms, stand.version)
    expect(stand.sts.exchanges.at(-1)?.accepted).toBe(true)
    expect(stand.sts.exchanges.at(-1)?.options).toBeUndefined()
    const wrong = await rejected(
      providerFor({ ...clientDoc, client_secret: 'not-the-secret' }).publicKey(`gcpkms://${KEY}`),
    )
    expect(wrong.details).toMatchObject({ status: 400, reason: 'invalid_client' })
  })
})

// The Node chain for gcpkms:// (gcpKMSProviderFromEnvironment): which source it settles on, in the order of
// golang.org/x/oauth2/google FindDefaultCredentials after countersign's explicit and GOOGLE_OAUTH_ACCESS_TOKEN
// sources, reported once to onCredentialSource without secrets; and, when no source has credentials, one ERR_KMS
// naming every source tried in order with why it was passed over.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CredentialSourceReport } from '../../../src/kms/index.js'
import { gcpKMSProviderFromEnvironment } from '../../../src/node/gcp-credentials.js'
import { signAndVerify } from '../../support/gcp-federation.js'
import { type GCPKMSServer, startGCPKMSServer } from '../../support/gcp-kms-server.js'
import { recordProvokedErrors } from '../../support/provoked-errors.js'

const KEY = 'projects/countersign-test/locations/global/keyRings/chain/cryptoKeys/release'
const provoked = recordProvokedErrors()
let kms: GCPKMSServer
let version: string
let dir: string

beforeAll(async () => {
  kms = await startGCPKMSServer()
  version = kms.addKey(KEY)
  dir = mkdtempSync(join(tmpdir(), 'gcp-chain-'))
})
afterAll(async () => {
  provoked.expectNoSecrets(/ya29\.|BEGIN PRIVATE KEY/, [...kms.authorizedUserSecrets])
  rmSync(dir, { recursive: true, force: true })
  await kms?.close()
})

async function reportsFor(env: Record<string, string>, extra: Record<string, unknown> = {}) {
  const reports: CredentialSourceReport[] = []
  const provider = gcpKMSProviderFromEnvironment({
    env,
    endpoint: kms.url,
    onCredentialSource: (r) => reports.push(r),
    ...extra,
  })
  await signAndVerify(provider, kms, version)
  await signAndVerify(provider, kms, version)
  return reports
}

describe('onCredentialSource', () => {
  it('reports each source once, with a detail that names no secret', async () => {
    const token = kms.issueToken()
    expect(await reportsFor({ GOOGLE_OAUTH_ACCESS_TOKEN: token })).toEqual([
      { provider: 'gcp', source: 'GOOGLE_OAUTH_ACCESS_TOKEN' },
    ])
    expect(await reportsFor({}, { accessToken: token })).toEqual([{ provider: 'gcp', source: 'accessToken option' }])

    const sa = join(dir, 'sa.json')
    writeFileSync(sa, kms.serviceAccountJSON)
    expect(await reportsFor({ GOOGLE_APPLICATION_CREDENTIALS: sa, HOME: dir })).toEqual([
      {
        provider: 'gcp',
        source: 'service_account',
        detail: `GOOGLE_APPLICATION_CREDENTIALS ${sa}; signer@countersign-test.iam.gserviceaccount.com`,
      },
    ])

    const gcloud = join(dir, 'gcloud-config')
    mkdirSync(gcloud, { recursive: true })
    const adc = join(gcloud, 'application_default_credentials.json')
    writeFileSync(adc, kms.authorizedUserJSON)
    expect(await reportsFor({ CLOUDSDK_CONFIG: gcloud })).toEqual([
      { provider: 'gcp', source: 'authorized_user', detail: `gcloud application default credentials ${adc}` },
    ])

    expect(await reportsFor({ HOME: dir, GCE_METADATA_HOST: kms.host })).toEqual([
      { provider: 'gcp', source: 'metadata server', detail: kms.host },
    ])
  })
})

describe('no credentials', () => {
  it('one ERR_KMS naming every source tried, in order, with why', async () => {
    const home = join(dir, 'empty-home')
    mkdirSync(home, { recursive: true })
    const reports: CredentialSourceReport[] = []
    const provider = gcpKMSProviderFromEnvironment({
      env: { HOME: home, GCE_METADATA_HOST: '127.0.0.1:1' },
      endpoint: kms.url,
      sleep: async () => {},
      onCredentialSource: (r) => reports.push(r),
    })
    const e = await provoked.rejected(provider.publicKey(`gcpkms://${KEY}`))
    const wellKnown = join(home, '.config', 'gcloud', 'application_default_credentials.json')
    expect(e.code).toBe('ERR_KMS')
    expect(e.message).toBe(
      'no Google Cloud credentials found; tried in order: 1. GOOGLE_OAUTH_ACCESS_TOKEN: not set; ' +
        '2. GOOGLE_APPLICATION_CREDENTIALS: not set; ' +
        `3. gcloud application default credentials: ${wellKnown} does not exist; ` +
        '4. metadata server: nothing answered at 127.0.0.1:1 (not on Google Cloud)',
    )
    expect(reports).toEqual([])
    // The chain looks again on the next call: a credentials file written since is found.
    mkdirSync(join(home, '.config', 'gcloud'), { recursive: true })
    writeFileSync(wellKnown, kms.authorizedUserJSON)
    await signAndVerify(provider, kms, version)
    expect(reports).toMatchObject([{ source: 'authorized_user' }])
  })

  it('GOOGLE_APPLICATION_CREDENTIALS naming a missing file is an error, not a reason to look further', async () => {
    const e = await provoked.rejected(
      gcpKMSProviderFromEnvironment({
        env: { GOOGLE_APPLICATION_CREDENTIALS: join(dir, 'absent.json'), GCE_METADATA_HOST: kms.host },
        endpoint: kms.url,
      }).publicKey(`gcpkms://${KEY}`),
    )
    expect(e.code).toBe('ERR_INVALID_INPUT')
    expect(e.message).toContain(join(dir, 'absent.json'))
  })
})

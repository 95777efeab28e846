// GitHub Actions → Google Cloud KMS through workload identity federation, with the credential file
// google-github-actions/auth writes (src/client/workload_identity_federation.ts, createCredentialsFile): an
// external_account whose credential_source is a `url` — ACTIONS_ID_TOKEN_REQUEST_URL with `audience` set to
// `https://iam.googleapis.com/<provider>` — with `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN` and format
// json field `value`, exported as GOOGLE_APPLICATION_CREDENTIALS. The GitHub token endpoint, the STS (which checks
// the GitHub token's issuer, audience and repository like an attribute condition) and Cloud KMS are loopback
// stand-ins.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CredentialSourceReport } from '../../../src/kms/index.js'
import { gcpKMSProviderFromEnvironment } from '../../../src/node/gcp-credentials.js'
import { bearerRecordingFetch, jwtClaims, signAndVerify } from '../../support/gcp-federation.js'
import { type GCPKMSServer, startGCPKMSServer } from '../../support/gcp-kms-server.js'
import { type GCPSTSServer, startGCPSTSServer } from '../../support/gcp-sts-server.js'
import {
  GITHUB_ACTIONS_ISSUER,
  type GitHubTokenEndpoint,
  startGitHubTokenEndpoint,
} from '../../support/github-token-endpoint.js'
import { recordProvokedErrors } from '../../support/provoked-errors.js'

const WIF_PROVIDER = 'projects/123456789/locations/global/workloadIdentityPools/github/providers/countersign'
const AUDIENCE = `//iam.googleapis.com/${WIF_PROVIDER}`
/** The action's default `audience` input for the GitHub token. */
const TOKEN_AUDIENCE = `https://iam.googleapis.com/${WIF_PROVIDER}`
const SA = 'ci-signer@countersign-test.iam.gserviceaccount.com'
const KEY = 'projects/countersign-test/locations/global/keyRings/ci/cryptoKeys/images'
const provoked = recordProvokedErrors()
const { rejected } = provoked
let kms: GCPKMSServer
let sts: GCPSTSServer
let gh: GitHubTokenEndpoint
let workspace: string
let version: string
const subjects: string[] = []

beforeAll(async () => {
  ;[kms, gh] = await Promise.all([startGCPKMSServer(), startGitHubTokenEndpoint()])
  sts = await startGCPSTSServer({ issue: (s) => kms.issueToken(s) })
  gh.setRun({
    repository: 'acme/app',
    sha: 'a'.repeat(40),
    ref: 'refs/heads/main',
    workflowRef: 'acme/app/.github/workflows/release.yml@refs/heads/main',
    workflowName: 'release',
    eventName: 'push',
    runId: '42',
    runAttempt: '1',
    actor: 'octocat',
  })
  // The provider's attribute condition: tokens GitHub issued for acme/app, for this provider's audience.
  sts.addPool(AUDIENCE, {
    subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt',
    check: (token) => {
      subjects.push(token)
      const c = jwtClaims(token)
      return c?.iss === GITHUB_ACTIONS_ISSUER && c.aud === TOKEN_AUDIENCE && c.repository === 'acme/app'
    },
  })
  sts.addServiceAccount(SA)
  version = kms.addKey(KEY)
  workspace = mkdtempSync(join(tmpdir(), 'gha-workspace-'))
})

afterAll(async () => {
  provoked.expectNoSecrets(/ya29\./, [gh.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN, ...subjects, ...sts.issued])
  rmSync(workspace, { recursive: true, force: true })
  await Promise.all([kms?.close(), sts?.close(), gh?.close()])
})

/** The file and environment the action leaves for later steps (`create_credentials_file: true`). */
function authAction(options: { serviceAccount?: string; requestToken?: string } = {}): Record<string, string> {
  const requestURL = new URL(gh.env.ACTIONS_ID_TOKEN_REQUEST_URL)
  const params = requestURL.searchParams
  params.set('audience', TOKEN_AUDIENCE)
  requestURL.search = params.toString()
  const data: Record<string, unknown> = {
    type: 'external_account',
    audience: AUDIENCE,
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    // The action writes `${sts}/token` with sts = https://sts.googleapis.com/v1; here the loopback STS.
    token_url: sts.tokenURL,
    credential_source: {
      url: requestURL,
      headers: { Authorization: `Bearer ${options.requestToken ?? gh.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` },
      format: { type: 'json', subject_token_field_name: 'value' },
    },
  }
  if (options.serviceAccount) {
    data.service_account_impersonation_url = sts.impersonationURL(options.serviceAccount)
  }
  const path = join(workspace, `gha-creds-${randomBytes(8).toString('hex')}.json`)
  writeFileSync(path, JSON.stringify(data), { mode: 0o640 })
  return {
    ...gh.env,
    HOME: workspace,
    CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE: path,
    GOOGLE_APPLICATION_CREDENTIALS: path,
    GOOGLE_GHA_CREDS_PATH: path,
    CLOUDSDK_CORE_PROJECT: 'countersign-test',
  }
}

describe('google-github-actions/auth credential file', () => {
  it('direct federation: GitHub token → STS → Cloud KMS signs with the federated token', async () => {
    const env = authAction()
    const bearers: string[] = []
    const reports: CredentialSourceReport[] = []
    const issued = gh.issued.length
    const provider = gcpKMSProviderFromEnvironment({
      env,
      endpoint: kms.url,
      fetch: bearerRecordingFetch(bearers),
      onCredentialSource: (r) => reports.push(r),
    })
    await signAndVerify(provider, kms, version)
    expect(gh.issued.slice(issued)).toMatchObject([{ aud: TOKEN_AUDIENCE, repository: 'acme/app' }])
    expect(sts.exchanges.at(-1)).toMatchObject({ accepted: true, audience: AUDIENCE })
    expect(bearers).toEqual([`Bearer ${sts.issued.at(-1)}`])
    const port = new URL(gh.env.ACTIONS_ID_TOKEN_REQUEST_URL).host
    expect(reports).toEqual([
      {
        provider: 'gcp',
        source: 'external_account',
        detail: `GOOGLE_APPLICATION_CREDENTIALS ${env.GOOGLE_APPLICATION_CREDENTIALS}; credential_source url ${port}`,
      },
    ])
  })

  it('with service_account: the federated token impersonates the service account', async () => {
    const bearers: string[] = []
    const provider = gcpKMSProviderFromEnvironment({
      env: authAction({ serviceAccount: SA }),
      endpoint: kms.url,
      fetch: bearerRecordingFetch(bearers),
    })
    await signAndVerify(provider, kms, version)
    expect(sts.impersonations.at(-1)).toMatchObject({ email: SA, bearer: 'federated', accepted: true })
    expect(bearers).toEqual([`Bearer ${sts.issued.at(-1)}`])
  })

  it('a job without a valid request token, or another repository, fails with a coded error and no token', async () => {
    const noSleep = { sleep: async () => {} }
    const badRequestToken = `gha-request-${randomBytes(16).toString('hex')}`
    const e = await rejected(
      gcpKMSProviderFromEnvironment({
        env: authAction({ requestToken: badRequestToken }),
        endpoint: kms.url,
        ...noSleep,
      }).publicKey(`gcpkms://${KEY}`),
    )
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { provider: 'gcpkms', status: 401 } })
    expect(e.message).toContain('Google subject token URL')
    expect(e.message).not.toContain(badRequestToken)

    gh.setRun({
      repository: 'mallory/fork',
      sha: 'b'.repeat(40),
      ref: 'refs/heads/main',
      workflowRef: 'mallory/fork/.github/workflows/release.yml@refs/heads/main',
      workflowName: 'release',
      eventName: 'pull_request',
      runId: '43',
      runAttempt: '1',
      actor: 'mallory',
    })
    const denied = await rejected(
      gcpKMSProviderFromEnvironment({ env: authAction(), endpoint: kms.url, ...noSleep }).publicKey(`gcpkms://${KEY}`),
    )
    expect(denied.details).toMatchObject({ status: 400, reason: 'invalid_grant' })
  })
})

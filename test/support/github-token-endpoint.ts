/**
 * GitHub Actions' ambient OIDC token endpoint on loopback, for tests that run a workflow: a job with
 * `permissions: id-token: write` gets `ACTIONS_ID_TOKEN_REQUEST_URL` (with `?api-version=2.0`) and
 * `ACTIONS_ID_TOKEN_REQUEST_TOKEN`; `GET <url>&audience=sigstore` with `Authorization: bearer <request token>` answers
 * `{"count":1,"value":"<JWT>"}` whose claims are those GitHub issues for the run (`sub`, `repository`, `sha`, `ref`,
 * `workflow_ref`, `job_workflow_ref`, `event_name`, `run_id`…; set per run with {@link GitHubTokenEndpoint.setRun}).
 *
 * Tokens are unsigned (`alg: none`): the mock Fulcio does not check signatures. It copies one claim verbatim into the
 * certificate's SAN, whereas Fulcio derives GitHub's SAN from a template (`https://github.com/` + `job_workflow_ref`,
 * sigstore/fulcio `config/identity/config.yaml`); so each token also carries that derived value in the test-only claim
 * {@link FULCIO_SAN_CLAIM}, which the local stack's Fulcio is started to certify.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** The token claim the test's mock Fulcio copies into the SAN (`startLocalSigstore({ fulcioSubjectClaim })`). */
export const FULCIO_SAN_CLAIM = 'fulcio_san'

/** GitHub Actions' OIDC issuer. */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com'

/** The run a token is issued for. */
export interface GitHubTokenRun {
  readonly repository: string
  readonly sha: string
  readonly ref: string
  /** `owner/repo/.github/workflows/file.yml@ref`. */
  readonly workflowRef: string
  readonly workflowName: string
  readonly eventName: string
  readonly runId: string
  readonly runAttempt: string
  readonly actor: string
}

export interface GitHubTokenEndpoint {
  /** `ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN` for a job with `id-token: write`. */
  readonly env: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string }
  /** The claims of every token issued, in order. */
  readonly issued: Record<string, unknown>[]
  /** Issue tokens for this run from now on. */
  setRun(run: GitHubTokenRun): void
  close(): Promise<void>
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

/** Start the endpoint on 127.0.0.1 (random port); `close()` it. */
export async function startGitHubTokenEndpoint(): Promise<GitHubTokenEndpoint> {
  const requestToken = `gha-request-${randomBytes(24).toString('hex')}`
  const issued: Record<string, unknown>[] = []
  let run: GitHubTokenRun | undefined

  const claimsFor = (r: GitHubTokenRun, audience: string): Record<string, unknown> => {
    const now = Math.floor(Date.now() / 1000)
    const owner = r.repository.split('/')[0]
    return {
      jti: randomBytes(16).toString('hex'),
      iss: GITHUB_ACTIONS_ISSUER,
      aud: audience,
      sub: `repo:${r.repository}:ref:${r.ref}`,
      ref: r.ref,
      ref_type: r.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
      sha: r.sha,
      repository: r.repository,
      repository_owner: owner,
      repository_visibility: 'private',
      actor: r.actor,
      workflow: r.workflowName,
      workflow_ref: r.workflowRef,
      workflow_sha: r.sha,
      job_workflow_ref: r.workflowRef,
      job_workflow_sha: r.sha,
      event_name: r.eventName,
      run_id: r.runId,
      run_attempt: r.runAttempt,
      runner_environment: 'github-hosted',
      iat: now,
      nbf: now,
      exp: now + 300,
      [FULCIO_SAN_CLAIM]: `https://github.com/${r.workflowRef}`,
    }
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const reply = (status: number, body: unknown) =>
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body))
    if (req.method !== 'GET' || url.pathname !== '/token') return reply(404, { message: 'not found' })
    const auth = req.headers.authorization ?? ''
    if (!/^bearer /i.test(auth) || auth.slice(7) !== requestToken) return reply(401, { message: 'bad request token' })
    if (url.searchParams.get('api-version') !== '2.0') return reply(400, { message: 'api-version is required' })
    const audience = url.searchParams.get('audience')
    if (!audience) return reply(400, { message: 'audience is required' })
    if (!run) return reply(500, { message: 'no run configured' })
    const claims = claimsFor(run, audience)
    issued.push(claims)
    return reply(200, { count: 1, value: `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.` })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
    },
    issued,
    setRun: (r) => {
      run = r
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

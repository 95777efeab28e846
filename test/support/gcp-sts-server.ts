/**
 * Google's Security Token Service and IAM Credentials API on loopback, for the `external_account` and impersonation
 * tests. The STS (`POST /v1/token`) performs the RFC 8693 exchange the way Google's does: it checks every form field
 * (grant_type, requested_token_type, audience of a registered pool, that pool's subject_token_type, scope
 * cloud-platform, `options` userProject for workforce pools, Basic client authentication when the pool has a
 * client) and the subject token itself with the pool's check. IAM (`POST /v1/projects/-/serviceAccounts/EMAIL:
 * generateAccessToken`) checks the bearer is a token this server issued (federated or OAuth), that the account
 * exists, its delegates, the scope and lifetime. An OAuth endpoint (`POST /oauth/token`) redeems the refresh token of
 * an `authorized_user` file, for `impersonated_service_account` sources. Access tokens come from `issue` (the Cloud
 * KMS stand-in's issuer, so Cloud KMS accepts them); lifetimes use the injected clock.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform'
const EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'

export interface STSPool {
  /** The subject_token_type the pool's provider takes. */
  readonly subjectTokenType: string
  /** Whether the subject token is one the provider trusts (a JWT's iss/aud, a registered token…). */
  readonly check: (subjectToken: string) => boolean
  /** Workforce pools: the userProject the `options` field must carry. */
  readonly userProject?: string
  /** Workforce pools with an OAuth client: Basic authentication required. */
  readonly client?: { readonly id: string; readonly secret: string }
  /** Echo the subject token in error answers (a hostile STS, for redaction tests). */
  readonly echoSubjectToken?: boolean
}

export interface STSExchange {
  readonly audience: string
  readonly subjectToken: string
  readonly subjectTokenType: string
  readonly scope: string
  readonly options?: string
  readonly basic?: string
  readonly accepted: boolean
}

export interface IAMImpersonation {
  readonly email: string
  readonly bearer: 'federated' | 'oauth' | 'unknown'
  readonly lifetime: string
  readonly scope: readonly string[]
  readonly delegates: readonly string[]
  readonly accepted: boolean
}

export interface GCPSTSServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string
  /** The STS token endpoint (`…/v1/token`), for `token_url`. */
  readonly tokenURL: string
  /** The OAuth token endpoint for {@link GCPSTSServer.authorizedUser}. */
  readonly oauthTokenURL: string
  /** An `authorized_user` document whose refresh token this server redeems. */
  readonly authorizedUser: Record<string, string>
  /**
   * An `external_account_authorized_user` document (workforce `gcloud auth application-default login
   * --login-config`): its refresh token is redeemed at `/v1/oauthtoken` with the client's Basic authentication.
   */
  readonly externalAuthorizedUser: Record<string, string>
  /** The IAM `generateAccessToken` URL of `email`. */
  impersonationURL(email: string): string
  addPool(audience: string, pool: STSPool): void
  /** A service account that may be impersonated, with the delegation chain it requires. */
  addServiceAccount(email: string, delegates?: readonly string[]): void
  /** `expires_in` of federated tokens (default 3600). */
  stsLifetimeSeconds: number
  readonly exchanges: STSExchange[]
  readonly impersonations: IAMImpersonation[]
  /** Every access token handed out (federated, OAuth, impersonated), for leak checks. */
  readonly issued: string[]
  close(): Promise<void>
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body))
}

export async function startGCPSTSServer(options: {
  readonly issue: (lifetimeSeconds: number) => string
  readonly now?: () => number
}): Promise<GCPSTSServer> {
  const now = options.now ?? Date.now
  const pools = new Map<string, STSPool>()
  const accounts = new Map<string, readonly string[]>()
  const federated = new Map<string, number>()
  const oauth = new Map<string, number>()
  const exchanges: STSExchange[] = []
  const impersonations: IAMImpersonation[] = []
  const issued: string[] = []
  const user = {
    type: 'authorized_user',
    client_id: 'gcloud-client.apps.googleusercontent.com',
    client_secret: `d-FL95Q${randomBytes(8).toString('hex')}`,
    refresh_token: `1//0g-${randomBytes(16).toString('hex')}`,
  }
  const workforceUser = {
    client_id: 'workforce-login-client',
    client_secret: `wf-login-${randomBytes(8).toString('hex')}`,
    refresh_token: `wf-refresh-${randomBytes(16).toString('hex')}`,
  }
  const mint = (lifetime: number, kind: Map<string, number>) => {
    const token = options.issue(lifetime)
    kind.set(token, now() + lifetime * 1000)
    issued.push(token)
    return token
  }
  const oauthError = (res: ServerResponse, error: string, description: string) =>
    send(res, 400, { error, error_description: description })

  async function sts(req: IncomingMessage, res: ServerResponse) {
    const body = await readBody(req)
    if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') {
      return oauthError(res, 'invalid_request', 'Invalid Content-Type')
    }
    const form = new URLSearchParams(body)
    const audience = form.get('audience') ?? ''
    const subjectToken = form.get('subject_token') ?? ''
    const record = {
      audience,
      subjectToken,
      subjectTokenType: form.get('subject_token_type') ?? '',
      scope: form.get('scope') ?? '',
      ...(form.has('options') ? { options: form.get('options')! } : {}),
      ...(req.headers.authorization ? { basic: req.headers.authorization } : {}),
    }
    const reject = (error: string, description: string) => {
      exchanges.push({ ...record, accepted: false })
      oauthError(res, error, description)
    }
    if (form.get('grant_type') !== EXCHANGE_GRANT) return reject('unsupported_grant_type', 'Invalid grant_type')
    if (form.get('requested_token_type') !== ACCESS_TOKEN_TYPE) {
      return reject('invalid_request', 'Invalid requested_token_type')
    }
    const pool = pools.get(audience)
    if (!pool) return reject('invalid_target', 'The target service indicated by the "audience" parameters is invalid')
    if (record.subjectTokenType !== pool.subjectTokenType)
      return reject('invalid_request', 'Invalid subject_token_type')
    if (record.scope !== CLOUD_PLATFORM) return reject('invalid_scope', 'Invalid scope')
    if (pool.client) {
      const expected = `Basic ${Buffer.from(`${pool.client.id}:${pool.client.secret}`).toString('base64')}`
      if (req.headers.authorization !== expected) return reject('invalid_client', 'The client is not authorized')
      if (form.has('options')) return reject('invalid_request', 'options are for clients without credentials')
    } else if (pool.userProject !== undefined) {
      const opts = form.has('options') ? JSON.parse(form.get('options')!) : {}
      if (opts.userProject !== pool.userProject) return reject('invalid_request', 'userProject is required')
    } else if (form.has('options')) return reject('invalid_request', 'unexpected options')
    if (!pool.check(subjectToken)) {
      return reject(
        'invalid_grant',
        pool.echoSubjectToken ? `The subject token ${subjectToken} is invalid.` : 'The subject token is invalid.',
      )
    }
    exchanges.push({ ...record, accepted: true })
    const lifetime = server.stsLifetimeSeconds
    send(res, 200, {
      access_token: mint(lifetime, federated),
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: lifetime,
    })
  }

  async function oauthToken(req: IncomingMessage, res: ServerResponse) {
    const form = new URLSearchParams(await readBody(req))
    if (
      form.get('grant_type') !== 'refresh_token' ||
      form.get('client_id') !== user.client_id ||
      form.get('client_secret') !== user.client_secret ||
      form.get('refresh_token') !== user.refresh_token
    ) {
      return oauthError(res, 'invalid_grant', 'Bad Request')
    }
    send(res, 200, { access_token: mint(3599, oauth), expires_in: 3599, token_type: 'Bearer', scope: CLOUD_PLATFORM })
  }

  async function workforceRefresh(req: IncomingMessage, res: ServerResponse) {
    const form = new URLSearchParams(await readBody(req))
    const basic = `Basic ${Buffer.from(`${workforceUser.client_id}:${workforceUser.client_secret}`).toString('base64')}`
    if (req.headers.authorization !== basic) return oauthError(res, 'invalid_client', 'The client is not authorized')
    if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== workforceUser.refresh_token) {
      return oauthError(res, 'invalid_grant', 'The refresh token is invalid')
    }
    if (form.has('client_secret')) return oauthError(res, 'invalid_request', 'client secret in the body')
    send(res, 200, { access_token: mint(3600, oauth), expires_in: 3600, token_type: 'Bearer' })
  }

  async function generateAccessToken(req: IncomingMessage, res: ServerResponse, email: string) {
    const body = JSON.parse((await readBody(req)) || '{}')
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? ''
    const kind = federated.has(bearer) ? 'federated' : oauth.has(bearer) ? 'oauth' : 'unknown'
    const valid = (federated.get(bearer) ?? oauth.get(bearer) ?? 0) > now()
    const record = {
      email,
      bearer: kind,
      lifetime: String(body.lifetime),
      scope: Array.isArray(body.scope) ? body.scope : [],
      delegates: Array.isArray(body.delegates) ? body.delegates : [],
    } as const
    const fail = (code: number, status: string, message: string) => {
      impersonations.push({ ...record, accepted: false })
      send(res, code, { error: { code, message, status } })
    }
    if (!valid) return fail(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.')
    const required = accounts.get(email)
    if (!required) return fail(404, 'NOT_FOUND', `Service account ${email} not found.`)
    if (JSON.stringify(record.delegates) !== JSON.stringify(required)) {
      return fail(403, 'PERMISSION_DENIED', "Permission 'iam.serviceAccounts.getAccessToken' denied")
    }
    const m = /^(\d+)s$/.exec(record.lifetime)
    const seconds = m ? Number(m[1]) : 0
    if (seconds < 1 || seconds > 43_200) return fail(400, 'INVALID_ARGUMENT', 'lifetime must be between 1s and 43200s')
    if (!record.scope.includes(CLOUD_PLATFORM)) return fail(400, 'INVALID_ARGUMENT', 'Scope required.')
    impersonations.push({ ...record, accepted: true })
    const token = options.issue(seconds)
    issued.push(token)
    send(res, 200, { accessToken: token, expireTime: new Date(now() + seconds * 1000).toISOString() })
  }

  const http = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x')
    const fail = (e: unknown) => {
      if (!res.headersSent) send(res, 500, { error: { code: 500, message: String(e), status: 'INTERNAL' } })
    }
    if (req.method !== 'POST') return send(res, 405, { error: 'method not allowed' })
    if (u.pathname === '/v1/token') return void sts(req, res).catch(fail)
    if (u.pathname === '/oauth/token') return void oauthToken(req, res).catch(fail)
    if (u.pathname === '/v1/oauthtoken') return void workforceRefresh(req, res).catch(fail)
    const m = /^\/v1\/projects\/-\/serviceAccounts\/([^/]+):generateAccessToken$/.exec(u.pathname)
    if (m) return void generateAccessToken(req, res, decodeURIComponent(m[1]!)).catch(fail)
    send(res, 404, { error: { code: 404, message: 'not found', status: 'NOT_FOUND' } })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  const server: GCPSTSServer = {
    url,
    tokenURL: `${url}/v1/token`,
    oauthTokenURL: `${url}/oauth/token`,
    authorizedUser: { ...user, token_uri: `${url}/oauth/token` },
    externalAuthorizedUser: {
      type: 'external_account_authorized_user',
      audience: '//iam.googleapis.com/locations/global/workforcePools/staff/providers/okta',
      ...workforceUser,
      token_url: `${url}/v1/oauthtoken`,
      token_info_url: `${url}/v1/introspect`,
      revoke_url: `${url}/v1/revoke`,
    },
    impersonationURL: (email) => `${url}/v1/projects/-/serviceAccounts/${email}:generateAccessToken`,
    addPool: (audience, pool) => pools.set(audience, pool),
    addServiceAccount: (email, delegates = []) => accounts.set(email, delegates),
    stsLifetimeSeconds: 3600,
    exchanges,
    impersonations,
    issued,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve())
        http.closeAllConnections()
      }),
  }
  return server
}

/**
 * An in-process IAM Identity Center (AWS SSO) for tests, on 127.0.0.1: the portal's `GetRoleCredentials` (`GET
 * /federation/credentials?account_id=…&role_name=…` with the access token in `x-amz-sso_bearer_token`, answering
 * `{roleCredentials: {accessKeyId, secretAccessKey, sessionToken, expiration (ms)}}`) and the OIDC service's
 * `CreateToken` with `grantType: refresh_token` (`POST /token`). Unknown tokens are 401 `UnauthorizedException`, a
 * role the user is not assigned is 403 `ForbiddenException`, a wrong refresh token 400 `invalid_grant`; every error
 * message quotes the token it was sent, so tests can check the client redacts it. Issued role credentials go to
 * `onIssue` (the KMS or STS stand-in's `addCredential`/`trust`).
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { listenOnLoopback, withBody } from './loopback-server.js'

export interface SSORoleCredential {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken: string
  readonly expiration: Date
}

export interface SSOPortalCall {
  readonly kind: 'role-credentials' | 'create-token'
  readonly status: number
  readonly accountId?: string
  readonly roleName?: string
}

export interface SSOPortal {
  readonly url: string
  readonly calls: SSOPortalCall[]
  readonly issued: SSORoleCredential[]
  /** Access tokens the portal accepts. */
  readonly accessTokens: Set<string>
  /** `account/role` pairs the user is assigned. */
  assign(accountId: string, roleName: string): void
  /** A registered OIDC client and the refresh token it may redeem (rotated on every refresh). */
  registerClient(client: { clientId: string; clientSecret: string; refreshToken: string }): void
  /** The current refresh token of a client. */
  refreshTokenOf(clientId: string): string | undefined
  /** Lifetime of issued role credentials (ms) and of refreshed access tokens (s). */
  credentialLifetimeMs: number
  tokenLifetimeSeconds: number
  now: () => Date
  close(): Promise<void>
}

export async function startSSOPortal(options: { onIssue?: (c: SSORoleCredential) => void } = {}): Promise<SSOPortal> {
  const calls: SSOPortalCall[] = []
  const issued: SSORoleCredential[] = []
  const accessTokens = new Set<string>()
  const assignments = new Set<string>()
  const clients = new Map<string, { clientSecret: string; refreshToken: string }>()
  const state = { credentialLifetimeMs: 3600_000, tokenLifetimeSeconds: 28_800, now: () => new Date() }

  const json = (res: ServerResponse, status: number, body: unknown, errorType?: string) => {
    res.writeHead(status, {
      'content-type': 'application/json',
      ...(errorType !== undefined ? { 'x-amzn-errortype': `${errorType}:http://internal.amazon.com/coral/` } : {}),
    })
    res.end(JSON.stringify(body))
  }

  const roleCredentials = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const accountId = url.searchParams.get('account_id') ?? ''
    const roleName = url.searchParams.get('role_name') ?? ''
    const token = String(req.headers['x-amz-sso_bearer_token'] ?? '')
    const log = (status: number) => calls.push({ kind: 'role-credentials', status, accountId, roleName })
    if (!accessTokens.has(token)) {
      log(401)
      return json(res, 401, { message: `Session token ${token} not found or invalid` }, 'UnauthorizedException')
    }
    if (!assignments.has(`${accountId}/${roleName}`)) {
      log(403)
      return json(res, 403, { message: `No access for token ${token}` }, 'ForbiddenException')
    }
    log(200)
    const c: SSORoleCredential = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `IQoJb3JpZ2luX2VjEPT${randomBytes(40).toString('base64')}`,
      expiration: new Date(state.now().getTime() + state.credentialLifetimeMs),
    }
    issued.push(c)
    options.onIssue?.(c)
    json(res, 200, {
      roleCredentials: {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
        expiration: c.expiration.getTime(),
      },
    })
  }

  const createToken = (res: ServerResponse, body: Buffer) => {
    let input: Record<string, unknown> = {}
    try {
      input = JSON.parse(body.toString('utf8'))
    } catch {
      // Refused below.
    }
    const client = clients.get(String(input.clientId))
    if (
      input.grantType !== 'refresh_token' ||
      client === undefined ||
      client.clientSecret !== input.clientSecret ||
      client.refreshToken !== input.refreshToken
    ) {
      calls.push({ kind: 'create-token', status: 400 })
      return json(
        res,
        400,
        { error: 'invalid_grant', error_description: `refresh token ${String(input.refreshToken)} is invalid` },
        'InvalidGrantException',
      )
    }
    calls.push({ kind: 'create-token', status: 200 })
    const accessToken = `aoa${randomBytes(24).toString('base64url')}`
    client.refreshToken = `aorrt${randomBytes(24).toString('base64url')}`
    accessTokens.add(accessToken)
    json(res, 200, {
      accessToken,
      tokenType: 'Bearer',
      expiresIn: state.tokenLifetimeSeconds,
      refreshToken: client.refreshToken,
    })
  }

  const server = createServer(
    withBody((req, res, body) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname
      if (req.method === 'GET' && path === '/federation/credentials') return roleCredentials(req, res)
      if (req.method === 'POST' && path === '/token') return createToken(res, body)
      json(res, 404, { message: 'not found' }, 'NotFoundException')
    }),
  )
  const listener = await listenOnLoopback(server)
  return {
    url: listener.url,
    calls,
    issued,
    accessTokens,
    assign: (a, r) => assignments.add(`${a}/${r}`),
    registerClient: (c) => clients.set(c.clientId, { clientSecret: c.clientSecret, refreshToken: c.refreshToken }),
    refreshTokenOf: (id) => clients.get(id)?.refreshToken,
    get credentialLifetimeMs() {
      return state.credentialLifetimeMs
    },
    set credentialLifetimeMs(v) {
      state.credentialLifetimeMs = v
    },
    get tokenLifetimeSeconds() {
      return state.tokenLifetimeSeconds
    },
    set tokenLifetimeSeconds(v) {
      state.tokenLifetimeSeconds = v
    },
    get now() {
      return state.now
    },
    set now(v) {
      state.now = v
    },
    close: listener.close,
  }
}

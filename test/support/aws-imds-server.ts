/**
 * An in-process EC2 instance metadata service (IMDS) for tests, on 127.0.0.1. It behaves as IMDSv2 does: `PUT
 * /latest/api/token` needs `X-aws-ec2-metadata-token-ttl-seconds` (1–21600, else 400) and answers a token with
 * that TTL; with `requireToken` (the default, "IMDSv2 required") a GET without a token, with an unknown one or with
 * an expired one is 401. The role list and the role's credentials are served from
 * `/latest/meta-data/iam/security-credentials/`; every credentials GET issues a fresh key triple (handed to
 * `onIssue`, e.g. the KMS stand-in's `addCredential`) with the `Expiration` the test sets. Faults: the token PUT
 * answering another status (IMDSv2 off), a non-Success `Code` whose message quotes the token it was sent, no role.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface IssuedCredential {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken: string
  readonly expiration: Date
}

export interface IMDSCalls {
  tokens: number
  roleLists: number
  credentials: number
  /** GETs refused with 401 (no, unknown or expired token). */
  unauthorized: number
  /** GETs that came without a token. */
  withoutToken: number
}

export interface IMDSServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** The instance profile's role; `''` serves an empty list (no role attached). */
  role: string
  /** IMDSv2 required (GETs without a valid token are 401); false allows IMDSv1. */
  requireToken: boolean
  /** Status of the token PUT: 200 issues a token; 403/404/405 mimic IMDSv2 being off. */
  tokenStatus: number
  /** `Code` of the credentials answer; anything but `Success` carries a message quoting the token it got. */
  code: string
  /** `Expiration` of the next credentials issued. */
  expiration: () => Date
  /** The server's clock, for token expiry. */
  now: () => Date
  readonly calls: IMDSCalls
  readonly issued: IssuedCredential[]
  /** Every token the server granted, in order. */
  readonly tokens: string[]
  /** Forget every token granted so far (their next use is 401). */
  expireTokens(): void
  close(): Promise<void>
}

const TOKEN_TTL = 'x-aws-ec2-metadata-token-ttl-seconds'
const ROLE_PATH = '/latest/meta-data/iam/security-credentials/'

export async function startIMDSServer(
  options: { role?: string; onIssue?: (c: IssuedCredential) => void } = {},
): Promise<IMDSServer> {
  const granted = new Map<string, number>()
  const calls: IMDSCalls = { tokens: 0, roleLists: 0, credentials: 0, unauthorized: 0, withoutToken: 0 }
  const issued: IssuedCredential[] = []
  const tokens: string[] = []
  const state = {
    role: options.role ?? 'countersign-instance-role',
    requireToken: true,
    tokenStatus: 200,
    code: 'Success',
    now: () => new Date(),
    expiration: () => new Date(Date.now() + 6 * 3600_000),
  }

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'text/plain', ...headers })
    res.end(body)
  }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/latest/api/token') {
      if (req.method !== 'PUT') return send(res, 405, '')
      calls.tokens++
      if (state.tokenStatus !== 200) return send(res, state.tokenStatus, '')
      // IMDS refuses token requests that went through a proxy or carry no TTL.
      if (req.headers['x-forwarded-for'] !== undefined) return send(res, 403, '')
      const ttl = Number(req.headers[TOKEN_TTL])
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) return send(res, 400, '')
      const token = `AQAEA${randomBytes(30).toString('base64url')}==`
      granted.set(token, state.now().getTime() + ttl * 1000)
      tokens.push(token)
      return send(res, 200, token, { [TOKEN_TTL]: String(ttl) })
    }
    if (req.method !== 'GET') return send(res, 405, '')
    const token = req.headers['x-aws-ec2-metadata-token']
    if (typeof token !== 'string') calls.withoutToken++
    const expires = typeof token === 'string' ? granted.get(token) : undefined
    const valid = expires !== undefined && expires > state.now().getTime()
    if ((typeof token === 'string' && !valid) || (token === undefined && state.requireToken)) {
      calls.unauthorized++
      return send(res, 401, '')
    }
    if (path === ROLE_PATH || path === ROLE_PATH.slice(0, -1)) {
      calls.roleLists++
      return state.role === '' ? send(res, 404, 'Not Found') : send(res, 200, state.role)
    }
    if (path.startsWith(ROLE_PATH) && decodeURIComponent(path.slice(ROLE_PATH.length)) === state.role) {
      calls.credentials++
      if (state.code !== 'Success') {
        const body = { Code: state.code, Message: `token ${String(token)} may not assume the role`, LastUpdated: '' }
        return send(res, 200, JSON.stringify(body), { 'content-type': 'application/json' })
      }
      const c: IssuedCredential = {
        accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
        secretAccessKey: randomBytes(30).toString('base64'),
        sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(48).toString('base64')}`,
        expiration: state.expiration(),
      }
      issued.push(c)
      options.onIssue?.(c)
      const body = {
        Code: 'Success',
        LastUpdated: state.now().toISOString(),
        Type: 'AWS-HMAC',
        AccessKeyId: c.accessKeyId,
        SecretAccessKey: c.secretAccessKey,
        Token: c.sessionToken,
        Expiration: c.expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      }
      return send(res, 200, JSON.stringify(body, null, 2), { 'content-type': 'application/json' })
    }
    return send(res, 404, 'Not Found')
  }

  const server = createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    calls,
    issued,
    tokens,
    expireTokens: () => granted.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  })
}

/** A loopback URL on which nothing listens (a port that was just free). */
export async function closedLoopbackURL(): Promise<string> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

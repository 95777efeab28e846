/**
 * A local OIDC provider on loopback for tests: GitHub Actions' ambient token endpoint, a discovery document, and an
 * authorization-code + PKCE flow (/authorize redirects straight back, no user interaction; /token checks the code,
 * verifier and redirect URI and returns an ID token carrying the nonce). Tokens are ES256-signed (keys at /keys) or
 * unsigned (`alg: none`); the mock Fulcio checks neither.
 */
import { createHash, generateKeyPairSync, randomBytes, sign as signData } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface OIDCServerOptions {
  /** Sign tokens with ES256 (default true); false gives `alg: none` tokens with an empty signature. */
  readonly signTokens?: boolean
  /** Claims added to every token (override the defaults). */
  readonly claims?: Record<string, unknown>
}

export interface OIDCServer {
  /** The issuer, `http://127.0.0.1:PORT`. */
  readonly url: string
  /** Environment a GitHub Actions job with `id-token: write` has. */
  readonly githubEnv: { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string }
  /** Every request, e.g. `GET /authorize 302`. */
  readonly requests: string[]
  /** The tokens handed out, in order. */
  readonly issued: string[]
  /** Make /authorize redirect with `error=<value>` (e.g. `access_denied`) instead of a code; undefined to stop. */
  authorizeError: string | undefined
  /** Make /authorize send back this state instead of the request's. */
  tamperState: string | undefined
  /** Make /token put this nonce in the ID token instead of the request's. */
  tamperNonce: string | undefined
  /** A token for `claims` (defaults: iss, sub, aud sigstore, email verified, iat, exp +10 min). */
  token(claims?: Record<string, unknown>): string
  close(): Promise<void>
}

const b64url = (v: Buffer | string) => Buffer.from(v).toString('base64url')

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

interface PendingCode {
  readonly clientId: string
  readonly redirectUri: string
  readonly challenge: string
  readonly nonce: string | null
}

/** Start the provider on 127.0.0.1 with a random port; `close()` it. */
export async function startOIDCServer(options: OIDCServerOptions = {}): Promise<OIDCServer> {
  const signTokens = options.signTokens ?? true
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const kid = randomBytes(8).toString('hex')
  const requestToken = `gha-request-${randomBytes(24).toString('hex')}`
  const codes = new Map<string, PendingCode>()
  const requests: string[] = []
  const issued: string[] = []
  let url = ''

  const makeToken = (claims: Record<string, unknown> = {}): string => {
    const now = Math.floor(Date.now() / 1000)
    const body = {
      iss: url,
      sub: 'alice-subject',
      aud: 'sigstore',
      email: 'alice@example.com',
      email_verified: true,
      iat: now,
      exp: now + 600,
      ...options.claims,
      ...claims,
    }
    const header = signTokens ? { alg: 'ES256', typ: 'JWT', kid } : { alg: 'none', typ: 'JWT' }
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(body))}`
    const signature = signTokens
      ? signData('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })
      : Buffer.alloc(0)
    const jwt = `${input}.${b64url(signature)}`
    issued.push(jwt)
    return jwt
  }

  const state: Pick<OIDCServer, 'authorizeError' | 'tamperState' | 'tamperNonce'> = {
    authorizeError: undefined,
    tamperState: undefined,
    tamperNonce: undefined,
  }

  const server: Server = createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', url)
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      requests.push(`${req.method} ${u.pathname} ${status}`)
      const text = typeof body === 'string' ? body : JSON.stringify(body)
      res.writeHead(status, {
        'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json',
        ...headers,
      })
      res.end(text)
    }
    try {
      if (req.method === 'GET' && u.pathname === '/gha/token') {
        // GitHub's endpoint: bearer request token (any case of "bearer"), audience from the query.
        const auth = req.headers.authorization ?? ''
        if (!/^bearer /i.test(auth) || auth.slice(7) !== requestToken)
          return reply(401, { message: 'bad request token' })
        const audience = u.searchParams.get('audience')
        if (!audience) return reply(400, { message: 'audience is required' })
        return reply(200, {
          count: 1,
          value: makeToken({
            aud: audience,
            sub: 'repo:acme/app:ref:refs/heads/main',
            email: undefined,
            email_verified: undefined,
            job_workflow_ref: 'acme/app/.github/workflows/release.yml@refs/heads/main',
          }),
        })
      }
      if (req.method === 'GET' && u.pathname === '/.well-known/openid-configuration') {
        return reply(200, {
          issuer: url,
          authorization_endpoint: `${url}/authorize`,
          token_endpoint: `${url}/token`,
          jwks_uri: `${url}/keys`,
          response_types_supported: ['code'],
          code_challenge_methods_supported: ['S256', 'plain'],
          id_token_signing_alg_values_supported: ['ES256'],
          scopes_supported: ['openid', 'email'],
        })
      }
      if (req.method === 'GET' && u.pathname === '/keys') {
        return reply(200, { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }] })
      }
      if (req.method === 'GET' && u.pathname === '/authorize') {
        const p = u.searchParams
        const redirectUri = p.get('redirect_uri')
        if (p.get('response_type') !== 'code' || !p.get('client_id') || !redirectUri) {
          return reply(400, { error: 'invalid_request' })
        }
        if (p.get('code_challenge_method') !== 'S256' || !p.get('code_challenge')) {
          return reply(400, { error: 'invalid_request', error_description: 'PKCE S256 required' })
        }
        if (!(p.get('scope') ?? '').split(' ').includes('openid')) return reply(400, { error: 'invalid_scope' })
        const back = new URL(redirectUri)
        back.searchParams.set('state', state.tamperState ?? p.get('state') ?? '')
        if (state.authorizeError !== undefined) {
          back.searchParams.set('error', state.authorizeError)
          back.searchParams.set('error_description', 'The user denied the request')
        } else {
          const code = randomBytes(16).toString('hex')
          codes.set(code, {
            clientId: p.get('client_id')!,
            redirectUri,
            challenge: p.get('code_challenge')!,
            nonce: p.get('nonce'),
          })
          back.searchParams.set('code', code)
        }
        return reply(302, '', { Location: back.href })
      }
      if (req.method === 'POST' && u.pathname === '/token') {
        if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
          return reply(400, { error: 'invalid_request' })
        }
        const form = new URLSearchParams(await readBody(req))
        const code = form.get('code') ?? ''
        const pending = codes.get(code)
        codes.delete(code)
        if (form.get('grant_type') !== 'authorization_code' || pending === undefined) {
          return reply(400, { error: 'invalid_grant', error_description: 'unknown or used code' })
        }
        if (form.get('client_id') !== pending.clientId || form.get('redirect_uri') !== pending.redirectUri) {
          return reply(400, { error: 'invalid_grant', error_description: 'client or redirect_uri mismatch' })
        }
        const verifier = form.get('code_verifier') ?? ''
        if (createHash('sha256').update(verifier).digest('base64url') !== pending.challenge) {
          return reply(400, { error: 'invalid_grant', error_description: 'PKCE verification failed' })
        }
        const idToken = makeToken({ aud: pending.clientId, nonce: state.tamperNonce ?? pending.nonce })
        return reply(200, {
          access_token: randomBytes(16).toString('hex'),
          token_type: 'Bearer',
          expires_in: 600,
          id_token: idToken,
        })
      }
      return reply(404, 'not found')
    } catch (e) {
      return reply(500, String(e))
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return Object.assign(state, {
    url,
    githubEnv: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${url}/gha/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
    },
    requests,
    issued,
    token: makeToken,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  })
}

/**
 * A minimal distribution token server (JWT ES256 with an x5c self-signed certificate) on 127.0.0.1, for testing
 * the Bearer flow against a real docker-registry configured with `auth.token`.
 */
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { makeSelfSignedCert } from './tls-cert.js'

export interface TokenServer {
  readonly realm: string
  readonly service: string
  readonly issuer: string
  /** PEM certificate the registry must trust (`rootcertbundle`). */
  readonly certPath: string
  /** Every token request: method, scopes, whether Basic credentials were sent, grant type. */
  readonly requests: { method: string; scopes: string[]; basic: boolean; grant?: string }[]
  stop(): Promise<void>
}

export interface TokenServerOptions {
  readonly dir: string
  readonly username: string
  readonly password: string
  /** Accepted refresh token for the OAuth2 POST flow. */
  readonly refreshToken?: string
  readonly expiresIn?: number
  /** Actions granted per repository; repositories not listed get what they ask for. */
  readonly grants?: Readonly<Record<string, readonly string[]>>
  /** Answer every POST with this status (a token server without the OAuth2 endpoint), e.g. 404 or 405. */
  readonly postStatus?: number
  /** GET without credentials gets a token limited to `pull`. */
  readonly anonymousPull?: boolean
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url')

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  // The token signing key; its self-signed certificate goes in each token's x5c and in the registry's rootcertbundle.
  const { cert: certPath, key: keyPath } = makeSelfSignedCert(options.dir, {
    name: 'token',
    commonName: 'countersign-token',
  })
  const key = createPrivateKey(readFileSync(keyPath))
  const certDER = new X509Certificate(readFileSync(certPath)).raw
  const service = 'countersign-test-registry'
  const issuer = 'countersign-test-issuer'
  const requests: TokenServer['requests'] = []

  const mint = (scopes: string[], pullOnly: boolean) => {
    const access = scopes.flatMap((s) => {
      const m = /^repository:(.+):([a-z,*]+)$/.exec(s)
      if (!m) return []
      const allowed = options.grants?.[m[1]!]
      const actions = m[2]!
        .split(',')
        .filter((a) => (allowed === undefined || allowed.includes(a)) && (!pullOnly || a === 'pull'))
      return [{ type: 'repository', name: m[1], actions }]
    })
    const now = Math.floor(Date.now() / 1000)
    const header = { alg: 'ES256', typ: 'JWT', x5c: [certDER.toString('base64')] }
    const claims = {
      iss: issuer,
      sub: options.username,
      aud: service,
      exp: now + 600,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    }
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`
    const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
    return `${input}.${b64url(sig)}`
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      const auth = req.headers.authorization ?? ''
      const basicOK = auth === `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`
      let scopes = url.searchParams.getAll('scope')
      let grant: string | undefined
      let ok = basicOK
      if (req.method === 'POST' && options.postStatus !== undefined) {
        requests.push({ method: 'POST', scopes: [], basic: false })
        res.writeHead(options.postStatus, { 'Content-Type': 'application/json' })
        res.end('{}')
        return
      }
      const anonymous = req.method === 'GET' && auth === '' && options.anonymousPull === true
      if (anonymous) ok = true
      if (req.method === 'POST') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
        grant = form.get('grant_type') ?? undefined
        scopes = (form.get('scope') ?? '').split(' ').filter(Boolean)
        ok =
          grant === 'refresh_token' &&
          options.refreshToken !== undefined &&
          form.get('refresh_token') === options.refreshToken
      }
      requests.push({ method: req.method ?? '', scopes, basic: auth.startsWith('Basic '), ...(grant ? { grant } : {}) })
      if (!ok) {
        res.writeHead(401, { 'Content-Type': 'application/json' })
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
        return
      }
      const token = mint(scopes, anonymous)
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(
        JSON.stringify({
          token,
          access_token: token,
          expires_in: options.expiresIn ?? 300,
          issued_at: new Date().toISOString(),
        }),
      )
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const addr = server.address()
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    requests,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  }
}

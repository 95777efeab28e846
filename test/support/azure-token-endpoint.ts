/**
 * Stand-ins for where Azure credentials come from, on 127.0.0.1, issuing tokens the Key Vault stand-in accepts
 * (`issueToken` from test/support/azure-keyvault-server.ts):
 * - Microsoft Entra's token endpoint (`/{tenant}/oauth2/v2.0/token`) for the client certificate credential. It
 *   verifies each client assertion on its own, with node:crypto: PS256 over the registered certificate's public key,
 *   `x5t#S256` equal to that certificate's SHA-256 (standard base64, as MSAL writes it), `aud` the endpoint URL,
 *   `iss` = `sub` = the client ID, `nbf`/`exp` around its clock and at most ten minutes apart, `jti` never reused.
 * - App Service (`/msi/token`): api-version 2019-08-01 and the `X-IDENTITY-HEADER` secret.
 * - Azure Arc (`/arc/token`): api-version 2019-08-15 and `Metadata: true`; without `Authorization` a 401 with
 *   `WWW-Authenticate: Basic realm=<file>`, a fresh key written to that file in `arcKeyDirectory`; then
 *   `Authorization: Basic <that key>`.
 * - The instance metadata service (`/metadata/identity/oauth2/token`): answers a probe (no `Metadata` header) with
 *   JSON 400, a token request with a token for the system identity or a known user-assigned client ID.
 * `echoCredentials` turns every refusal into one that reflects what the client sent (for redaction tests).
 */
import { createHash, verify as nodeVerify, randomBytes, X509Certificate } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

export interface ClientAssertion {
  readonly header: Record<string, unknown>
  readonly claims: Record<string, unknown>
  readonly jwt: string
}

export interface AzureTokenEndpoint {
  readonly url: string
  readonly tenantId: string
  readonly clientId: string
  /** App Service's IDENTITY_HEADER. */
  readonly identityHeader: string
  /** The certificate (PEM) the app registration trusts; assertions signed by another key are refused. */
  certificatePEM: string | undefined
  /** Token lifetime in seconds (default 3600). */
  lifetime: number
  /** IMDS: whether the machine has a system-assigned identity; the user-assigned client IDs it has. */
  systemIdentity: boolean
  readonly userAssigned: Set<string>
  /** Arc: the realm the next challenge names (default: a fresh file in `arcKeyDirectory`). */
  arcRealm: ((defaultPath: string) => string) | undefined
  /** Refusals reflect the request's credentials (Authorization, X-IDENTITY-HEADER, form body), raw and base64. */
  echoCredentials: boolean
  readonly assertions: ClientAssertion[]
  /** Every request: `METHOD path [auth|noauth] [metadata]`, for order checks. */
  readonly requests: string[]
  /** Every token issued, to check none leaks. */
  readonly issued: string[]
  /** The Arc keys written, to check none leaks. */
  readonly arcKeys: string[]
  close(): Promise<void>
}

export interface AzureTokenEndpointOptions {
  readonly issueToken: (resource: string) => string
  readonly tenantId: string
  readonly clientId: string
  /** Where Arc key files are written. */
  readonly arcKeyDirectory?: string
  /** The server's clock in milliseconds (default Date.now), shared with the client's injected clock. */
  readonly now?: () => number
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function send(res: ServerResponse, status: number, doc: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers })
  res.end(JSON.stringify(doc))
}

export async function startAzureTokenEndpoint(options: AzureTokenEndpointOptions): Promise<AzureTokenEndpoint> {
  const now = options.now ?? Date.now
  const seenJTI = new Set<string>()
  let url = ''
  const state: AzureTokenEndpoint = {
    url: '',
    tenantId: options.tenantId,
    clientId: options.clientId,
    identityHeader: randomBytes(12).toString('hex'),
    certificatePEM: undefined,
    lifetime: 3600,
    systemIdentity: true,
    userAssigned: new Set(),
    arcRealm: undefined,
    echoCredentials: false,
    assertions: [],
    requests: [],
    issued: [],
    arcKeys: [],
    close: async () => {},
  }
  const token = (resource: string) => {
    const t = options.issueToken(resource)
    state.issued.push(t)
    return t
  }
  const refuse = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    error: string,
    text: string,
    form = '',
  ) => {
    if (state.echoCredentials) {
      const sent = `${req.headers.authorization ?? ''} ${req.headers['x-identity-header'] ?? ''} ${form}`
      text = `${text} ${sent} ${Buffer.from(sent).toString('base64')}`
    }
    send(res, status, { error, error_description: text })
  }

  /** Verify a client assertion independently of the client's code; returns why it is refused, if it is. */
  function checkAssertion(jwt: string): string | undefined {
    const parts = jwt.split('.')
    if (parts.length !== 3) return 'AADSTS50027: malformed JWT'
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'))
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'))
    state.assertions.push({ header, claims, jwt })
    if (!state.certificatePEM) return 'AADSTS700027: no certificate registered'
    const cert = new X509Certificate(state.certificatePEM)
    if (header.alg !== 'PS256' || header.typ !== 'JWT') return 'AADSTS5002730: unsupported alg'
    const thumbprint = createHash('sha256').update(cert.raw).digest('base64')
    if (header['x5t#S256'] !== thumbprint) return 'AADSTS700027: the certificate with x5t#S256 is not registered'
    const ok = nodeVerify(
      'sha256',
      Buffer.from(`${parts[0]}.${parts[1]}`),
      { key: cert.publicKey, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 },
      Buffer.from(parts[2]!, 'base64url'),
    )
    if (!ok) return 'AADSTS700027: Client assertion contains an invalid signature.'
    const t = Math.floor(now() / 1000)
    if (claims.aud !== `${url}/${options.tenantId}/oauth2/v2.0/token`) return 'AADSTS700024: wrong audience'
    if (claims.iss !== options.clientId || claims.sub !== options.clientId) return 'AADSTS700021: wrong issuer'
    if (!(claims.nbf <= t + 60 && claims.exp > t && claims.exp - claims.nbf <= 600)) return 'AADSTS700024: expired'
    if (typeof claims.jti !== 'string' || seenJTI.has(claims.jti)) return 'AADSTS700025: jti replayed'
    seenJTI.add(claims.jti)
    return undefined
  }

  async function entra(req: IncomingMessage, res: ServerResponse, tenant: string) {
    const text = await body(req)
    const form = new URLSearchParams(text)
    if (tenant !== options.tenantId) return refuse(req, res, 400, 'invalid_request', 'AADSTS90002: tenant not found')
    if (form.get('grant_type') !== 'client_credentials' || form.get('client_id') !== options.clientId) {
      return refuse(req, res, 400, 'unauthorized_client', 'AADSTS700016: Application not found', text)
    }
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      return refuse(req, res, 400, 'invalid_request', 'AADSTS7000218: client_assertion missing', text)
    }
    const why = checkAssertion(form.get('client_assertion') ?? '')
    if (why || state.echoCredentials) return refuse(req, res, 401, 'invalid_client', why ?? 'refused', text)
    const scope = form.get('scope') ?? ''
    if (!scope.endsWith('/.default')) return refuse(req, res, 400, 'invalid_scope', 'AADSTS70011')
    send(res, 200, {
      token_type: 'Bearer',
      expires_in: state.lifetime,
      access_token: token(scope.slice(0, -'/.default'.length)),
    })
  }

  const expiresOn = () => String(Math.floor(now() / 1000) + state.lifetime)

  const http = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x')
    const q = u.searchParams
    const auth = req.headers.authorization ? 'auth' : 'noauth'
    state.requests.push(`${req.method} ${u.pathname} ${auth}${req.headers.metadata === 'true' ? ' metadata' : ''}`)
    const fail = (e: unknown) => {
      if (!res.headersSent) send(res, 500, { error: 'server_error', error_description: String(e) })
    }
    const m = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(u.pathname)
    if (req.method === 'POST' && m) return void entra(req, res, m[1]!).catch(fail)
    if (u.pathname === '/msi/token') {
      if (req.headers['x-identity-header'] !== state.identityHeader || state.echoCredentials) {
        return refuse(req, res, 400, 'invalid_request', 'bad X-IDENTITY-HEADER')
      }
      if (q.get('api-version') !== '2019-08-01') return refuse(req, res, 400, 'invalid_request', 'api-version')
      const clientId = q.get('client_id')
      if (clientId && !state.userAssigned.has(clientId)) return refuse(req, res, 400, 'invalid_request', 'no identity')
      return send(res, 200, {
        access_token: token(q.get('resource') ?? ''),
        expires_on: expiresOn(),
        resource: q.get('resource'),
        token_type: 'Bearer',
      })
    }
    if (u.pathname === '/arc/token') {
      if (req.headers.metadata !== 'true' || q.get('api-version') !== '2019-08-15') {
        return refuse(req, res, 400, 'invalid_request', 'Metadata header and api-version 2019-08-15 required')
      }
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1]
      if (!basic || !state.arcKeys.includes(basic) || state.echoCredentials) {
        if (basic) return refuse(req, res, 401, 'invalid_client', 'wrong key')
        const file = join(options.arcKeyDirectory ?? '/nonexistent', `${randomBytes(8).toString('hex')}.key`)
        const key = randomBytes(32).toString('hex')
        if (options.arcKeyDirectory) writeFileSync(file, key)
        state.arcKeys.push(key)
        const realm = state.arcRealm ? state.arcRealm(file) : file
        return send(res, 401, { error: 'unauthorized' }, { 'WWW-Authenticate': `Basic realm=${realm}` })
      }
      return send(res, 200, {
        access_token: token(q.get('resource') ?? ''),
        expires_in: String(state.lifetime),
        expires_on: expiresOn(),
        token_type: 'Bearer',
      })
    }
    if (u.pathname === '/metadata/identity/oauth2/token') {
      // The probe: IMDS answers JSON even to a request it refuses.
      if (req.headers.metadata !== 'true') {
        return send(res, 400, { error: 'invalid_request', error_description: 'Required metadata header not specified' })
      }
      if (q.get('api-version') !== '2018-02-01') return refuse(req, res, 400, 'invalid_request', 'api-version')
      const clientId = q.get('client_id')
      const known = clientId ? state.userAssigned.has(clientId) : state.systemIdentity
      if (!known) return refuse(req, res, 400, 'invalid_request', 'Identity not found')
      return send(res, 200, {
        access_token: token(q.get('resource') ?? ''),
        expires_in: String(state.lifetime),
        expires_on: expiresOn(),
        resource: q.get('resource'),
        token_type: 'Bearer',
      })
    }
    send(res, 404, { error: 'not_found' })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  return Object.assign(state, {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve())
        http.closeAllConnections()
      }),
  })
}

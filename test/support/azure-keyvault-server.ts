/**
 * An in-process Azure Key Vault (keys REST API 7.x) with a Microsoft Entra token endpoint, the VM instance metadata
 * service and an App Service identity endpoint, for the `azurekms://` provider tests. Real keys (node:crypto) and
 * real signatures (EC as raw r‖s, as Key Vault returns them); every vault call needs a bearer token this server
 * issued for the Key Vault resource; the token endpoint checks the client secret or the federated assertion.
 * Faults: throttling (429 n times with Retry-After), 403 per key, missing keys (404).
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type DigestHash, signDigest } from './digest-signer.js'

export type AzureKeySpec =
  | { kty: 'EC'; crv: 'P-256' | 'P-384' | 'P-521' | 'P-256K' }
  | { kty: 'RSA'; size: 2048 | 3072 | 4096 }

interface Version {
  version: string
  spec: AzureKeySpec
  privateKey: KeyObject
  publicJWK: Record<string, unknown>
  enabled: boolean
}

const ALG: Record<string, { hash: DigestHash; kty: 'EC' | 'RSA'; crv?: string; pss?: boolean }> = {
  ES256: { hash: 'sha256', kty: 'EC', crv: 'P-256' },
  ES384: { hash: 'sha384', kty: 'EC', crv: 'P-384' },
  ES512: { hash: 'sha512', kty: 'EC', crv: 'P-521' },
  RS256: { hash: 'sha256', kty: 'RSA' },
  RS384: { hash: 'sha384', kty: 'RSA' },
  RS512: { hash: 'sha512', kty: 'RSA' },
  PS256: { hash: 'sha256', kty: 'RSA', pss: true },
}

export interface AzureKeyVaultServer {
  /** `http://127.0.0.1:<port>` (vault, Entra, IMDS and App Service endpoints on one port). */
  readonly url: string
  readonly tenantId: string
  readonly clientId: string
  /** The app registration's secret (tests assert it never leaks). */
  readonly clientSecret: string
  /** The workload identity token the Entra endpoint accepts as client_assertion. */
  readonly federatedToken: string
  /** App Service's IDENTITY_HEADER value. */
  readonly identityHeader: string
  issueToken(resource?: string): string
  /** Create a key (one version); returns `https://<vault>/keys/NAME/VERSION`-style kid path parts. */
  addKey(name: string, spec?: AzureKeySpec): { version: string; publicJWK: Record<string, unknown> }
  addVersion(name: string, spec?: AzureKeySpec): { version: string }
  /** PEM of a version's public key (from the private key, independent of the JWK the client parses). */
  publicKeyPEM(name: string, version?: string): string
  fault(f: { status: number; times: number; path?: string }): void
  deny(name: string): void
  /** Make sign lie: wrong length, a flipped bit, another version's kid. */
  corrupt(kind: 'short' | 'flip' | 'other-kid' | undefined): void
  readonly requests: string[]
  readonly tokenRequests: string[]
  readonly signRequests: Array<{ alg: string; value: string }>
  close(): Promise<void>
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers })
  res.end(JSON.stringify(body))
}

function vaultError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
) {
  send(res, status, { error: { code, message } }, headers)
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function generate(spec: AzureKeySpec): { privateKey: KeyObject; publicKey: KeyObject } {
  if (spec.kty === 'EC') {
    return generateKeyPairSync('ec', { namedCurve: spec.crv === 'P-256K' ? 'secp256k1' : spec.crv })
  }
  return generateKeyPairSync('rsa', { modulusLength: spec.size })
}

export async function startAzureKeyVaultServer(): Promise<AzureKeyVaultServer> {
  const keys = new Map<string, { name: string; versions: Version[] }>()
  const tokens = new Map<string, string>()
  const requests: string[] = []
  const tokenRequests: string[] = []
  const signRequests: Array<{ alg: string; value: string }> = []
  const faults: { status: number; times: number; path?: string }[] = []
  const denied = new Set<string>()
  let corruption: Parameters<AzureKeyVaultServer['corrupt']>[0]
  const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47'
  const clientId = '3c9f1ac3-5f67-4e0b-8f4e-1e6bd1d1b0a1'
  const clientSecret = `azsecret~${randomBytes(12).toString('hex')}`
  const federatedToken = `eyJhbGciOiJSUzI1NiJ9.${randomBytes(24).toString('base64url')}.sig`
  const identityHeader = randomBytes(8).toString('hex')
  let url = ''

  const issueToken = (resource = 'https://vault.azure.net') => {
    const t = `eyJ0eXAiOiJKV1Qi.${randomBytes(24).toString('base64url')}`
    tokens.set(t, resource)
    return t
  }
  const kid = (name: string, version: string) => `${url}/keys/${name}/${version}`
  const bundle = (name: string, v: Version) => ({
    key: { kid: kid(name, v.version), key_ops: ['sign', 'verify'], ...v.publicJWK },
    attributes: {
      enabled: v.enabled,
      created: 1700000000,
      updated: 1700000000,
      recoveryLevel: 'Recoverable+Purgeable',
    },
    tags: { use: 'sigstore' },
  })
  const newVersion = (name: string, spec: AzureKeySpec): Version => {
    let entry = keys.get(name.toLowerCase())
    if (!entry) {
      entry = { name, versions: [] }
      keys.set(name.toLowerCase(), entry)
    }
    const { privateKey, publicKey } = generate(spec)
    const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>
    const v: Version = { version: randomBytes(16).toString('hex'), spec, privateKey, publicJWK: jwk, enabled: true }
    entry.versions.push(v)
    return v
  }

  async function handleToken(req: IncomingMessage, res: ServerResponse, tenant: string) {
    const body = await readBody(req)
    tokenRequests.push(body)
    const form = new URLSearchParams(body)
    if (tenant !== tenantId) {
      return send(res, 400, {
        error: 'invalid_request',
        error_description: `AADSTS90002: Tenant '${tenant}' not found.`,
      })
    }
    if (form.get('grant_type') !== 'client_credentials' || form.get('client_id') !== clientId) {
      return send(res, 400, { error: 'unauthorized_client', error_description: 'AADSTS700016: Application not found.' })
    }
    const secretOK = form.get('client_secret') === clientSecret
    const assertionOK =
      form.get('client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' &&
      form.get('client_assertion') === federatedToken
    if (!secretOK && !assertionOK) {
      return send(res, 401, {
        error: 'invalid_client',
        error_description: 'AADSTS7000215: Invalid client secret provided.',
      })
    }
    const scope = form.get('scope') ?? ''
    if (!scope.endsWith('/.default'))
      return send(res, 400, { error: 'invalid_scope', error_description: 'AADSTS70011' })
    send(res, 200, {
      token_type: 'Bearer',
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: issueToken(scope.slice(0, -'/.default'.length)),
    })
  }

  async function handleVault(req: IncomingMessage, res: ServerResponse, u: URL) {
    if (u.searchParams.get('api-version') !== '7.4') {
      return vaultError(res, 400, 'BadParameter', 'The specified version is not supported')
    }
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')
    if (!m || tokens.get(m[1]!) !== 'https://vault.azure.net') {
      return vaultError(res, 401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.', {
        'WWW-Authenticate': `Bearer authorization="https://login.microsoftonline.com/${tenantId}", resource="https://vault.azure.net"`,
      })
    }
    const parts = u.pathname.split('/').slice(2) // ['', 'keys', name, ...]
    const [name = '', second, third] = parts
    if (denied.has(name.toLowerCase())) {
      return vaultError(
        res,
        403,
        'Forbidden',
        `The user, group or application 'appid=${clientId}' does not have keys sign permission on key vault.`,
      )
    }
    if (req.method === 'POST' && second === 'create' && third === undefined) {
      const body = JSON.parse(await readBody(req))
      const spec: AzureKeySpec | undefined =
        body.kty === 'EC'
          ? { kty: 'EC', crv: body.crv ?? 'P-256' }
          : body.kty === 'RSA'
            ? { kty: 'RSA', size: body.key_size ?? 2048 }
            : undefined
      if (!spec) return vaultError(res, 400, 'BadParameter', 'Property has invalid value')
      const v = newVersion(name, spec)
      return send(res, 200, bundle(name, v))
    }
    const entry = keys.get(name.toLowerCase())
    const version =
      second === undefined || second === '' ? entry?.versions.at(-1) : entry?.versions.find((v) => v.version === second)
    if (!entry || !version) {
      return vaultError(res, 404, 'KeyNotFound', `A key with (name/id) ${name} was not found in this key vault.`)
    }
    if (req.method === 'GET' && third === undefined) return send(res, 200, bundle(entry.name, version))
    if (req.method === 'POST' && third === 'sign') {
      if (!version.enabled) return vaultError(res, 403, 'Forbidden', 'Operation sign is not allowed on a disabled key.')
      const body = JSON.parse(await readBody(req))
      signRequests.push(body)
      const alg = ALG[body.alg]
      const digest = Buffer.from(String(body.value), 'base64url')
      const spec = version.spec
      if (!alg || alg.kty !== spec.kty || (spec.kty === 'EC' && alg.crv !== spec.crv)) {
        return vaultError(res, 400, 'BadParameter', 'Invalid algorithm for key type')
      }
      if (digest.length !== createHash(alg.hash).digest().length) {
        return vaultError(res, 400, 'BadParameter', 'Invalid digest length for algorithm')
      }
      let signature = Buffer.from(
        signDigest(version.privateKey, digest, {
          hash: alg.hash,
          padding: alg.pss ? 'pss' : 'pkcs1',
          ecdsaFormat: 'raw',
        }),
      )
      if (corruption === 'short') signature = signature.subarray(1)
      if (corruption === 'flip') signature[5]! ^= 1
      const other = corruption === 'other-kid' ? 'ffffffffffffffffffffffffffffffff' : version.version
      return send(res, 200, { kid: kid(entry.name, other), value: signature.toString('base64url') })
    }
    vaultError(res, 405, 'BadParameter', 'unsupported operation')
  }

  const http = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x')
    res.on('finish', () => requests.push(`${req.method} ${u.pathname} ${res.statusCode}`))
    const fault = faults.find((f) => f.times > 0 && (f.path === undefined || u.pathname.includes(f.path)))
    if (fault) {
      fault.times--
      return vaultError(
        res,
        fault.status,
        fault.status === 429 ? 'Throttled' : 'ServiceUnavailable',
        'Request was not processed because too many requests were received.',
        { 'Retry-After': '1' },
      )
    }
    const fail = (e: unknown) => {
      if (!res.headersSent) vaultError(res, 500, 'InternalError', String(e))
    }
    const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(u.pathname)
    if (req.method === 'POST' && token) return void handleToken(req, res, token[1]!).catch(fail)
    if (u.pathname === '/metadata/identity/oauth2/token') {
      if (req.headers.metadata !== 'true') {
        return send(res, 400, { error: 'invalid_request', error_description: 'Required metadata header not specified' })
      }
      if (u.searchParams.get('api-version') !== '2018-02-01') return send(res, 400, { error: 'invalid_request' })
      const resource = u.searchParams.get('resource') ?? ''
      tokenRequests.push(`imds ${u.search}`)
      return send(res, 200, {
        access_token: issueToken(resource),
        expires_in: '86399',
        expires_on: String(Math.floor(Date.now() / 1000) + 86399),
        resource,
        token_type: 'Bearer',
      })
    }
    if (u.pathname === '/msi/token') {
      if (req.headers['x-identity-header'] !== identityHeader || u.searchParams.get('api-version') !== '2019-08-01') {
        return send(res, 400, { statusCode: 400, message: 'bad identity request' })
      }
      tokenRequests.push(`appservice ${u.search}`)
      const resource = u.searchParams.get('resource') ?? ''
      return send(res, 200, {
        access_token: issueToken(resource),
        expires_on: String(Math.floor(Date.now() / 1000) + 86399),
        resource,
        token_type: 'Bearer',
        client_id: clientId,
      })
    }
    if (u.pathname.startsWith('/keys/')) return void handleVault(req, res, u).catch(fail)
    vaultError(res, 404, 'NotFound', 'not found')
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`

  return {
    url,
    tenantId,
    clientId,
    clientSecret,
    federatedToken,
    identityHeader,
    issueToken,
    addKey(name, spec = { kty: 'EC', crv: 'P-256' }) {
      const v = newVersion(name, spec)
      return { version: v.version, publicJWK: v.publicJWK }
    },
    addVersion(name, spec) {
      const entry = keys.get(name.toLowerCase())!
      return { version: newVersion(name, spec ?? entry.versions.at(-1)!.spec).version }
    },
    publicKeyPEM(name, version) {
      const entry = keys.get(name.toLowerCase())!
      const v = version ? entry.versions.find((x) => x.version === version)! : entry.versions.at(-1)!
      // The public half derived from the private key, not from the JWK the server serves.
      return createPublicKey(v.privateKey).export({ format: 'pem', type: 'spki' }).toString()
    },
    fault: (f) => {
      for (let i = faults.length - 1; i >= 0; i--) if (faults[i]!.path === f.path) faults.splice(i, 1)
      faults.unshift({ ...f })
    },
    deny: (name) => denied.add(name.toLowerCase()),
    corrupt: (kind) => {
      corruption = kind
    },
    requests,
    tokenRequests,
    signRequests,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve())
        http.closeAllConnections()
      }),
  }
}

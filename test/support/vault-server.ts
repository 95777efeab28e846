/**
 * A local HashiCorp Vault (transit engine + AppRole auth) on a loopback `node:http` server, faithful where a client
 * can tell:
 *
 * - `GET /v1/<transit>/keys/<name>`: key metadata as Vault returns it (`type`, `latest_version`, `supports_signing`,
 *   `keys` with per-version `public_key`: PKIX PEM, or base64 of the 32 raw bytes for Ed25519; symmetric keys list
 *   creation times instead); 404 `{"errors":[]}` for an unknown key.
 * - `POST /v1/<transit>/keys/<name>` `{type}` creates a key (an existing key is left as it is, as Vault does);
 *   `POST /v1/<transit>/keys/<name>/rotate` adds a version with a fresh key.
 * - `POST /v1/<transit>/sign/<name>[/<hash>]`: real signatures with the version's private key; `input` is the
 *   message, or with `prehashed: true` the digest (its length must match the hash); ECDSA `marshaling_algorithm`
 *   asn1 (default) or jws; RSA `signature_algorithm` pss (Vault's default; message input only here) or pkcs1v15;
 *   `key_version` 0/absent = latest; the answer is `vault:vN:<base64>`. Unknown key → 400 "signing key not found".
 * - `POST /v1/auth/approle/login` `{role_id, secret_id}` → `auth.client_token` with `lease_duration`.
 * - `POST /v1/auth/<mount>/login` `{role, jwt}` for the configured JWT/OIDC and Kubernetes roles
 *   ({@link VaultLoginRole}), with Vault's refusals: `missing role`, `role "x" could not be found` (JWT) /
 *   `invalid role name "x"` (Kubernetes), audience and bound-claim mismatches (400), an unknown service-account
 *   token (403 `permission denied`). Issued tokens carry a TTL and a max TTL on the server's clock (`now`).
 * - `POST /v1/auth/token/renew-self` (with the token): extends the lease by the token's TTL, capped at its max TTL
 *   with Vault's warning; `lease is not renewable` for other tokens. An expired token is refused (403) everywhere.
 * - Every other call needs `X-Vault-Token` of a known token (403 `permission denied` otherwise); read-only tokens
 *   may only read keys. With a namespace configured, `X-Vault-Namespace` must name it.
 * - Faults: the next N requests (optionally matching a path) answer a given status (429/503 throttling, …).
 *
 * Sources: Vault docs "Transit secrets engine (API)", "AppRole auth method (API)", "JWT/OIDC auth method (API)",
 * "Kubernetes auth method (API)", "Token auth method (API)" (renew-self); vault-plugin-auth-jwt `path_login.go`,
 * vault-plugin-auth-kubernetes `path_login.go`; vault `builtin/logical/transit`
 * `path_keys.go`, `path_sign_verify.go`; `sdk/helper/keysutil/policy.go` (signature prefix `vault:v%d:`).
 */
import {
  createHash,
  generateKeyPairSync,
  type KeyObject,
  privateEncrypt,
  randomBytes,
  sign,
  constants as sslConstants,
} from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { p256, p384, p521 } from '@noble/curves/nist.js'

export type VaultKeyType =
  | 'ecdsa-p256'
  | 'ecdsa-p384'
  | 'ecdsa-p521'
  | 'ed25519'
  | 'rsa-2048'
  | 'rsa-3072'
  | 'rsa-4096'
  | 'aes256-gcm96'

interface KeyVersion {
  readonly version: number
  readonly privateKey?: KeyObject
  readonly publicKey?: KeyObject
  readonly created: string
}

interface TransitKey {
  readonly name: string
  readonly type: VaultKeyType
  readonly versions: KeyVersion[]
}

export interface VaultRequestRecord {
  readonly method: string
  readonly path: string
  readonly token: string | undefined
  readonly namespace: string | undefined
  readonly body: Record<string, unknown> | undefined
}

export interface VaultFault {
  readonly status: number
  /** How many matching requests get the fault (default 1). */
  times?: number
  /** Only requests whose path contains this. */
  readonly path?: string
  readonly retryAfter?: string
  readonly body?: string
}

export interface VaultServerOptions {
  /** Mount of the transit engine (default `transit`). */
  readonly transitPath?: string
  /** Tokens accepted for everything. */
  readonly tokens?: readonly string[]
  /** Tokens that may only read keys. */
  readonly readOnlyTokens?: readonly string[]
  /** AppRole credentials accepted at `auth/approle/login`. */
  readonly appRole?: { readonly roleId: string; readonly secretId: string; readonly leaseSeconds?: number }
  /** Require `X-Vault-Namespace` to be this. */
  readonly namespace?: string
  /** JWT/OIDC and Kubernetes auth roles accepted at `auth/<mount>/login`. */
  readonly logins?: readonly VaultLoginRole[]
  /** The server's clock for token TTLs (default `Date.now`). */
  readonly now?: () => number
}

/** A role of the JWT/OIDC or Kubernetes auth method. */
export interface VaultLoginRole {
  readonly method: 'jwt' | 'kubernetes'
  /** Auth mount (default: the method's name). */
  readonly mount?: string
  readonly name: string
  /** JWTs accepted verbatim (service-account tokens); without it any JWT whose claims match is accepted. */
  readonly jwts?: readonly string[]
  /** The JWT's `aud` must name one of these (claims are decoded; the stand-in checks no signature). */
  readonly boundAudiences?: readonly string[]
  /** Claims that must have these values. */
  readonly boundClaims?: Readonly<Record<string, string>>
  /** This role is the mount's `default_role` (JWT logins without a role use it). */
  readonly defaultRole?: boolean
  /** `token_ttl` (default 3600 s). */
  readonly ttlSeconds?: number
  /** `token_max_ttl` (default: none). */
  readonly maxTtlSeconds?: number
  /** Whether issued tokens may be renewed (default true). */
  readonly renewable?: boolean
}

/** An issued token's lease on the server's clock. */
export interface VaultTokenLease {
  readonly ttlSeconds: number
  expiresAt: number
  readonly maxExpiresAt: number
  readonly renewable: boolean
  /** The role that issued it (`jwt/ci`, `kubernetes/signer`, `approle`). */
  readonly role: string
}

export interface VaultServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly requests: VaultRequestRecord[]
  readonly faults: VaultFault[]
  /** Tokens issued by logins (AppRole, JWT, Kubernetes), in order. */
  readonly issuedTokens: string[]
  /** The lease of each issued token. */
  readonly leases: Map<string, VaultTokenLease>
  createKey(name: string, type: VaultKeyType): void
  rotateKey(name: string): number
  /** Forget a token (as `vault token revoke`). */
  revokeToken(token: string): void
  close(): Promise<void>
}

const DIGEST_INFO: Readonly<Record<string, string>> = {
  'sha2-256': '3031300d060960864801650304020105000420',
  'sha2-384': '3041300d060960864801650304020205000430',
  'sha2-512': '3051300d060960864801650304020305000440',
}
const NODE_HASH: Readonly<Record<string, string>> = { 'sha2-256': 'sha256', 'sha2-384': 'sha384', 'sha2-512': 'sha512' }
const HASH_SIZE: Readonly<Record<string, number>> = { 'sha2-256': 32, 'sha2-384': 48, 'sha2-512': 64 }
const NOBLE = { 'ecdsa-p256': p256, 'ecdsa-p384': p384, 'ecdsa-p521': p521 } as const
const CURVE_NAME = { 'ecdsa-p256': 'P-256', 'ecdsa-p384': 'P-384', 'ecdsa-p521': 'P-521' } as const

function generate(type: VaultKeyType): { privateKey?: KeyObject; publicKey?: KeyObject } {
  switch (type) {
    case 'ecdsa-p256':
    case 'ecdsa-p384':
    case 'ecdsa-p521':
      return generateKeyPairSync('ec', { namedCurve: CURVE_NAME[type] })
    case 'ed25519':
      return generateKeyPairSync('ed25519')
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
      return generateKeyPairSync('rsa', { modulusLength: Number(type.slice(4)) })
    default:
      return {}
  }
}

class HTTPError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join('; '))
  }
}

function keyData(key: TransitKey): Record<string, unknown> {
  const asymmetric = key.type !== 'aes256-gcm96'
  const keys: Record<string, unknown> = {}
  for (const v of key.versions) {
    if (!asymmetric) {
      keys[String(v.version)] = Math.floor(Date.parse(v.created) / 1000)
      continue
    }
    const spki = v.publicKey!.export({ type: 'spki', format: 'der' })
    keys[String(v.version)] = {
      certificate_chain: '',
      creation_time: v.created,
      name: key.type.startsWith('ecdsa-') ? CURVE_NAME[key.type as keyof typeof CURVE_NAME] : key.type,
      public_key:
        key.type === 'ed25519'
          ? spki.subarray(spki.length - 32).toString('base64')
          : v.publicKey!.export({ type: 'spki', format: 'pem' }),
    }
  }
  return {
    allow_plaintext_backup: false,
    auto_rotate_period: 0,
    deletion_allowed: false,
    derived: false,
    exportable: false,
    imported_key: false,
    keys,
    latest_version: key.versions.length,
    min_available_version: 0,
    min_decryption_version: 1,
    min_encryption_version: 0,
    name: key.name,
    supports_decryption: !asymmetric || key.type.startsWith('rsa-'),
    supports_derivation: key.type === 'ed25519' || !asymmetric,
    supports_encryption: !asymmetric || key.type.startsWith('rsa-'),
    supports_signing: asymmetric,
    type: key.type,
  }
}

function envelope(data: unknown, auth: unknown = null): Record<string, unknown> {
  return {
    request_id: randomBytes(16).toString('hex'),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth,
  }
}

function signWith(key: TransitKey, v: KeyVersion, hash: string, body: Record<string, unknown>): string {
  if (typeof body.input !== 'string') throw new HTTPError(400, ['missing input to process'])
  const input = Buffer.from(body.input, 'base64')
  const prehashed = body.prehashed === true
  if (key.type === 'ed25519') {
    if (prehashed) throw new HTTPError(400, ['prehashed input is not supported for ed25519 keys (not modelled)'])
    return sign(null, input, v.privateKey!).toString('base64')
  }
  if (!Object.hasOwn(HASH_SIZE, hash)) throw new HTTPError(400, [`unsupported hash algorithm ${hash}`])
  if (prehashed && input.length !== HASH_SIZE[hash]) {
    throw new HTTPError(400, [`prehashed input of ${input.length} bytes does not match ${hash}`])
  }
  const digest = prehashed ? input : createHash(NODE_HASH[hash]!).update(input).digest()
  if (key.type.startsWith('ecdsa-')) {
    const curve = NOBLE[key.type as keyof typeof NOBLE]
    const d = Buffer.from(v.privateKey!.export({ format: 'jwk' }).d!, 'base64url')
    const marshaling = body.marshaling_algorithm ?? 'asn1'
    if (marshaling === 'jws') {
      return Buffer.from(curve.sign(digest, d, { prehash: false, format: 'compact' })).toString('base64url')
    }
    if (marshaling !== 'asn1') throw new HTTPError(400, [`unsupported marshaling algorithm ${String(marshaling)}`])
    return Buffer.from(curve.sign(digest, d, { prehash: false, format: 'der', lowS: false })).toString('base64')
  }
  // RSA.
  const scheme = body.signature_algorithm ?? 'pss'
  if (scheme === 'pkcs1v15') {
    const block = Buffer.concat([Buffer.from(DIGEST_INFO[hash]!, 'hex'), digest])
    return privateEncrypt({ key: v.privateKey!, padding: sslConstants.RSA_PKCS1_PADDING }, block).toString('base64')
  }
  if (scheme === 'pss') {
    if (prehashed) throw new HTTPError(400, ['prehashed PSS is not modelled by this test server'])
    return sign(NODE_HASH[hash]!, input, {
      key: v.privateKey!,
      padding: sslConstants.RSA_PKCS1_PSS_PADDING,
      saltLength: sslConstants.RSA_PSS_SALTLEN_AUTO,
    }).toString('base64')
  }
  throw new HTTPError(400, [`unsupported signature algorithm ${String(scheme)}`])
}

export async function startVaultServer(options: VaultServerOptions = {}): Promise<VaultServer> {
  const transit = options.transitPath ?? 'transit'
  const keys = new Map<string, TransitKey>()
  const full = new Set(options.tokens ?? [])
  const readOnly = new Set(options.readOnlyTokens ?? [])
  const requests: VaultRequestRecord[] = []
  const faults: VaultFault[] = []
  const issuedTokens: string[] = []
  const leases = new Map<string, VaultTokenLease>()
  const now = options.now ?? Date.now
  const issue = (role: string, ttlSeconds: number, maxTtlSeconds: number | undefined, renewable: boolean) => {
    const issued = `hvs.${randomBytes(18).toString('base64url')}`
    issuedTokens.push(issued)
    full.add(issued)
    const t = now()
    const max = maxTtlSeconds === undefined ? Number.POSITIVE_INFINITY : t + maxTtlSeconds * 1000
    const ttl = Math.min(ttlSeconds, Math.floor((max - t) / 1000))
    leases.set(issued, { ttlSeconds, expiresAt: t + ttl * 1000, maxExpiresAt: max, renewable, role })
    return envelope(null, {
      client_token: issued,
      accessor: randomBytes(12).toString('hex'),
      policies: ['default', 'signer'],
      token_policies: ['default', 'signer'],
      metadata: { role },
      lease_duration: ttl,
      renewable,
      entity_id: '',
      token_type: 'service',
      orphan: true,
    })
  }
  const alive = (token: string | undefined): token is string => {
    if (token === undefined || !(full.has(token) || readOnly.has(token))) return false
    const lease = leases.get(token)
    return lease === undefined || now() < lease.expiresAt
  }
  const claimsOf = (jwt: string): Record<string, unknown> | undefined => {
    try {
      const parts = jwt.split('.')
      if (parts.length !== 3) return undefined
      return JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'))
    } catch {
      return undefined
    }
  }
  const jwtLogin = (mount: string, body: Record<string, unknown>) => {
    const roles = (options.logins ?? []).filter((r) => (r.mount ?? r.method) === mount)
    if (roles.length === 0) return undefined
    const kubernetes = roles[0]!.method === 'kubernetes'
    const requested = typeof body.role === 'string' && body.role !== '' ? body.role : undefined
    const role = requested === undefined ? roles.find((r) => r.defaultRole) : roles.find((r) => r.name === requested)
    if (requested === undefined && role === undefined) throw new HTTPError(400, ['missing role'])
    if (role === undefined) {
      throw new HTTPError(400, [
        kubernetes ? `invalid role name "${requested}"` : `role "${requested}" could not be found`,
      ])
    }
    const jwt = typeof body.jwt === 'string' ? body.jwt : ''
    if (jwt === '') throw new HTTPError(400, ['missing jwt'])
    if (role.jwts !== undefined && !role.jwts.includes(jwt)) {
      if (kubernetes) throw new HTTPError(403, ['permission denied'])
      throw new HTTPError(400, ['error validating token: invalid signature'])
    }
    const claims = claimsOf(jwt)
    if (claims === undefined) throw new HTTPError(400, ['error validating token: malformed token'])
    if (role.boundAudiences !== undefined) {
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
      if (!aud.some((a) => role.boundAudiences!.includes(String(a)))) {
        throw new HTTPError(400, [
          'error validating claims: invalid audience (aud) claim: audience claim does not match any expected audience',
        ])
      }
    }
    for (const [claim, value] of Object.entries(role.boundClaims ?? {})) {
      if (claims[claim] !== value) {
        throw new HTTPError(400, [
          `error validating claims: claim "${claim}" does not match any associated bound claim values`,
        ])
      }
    }
    return issue(`${mount}/${role.name}`, role.ttlSeconds ?? 3600, role.maxTtlSeconds, role.renewable ?? true)
  }
  const renewSelf = (token: string | undefined, body: Record<string, unknown>) => {
    if (!alive(token)) throw new HTTPError(403, ['permission denied'])
    const lease = leases.get(token)
    if (lease === undefined || !lease.renewable) throw new HTTPError(400, ['lease is not renewable'])
    const t = now()
    const increment = typeof body.increment === 'number' && body.increment > 0 ? body.increment : lease.ttlSeconds
    const left = Math.floor((lease.maxExpiresAt - t) / 1000)
    const ttl = Math.min(increment, left)
    lease.expiresAt = t + ttl * 1000
    return {
      ...envelope(null, {
        client_token: token,
        accessor: '',
        policies: ['default', 'signer'],
        token_policies: ['default', 'signer'],
        metadata: { role: lease.role },
        lease_duration: ttl,
        renewable: true,
        entity_id: '',
        token_type: 'service',
        orphan: true,
      }),
      warnings:
        ttl < increment
          ? [`TTL of "${increment}s" exceeded the effective max_ttl of "${left}s"; TTL value is capped accordingly`]
          : null,
    }
  }

  const addVersion = (key: TransitKey) => {
    const { privateKey, publicKey } = generate(key.type)
    key.versions.push({
      version: key.versions.length + 1,
      ...(privateKey ? { privateKey } : {}),
      ...(publicKey ? { publicKey } : {}),
      created: new Date().toISOString(),
    })
    return key.versions.length
  }
  const createKey = (name: string, type: VaultKeyType) => {
    if (keys.has(name)) return
    const key: TransitKey = { name, type, versions: [] }
    addVersion(key)
    keys.set(name, key)
  }

  const handle = (method: string, path: string, token: string | undefined, body: Record<string, unknown>) => {
    if (method === 'POST' && path === 'auth/approle/login') {
      const role = options.appRole
      if (role === undefined || body.role_id !== role.roleId || body.secret_id !== role.secretId) {
        throw new HTTPError(400, ['invalid role or secret ID'])
      }
      return issue('approle', role.leaseSeconds ?? 3600, undefined, true)
    }
    const login = /^auth\/(.+)\/login$/.exec(path)
    if (method === 'POST' && login !== null && login[1] !== 'approle') {
      const answer = jwtLogin(login[1]!, body)
      if (answer !== undefined) return answer
    }
    if (method === 'POST' && path === 'auth/token/renew-self') return renewSelf(token, body)
    const canWrite = alive(token) && full.has(token)
    const canRead = alive(token)
    if (!canRead) throw new HTTPError(403, ['permission denied'])
    const prefix = `${transit}/`
    if (!path.startsWith(prefix)) throw new HTTPError(404, [`no handler for route "${path}". route entry not found.`])
    const parts = path.slice(prefix.length).split('/')
    if (parts[0] === 'keys' && parts.length === 2 && method === 'GET') {
      const key = keys.get(parts[1]!)
      if (key === undefined) throw new HTTPError(404, [])
      return envelope(keyData(key))
    }
    if (!canWrite) throw new HTTPError(403, ['permission denied'])
    if (parts[0] === 'keys' && parts.length === 2 && method === 'POST') {
      const type = (body.type ?? 'aes256-gcm96') as VaultKeyType
      if (
        ![
          'ecdsa-p256',
          'ecdsa-p384',
          'ecdsa-p521',
          'ed25519',
          'rsa-2048',
          'rsa-3072',
          'rsa-4096',
          'aes256-gcm96',
        ].includes(type)
      ) {
        throw new HTTPError(400, [`unknown key type: ${String(type)}`])
      }
      createKey(parts[1]!, type)
      return envelope(keyData(keys.get(parts[1]!)!))
    }
    if (parts[0] === 'keys' && parts.length === 3 && parts[2] === 'rotate' && method === 'POST') {
      const key = keys.get(parts[1]!)
      if (key === undefined) throw new HTTPError(400, ['key not found'])
      addVersion(key)
      return envelope(keyData(key))
    }
    if (parts[0] === 'sign' && (parts.length === 2 || parts.length === 3) && method === 'POST') {
      const key = keys.get(parts[1]!)
      if (key === undefined || key.type === 'aes256-gcm96') {
        throw new HTTPError(400, [
          key === undefined ? 'signing key not found' : 'key type aes256-gcm96 does not support signing',
        ])
      }
      const hash = parts[2] ?? (typeof body.hash_algorithm === 'string' ? body.hash_algorithm : 'sha2-256')
      const requested = body.key_version === undefined ? 0 : Number(body.key_version)
      if (!Number.isInteger(requested) || requested < 0) throw new HTTPError(400, ['invalid key_version'])
      if (requested > key.versions.length) {
        throw new HTTPError(400, ['requested version for signing is greater than the latest key version'])
      }
      const version = requested === 0 ? key.versions.length : requested
      const signature = signWith(key, key.versions[version - 1]!, hash, body)
      return envelope({ signature: `vault:v${version}:${signature}`, key_version: version })
    }
    throw new HTTPError(404, [`no handler for route "${path}". route entry not found.`])
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const send = (status: number, doc: unknown, headers: Record<string, string> = {}) => {
        const text = doc === undefined ? '' : JSON.stringify(doc)
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers })
        res.end(text)
      }
      const url = new URL(req.url ?? '/', 'http://vault')
      const path = url.pathname.replace(/^\/v1\//, '')
      const token = req.headers['x-vault-token'] as string | undefined
      const namespace = req.headers['x-vault-namespace'] as string | undefined
      let body: Record<string, unknown> = {}
      const raw = Buffer.concat(chunks)
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'))
        } catch {
          send(400, { errors: ['failed to parse JSON input'] })
          return
        }
      }
      requests.push({ method: req.method ?? '', path, token, namespace, body: raw.length > 0 ? body : undefined })
      const fault = faults.find((f) => (f.times ?? 1) > 0 && (f.path === undefined || path.includes(f.path)))
      if (fault !== undefined) {
        fault.times = (fault.times ?? 1) - 1
        res.writeHead(fault.status, {
          'Content-Type': 'application/json',
          ...(fault.retryAfter !== undefined ? { 'Retry-After': fault.retryAfter } : {}),
        })
        res.end(
          fault.body ??
            JSON.stringify({
              errors: [fault.status === 429 ? 'request path "x": rate limit quota exceeded' : 'Vault is sealed'],
            }),
        )
        return
      }
      if (!url.pathname.startsWith('/v1/')) {
        send(404, { errors: [] })
        return
      }
      if (options.namespace !== undefined && namespace !== options.namespace) {
        send(403, { errors: ['permission denied'] })
        return
      }
      try {
        send(200, handle(req.method ?? '', path, token, body))
      } catch (e) {
        if (e instanceof HTTPError) send(e.status, { errors: e.errors })
        else send(500, { errors: [String(e)] })
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    faults,
    issuedTokens,
    leases,
    createKey,
    rotateKey(name) {
      const key = keys.get(name)
      if (key === undefined) throw new Error(`no key ${name}`)
      return addVersion(key)
    },
    revokeToken(token) {
      full.delete(token)
      readOnly.delete(token)
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/**
 * An in-process Google Cloud KMS (REST v1) with an OAuth token endpoint and a GCE metadata server, for the
 * `gcpkms://` provider tests. Real keys (node:crypto) and real signatures over the digest the client sends; every
 * KMS call needs a bearer token this server issued; the token endpoint verifies service-account JWT assertions
 * (RS256, with the service account's public key) and refresh-token grants; CRC32Cs are checked both ways.
 * Faults: throttling (429 n times), permission denied (403) per resource prefix, corrupted answers.
 */
import { createHash, createVerify, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type DigestHash, signDigest } from './digest-signer.js'

/** CRC32C computed bit by bit (independent of the client's table-driven implementation). */
export function crc32cSlow(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const b of bytes) {
    crc ^= b
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}

const ALGORITHMS: Record<
  string,
  { hash: DigestHash; gen: () => { privateKey: KeyObject; publicKey: KeyObject }; pss?: boolean }
> = {}
const ec = (namedCurve: string) => () => generateKeyPairSync('ec', { namedCurve })
const rsa = (modulusLength: number) => () => generateKeyPairSync('rsa', { modulusLength })
ALGORITHMS.EC_SIGN_P256_SHA256 = { hash: 'sha256', gen: ec('P-256') }
ALGORITHMS.EC_SIGN_P384_SHA384 = { hash: 'sha384', gen: ec('P-384') }
for (const bits of [2048, 3072, 4096]) {
  ALGORITHMS[`RSA_SIGN_PKCS1_${bits}_SHA256`] = { hash: 'sha256', gen: rsa(bits) }
  ALGORITHMS[`RSA_SIGN_PSS_${bits}_SHA256`] = { hash: 'sha256', gen: rsa(bits), pss: true }
}
ALGORITHMS.RSA_SIGN_PKCS1_4096_SHA512 = { hash: 'sha512', gen: rsa(4096) }
ALGORITHMS.RSA_SIGN_PSS_4096_SHA512 = { hash: 'sha512', gen: rsa(4096), pss: true }
// A type the client must refuse (sigstore does not support it).
ALGORITHMS.EC_SIGN_SECP256K1_SHA256 = { hash: 'sha256', gen: ec('secp256k1') }

interface Version {
  name: string
  algorithm: string
  state: 'ENABLED' | 'DISABLED' | 'PENDING_GENERATION'
  privateKey: KeyObject
  publicKeyPEM: string
  /** List calls left before a PENDING_GENERATION version becomes ENABLED. */
  pendingLists: number
}

interface CryptoKey {
  name: string
  purpose: string
  algorithm: string
  versions: Version[]
}

export interface GCPKMSServer {
  /** `http://127.0.0.1:<port>` (KMS endpoint, token endpoint and metadata server on one port). */
  readonly url: string
  /** `127.0.0.1:<port>` for GCE_METADATA_HOST. */
  readonly host: string
  readonly tokenURL: string
  /** A service-account credential file whose key this server trusts. */
  readonly serviceAccountJSON: string
  /** An authorized-user credential file this server accepts. */
  readonly authorizedUserJSON: string
  /** The service account's private key PEM (tests assert it never leaks). */
  readonly serviceAccountPrivateKeyPEM: string
  /** The authorized user's client secret and refresh token (tests assert they never leak). */
  readonly authorizedUserSecrets: readonly string[]
  /** Issue a token directly (as if from `gcloud auth print-access-token`). */
  issueToken(lifetimeSeconds?: number): string
  revokeAll(): void
  /** Create a key (and its ring) with one ENABLED version; returns the version's resource name. */
  addKey(cryptoKeyName: string, algorithm?: string, purpose?: string): string
  addVersion(cryptoKeyName: string, algorithm?: string, state?: Version['state']): string
  setState(versionName: string, state: Version['state']): void
  publicKeyPEM(versionName: string): string
  /** Next `times` matching requests answer `status` (429 → RESOURCE_EXHAUSTED, 503 → UNAVAILABLE). */
  fault(f: { status: number; times: number; path?: string }): void
  /** Resources under this prefix answer 403 PERMISSION_DENIED. */
  deny(prefix: string): void
  /** Make asymmetricSign lie: wrong signature CRC, unverified digest CRC, a flipped signature bit, another name. */
  corrupt(kind: 'signature-crc' | 'unverified-digest' | 'flip-signature' | 'other-name' | undefined): void
  /** Newly created keys stay PENDING_GENERATION for this many list calls (default 1). */
  pendingLists: number
  /** `METHOD path status` of every request. */
  readonly requests: string[]
  /** Every Authorization header and request body seen (tests check no secret is sent where it should not be). */
  readonly tokenRequests: string[]
  close(): Promise<void>
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

function googleError(res: ServerResponse, code: number, status: string, message: string): void {
  send(res, code, { error: { code, message, status } })
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export async function startGCPKMSServer(): Promise<GCPKMSServer> {
  const keyRings = new Set<string>()
  const keys = new Map<string, CryptoKey>()
  const tokens = new Map<string, number>()
  const requests: string[] = []
  const tokenRequests: string[] = []
  const faults: { status: number; times: number; path?: string }[] = []
  const denied: string[] = []
  let corruption: Parameters<GCPKMSServer['corrupt']>[0]

  const sa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const saPrivatePEM = sa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  const saEmail = 'signer@countersign-test.iam.gserviceaccount.com'
  const user = {
    client_id: 'user-client.apps.googleusercontent.com',
    client_secret: `secret-${randomBytes(8).toString('hex')}`,
    refresh_token: `1//refresh-${randomBytes(12).toString('hex')}`,
  }

  const issueToken = (lifetime = 3600): string => {
    const t = `ya29.${randomBytes(24).toString('base64url')}`
    tokens.set(t, Date.now() + lifetime * 1000)
    return t
  }
  const tokenResponse = (res: ServerResponse, headers: Record<string, string> = {}) =>
    send(res, 200, { access_token: issueToken(), expires_in: 3599, token_type: 'Bearer' }, headers)

  let url = ''
  const tokenURL = () => `${url}/token`

  const newVersion = (key: CryptoKey, algorithm: string, state: Version['state']): Version => {
    const spec = ALGORITHMS[algorithm]
    if (!spec) throw new Error(`unknown algorithm ${algorithm}`)
    const { privateKey, publicKey } = spec.gen()
    const v: Version = {
      name: `${key.name}/cryptoKeyVersions/${key.versions.length + 1}`,
      algorithm,
      state,
      privateKey,
      publicKeyPEM: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      pendingLists: state === 'PENDING_GENERATION' ? server.pendingLists : 0,
    }
    key.versions.push(v)
    return v
  }
  const versionJSON = (v: Version) => ({
    name: v.name,
    state: v.state,
    protectionLevel: 'SOFTWARE',
    algorithm: v.algorithm,
    generateTime: '2024-01-01T00:00:00Z',
  })
  const keyJSON = (k: CryptoKey) => ({
    name: k.name,
    purpose: k.purpose,
    createTime: '2024-01-01T00:00:00Z',
    versionTemplate: { protectionLevel: 'SOFTWARE', algorithm: k.algorithm },
  })
  const findVersion = (name: string) => {
    const keyName = name.replace(/\/cryptoKeyVersions\/[^/]+$/, '')
    return keys.get(keyName)?.versions.find((v) => v.name === name)
  }

  function verifyAssertion(assertion: string): boolean {
    const parts = assertion.split('.')
    if (parts.length !== 3) return false
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString())
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString())
    if (header.alg !== 'RS256' || header.kid !== 'sa-key-1') return false
    const v = createVerify('RSA-SHA256')
    v.update(`${parts[0]}.${parts[1]}`)
    if (!v.verify(sa.publicKey, Buffer.from(parts[2]!, 'base64url'))) return false
    const now = Math.floor(Date.now() / 1000)
    return (
      claims.iss === saEmail &&
      claims.aud === tokenURL() &&
      claims.scope === 'https://www.googleapis.com/auth/cloud-platform' &&
      claims.iat <= now + 60 &&
      claims.exp > now &&
      claims.exp - claims.iat <= 3600
    )
  }

  async function handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req)
    tokenRequests.push(body)
    if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') {
      return send(res, 400, { error: 'invalid_request', error_description: 'bad content type' })
    }
    const form = new URLSearchParams(body)
    const grant = form.get('grant_type')
    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      if (!verifyAssertion(form.get('assertion') ?? '')) {
        return send(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' })
      }
      return tokenResponse(res)
    }
    if (grant === 'refresh_token') {
      if (
        form.get('client_id') !== user.client_id ||
        form.get('client_secret') !== user.client_secret ||
        form.get('refresh_token') !== user.refresh_token
      ) {
        return send(res, 400, { error: 'invalid_grant', error_description: 'Bad Request' })
      }
      return tokenResponse(res)
    }
    send(res, 400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' })
  }

  function authorized(req: IncomingMessage): boolean {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')
    const exp = m ? tokens.get(m[1]!) : undefined
    return exp !== undefined && exp > Date.now()
  }

  async function handleKMS(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) {
    if (!authorized(req)) {
      return googleError(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.')
    }
    const rpc = /^(.*):([A-Za-z]+)$/.exec(path)
    const name = rpc ? rpc[1]! : path
    if (denied.some((p) => name.startsWith(p))) {
      return googleError(
        res,
        403,
        'PERMISSION_DENIED',
        `Permission 'cloudkms.cryptoKeyVersions.useToSign' denied on resource '${name}' (or it may not exist).`,
      )
    }
    const method = req.method ?? 'GET'
    // POST …/keyRings?keyRingId=R
    if (method === 'POST' && /^projects\/[^/]+\/locations\/[^/]+\/keyRings$/.test(path)) {
      const id = query.get('keyRingId') ?? ''
      const ring = `${path}/${id}`
      if (keyRings.has(ring)) return googleError(res, 409, 'ALREADY_EXISTS', `KeyRing ${ring} already exists.`)
      keyRings.add(ring)
      return send(res, 200, { name: ring, createTime: '2024-01-01T00:00:00Z' })
    }
    // POST …/keyRings/R/cryptoKeys?cryptoKeyId=K
    if (method === 'POST' && /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys$/.test(path)) {
      const ring = path.replace(/\/cryptoKeys$/, '')
      if (!keyRings.has(ring)) return googleError(res, 404, 'NOT_FOUND', `KeyRing ${ring} not found.`)
      const keyName = `${path}/${query.get('cryptoKeyId')}`
      if (keys.has(keyName)) return googleError(res, 409, 'ALREADY_EXISTS', `CryptoKey ${keyName} already exists.`)
      const body = JSON.parse(await readBody(req))
      const algorithm = body?.versionTemplate?.algorithm
      if (body?.purpose !== 'ASYMMETRIC_SIGN' || !ALGORITHMS[algorithm]) {
        return googleError(res, 400, 'INVALID_ARGUMENT', 'bad key spec')
      }
      const key: CryptoKey = { name: keyName, purpose: 'ASYMMETRIC_SIGN', algorithm, versions: [] }
      keys.set(keyName, key)
      newVersion(key, algorithm, 'PENDING_GENERATION')
      return send(res, 200, keyJSON(key))
    }
    if (method === 'POST' && rpc?.[2] === 'asymmetricSign') {
      const v = findVersion(name)
      if (!v) return googleError(res, 404, 'NOT_FOUND', `CryptoKeyVersion ${name} not found.`)
      if (v.state !== 'ENABLED') {
        return googleError(res, 400, 'FAILED_PRECONDITION', `${name} is not enabled, current state is: ${v.state}.`)
      }
      const body = JSON.parse(await readBody(req))
      const spec = ALGORITHMS[v.algorithm]!
      const fields = Object.keys(body.digest ?? {})
      if (fields.length !== 1 || fields[0] !== spec.hash) {
        return googleError(
          res,
          400,
          'INVALID_ARGUMENT',
          `The digest type does not match the key algorithm ${v.algorithm}.`,
        )
      }
      const digest = Buffer.from(body.digest[spec.hash], 'base64')
      if (digest.length !== createHash(spec.hash).digest().length) {
        return googleError(res, 400, 'INVALID_ARGUMENT', 'Digest has the wrong length.')
      }
      if (body.digestCrc32c !== undefined && Number(body.digestCrc32c) !== crc32cSlow(digest)) {
        return googleError(
          res,
          400,
          'INVALID_ARGUMENT',
          'The checksum in field digest_crc32c did not match the data in field digest.',
        )
      }
      const signature = Buffer.from(
        signDigest(v.privateKey, digest, { hash: spec.hash, padding: spec.pss ? 'pss' : 'pkcs1' }),
      )
      if (corruption === 'flip-signature') signature[signature.length - 1]! ^= 1
      let signatureCrc = crc32cSlow(signature)
      if (corruption === 'signature-crc') signatureCrc = (signatureCrc + 1) >>> 0
      return send(res, 200, {
        signature: signature.toString('base64'),
        signatureCrc32c: String(signatureCrc),
        verifiedDigestCrc32c: body.digestCrc32c !== undefined && corruption !== 'unverified-digest',
        name: corruption === 'other-name' ? `${name.replace(/\d+$/, '')}99` : name,
        protectionLevel: 'SOFTWARE',
      })
    }
    if (method !== 'GET') return googleError(res, 404, 'NOT_FOUND', 'no such method')
    if (path.endsWith('/publicKey')) {
      const v = findVersion(path.replace(/\/publicKey$/, ''))
      if (!v) return googleError(res, 404, 'NOT_FOUND', `CryptoKeyVersion ${path} not found.`)
      if (v.state === 'PENDING_GENERATION') return googleError(res, 400, 'FAILED_PRECONDITION', 'pending generation')
      return send(res, 200, {
        pem: v.publicKeyPEM,
        algorithm: v.algorithm,
        pemCrc32c: String(crc32cSlow(Buffer.from(v.publicKeyPEM))),
        name: v.name,
        protectionLevel: 'SOFTWARE',
      })
    }
    if (path.endsWith('/cryptoKeyVersions')) {
      const key = keys.get(path.replace(/\/cryptoKeyVersions$/, ''))
      if (!key) return googleError(res, 404, 'NOT_FOUND', `CryptoKey ${path} not found.`)
      for (const v of key.versions) {
        if (v.state === 'PENDING_GENERATION' && v.pendingLists-- <= 0) v.state = 'ENABLED'
      }
      let list = [...key.versions]
      const filter = query.get('filter')
      if (filter !== null) {
        if (filter !== 'state=ENABLED') return googleError(res, 400, 'INVALID_ARGUMENT', 'unsupported filter')
        list = list.filter((v) => v.state === 'ENABLED')
      }
      const orderBy = query.get('orderBy')
      if (orderBy !== null) {
        if (orderBy !== 'name desc') return googleError(res, 400, 'INVALID_ARGUMENT', 'unsupported orderBy')
        list.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0))
      }
      return send(res, 200, list.length ? { cryptoKeyVersions: list.map(versionJSON), totalSize: list.length } : {})
    }
    if (/\/cryptoKeyVersions\/[^/]+$/.test(path)) {
      const v = findVersion(path)
      return v
        ? send(res, 200, versionJSON(v))
        : googleError(res, 404, 'NOT_FOUND', `CryptoKeyVersion ${path} not found.`)
    }
    if (/\/cryptoKeys\/[^/]+$/.test(path)) {
      const k = keys.get(path)
      return k ? send(res, 200, keyJSON(k)) : googleError(res, 404, 'NOT_FOUND', `CryptoKey ${path} not found.`)
    }
    if (/\/keyRings\/[^/]+$/.test(path)) {
      return keyRings.has(path)
        ? send(res, 200, { name: path, createTime: '2024-01-01T00:00:00Z' })
        : googleError(res, 404, 'NOT_FOUND', `KeyRing ${path} not found.`)
    }
    googleError(res, 404, 'NOT_FOUND', 'not found')
  }

  const http = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x')
    const done = () => requests.push(`${req.method} ${u.pathname} ${res.statusCode}`)
    res.on('finish', done)
    const fault = faults.find((f) => f.times > 0 && (f.path === undefined || u.pathname.includes(f.path)))
    if (fault) {
      fault.times--
      const status = fault.status === 429 ? 'RESOURCE_EXHAUSTED' : fault.status === 503 ? 'UNAVAILABLE' : 'INTERNAL'
      return googleError(res, fault.status, status, 'Quota exceeded for quota metric (throttled by the test server)')
    }
    const fail = (e: unknown) => {
      if (!res.headersSent) googleError(res, 500, 'INTERNAL', String(e))
    }
    if (req.method === 'POST' && u.pathname === '/token') return void handleToken(req, res).catch(fail)
    if (u.pathname === '/computeMetadata/v1/instance/service-accounts/default/token') {
      if (req.headers['metadata-flavor'] !== 'Google') return send(res, 403, { error: 'Missing Metadata-Flavor' })
      return tokenResponse(res, { 'Metadata-Flavor': 'Google' })
    }
    if (u.pathname.startsWith('/v1/')) {
      return void handleKMS(req, res, decodeURIComponent(u.pathname.slice(4)), u.searchParams).catch(fail)
    }
    googleError(res, 404, 'NOT_FOUND', 'not found')
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const port = (http.address() as AddressInfo).port
  url = `http://127.0.0.1:${port}`

  const server: GCPKMSServer = {
    url,
    host: `127.0.0.1:${port}`,
    tokenURL: tokenURL(),
    serviceAccountJSON: JSON.stringify({
      type: 'service_account',
      project_id: 'countersign-test',
      private_key_id: 'sa-key-1',
      private_key: saPrivatePEM,
      client_email: saEmail,
      client_id: '1234567890',
      token_uri: tokenURL(),
    }),
    authorizedUserJSON: JSON.stringify({ type: 'authorized_user', ...user, token_uri: tokenURL() }),
    serviceAccountPrivateKeyPEM: saPrivatePEM,
    authorizedUserSecrets: [user.client_secret, user.refresh_token],
    issueToken,
    revokeAll: () => tokens.clear(),
    addKey(cryptoKeyName, algorithm = 'EC_SIGN_P256_SHA256', purpose = 'ASYMMETRIC_SIGN') {
      keyRings.add(cryptoKeyName.replace(/\/cryptoKeys\/[^/]+$/, ''))
      const key: CryptoKey = { name: cryptoKeyName, purpose, algorithm, versions: [] }
      keys.set(cryptoKeyName, key)
      return newVersion(key, algorithm, 'ENABLED').name
    },
    addVersion(cryptoKeyName, algorithm, state = 'ENABLED') {
      const key = keys.get(cryptoKeyName)!
      return newVersion(key, algorithm ?? key.algorithm, state).name
    },
    setState(versionName, state) {
      findVersion(versionName)!.state = state
    },
    publicKeyPEM: (versionName) => findVersion(versionName)!.publicKeyPEM,
    fault: (f) => {
      // A new fault for a path replaces what is left of the previous one (times: 0 clears it).
      for (let i = faults.length - 1; i >= 0; i--) if (faults[i]!.path === f.path) faults.splice(i, 1)
      faults.unshift({ ...f })
    },
    deny: (prefix) => denied.push(prefix),
    corrupt: (kind) => {
      corruption = kind
    },
    pendingLists: 1,
    requests,
    tokenRequests,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve())
        http.closeAllConnections()
      }),
  }
  return server
}

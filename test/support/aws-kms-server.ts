/**
 * An in-process AWS KMS (JSON 1.1, `X-Amz-Target: TrentService.*`) and STS (`AssumeRoleWithWebIdentity`) for tests.
 * It holds real keys (node:crypto), signs the digests clients send (ECDSA with @noble/curves on the exported scalar,
 * RSA PKCS#1 v1.5 / PSS encoded here and applied with raw RSA), and checks SigV4 independently of the client's
 * signer (`aws-sigv4-verify.ts` recomputes canonical request, string to sign and HMAC chain with node:crypto): bad
 * signatures, wrong region or service, unknown keys, missing session tokens and stale X-Amz-Date are refused with
 * the errors AWS sends. Faults: throttling (400 ThrottlingException), 500s, access denied.
 */
import {
  constants,
  createHash,
  generateKeyPairSync,
  type KeyObject,
  privateEncrypt,
  randomBytes,
  randomUUID,
} from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer as createHTTPServer, type Server, type ServerResponse } from 'node:http'
import { createServer as createHTTPSServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { p256, p384, p521 } from '@noble/curves/nist.js'
import { type SigV4Credential, verifySigV4 } from './aws-sigv4-verify.js'
import { listenOnLoopback, withBody } from './loopback-server.js'
import { makeSelfSignedCert } from './tls-cert.js'

export type KeySpec = 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'ECC_NIST_P521' | 'RSA_2048' | 'RSA_3072' | 'RSA_4096'

export interface ServerKey {
  readonly keyId: string
  readonly arn: string
  readonly spec: KeySpec
  readonly usage: 'SIGN_VERIFY' | 'ENCRYPT_DECRYPT'
  readonly signingAlgorithms: string[]
  readonly privateKey: KeyObject
  readonly spki: Buffer
}

export type Credential = SigV4Credential

export interface LoggedRequest {
  readonly target: string
  readonly status: number
  readonly error?: string
  readonly accessKeyId?: string
  readonly keyId?: string
  readonly body: Record<string, unknown>
}

export interface AWSKMSServer {
  /** `http(s)://127.0.0.1:PORT` */
  readonly url: string
  /** `127.0.0.1:PORT` (for `awskms://HOST/…` with `tls`). */
  readonly host: string
  readonly region: string
  readonly account: string
  /** A long-term credential the server accepts. */
  readonly credential: Credential
  /** TLS certificate file (with `tls`). */
  readonly caFile?: string
  readonly keys: Map<string, ServerKey>
  readonly aliases: Map<string, string>
  readonly requests: LoggedRequest[]
  /** STS AssumeRoleWithWebIdentity calls served (successful or not). */
  readonly stsCalls: { roleArn: string; roleSessionName: string; ok: boolean }[]
  addKey(
    spec: KeySpec,
    options?: { alias?: string; signingAlgorithms?: string[]; usage?: ServerKey['usage'] },
  ): ServerKey
  /** Accept another credential (e.g. a profile's). */
  addCredential(credential: Credential): void
  /** The next `n` KMS requests answer 400 ThrottlingException. */
  throttle(n: number): void
  /** The next `n` KMS requests answer 500 KMSInternalException. */
  fail(n: number): void
  /** KMS requests signed with this access key are denied (AccessDeniedException). */
  deny(accessKeyId: string): void
  /** Web identity: the token STS accepts, the role, and the lifetime of issued credentials. */
  webIdentity: { token: string; roleArn: string; durationSeconds: number }
  /** The server's clock (for X-Amz-Date checks). */
  now: () => Date
  close(): Promise<void>
}

const DEFAULT_ALGORITHMS: Record<KeySpec, string[]> = {
  ECC_NIST_P256: ['ECDSA_SHA_256'],
  ECC_NIST_P384: ['ECDSA_SHA_384'],
  ECC_NIST_P521: ['ECDSA_SHA_512'],
  RSA_2048: RSA_ALGORITHMS(),
  RSA_3072: RSA_ALGORITHMS(),
  RSA_4096: RSA_ALGORITHMS(),
}

function RSA_ALGORITHMS(): string[] {
  return [
    'RSASSA_PKCS1_V1_5_SHA_256',
    'RSASSA_PKCS1_V1_5_SHA_384',
    'RSASSA_PKCS1_V1_5_SHA_512',
    'RSASSA_PSS_SHA_256',
    'RSASSA_PSS_SHA_384',
    'RSASSA_PSS_SHA_512',
  ]
}

const HASH_OF: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  ECDSA_SHA_256: 'sha256',
  ECDSA_SHA_384: 'sha384',
  ECDSA_SHA_512: 'sha512',
  RSASSA_PKCS1_V1_5_SHA_256: 'sha256',
  RSASSA_PKCS1_V1_5_SHA_384: 'sha384',
  RSASSA_PKCS1_V1_5_SHA_512: 'sha512',
  RSASSA_PSS_SHA_256: 'sha256',
  RSASSA_PSS_SHA_384: 'sha384',
  RSASSA_PSS_SHA_512: 'sha512',
}

// DER DigestInfo prefixes (RFC 8017 §9.2 note 1).
const DIGEST_INFO: Record<string, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
}

export async function startAWSKMSServer(
  options: { region?: string; tls?: boolean; account?: string } = {},
): Promise<AWSKMSServer> {
  const region = options.region ?? 'us-east-1'
  const account = options.account ?? '111122223333'
  const credential: Credential = {
    accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
  }
  const credentials = new Map<string, Credential>([[credential.accessKeyId, credential]])
  const keys = new Map<string, ServerKey>()
  const aliases = new Map<string, string>()
  const requests: LoggedRequest[] = []
  const stsCalls: AWSKMSServer['stsCalls'] = []
  const denied = new Set<string>()
  let throttled = 0
  let failing = 0

  const state = {
    webIdentity: {
      token: `eyJ.${randomBytes(24).toString('base64url')}.sig`,
      roleArn: `arn:aws:iam::${account}:role/signer`,
      durationSeconds: 3600,
    },
    now: () => new Date(),
  }

  function addKey(
    spec: KeySpec,
    keyOptions: { alias?: string; signingAlgorithms?: string[]; usage?: ServerKey['usage'] } = {},
  ): ServerKey {
    const { privateKey, publicKey } = spec.startsWith('RSA')
      ? generateKeyPairSync('rsa', { modulusLength: Number(spec.slice(4)) })
      : generateKeyPairSync('ec', { namedCurve: `P-${spec.slice(10)}` })
    const keyId = randomUUID()
    const key: ServerKey = {
      keyId,
      arn: `arn:aws:kms:${region}:${account}:key/${keyId}`,
      spec,
      usage: keyOptions.usage ?? 'SIGN_VERIFY',
      signingAlgorithms: keyOptions.signingAlgorithms ?? DEFAULT_ALGORITHMS[spec],
      privateKey,
      spki: publicKey.export({ type: 'spki', format: 'der' }),
    }
    keys.set(keyId, key)
    if (keyOptions.alias !== undefined) aliases.set(keyOptions.alias, keyId)
    return key
  }

  /** KeyId as AWS resolves it: key id, key ARN, alias name or alias ARN (of this region and account). */
  function resolveKey(id: unknown): ServerKey | undefined {
    if (typeof id !== 'string') return undefined
    const arnPrefix = `arn:aws:kms:${region}:${account}:`
    let name = id
    if (id.startsWith('arn:')) {
      if (!id.startsWith(arnPrefix)) return undefined
      name = id.slice(arnPrefix.length)
      if (name.startsWith('key/')) name = name.slice(4)
    }
    if (name.startsWith('alias/')) {
      const target = aliases.get(name)
      return target === undefined ? undefined : keys.get(target)
    }
    return keys.get(name)
  }

  function signDigest(key: ServerKey, algorithm: string, digest: Buffer): Buffer {
    const hash = HASH_OF[algorithm]!
    if (algorithm.startsWith('ECDSA')) {
      const d = Buffer.from(key.privateKey.export({ format: 'jwk' }).d!, 'base64url')
      const curve = key.spec === 'ECC_NIST_P256' ? p256 : key.spec === 'ECC_NIST_P384' ? p384 : p521
      return Buffer.from(curve.sign(digest, d, { prehash: false, format: 'der' }))
    }
    const bits = Number(key.spec.slice(4))
    const em = algorithm.startsWith('RSASSA_PSS') ? emsaPSS(digest, hash, bits - 1) : emsaPKCS1(digest, hash, bits / 8)
    return privateEncrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, em)
  }

  function describe(key: ServerKey) {
    return {
      KeyId: key.arn,
      PublicKey: key.spki.toString('base64'),
      CustomerMasterKeySpec: key.spec,
      KeySpec: key.spec,
      KeyUsage: key.usage,
      ...(key.usage === 'SIGN_VERIFY'
        ? { SigningAlgorithms: key.signingAlgorithms }
        : { EncryptionAlgorithms: ['RSAES_OAEP_SHA_256'] }),
    }
  }

  function kms(target: string, input: Record<string, unknown>): [number, Record<string, unknown>] {
    const err = (type: string, message: string): [number, Record<string, unknown>] => [400, { __type: type, message }]
    switch (target) {
      case 'TrentService.GetPublicKey':
      case 'TrentService.DescribeKey': {
        const key = resolveKey(input.KeyId)
        if (!key) return err('NotFoundException', `Key '${String(input.KeyId)}' does not exist`)
        if (target.endsWith('DescribeKey')) {
          const d = describe(key)
          return [
            200,
            {
              KeyMetadata: {
                KeyId: key.keyId,
                Arn: key.arn,
                KeyState: 'Enabled',
                KeyUsage: d.KeyUsage,
                KeySpec: key.spec,
                SigningAlgorithms: key.signingAlgorithms,
              },
            },
          ]
        }
        return [200, describe(key)]
      }
      case 'TrentService.Sign': {
        const key = resolveKey(input.KeyId)
        if (!key) return err('NotFoundException', `Key '${String(input.KeyId)}' does not exist`)
        const algorithm = String(input.SigningAlgorithm)
        if (key.usage !== 'SIGN_VERIFY' || !key.signingAlgorithms.includes(algorithm)) {
          return err('InvalidKeyUsageException', `${algorithm} is not supported for this key`)
        }
        const message = Buffer.from(String(input.Message ?? ''), 'base64')
        const hash = HASH_OF[algorithm]!
        let digest: Buffer
        if (input.MessageType === 'DIGEST') {
          if (message.length !== createHash(hash).digest().length) {
            return err('ValidationException', 'Digest is invalid length for algorithm')
          }
          digest = message
        } else if (input.MessageType === undefined || input.MessageType === 'RAW') {
          digest = createHash(hash).update(message).digest()
        } else {
          return err('ValidationException', 'MessageType must be RAW or DIGEST')
        }
        return [
          200,
          {
            KeyId: key.arn,
            Signature: signDigest(key, algorithm, digest).toString('base64'),
            SigningAlgorithm: algorithm,
          },
        ]
      }
      case 'TrentService.CreateKey': {
        const spec = (input.KeySpec ?? input.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT') as KeySpec
        if (!(spec in DEFAULT_ALGORITHMS)) return err('ValidationException', `unsupported KeySpec ${spec}`)
        if (input.KeyUsage !== 'SIGN_VERIFY') return err('ValidationException', 'KeyUsage must be SIGN_VERIFY here')
        const key = addKey(spec)
        return [
          200,
          {
            KeyMetadata: {
              KeyId: key.keyId,
              Arn: key.arn,
              KeySpec: spec,
              KeyUsage: 'SIGN_VERIFY',
              Description: input.Description,
              SigningAlgorithms: key.signingAlgorithms,
            },
          },
        ]
      }
      case 'TrentService.CreateAlias': {
        const name = String(input.AliasName)
        if (!name.startsWith('alias/')) return err('ValidationException', 'Alias must start with alias/')
        if (aliases.has(name)) return err('AlreadyExistsException', `An alias with the name ${name} already exists`)
        const key = resolveKey(input.TargetKeyId)
        if (!key) return err('NotFoundException', 'target key does not exist')
        aliases.set(name, key.keyId)
        return [200, {}]
      }
      default:
        return err('UnknownOperationException', '')
    }
  }

  function sts(res: ServerResponse, body: Buffer) {
    const form = new URLSearchParams(body.toString('utf8'))
    const xmlError = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'content-type': 'text/xml' })
      res.end(
        `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      )
    }
    const roleArn = form.get('RoleArn') ?? ''
    const roleSessionName = form.get('RoleSessionName') ?? ''
    if (form.get('Action') !== 'AssumeRoleWithWebIdentity' || form.get('Version') !== '2011-06-15') {
      stsCalls.push({ roleArn, roleSessionName, ok: false })
      return xmlError(400, 'InvalidAction', 'Could not find operation')
    }
    if (form.get('WebIdentityToken') !== state.webIdentity.token) {
      stsCalls.push({ roleArn, roleSessionName, ok: false })
      return xmlError(400, 'InvalidIdentityToken', "Couldn't retrieve verification key from your identity provider")
    }
    if (roleArn !== state.webIdentity.roleArn) {
      stsCalls.push({ roleArn, roleSessionName, ok: false })
      return xmlError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity')
    }
    stsCalls.push({ roleArn, roleSessionName, ok: true })
    const temp: Credential = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `IQoJb3JpZ2luX2Vj&${randomBytes(40).toString('base64')}`,
    }
    credentials.set(temp.accessKeyId, temp)
    const expiration = new Date(state.now().getTime() + state.webIdentity.durationSeconds * 1000).toISOString()
    res.writeHead(200, { 'content-type': 'text/xml' })
    res.end(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>repo:example/app:ref:refs/heads/main</SubjectFromWebIdentityToken>
    <AssumedRoleUser><Arn>${roleArn.replace(':iam:', ':sts:').replace(':role/', ':assumed-role/')}/${roleSessionName}</Arn><AssumedRoleId>AROA:${roleSessionName}</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <SessionToken>${temp.sessionToken!.replace(/&/g, '&amp;')}</SessionToken>
      <SecretAccessKey>${temp.secretAccessKey}</SecretAccessKey>
      <Expiration>${expiration}</Expiration>
      <AccessKeyId>${temp.accessKeyId}</AccessKeyId>
    </Credentials>
    <Audience>sts.amazonaws.com</Audience>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`)
  }

  const handler = withBody((req, res, body) => {
    const target = String(req.headers['x-amz-target'] ?? '')
    if (req.method === 'POST' && target === '' && /x-www-form-urlencoded/.test(String(req.headers['content-type']))) {
      return sts(res, body)
    }
    let input: Record<string, unknown> = {}
    const send = (status: number, doc: Record<string, unknown>, accessKeyId?: string) => {
      requests.push({
        target,
        status,
        ...(typeof doc.__type === 'string' ? { error: doc.__type } : {}),
        ...(accessKeyId !== undefined ? { accessKeyId } : {}),
        ...(typeof input.KeyId === 'string' ? { keyId: input.KeyId } : {}),
        body: input,
      })
      const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1' }
      if (typeof doc.__type === 'string') headers['x-amzn-errortype'] = `${doc.__type}:`
      res.writeHead(status, headers)
      res.end(JSON.stringify(doc))
    }
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== '/') {
      return send(404, { __type: 'UnknownOperationException', message: '' })
    }
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1') {
      return send(400, { __type: 'SerializationException', message: 'wrong content type' })
    }
    try {
      input = JSON.parse(body.toString('utf8'))
    } catch {
      return send(400, { __type: 'SerializationException', message: 'not JSON' })
    }
    const auth = verifySigV4(req, body, { service: 'kms', region, credentials, now: state.now, protocol: 'json' })
    if (!auth.ok) return send(400, { __type: auth.code, message: auth.message })
    if (throttled > 0) {
      throttled--
      return send(400, { __type: 'ThrottlingException', message: 'Rate exceeded' }, auth.accessKeyId)
    }
    if (failing > 0) {
      failing--
      return send(500, { __type: 'KMSInternalException', message: 'internal error' }, auth.accessKeyId)
    }
    if (denied.has(auth.accessKeyId)) {
      const action = target.replace('TrentService.', 'kms:')
      return send(
        400,
        {
          __type: 'AccessDeniedException',
          message: `User: arn:aws:iam::${account}:user/ci is not authorized to perform: ${action} on resource: ${String(input.KeyId)} because no identity-based policy allows the ${action} action`,
        },
        auth.accessKeyId,
      )
    }
    let answer: [number, Record<string, unknown>]
    try {
      answer = kms(target, input)
    } catch (e) {
      answer = [500, { __type: 'KMSInternalException', message: String(e) }]
    }
    send(answer[0], answer[1], auth.accessKeyId)
  })

  let server: Server
  let caFile: string | undefined
  let dir: string | undefined
  if (options.tls) {
    dir = mkdtempSync(join(tmpdir(), 'aws-kms-'))
    const tls = makeSelfSignedCert(dir, { commonName: 'aws-kms-test' })
    caFile = tls.cert
    server = createHTTPSServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, handler)
  } else {
    server = createHTTPServer(handler)
  }
  const { host, close } = await listenOnLoopback(server)
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}`,
    host,
    region,
    account,
    credential,
    ...(caFile !== undefined ? { caFile } : {}),
    keys,
    aliases,
    requests,
    stsCalls,
    addKey,
    addCredential: (c) => credentials.set(c.accessKeyId, c),
    throttle: (n) => {
      throttled = n
    },
    fail: (n) => {
      failing = n
    },
    deny: (id) => denied.add(id),
    get webIdentity() {
      return state.webIdentity
    },
    set webIdentity(v) {
      state.webIdentity = v
    },
    get now() {
      return state.now
    },
    set now(v) {
      state.now = v
    },
    close: async () => {
      await close()
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** EMSA-PKCS1-v1_5 (RFC 8017 §9.2) of a digest, `k` bytes long. */
function emsaPKCS1(digest: Buffer, hash: string, k: number): Buffer {
  const t = Buffer.concat([Buffer.from(DIGEST_INFO[hash]!, 'hex'), digest])
  return Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(k - t.length - 3, 0xff), Buffer.from([0]), t])
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) of a digest, salt length = hash length, MGF1 with the same hash. */
function emsaPSS(mHash: Buffer, hash: string, emBits: number): Buffer {
  const hLen = mHash.length
  const emLen = Math.ceil(emBits / 8)
  const salt = randomBytes(hLen)
  const h = createHash(hash)
    .update(Buffer.concat([Buffer.alloc(8), mHash, salt]))
    .digest()
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.from([1]), salt])
  const mask = mgf1(h, emLen - hLen - 1, hash)
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!
  db[0]! &= 0xff >> (8 * emLen - emBits)
  // Key sizes here are multiples of 8 bits, so EM already has the modulus length.
  return Buffer.concat([db, h, Buffer.from([0xbc])])
}

function mgf1(seed: Buffer, length: number, hash: string): Buffer {
  const out: Buffer[] = []
  for (let c = 0; out.length * seed.length < length; c++) {
    const counter = Buffer.alloc(4)
    counter.writeUInt32BE(c)
    out.push(
      createHash(hash)
        .update(Buffer.concat([seed, counter]))
        .digest(),
    )
  }
  return Buffer.concat(out).subarray(0, length)
}

// The awskms provider against an in-process KMS that holds real keys and checks SigV4 itself: key forms, signing
// schemes (ECDSA P-256/P-384, RSA PKCS#1 v1.5 and PSS), service errors, throttling, request authentication, hostile
// answers and key creation.
import { constants, createHash, createPublicKey, verify } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isCountersignError } from '../../../src/errors.js'
import { createAWSKMSProvider } from '../../../src/kms/aws/provider.js'
import { awsKMSProviderFromEnvironment } from '../../../src/node/aws-credentials.js'
import { createNodeFetch } from '../../../src/node/fetch.js'
import { type AWSKMSServer, startAWSKMSServer } from '../../support/aws-kms-server.js'

let kms: AWSKMSServer
const noSleep = { sleep: async () => {} }
const message = new TextEncoder().encode('payload to sign')

beforeAll(async () => {
  kms = await startAWSKMSServer({ region: 'eu-central-1' })
})
afterAll(() => kms?.close())

function provider(extra: Parameters<typeof createAWSKMSProvider>[0] = {}) {
  return createAWSKMSProvider({
    credentials: kms.credential,
    region: kms.region,
    endpoint: kms.url,
    ...noSleep,
    ...extra,
  })
}

function nodeVerify(spki: Uint8Array, hash: string, sig: Uint8Array, pss = false): boolean {
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
  return verify(hash, message, pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : key, sig)
}

/** Every string reachable from an error: message, details, causes. */
function errorText(e: unknown): string {
  const parts: string[] = []
  let cur: unknown = e
  for (let i = 0; cur && i < 10; i++) {
    const err = cur as { message?: unknown; details?: unknown; stack?: unknown; cause?: unknown }
    parts.push(String(err.message), String(err.stack), JSON.stringify(err.details ?? null))
    cur = err.cause
  }
  return parts.join('\n')
}

describe('signing schemes', () => {
  it('P-256 key by alias: ecdsa-p256-sha256, SHA-256 digest sent, DER signature that verifies', async () => {
    const key = kms.addKey('ECC_NIST_P256', { alias: 'alias/p256' })
    const aws = provider()
    const signer = await aws.createSigner('awskms:///alias/p256')
    expect(signer.algorithm).toBe('ecdsa-p256-sha256')
    expect(signer.uri).toBe('awskms:///alias/p256')
    const pub = await signer.publicKey()
    expect(Buffer.from(pub.spki).equals(key.spki)).toBe(true)
    expect(await signer.keyMaterial()).toMatchObject({ type: 'public-key', spki: pub.spki })
    const sig = await signer.sign(message)
    expect(sig[0]).toBe(0x30) // DER SEQUENCE
    expect(nodeVerify(pub.spki, 'sha256', sig)).toBe(true)
    const sign = kms.requests.filter((r) => r.target === 'TrentService.Sign').at(-1)!
    expect(sign.body).toEqual({
      KeyId: 'alias/p256',
      Message: createHash('sha256').update(message).digest('base64'),
      MessageType: 'DIGEST',
      SigningAlgorithm: 'ECDSA_SHA_256',
    })
    // The public key comes from one GetPublicKey: createSigner fetched it, sign() did not fetch it again.
    expect(kms.requests.filter((r) => r.keyId === 'alias/p256').map((r) => r.target)).toEqual([
      'TrentService.GetPublicKey',
      'TrentService.Sign',
    ])
    expect((await aws.publicKey('awskms:///alias/p256')).spki).toEqual(pub.spki)
  })

  it('P-384 key by key ARN: ecdsa-p384-sha384 with a SHA-384 digest; the region comes from the ARN', async () => {
    const key = kms.addKey('ECC_NIST_P384')
    // The configured region is wrong on purpose: the ARN names the key's region, which the signature must use.
    const signer = await provider({ region: 'us-west-2' }).createSigner(`awskms:///${key.arn}`)
    expect(signer.algorithm).toBe('ecdsa-p384-sha384')
    const sig = await signer.sign(message)
    expect(nodeVerify(key.spki, 'sha384', sig)).toBe(true)
  })

  it('RSA-2048 key with the AWS order of algorithms signs RSASSA_PKCS1_V1_5_SHA_256 (the first, as sigstore)', async () => {
    const key = kms.addKey('RSA_2048')
    const signer = await provider().createSigner(`awskms:///${key.keyId}`)
    expect(signer.algorithm).toBe('rsa-pkcs1v15-sha256')
    const sig = await signer.sign(message)
    expect(sig.length).toBe(256)
    expect(nodeVerify(key.spki, 'sha256', sig)).toBe(true)
    expect(kms.requests.at(-1)!.body.SigningAlgorithm).toBe('RSASSA_PKCS1_V1_5_SHA_256')
  })

  it('RSA-2048 key listing PSS first signs rsa-pss-sha256 (salt = hash length)', async () => {
    const key = kms.addKey('RSA_2048', { signingAlgorithms: ['RSASSA_PSS_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_256'] })
    const signer = await provider().createSigner(`awskms:///${key.keyId}`)
    expect(signer.algorithm).toBe('rsa-pss-sha256')
    const sig = await signer.sign(message)
    expect(nodeVerify(key.spki, 'sha256', sig, true)).toBe(true)
    expect(nodeVerify(key.spki, 'sha256', sig, false)).toBe(false)
  })

  it('alias ARN references resolve', async () => {
    kms.addKey('ECC_NIST_P256', { alias: 'alias/by-arn' })
    const uri = `awskms:///arn:aws:kms:${kms.region}:${kms.account}:alias/by-arn`
    const signer = await provider().createSigner(uri)
    expect(nodeVerify((await signer.publicKey()).spki, 'sha256', await signer.sign(message))).toBe(true)
  })

  it('keys countersign cannot use are refused with ERR_UNSUPPORTED_ALGORITHM', async () => {
    const enc = kms.addKey('RSA_2048', { usage: 'ENCRYPT_DECRYPT' })
    await expect(provider().createSigner(`awskms:///${enc.keyId}`)).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_ALGORITHM',
    })
    // A P-256 key whose first algorithm is not ECDSA with SHA-256 does not fit our scheme names.
    const odd = kms.addKey('ECC_NIST_P256', { signingAlgorithms: ['ECDSA_SHA_384'] })
    await expect(provider().createSigner(`awskms:///${odd.keyId}`)).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_ALGORITHM',
    })
  })
})

describe('service errors', () => {
  it('an unknown key is ERR_KMS with the AWS error type, status and provider', async () => {
    const e = await provider()
      .createSigner('awskms:///alias/missing')
      .catch((x) => x)
    expect(isCountersignError(e, 'ERR_KMS')).toBe(true)
    expect(e.details).toMatchObject({ provider: 'aws', status: 400, awsError: 'NotFoundException' })
    expect(e.message).toContain('NotFoundException')
  })

  it('access denied is ERR_KMS and no secret (secret key, session token) appears anywhere in the error', async () => {
    const temp = {
      accessKeyId: 'ASIADENIED0000000001',
      secretAccessKey: 'denied-secret-access-key-value-0123456789',
      sessionToken: 'denied-session-token-value-FwoGZXIvYXdzE',
    }
    kms.addCredential(temp)
    kms.deny(temp.accessKeyId)
    kms.addKey('ECC_NIST_P256', { alias: 'alias/denied' })
    const e = await provider({ credentials: temp })
      .createSigner('awskms:///alias/denied')
      .catch((x) => x)
    expect(e).toMatchObject({
      code: 'ERR_KMS',
      details: { provider: 'aws', status: 400, awsError: 'AccessDeniedException' },
    })
    expect(e.message).toContain('not authorized to perform: kms:GetPublicKey')
    const text = errorText(e)
    expect(text).not.toContain(temp.secretAccessKey)
    expect(text).not.toContain(temp.sessionToken)
  })

  it('throttling (400 ThrottlingException) is retried with a fresh signature, then reported', async () => {
    kms.addKey('ECC_NIST_P256', { alias: 'alias/throttled' })
    const signer = await provider().createSigner('awskms:///alias/throttled')
    kms.throttle(2)
    const before = kms.requests.length
    const sig = await signer.sign(message)
    expect(nodeVerify((await signer.publicKey()).spki, 'sha256', sig)).toBe(true)
    expect(kms.requests.slice(before).map((r) => r.error ?? r.status)).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      200,
    ])
    kms.throttle(10)
    const limited = await provider({ retry: { attempts: 2 } })
      .createSigner('awskms:///alias/throttled')
      .catch((x) => x)
    expect(limited).toMatchObject({
      code: 'ERR_KMS',
      details: { provider: 'aws', status: 400, awsError: 'ThrottlingException', retryable: true },
    })
    kms.throttle(0)
  })

  it('5xx answers are retried by the service HTTP helper, then reported with the provider', async () => {
    kms.addKey('ECC_NIST_P256', { alias: 'alias/flaky' })
    kms.fail(2)
    await expect(provider().publicKey('awskms:///alias/flaky')).resolves.toMatchObject({ algorithm: 'ecdsa-p256' })
    kms.fail(10)
    await expect(provider({ retry: { attempts: 1 } }).publicKey('awskms:///alias/flaky')).rejects.toMatchObject({
      code: 'ERR_KMS',
      details: { provider: 'aws', status: 500 },
    })
    kms.fail(0)
  })
})

describe('request authentication (SigV4 checked by the server)', () => {
  it.each([
    [
      'a wrong secret key',
      { credentials: () => ({ ...kms.credential, secretAccessKey: 'wrong' }) },
      'InvalidSignatureException',
    ],
    [
      'an unknown access key',
      { credentials: () => ({ accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' }) },
      'UnrecognizedClientException',
    ],
    ['the wrong region', { region: () => 'us-west-2' }, 'InvalidSignatureException'],
    ['a stale X-Amz-Date', { now: () => () => new Date(Date.now() - 20 * 60_000) }, 'InvalidSignatureException'],
  ] as const)('refuses %s', async (_, override, awsError) => {
    kms.addKey('ECC_NIST_P256', { alias: `alias/auth-${awsError}-${Math.random()}` })
    const options = Object.fromEntries(Object.entries(override).map(([k, f]) => [k, (f as () => unknown)()]))
    const e = await provider(options)
      .publicKey(`awskms:///${[...kms.aliases.keys()].at(-1)}`)
      .catch((x) => x)
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { provider: 'aws', awsError } })
  })

  it('temporary credentials must carry their session token', async () => {
    const temp = { accessKeyId: 'ASIATEMP000000000001', secretAccessKey: 'temp-secret', sessionToken: 'temp-token' }
    kms.addCredential(temp)
    kms.addKey('ECC_NIST_P256', { alias: 'alias/temp' })
    await expect(provider({ credentials: temp }).publicKey('awskms:///alias/temp')).resolves.toBeDefined()
    const { sessionToken: _, ...withoutToken } = temp
    await expect(provider({ credentials: withoutToken }).publicKey('awskms:///alias/temp')).rejects.toMatchObject({
      details: { awsError: 'UnrecognizedClientException' },
    })
  })
})

describe('configuration', () => {
  it('reads credentials, region and AWS_ENDPOINT_URL_KMS from env', async () => {
    kms.addKey('ECC_NIST_P256', { alias: 'alias/env' })
    const aws = createAWSKMSProvider({
      env: {
        AWS_ACCESS_KEY_ID: kms.credential.accessKeyId,
        AWS_SECRET_ACCESS_KEY: kms.credential.secretAccessKey,
        AWS_DEFAULT_REGION: kms.region,
        AWS_ENDPOINT_URL_KMS: kms.url,
      },
      ...noSleep,
    })
    await expect(aws.publicKey('awskms:///alias/env')).resolves.toMatchObject({ algorithm: 'ecdsa-p256' })
  })

  it('without credentials or region: ERR_KMS naming what is missing', async () => {
    await expect(createAWSKMSProvider({ region: 'x' }).publicKey('awskms:///alias/a')).rejects.toMatchObject({
      code: 'ERR_KMS',
      details: { reason: 'no-credentials' },
    })
    await expect(
      createAWSKMSProvider({ credentials: kms.credential }).publicKey('awskms:///alias/a'),
    ).rejects.toMatchObject({ code: 'ERR_KMS', details: { reason: 'no-region' } })
    await expect(provider().publicKey('awskms:///nope')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
  })

  it('an endpoint in the URI is reached over https (cosign), trusting a CA or AWS_TLS_INSECURE_SKIP_VERIFY=1', async () => {
    const tls = await startAWSKMSServer({ region: 'us-east-1', tls: true })
    try {
      tls.addKey('ECC_NIST_P256', { alias: 'alias/tls' })
      const uri = `awskms://${tls.host}/alias/tls`
      const trusting = createAWSKMSProvider({
        credentials: tls.credential,
        region: tls.region,
        fetch: createNodeFetch({ caFile: tls.caFile!, proxy: false }),
      })
      const signer = await trusting.createSigner(uri)
      expect(nodeVerify((await signer.publicKey()).spki, 'sha256', await signer.sign(message))).toBe(true)
      // Untrusted certificate: a network error, not a silent downgrade to http.
      await expect(
        createAWSKMSProvider({ credentials: tls.credential, region: tls.region, retry: { attempts: 0 } }).publicKey(
          uri,
        ),
      ).rejects.toMatchObject({ code: 'ERR_NETWORK' })
      const env = {
        AWS_ACCESS_KEY_ID: tls.credential.accessKeyId,
        AWS_SECRET_ACCESS_KEY: tls.credential.secretAccessKey,
        AWS_REGION: tls.region,
        AWS_TLS_INSECURE_SKIP_VERIFY: '1',
        HOME: '/nonexistent',
      }
      await expect(awsKMSProviderFromEnvironment({ env }).publicKey(uri)).resolves.toMatchObject({
        algorithm: 'ecdsa-p256',
      })
    } finally {
      await tls.close()
    }
  })
})

describe('hostile answers', () => {
  const fake =
    (answer: (target: string) => { status?: number; body: string }) =>
    async (_url: RequestInfo | URL, init?: RequestInit) => {
      const target = new Headers(init?.headers).get('x-amz-target') ?? ''
      const { status = 200, body } = answer(target)
      return new Response(body, { status, headers: { 'content-type': 'application/x-amz-json-1.1' } })
    }
  const opts = { credentials: { accessKeyId: 'AKIA', secretAccessKey: 's' }, region: 'us-east-1', ...noSleep }
  const spki = () => kms.addKey('ECC_NIST_P256').spki.toString('base64')

  it.each([
    ['not JSON', () => '<html>', 'ERR_KMS'],
    ['a JSON array', () => '[]', 'ERR_KMS'],
    ['no public key', () => '{"SigningAlgorithms":["ECDSA_SHA_256"]}', 'ERR_KMS'],
    ['a public key that is not base64', () => '{"PublicKey":"%%%","SigningAlgorithms":["ECDSA_SHA_256"]}', 'ERR_KMS'],
    ['a public key that is not SPKI', () => '{"PublicKey":"AAAA","SigningAlgorithms":["ECDSA_SHA_256"]}', undefined],
    ['algorithms that are not strings', () => `{"PublicKey":"${spki()}","SigningAlgorithms":[1]}`, 'ERR_KMS'],
    [
      'an unknown algorithm',
      () => `{"PublicKey":"${spki()}","SigningAlgorithms":["SM2DSA"]}`,
      'ERR_UNSUPPORTED_ALGORITHM',
    ],
    ['a huge body', () => `{"x":"${'a'.repeat(400_000)}"}`, 'ERR_KMS'],
  ])('GetPublicKey answering %s fails with a coded error', async (_, body, code) => {
    const e = await createAWSKMSProvider({ ...opts, fetch: fake(() => ({ body: body() })) })
      .createSigner('awskms:///alias/x')
      .catch((x) => x)
    expect(e.name).toBe('CountersignError')
    if (code) expect(e.code).toBe(code)
  })

  it('a Sign answer that does not verify (or is not base64) is refused, never returned', async () => {
    const pub = spki()
    const other = await provider().createSigner(`awskms:///${kms.addKey('ECC_NIST_P256').keyId}`)
    const foreign = Buffer.from(await other.sign(message)).toString('base64')
    for (const signature of [foreign, '!!', '']) {
      const signer = await createAWSKMSProvider({
        ...opts,
        fetch: fake((t) => ({
          body: t.endsWith('Sign')
            ? JSON.stringify({ Signature: signature })
            : `{"PublicKey":"${pub}","SigningAlgorithms":["ECDSA_SHA_256"]}`,
        })),
      }).createSigner('awskms:///alias/x')
      await expect(signer.sign(message)).rejects.toMatchObject({
        code: 'ERR_KMS',
        details: { reason: 'invalid-signature' },
      })
    }
  })

  it('an error body that is not JSON still gives ERR_KMS with the status', async () => {
    const e = await createAWSKMSProvider({ ...opts, fetch: fake(() => ({ status: 403, body: '<html>denied</html>' })) })
      .publicKey('awskms:///alias/x')
      .catch((x) => x)
    expect(e).toMatchObject({ code: 'ERR_KMS', details: { provider: 'aws', status: 403 } })
  })
})

describe('createKey (generate-key-pair --kms)', () => {
  it('creates an ECC_NIST_P256 SIGN_VERIFY key and the alias, then finds it again without creating another', async () => {
    const aws = provider()
    const before = kms.keys.size
    const pub = await aws.createKey('awskms:///alias/generated')
    expect(pub.algorithm).toBe('ecdsa-p256')
    expect(kms.keys.size).toBe(before + 1)
    const create = kms.requests.find((r) => r.target === 'TrentService.CreateKey')!
    expect(create.body).toEqual({
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      Description: 'Created by Sigstore',
    })
    const alias = kms.requests.find((r) => r.target === 'TrentService.CreateAlias')!
    expect(alias.body).toMatchObject({ AliasName: 'alias/generated' })
    expect(Buffer.from(pub.spki).equals(kms.keys.get(kms.aliases.get('alias/generated')!)!.spki)).toBe(true)
    // Again: the existing key is returned.
    const again = await aws.createKey('awskms:///alias/generated')
    expect(again.spki).toEqual(pub.spki)
    expect(kms.keys.size).toBe(before + 1)
    // And it signs.
    const signer = await aws.createSigner('awskms:///alias/generated')
    expect(nodeVerify(pub.spki, 'sha256', await signer.sign(message))).toBe(true)
  })

  it('key spec by algorithm or explicitly; an alias ARN creates the alias by name', async () => {
    const aws = provider()
    expect((await aws.createKey('awskms:///alias/gen-384', { algorithm: 'ecdsa-p384-sha384' })).algorithm).toBe(
      'ecdsa-p384',
    )
    const rsa = await aws.createKey(`awskms:///arn:aws:kms:${kms.region}:${kms.account}:alias/gen-rsa`, {
      keySpec: 'RSA_3072',
    })
    expect(rsa).toMatchObject({ algorithm: 'rsa', rsaBits: 3072 })
    expect(kms.aliases.has('alias/gen-rsa')).toBe(true)
  })

  it('needs an alias reference; other failures than NotFound are not turned into a creation', async () => {
    await expect(provider().createKey('awskms:///1234abcd-12ab-34cd-56ef-1234567890ab')).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
    const before = kms.keys.size
    await expect(
      provider({ credentials: { ...kms.credential, secretAccessKey: 'wrong' } }).createKey('awskms:///alias/never'),
    ).rejects.toMatchObject({ code: 'ERR_KMS', details: { awsError: 'InvalidSignatureException' } })
    expect(kms.keys.size).toBe(before)
    await expect(provider().createKey('awskms:///alias/x', { keySpec: 'HMAC_256' as never })).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_ALGORITHM',
    })
  })
})

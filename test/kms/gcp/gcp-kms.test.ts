// The gcpkms:// provider against an in-process Cloud KMS: real keys and signatures, bearer tokens this server
// issued, CRC32C checks both ways, throttling, denial, missing keys, key creation and every credential source.
import { constants, createHash, createPublicKey, verify as nodeVerify } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parsePublicKey, publicKeyToPEM } from '../../../src/keys/index.js'
import { verifySignature } from '../../../src/keys/verify.js'
import { crc32c } from '../../../src/kms/gcp/crc32c.js'
import {
  createGCPCredentialsFromJSON,
  createGCPKMSProvider,
  createGCPMetadataCredentials,
  parseGCPKMSURI,
} from '../../../src/kms/gcp/index.js'
import { createGoogleDefaultCredentials, gcpKMSProviderFromEnvironment } from '../../../src/node/gcp-credentials.js'
import { crc32cSlow, type GCPKMSServer, startGCPKMSServer } from '../../support/gcp-kms-server.js'
import { recordProvokedErrors } from '../../support/provoked-errors.js'

let kms: GCPKMSServer
const RING = 'projects/countersign-test/locations/global/keyRings/release'
const noSleep = { sleep: async () => {} }
const provoked = recordProvokedErrors()
const { rejected } = provoked

beforeAll(async () => {
  kms = await startGCPKMSServer()
})
afterAll(async () => {
  // Nothing secret in any error this file provoked (messages, details, causes).
  const secrets = [kms.serviceAccountPrivateKeyPEM, ...kms.authorizedUserSecrets]
  provoked.expectNoSecrets(
    /ya29\.|Bearer ya/,
    secrets.map((s) => (s.length > 80 ? s.slice(40, 80) : s)),
  )
  await kms?.close()
})

function provider(extra: Parameters<typeof createGCPKMSProvider>[0] = {}) {
  return createGCPKMSProvider({ endpoint: kms.url, accessToken: kms.issueToken(), ...noSleep, ...extra })
}

describe('gcpkms:// references', () => {
  it('parses sigstore forms: with cryptoKeyVersions, with versions, and without a version', () => {
    const base = 'gcpkms://projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k'
    expect(parseGCPKMSURI(base)).toMatchObject({
      project: 'p',
      location: 'europe-west1',
      keyRing: 'r',
      cryptoKey: 'k',
      cryptoKeyName: 'projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k',
    })
    expect(parseGCPKMSURI(base).version).toBeUndefined()
    expect(parseGCPKMSURI(`${base}/cryptoKeyVersions/3`).version).toBe('3')
    expect(parseGCPKMSURI(`${base}/versions/4`).version).toBe('4')
  })

  it('rejects other shapes and path-changing segments with ERR_INVALID_INPUT', () => {
    for (const bad of [
      'gcpkms://projects/p/locations/l/keyRings/r',
      'gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/',
      'gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/other/1',
      'awskms://projects/p/locations/l/keyRings/r/cryptoKeys/k',
      'gcpkms://projects/../locations/l/keyRings/r/cryptoKeys/k',
      'gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k?x=1',
      'gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k#f',
    ]) {
      expect(() => parseGCPKMSURI(bad), bad).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
    }
  })

  it('CRC32C matches the standard check value and an independent bitwise implementation', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283)
    expect(crc32c(new Uint8Array())).toBe(0)
    const random = crypto.getRandomValues(new Uint8Array(1000))
    expect(crc32c(random)).toBe(crc32cSlow(random))
  })
})

describe('signing with Cloud KMS keys', () => {
  const cases = [
    ['EC_SIGN_P256_SHA256', 'ecdsa-p256-sha256', 'sha256', undefined],
    ['EC_SIGN_P384_SHA384', 'ecdsa-p384-sha384', 'sha384', undefined],
    ['RSA_SIGN_PKCS1_2048_SHA256', 'rsa-pkcs1v15-sha256', 'sha256', 'pkcs1v15'],
    ['RSA_SIGN_PSS_3072_SHA256', 'rsa-pss-sha256', 'sha256', 'pss'],
    ['RSA_SIGN_PKCS1_4096_SHA512', 'rsa-pkcs1v15-sha512', 'sha512', 'pkcs1v15'],
  ] as const
  for (const [gcpAlgorithm, algorithm, hash, padding] of cases) {
    it(`${gcpAlgorithm}: signatures verify with the exported PEM (ours and OpenSSL's verifier)`, async () => {
      const keyName = `${RING}/cryptoKeys/${gcpAlgorithm.toLowerCase()}`
      const version = kms.addKey(keyName, gcpAlgorithm)
      const signer = await provider().createSigner(`gcpkms://${keyName}`)
      expect(signer.algorithm).toBe(algorithm)
      const pem = publicKeyToPEM(await signer.publicKey())
      expect(createPublicKey(pem).export({ format: 'der', type: 'spki' })).toEqual(
        createPublicKey(kms.publicKeyPEM(version)).export({ format: 'der', type: 'spki' }),
      )
      const data = new TextEncoder().encode(`payload for ${gcpAlgorithm}`)
      const signature = await signer.sign(data)
      const key = parsePublicKey(pem)
      await expect(
        verifySignature(key, data, signature, { hash, ...(padding ? { rsaPadding: padding } : {}) }),
      ).resolves.toBe(true)
      const nodeKey = padding === 'pss' ? { key: pem, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : pem
      expect(nodeVerify(hash, data, nodeKey, signature)).toBe(true)
      // The request carried the digest (not the data) and a CRC32C the server checked.
      const material = await signer.keyMaterial()
      expect(material).toMatchObject({ type: 'public-key', spki: key.spki })
    })
  }

  it('an unpinned reference uses the first ENABLED version by name (sigstore); a pinned one that version', async () => {
    const keyName = `${RING}/cryptoKeys/rotating`
    const v1 = kms.addKey(keyName)
    const v2 = kms.addVersion(keyName)
    const v3 = kms.addVersion(keyName, undefined, 'DISABLED')
    const kmsProvider = provider()
    const latest = await kmsProvider.publicKey(`gcpkms://${keyName}`)
    expect(publicKeyToPEM(latest)).toBe(publicKeyToPEM(parsePublicKey(kms.publicKeyPEM(v2))))
    const pinned = await kmsProvider.publicKey(`gcpkms://${keyName}/versions/1`)
    expect(publicKeyToPEM(pinned)).toBe(publicKeyToPEM(parsePublicKey(kms.publicKeyPEM(v1))))
    // A signer pinned to the disabled version fails with Cloud KMS's own reason.
    const disabled = await kmsProvider.createSigner(`gcpkms://${keyName}/cryptoKeyVersions/3`)
    const e = await rejected(disabled.sign(new Uint8Array([1])))
    expect(e.details).toMatchObject({ provider: 'gcpkms', status: 400, reason: 'FAILED_PRECONDITION' })
    expect(v3).toMatch(/\/3$/)
    // Signatures from the retired version stay verifiable with its public key (rotation).
    const old = await kmsProvider.createSigner(`gcpkms://${keyName}/versions/1`)
    const data = new Uint8Array([7, 7, 7])
    const sig = await old.sign(data)
    await expect(verifySignature(pinned, data, sig)).resolves.toBe(true)
    await expect(verifySignature(latest, data, sig)).resolves.toBe(false)
  })

  it('refuses keys that cannot sign and algorithms sigstore does not support', async () => {
    kms.addKey(`${RING}/cryptoKeys/enc`, 'EC_SIGN_P256_SHA256', 'ENCRYPT_DECRYPT')
    kms.addKey(`${RING}/cryptoKeys/k1`, 'EC_SIGN_SECP256K1_SHA256')
    for (const name of ['enc', 'k1']) {
      const e = await rejected(provider().createSigner(`gcpkms://${RING}/cryptoKeys/${name}`))
      expect(e.code).toBe('ERR_UNSUPPORTED_ALGORITHM')
    }
  })
})

describe('Cloud KMS failures', () => {
  const keyName = `${RING}/cryptoKeys/faults`
  beforeAll(() => {
    kms.addKey(keyName)
  })

  it('throttling (429 RESOURCE_EXHAUSTED) is retried; past the retry budget it is ERR_KMS 429', async () => {
    const signer = await provider().createSigner(`gcpkms://${keyName}`)
    const before = kms.requests.length
    kms.fault({ status: 429, times: 2, path: ':asymmetricSign' })
    await expect(signer.sign(new Uint8Array([1, 2]))).resolves.toBeInstanceOf(Uint8Array)
    expect(kms.requests.slice(before).filter((r) => r.endsWith(' 429'))).toHaveLength(2)
    kms.fault({ status: 429, times: 10, path: ':asymmetricSign' })
    const e = await rejected(
      createGCPKMSProvider({ endpoint: kms.url, accessToken: kms.issueToken(), ...noSleep, retry: { attempts: 2 } })
        .createSigner(`gcpkms://${keyName}`)
        .then((s) => s.sign(new Uint8Array([3]))),
    )
    expect(e.details).toMatchObject({ provider: 'gcpkms', status: 429 })
    kms.fault({ status: 429, times: 0, path: ':asymmetricSign' })
  })

  it('permission denied is ERR_KMS 403 with Google reason; a missing key ERR_KMS 404', async () => {
    kms.addKey(`${RING}/cryptoKeys/secret`)
    kms.deny(`${RING}/cryptoKeys/secret`)
    const denied = await rejected(provider().createSigner(`gcpkms://${RING}/cryptoKeys/secret`))
    expect(denied.code).toBe('ERR_KMS')
    expect(denied.details).toMatchObject({ provider: 'gcpkms', status: 403, reason: 'PERMISSION_DENIED' })
    expect(denied.message).toContain('denied on resource')
    const missing = await rejected(provider().publicKey(`gcpkms://${RING}/cryptoKeys/nope`))
    expect(missing.details).toMatchObject({ provider: 'gcpkms', status: 404, reason: 'NOT_FOUND' })
    const noVersion = await rejected(provider().publicKey(`gcpkms://${keyName}/versions/9`))
    expect(noVersion.details).toMatchObject({ status: 404 })
  })

  it('an invalid token is ERR_KMS 401 after one refresh attempt', async () => {
    const e = await rejected(
      createGCPKMSProvider({ endpoint: kms.url, accessToken: 'ya29.not-issued', ...noSleep }).publicKey(
        `gcpkms://${keyName}`,
      ),
    )
    expect(e.details).toMatchObject({ provider: 'gcpkms', status: 401, reason: 'UNAUTHENTICATED' })
    expect(e.message).not.toContain('ya29.not-issued')
  })

  it('answers failing the CRC32C checks, for another version, or with a bad signature are refused', async () => {
    const signer = await provider().createSigner(`gcpkms://${keyName}`)
    try {
      for (const kind of ['signature-crc', 'unverified-digest', 'other-name', 'flip-signature'] as const) {
        kms.corrupt(kind)
        const e = await rejected(signer.sign(new Uint8Array([9])))
        expect(e.code, kind).toBe('ERR_KMS')
        expect(e.details, kind).toMatchObject({ provider: 'gcpkms', reason: 'bad-response' })
      }
    } finally {
      kms.corrupt(undefined)
    }
    await expect(signer.sign(new Uint8Array([9]))).resolves.toBeInstanceOf(Uint8Array)
  })

  it('hostile answers (not JSON, wrong key type, wrong CRC on the PEM) are coded errors', async () => {
    const base = `gcpkms://${keyName}`
    const fake = (body: unknown, status = 200): typeof fetch =>
      (async () => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status })) as typeof fetch
    const key = { purpose: 'ASYMMETRIC_SIGN' }
    const rsaPEM = (await import('node:crypto'))
      .generateKeyPairSync('rsa', { modulusLength: 2048 })
      .publicKey.export({ format: 'pem', type: 'spki' })
      .toString()
    const v1 = { name: `${keyName}/cryptoKeyVersions/1`, algorithm: 'EC_SIGN_P256_SHA256' }
    const withPublicKey = (pub: unknown) => (u: string) =>
      u.endsWith('/publicKey') ? pub : u.includes('?') ? { cryptoKeyVersions: [v1] } : key
    const answers: [string, (url: string) => unknown][] = [
      ['RSA PEM for an EC version', withPublicKey({ pem: rsaPEM, algorithm: 'EC_SIGN_P256_SHA256' })],
      ['PEM CRC mismatch', withPublicKey({ pem: rsaPEM, pemCrc32c: '1' })],
      ['PEM garbage', withPublicKey({ pem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' })],
      ['not json', () => '<html>'],
      ['array', () => []],
      ['versions not a list', (u) => (u.includes('?') ? { cryptoKeyVersions: 'x' } : key)],
      [
        'foreign version',
        (u) =>
          u.includes('?')
            ? {
                cryptoKeyVersions: [
                  {
                    name: 'projects/x/locations/y/keyRings/z/cryptoKeys/w/cryptoKeyVersions/1',
                    algorithm: 'EC_SIGN_P256_SHA256',
                  },
                ],
              }
            : key,
      ],
    ]
    for (const [what, answer] of answers) {
      const p = createGCPKMSProvider({
        endpoint: 'https://kms.example',
        accessToken: 't',
        fetch: (async (input: RequestInfo | URL) => fake(answer(String(input)))(input)) as typeof fetch,
      })
      const e = await rejected(p.publicKey(base))
      expect(e.code, what).toBe('ERR_KMS')
    }
  })
})

describe('key creation (generate-key-pair --kms)', () => {
  it('creates the ring and an EC_SIGN_P256_SHA256 key, waits for its first version, and is idempotent', async () => {
    const uri = 'gcpkms://projects/countersign-test/locations/us/keyRings/new-ring/cryptoKeys/new-key'
    kms.pendingLists = 2
    const p = provider()
    const created = await p.createKey(uri)
    expect(created.algorithm).toBe('ecdsa-p256')
    expect(kms.requests).toEqual(
      expect.arrayContaining([
        'POST /v1/projects/countersign-test/locations/us/keyRings 200',
        'POST /v1/projects/countersign-test/locations/us/keyRings/new-ring/cryptoKeys 200',
      ]),
    )
    const again = await p.createKey(uri)
    expect(again.spki).toEqual(created.spki)
    const signer = await p.createSigner(uri)
    const data = new Uint8Array([1, 2, 3])
    await expect(verifySignature(created, data, await signer.sign(data))).resolves.toBe(true)
    kms.pendingLists = 1
  })

  it('takes sigstore algorithm names and refuses unknown ones', async () => {
    const uri = 'gcpkms://projects/countersign-test/locations/us/keyRings/new-ring/cryptoKeys/pss'
    const key = await provider().createKey(uri, { keyAlgorithm: 'rsa-pss-2048-sha256' })
    expect(key).toMatchObject({ algorithm: 'rsa', rsaBits: 2048 })
    expect((await provider().createSigner(uri)).algorithm).toBe('rsa-pss-sha256')
    const e = await rejected(provider().createKey(`${uri}-x`, { algorithm: 'ed25519' }))
    expect(e.code).toBe('ERR_UNSUPPORTED_ALGORITHM')
  })
})

describe('Google credentials', () => {
  const keyName = `${RING}/cryptoKeys/creds`
  const uri = `gcpkms://${keyName}`
  beforeAll(() => {
    kms.addKey(keyName)
  })

  it('service account: a JWT assertion the token endpoint verifies; the token is cached across calls', async () => {
    const before = kms.tokenRequests.length
    const p = createGCPKMSProvider({
      endpoint: kms.url,
      credentials: createGCPCredentialsFromJSON(kms.serviceAccountJSON),
    })
    const signer = await p.createSigner(uri)
    await signer.sign(new Uint8Array([1]))
    await signer.sign(new Uint8Array([2]))
    await p.publicKey(uri)
    expect(kms.tokenRequests.length - before).toBe(1)
    expect(kms.tokenRequests.at(-1)).toContain('grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer')
  })

  it('a service account key the server does not trust is refused (invalid_grant), without leaking the key', async () => {
    const other = JSON.parse(kms.serviceAccountJSON)
    const { privateKey } = await import('node:crypto').then((c) =>
      c.generateKeyPairSync('rsa', { modulusLength: 2048 }),
    )
    other.private_key = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    const p = createGCPKMSProvider({ endpoint: kms.url, credentials: createGCPCredentialsFromJSON(other), ...noSleep })
    const e = await rejected(p.publicKey(uri))
    expect(e.details).toMatchObject({ provider: 'gcpkms', status: 400, reason: 'invalid_grant' })
    expect(e.message).not.toContain(other.private_key.slice(40, 80))
    const broken = await rejected(
      Promise.resolve().then(() => createGCPCredentialsFromJSON({ ...other, private_key: 'not a key' })),
    )
    expect(broken.code).toBe('ERR_INVALID_INPUT')
    const unsupported = await rejected(
      Promise.resolve().then(() => createGCPCredentialsFromJSON({ type: 'external_account' })),
    )
    expect(unsupported.code).toBe('ERR_UNSUPPORTED_ALGORITHM')
  })

  it('authorized user: refresh-token grant; wrong secrets are refused without echoing them', async () => {
    const p = createGCPKMSProvider({
      endpoint: kms.url,
      credentials: createGCPCredentialsFromJSON(kms.authorizedUserJSON),
    })
    await expect(p.publicKey(uri)).resolves.toMatchObject({ algorithm: 'ecdsa-p256' })
    const wrong = { ...JSON.parse(kms.authorizedUserJSON), client_secret: 'wrong-secret-value' }
    const e = await rejected(
      createGCPKMSProvider({
        endpoint: kms.url,
        credentials: createGCPCredentialsFromJSON(wrong),
        ...noSleep,
      }).publicKey(uri),
    )
    expect(e.details).toMatchObject({ status: 400, reason: 'invalid_grant' })
    expect(e.message).not.toContain('wrong-secret-value')
  })

  it('metadata server (GCE_METADATA_HOST) with Metadata-Flavor; GOOGLE_OAUTH_ACCESS_TOKEN from env', async () => {
    const env = { GCE_METADATA_HOST: kms.host }
    await expect(createGCPKMSProvider({ endpoint: kms.url, env }).publicKey(uri)).resolves.toBeDefined()
    expect(kms.requests).toContain('GET /computeMetadata/v1/instance/service-accounts/default/token 200')
    await expect(
      createGCPKMSProvider({ endpoint: kms.url, env: { GOOGLE_OAUTH_ACCESS_TOKEN: kms.issueToken() } }).publicKey(uri),
    ).resolves.toBeDefined()
    // Something answering without Metadata-Flavor: Google is not a metadata server.
    const impostor = createGCPMetadataCredentials({
      fetch: (async () => new Response('{"access_token":"x","expires_in":10}')) as typeof fetch,
    })
    expect((await rejected(impostor({}))).code).toBe('ERR_KMS')
    // No metadata server at all: ERR_KMS saying no credentials were found.
    const nowhere = createGCPMetadataCredentials({ env: { GCE_METADATA_HOST: '127.0.0.1:1' }, ...noSleep })
    expect((await rejected(nowhere({}))).details).toMatchObject({ reason: 'no-credentials' })
  })

  it('Node ADC chain: GOOGLE_APPLICATION_CREDENTIALS, then gcloud well-known file, then metadata', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcp-adc-'))
    try {
      const saFile = join(dir, 'sa.json')
      writeFileSync(saFile, kms.serviceAccountJSON)
      let before = kms.tokenRequests.length
      await gcpKMSProviderFromEnvironment({
        endpoint: kms.url,
        env: { GOOGLE_APPLICATION_CREDENTIALS: saFile, HOME: dir },
      }).publicKey(uri)
      expect(kms.tokenRequests.length).toBe(before + 1)
      expect(kms.tokenRequests.at(-1)).toContain('assertion=')

      const gcloud = join(dir, 'home', '.config', 'gcloud')
      await import('node:fs').then((fs) => fs.mkdirSync(gcloud, { recursive: true }))
      writeFileSync(join(gcloud, 'application_default_credentials.json'), kms.authorizedUserJSON)
      before = kms.tokenRequests.length
      await gcpKMSProviderFromEnvironment({ endpoint: kms.url, env: { HOME: join(dir, 'home') } }).publicKey(uri)
      expect(kms.tokenRequests.at(-1)).toContain('grant_type=refresh_token')

      const metaBefore = kms.requests.filter((r) => r.includes('computeMetadata')).length
      await gcpKMSProviderFromEnvironment({
        endpoint: kms.url,
        env: { HOME: dir, GCE_METADATA_HOST: kms.host },
      }).publicKey(uri)
      expect(kms.requests.filter((r) => r.includes('computeMetadata')).length).toBe(metaBefore + 1)

      const missing = await rejected(
        createGoogleDefaultCredentials({ env: { GOOGLE_APPLICATION_CREDENTIALS: join(dir, 'absent.json') } })({}),
      )
      expect(missing.code).toBe('ERR_INVALID_INPUT')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('the digest sent is the SHA-256 of the data with its CRC32C (as sigstore sends it)', async () => {
    const seen: unknown[] = []
    const spy: typeof fetch = async (input, init) => {
      if (String(input).endsWith(':asymmetricSign'))
        seen.push(JSON.parse(String(new TextDecoder().decode(init?.body as Uint8Array))))
      return fetch(input, init)
    }
    const signer = await provider({ fetch: spy }).createSigner(uri)
    const data = new TextEncoder().encode('hello')
    await signer.sign(data)
    const digest = createHash('sha256').update(data).digest()
    expect(seen).toEqual([{ digest: { sha256: digest.toString('base64') }, digestCrc32c: String(crc32cSlow(digest)) }])
  })
})

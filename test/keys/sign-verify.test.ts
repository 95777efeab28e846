import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { p256 } from '@noble/curves/nist.js'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { fromHex, toHex, utf8 } from '../../src/internal/bytes.js'
import {
  ecdsaDERToP1363,
  ecdsaP1363ToDER,
  generateKeyPair,
  type PrivateKey,
  type PublicKey,
  parsePrivateKey,
  parsePublicKey,
  privateKeyToPEM,
  publicKeyToPEM,
  signData,
  verifySignature,
} from '../../src/keys/index.js'
import { vectorBytes, vectorText } from './vectors.js'

const DATA = utf8('{"critical":{"type":"cosign container image signature"},"optional":null}')

function hasOpenSSL(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** A copy of the key object, so per-object CryptoKey caches start empty. */
function fresh(key: PublicKey): PublicKey {
  return parsePublicKey(key.spki)
}

describe('sign/verify round trips', () => {
  const cases = [
    { algorithm: 'ecdsa-p256', sign: 'ecdsa-p256-sha256', verify: {} },
    { algorithm: 'ecdsa-p384', sign: 'ecdsa-p384-sha384', verify: { hash: 'sha384' } },
    { algorithm: 'ecdsa-p521', sign: 'ecdsa-p521-sha512', verify: { hash: 'sha512' } },
    { algorithm: 'ed25519', sign: 'ed25519', verify: {} },
    { algorithm: 'ed25519', sign: 'ed25519ph', verify: { ed25519ph: true } },
    { algorithm: 'rsa', sign: 'rsa-pkcs1v15-sha256', verify: {} },
    { algorithm: 'rsa', sign: 'rsa-pss-sha256', verify: { rsaPadding: 'pss' } },
  ] as const
  const keys = new Map<string, PrivateKey>()
  const other = new Map<string, PrivateKey>()
  beforeAll(async () => {
    for (const algorithm of new Set(cases.map((c) => c.algorithm))) {
      keys.set(algorithm, await generateKeyPair({ algorithm }))
      other.set(algorithm, await generateKeyPair({ algorithm }))
    }
  })

  for (const c of cases) {
    it(`${c.sign}: verifies, and rejects other data, other keys and damaged signatures`, async () => {
      const key = keys.get(c.algorithm)!
      const sig = await signData(key, DATA, { algorithm: c.sign })
      expect(await verifySignature(key.publicKey, DATA, sig, c.verify)).toBe(true)
      expect(await verifySignature(key.publicKey, DATA.subarray(1), sig, c.verify)).toBe(false)
      expect(await verifySignature(other.get(c.algorithm)!.publicKey, DATA, sig, c.verify)).toBe(false)
      const damaged = new Uint8Array(sig)
      damaged[damaged.length - 5]! ^= 0x10
      expect(await verifySignature(key.publicKey, DATA, damaged, c.verify)).toBe(false)
      expect(await verifySignature(key.publicKey, DATA, sig.subarray(0, sig.length - 1), c.verify)).toBe(false)
      expect(await verifySignature(key.publicKey, DATA, new Uint8Array(0), c.verify)).toBe(false)
      expect(await verifySignature(key.publicKey, DATA, utf8('garbage signature'), c.verify)).toBe(false)
    })
  }

  it('signs with cosign defaults: DER ECDSA, Ed25519ph for Ed25519', async () => {
    const ec = keys.get('ecdsa-p256')!
    const der = await signData(ec, DATA)
    expect(der[0]).toBe(0x30)
    expect(ecdsaDERToP1363(der, 32)).toHaveLength(64)

    const ed = keys.get('ed25519')!
    const ph = await signData(ed, DATA)
    // cosign verify --key loads Ed25519 keys without WithED25519ph, i.e. pure Ed25519: a default (ph) signature
    // does not verify with the default options — only with ed25519ph: true.
    expect(await verifySignature(ed.publicKey, DATA, ph)).toBe(false)
    expect(await verifySignature(ed.publicKey, DATA, ph, { ed25519ph: true })).toBe(true)
  })

  it('verifies with SHA-256 by default for every ECDSA curve, as cosign verify --key does', async () => {
    const p384 = keys.get('ecdsa-p384')!
    const sig384 = await signData(p384, DATA)
    expect(await verifySignature(p384.publicKey, DATA, sig384)).toBe(false)
    expect(await verifySignature(p384.publicKey, DATA, sig384, { hash: 'sha384' })).toBe(true)
  })

  it('rejects algorithms that do not fit the key', async () => {
    await expect(signData(keys.get('ecdsa-p256')!, DATA, { algorithm: 'ed25519' })).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_ALGORITHM',
    })
    await expect(signData(keys.get('ecdsa-p384')!, DATA, { algorithm: 'ecdsa-p256-sha256' })).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_ALGORITHM',
    })
    await expect(
      verifySignature(keys.get('rsa')!.publicKey, DATA, new Uint8Array(256), { hash: 'md5' as 'sha256' }),
    ).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_ALGORITHM' })
  })

  it('throws TypeError for wrong argument types', async () => {
    const pub = keys.get('ecdsa-p256')!.publicKey
    await expect(verifySignature(null as unknown as PublicKey, DATA, DATA)).rejects.toThrow(TypeError)
    await expect(verifySignature(pub, 'data' as unknown as Uint8Array, DATA)).rejects.toThrow(TypeError)
    await expect(verifySignature(pub, DATA, 'sig' as unknown as Uint8Array)).rejects.toThrow(TypeError)
    await expect(signData({} as PrivateKey, DATA)).rejects.toThrow(TypeError)
    await expect(signData(keys.get('ecdsa-p256')!, [1, 2] as unknown as Uint8Array)).rejects.toThrow(TypeError)
  })
})

describe('ECDSA verification details', () => {
  const n = p256.Point.CURVE().n

  it('accepts high-S signatures (s replaced by n − s), as Go does', async () => {
    const key = await generateKeyPair()
    const raw = ecdsaDERToP1363(await signData(key, DATA), 32)
    const s = BigInt(`0x${toHex(raw.subarray(32))}`)
    const flipped = fromHex((n - s).toString(16).padStart(64, '0'))
    const high = ecdsaP1363ToDER(Uint8Array.of(...raw.subarray(0, 32), ...flipped))
    expect(await verifySignature(key.publicKey, DATA, high)).toBe(true)
  })

  it('rejects zero or out-of-range r/s and raw r‖s (cosign only takes DER)', async () => {
    const key = await generateKeyPair()
    const raw = ecdsaDERToP1363(await signData(key, DATA), 32)
    expect(await verifySignature(key.publicKey, DATA, raw)).toBe(false)
    const zero = ecdsaP1363ToDER(Uint8Array.of(...new Uint8Array(32), ...raw.subarray(32)))
    expect(await verifySignature(key.publicKey, DATA, zero)).toBe(false)
    const r = BigInt(`0x${toHex(raw.subarray(0, 32))}`)
    const rPlusN = fromHex((r + n).toString(16).padStart(66, '0'))
    const big = Uint8Array.of(0x30, 0x45, 0x02, 0x21, ...rPlusN.subarray(0), 0x02, 0x20, ...raw.subarray(32))
    expect(await verifySignature(key.publicKey, DATA, big)).toBe(false)
  })

  it('imports each public key into Web Crypto once per key object', async () => {
    const key = await generateKeyPair()
    const sig = await signData(key, DATA)
    const pub = fresh(key.publicKey)
    const spy = vi.spyOn(globalThis.crypto.subtle, 'importKey')
    try {
      for (let i = 0; i < 3; i++) expect(await verifySignature(pub, DATA, sig)).toBe(true)
      expect(spy).toHaveBeenCalledTimes(1)
    } finally {
      spy.mockRestore()
    }
  })
})

describe('Ed25519 without Web Crypto support', () => {
  afterEach(() => vi.restoreAllMocks())

  it('falls back to noble for pure Ed25519 sign and verify', async () => {
    const key = parsePrivateKey(vectorText('openssl/ed25519.pkcs8.pem'))
    const pub = fresh(key.publicKey)
    const real = globalThis.crypto.subtle.importKey.bind(globalThis.crypto.subtle)
    vi.spyOn(globalThis.crypto.subtle, 'importKey').mockImplementation(((
      ...args: Parameters<SubtleCrypto['importKey']>
    ) => {
      const alg = args[2] as { name?: string } | string
      if ((typeof alg === 'string' ? alg : alg.name) === 'Ed25519') {
        return Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError'))
      }
      return real(...args)
    }) as SubtleCrypto['importKey'])
    const message = vectorBytes('openssl/message.txt')
    const opensslSig = vectorBytes('openssl/message.ed25519.sig')
    expect(await verifySignature(pub, message, opensslSig)).toBe(true)
    const ours = await signData(parsePrivateKey(key.pkcs8), message, { algorithm: 'ed25519' })
    expect(ours).toEqual(opensslSig) // Ed25519 is deterministic
  })
})

describe('openssl-made vectors (test/vectors/keys/openssl)', () => {
  const message = vectorBytes('openssl/message.txt')
  it.each([
    ['ec-p256.pub.pem', 'message.ec-p256.sha256.sig'],
    ['rsa-2048.pub.pem', 'message.rsa-2048.sha256.sig'],
    ['ed25519.pub.pem', 'message.ed25519.sig'],
  ])('%s verifies %s', async (pub, sig) => {
    const key = parsePublicKey(vectorText(`openssl/${pub}`))
    expect(await verifySignature(key, message, vectorBytes(`openssl/${sig}`))).toBe(true)
    expect(await verifySignature(key, utf8('other'), vectorBytes(`openssl/${sig}`))).toBe(false)
  })
})

describe.skipIf(!hasOpenSSL())('live cross-check with openssl', () => {
  let dir: string
  const file = () => join(dir, 'data.bin')
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-openssl-'))
    writeFileSync(file(), DATA)
  })

  function write(name: string, data: string | Uint8Array): string {
    const path = join(dir, name)
    writeFileSync(path, data)
    return path
  }

  function opensslOK(args: string[]): boolean {
    try {
      execFileSync('openssl', args, { stdio: 'pipe' })
      return true
    } catch {
      return false
    }
  }

  it.each([
    ['ecdsa-p256', 'sha256'],
    ['ecdsa-p384', 'sha384'],
    ['rsa', 'sha256'],
  ] as const)('openssl dgst verifies our %s signature', async (algorithm, hash) => {
    const key = await generateKeyPair({ algorithm })
    const pub = write(`${algorithm}.pub.pem`, publicKeyToPEM(key.publicKey))
    const sig = write(`${algorithm}.sig`, await signData(key, DATA))
    expect(opensslOK(['dgst', `-${hash}`, '-verify', pub, '-signature', sig, file()])).toBe(true)
    const wrong = write(`${algorithm}.wrong`, utf8('x'))
    expect(opensslOK(['dgst', `-${hash}`, '-verify', pub, '-signature', sig, wrong])).toBe(false)
  })

  it('openssl verifies our RSA-PSS and pure Ed25519 signatures', async () => {
    const rsa = await generateKeyPair({ algorithm: 'rsa' })
    const rsaPub = write('pss.pub.pem', publicKeyToPEM(rsa.publicKey))
    const pss = write('pss.sig', await signData(rsa, DATA, { algorithm: 'rsa-pss-sha256' }))
    const pssArgs = ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest']
    expect(opensslOK(['dgst', '-sha256', ...pssArgs, '-verify', rsaPub, '-signature', pss, file()])).toBe(true)

    const ed = await generateKeyPair({ algorithm: 'ed25519' })
    const edPub = write('ed.pub.pem', publicKeyToPEM(ed.publicKey))
    const edSig = write('ed.sig', await signData(ed, DATA, { algorithm: 'ed25519' }))
    expect(
      opensslOK(['pkeyutl', '-verify', '-pubin', '-inkey', edPub, '-rawin', '-in', file(), '-sigfile', edSig]),
    ).toBe(true)
  })

  it('we verify openssl ECDSA and RSA-PSS (digest-length and max salt) signatures', async () => {
    const ec = await generateKeyPair()
    const ecKey = write('ec.key.pem', privateKeyToPEM(ec))
    execFileSync('openssl', ['dgst', '-sha256', '-sign', ecKey, '-out', join(dir, 'ec.osig'), file()])
    expect(await verifySignature(ec.publicKey, DATA, new Uint8Array(readFileSync(join(dir, 'ec.osig'))))).toBe(true)

    const rsa = await generateKeyPair({ algorithm: 'rsa' })
    const rsaKey = write('rsa.key.pem', privateKeyToPEM(rsa))
    for (const saltlen of ['digest', 'max']) {
      const out = join(dir, `pss-${saltlen}.osig`)
      execFileSync('openssl', [
        'dgst',
        '-sha256',
        '-sigopt',
        'rsa_padding_mode:pss',
        '-sigopt',
        `rsa_pss_saltlen:${saltlen}`,
        '-sign',
        rsaKey,
        '-out',
        out,
        file(),
      ])
      const sig = new Uint8Array(readFileSync(out))
      expect(await verifySignature(rsa.publicKey, DATA, sig, { rsaPadding: 'pss' })).toBe(true)
      expect(await verifySignature(rsa.publicKey, DATA, sig)).toBe(false)
    }
  })
})

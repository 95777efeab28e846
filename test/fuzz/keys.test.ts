/**
 * Fuzz: key import. Public keys (`parsePublicKey`, PEM and DER; then `verifySignature` so the key also goes through
 * the crypto backend's import), private keys (`parsePrivateKey`, PKCS#8 / SEC1 / PKCS#1, PEM and DER; then
 * `signData`), and cosign-encrypted keys (`decryptCosignPrivateKey`).
 *
 * Encrypted keys run twice: with the real scrypt (Node's native one, as the CLI uses), on a twentieth of the runs
 * because one input that gets as far as the KDF costs 90–500 ms; and with a fast stand-in KDF (SHA-256 of password,
 * salt and N) over all runs, so the code after the KDF — secretbox opening and the PKCS#8 parse of the plaintext,
 * including mutated plaintexts re-encrypted under the stand-in — sees thousands of inputs.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  COSIGN_PEM_LABEL,
  decryptCosignPrivateKey,
  encryptCosignPrivateKey,
  type PrivateKey,
  parsePrivateKey,
  parsePublicKey,
  type ScryptFunction,
  signData,
  verifySignature,
} from '../../src/keys/index.js'
import { nodeScrypt } from '../../src/node/scrypt.js'
import { nodeSignatureBackend } from '../../src/node/signature-backend.js'
import { byteMutants, jsonMutants, randomBytes, randomText, textMutants } from './generators.js'
import { FUZZ_RUNS, fuzz, runsFor } from './harness.js'
import { toPEM, vector, vectorText } from './seeds.js'

const OPENSSL = 'keys/openssl'
const PUBLIC_PEMS = [
  ...['ec-p256', 'ec-p384', 'ec-p521', 'ed25519', 'rsa-2048', 'rsa-3072', 'rsa-4096'].map(
    (k) => `${OPENSSL}/${k}.pub.pem`,
  ),
  `${OPENSSL}/rsa-2048.pkcs1-pub.pem`,
  `${OPENSSL}/rsa-4096.pkcs1-pub.pem`,
  'bundles/conformance-managed-key-happy-path/key.pub',
  'bundles/sigstore-go-example-bundle-publish-key/key.pub',
  'bundles/sigstore-js-client-v0.1-dsse-public-key/key.pub',
].map(vectorText)
const PUBLIC_DERS = [new Uint8Array(vector(`${OPENSSL}/ec-p256.pub.der`))]

const PRIVATE_PEMS = [
  ...['ec-p256', 'ec-p384', 'ec-p521', 'ed25519', 'rsa-2048', 'rsa-3072'].map((k) => `${OPENSSL}/${k}.pkcs8.pem`),
  ...['ec-p256', 'ec-p384', 'ec-p521', 'ec-p256-with-params'].map((k) => `${OPENSSL}/${k}.sec1.pem`),
  `${OPENSSL}/rsa-2048.pkcs1.pem`,
].map(vectorText)
const PRIVATE_DERS = [new Uint8Array(vector(`${OPENSSL}/ec-p256.pkcs8.der`))]

const MESSAGE = new Uint8Array(vector(`${OPENSSL}/message.txt`))
/** A real signature over MESSAGE per key family, so a key that survives mutation is used for a real verify. */
const SIGNATURES: Record<string, Uint8Array> = {
  'ecdsa-p256': new Uint8Array(vector(`${OPENSSL}/message.ec-p256.sha256.sig`)),
  ed25519: new Uint8Array(vector(`${OPENSSL}/message.ed25519.sig`)),
  rsa: new Uint8Array(vector(`${OPENSSL}/message.rsa-2048.sha256.sig`)),
}

/** The cosign-encrypted key vectors that decrypt to a usable key, with their passwords. */
const ENCRYPTED_CASES = [
  'cosign-encrypted-cosign-label-p256',
  'cosign-encrypted-sigstore-label-p256',
  'sigstore-rs-cosign-generated-encrypted-empty-private',
  'sigstore-rs-ecdsa-encrypted-private',
  'sigstore-rs-ed25519-encrypted-private',
  'sigstore-rs-rsa-encrypted-private',
].map((c) => ({
  name: c,
  pem: vectorText(`keys/cases/${c}/private.key`),
  password: vectorText(`keys/cases/${c}/password.txt`),
}))

/** Stand-in KDF: deterministic, instant, and different for every password/salt/N like the real one. */
const fastKDF: ScryptFunction = async (password, salt, params) =>
  sha256(Uint8Array.from([...password, 0, ...salt, 0, ...new TextEncoder().encode(String(params.N))]))

/** The PEM label and JSON document inside a cosign key. */
function unwrap(pem: string): { label: string; json: unknown } {
  const label = /-----BEGIN ([^-]+)-----/.exec(pem)![1]!
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '')
  return { label, json: JSON.parse(Buffer.from(body, 'base64').toString('utf8')) }
}

type PasswordChoice = { kind: 'seed' } | { kind: 'other'; value: string }
const passwordChoice: fc.Arbitrary<PasswordChoice> = fc.oneof(
  { weight: 9, arbitrary: fc.constant({ kind: 'seed' as const }) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((value) => ({ kind: 'other' as const, value })),
  },
)

/** Encrypted-key inputs over `seeds`: PEM text mutants, mutants of the JSON inside (re-wrapped), random text. */
function encryptedInputs(seeds: readonly { pem: string }[]) {
  const inner = seeds.map((s) => unwrap(s.pem))
  return fc.oneof(
    { weight: 3, arbitrary: textMutants(seeds.map((s) => s.pem)) },
    {
      weight: 6,
      arbitrary: jsonMutants(inner.map((i) => i.json)).map((m) => ({
        how: m.how,
        seed: m.seed,
        value: toPEM(inner[m.seed]!.label, new TextEncoder().encode(m.text)),
      })),
    },
    { weight: 1, arbitrary: randomText() },
  )
}

describe('fuzz: public keys', () => {
  it('every seed key parses and verifies its signature over the message where there is one', async () => {
    for (const pem of PUBLIC_PEMS) {
      const key = parsePublicKey(pem)
      const sig = SIGNATURES[key.algorithm]
      if (
        sig &&
        pem ===
          vectorText(
            `${OPENSSL}/${key.algorithm === 'rsa' ? 'rsa-2048' : key.algorithm === 'ed25519' ? 'ed25519' : 'ec-p256'}.pub.pem`,
          )
      )
        expect(await verifySignature(key, MESSAGE, sig)).toBe(true)
    }
    for (const der of PUBLIC_DERS) parsePublicKey(der)
  })

  it(`parsePublicKey + verifySignature return or throw a CountersignError (${FUZZ_RUNS} inputs)`, async () => {
    const ders = [
      ...PUBLIC_DERS,
      ...PUBLIC_PEMS.map((p) => new Uint8Array(Buffer.from(p.replace(/-----[^-]+-----/g, ''), 'base64'))),
    ]
    await fuzz<{ m: { how: string; seed: number; value: string | Uint8Array }; node: boolean }>({
      name: 'public-key',
      arbitrary: fc.record({
        m: fc.oneof(textMutants(PUBLIC_PEMS), byteMutants(ders), randomBytes(), randomText()),
        node: fc.boolean(),
      }),
      describe: ({ m, node }) => `${typeof m.value} seed ${m.seed} ${m.how} ${node ? 'node' : 'webcrypto'}`,
      run: async ({ m, node }) => {
        const key = parsePublicKey(m.value)
        const sig = SIGNATURES[key.algorithm] ?? SIGNATURES['ecdsa-p256']!
        const ok = await verifySignature(key, MESSAGE, sig, node ? { backend: nodeSignatureBackend } : {})
        return ok ? 'verified' : 'parsed'
      },
    })
  })
})

describe('fuzz: private keys', () => {
  it('every seed key parses and signs', async () => {
    for (const pem of PRIVATE_PEMS) {
      const key = parsePrivateKey(pem)
      expect((await signData(key, MESSAGE)).length).toBeGreaterThan(0)
    }
    for (const der of PRIVATE_DERS) parsePrivateKey(der)
  })

  it(`parsePrivateKey + signData return or throw a CountersignError (${FUZZ_RUNS} inputs)`, async () => {
    const ders = [
      ...PRIVATE_DERS,
      ...PRIVATE_PEMS.map((p) => new Uint8Array(Buffer.from(p.replace(/-----[^-]+-----/g, ''), 'base64'))),
    ]
    await fuzz<{ how: string; seed: number; value: string | Uint8Array }>({
      name: 'private-key',
      arbitrary: fc.oneof(textMutants(PRIVATE_PEMS), byteMutants(ders), randomBytes(), randomText()),
      describe: (m) => `${typeof m.value} seed ${m.seed} ${m.how}`,
      run: async (m) => {
        await signData(parsePrivateKey(m.value), MESSAGE)
        return 'signed'
      },
    })
  })
})

describe('fuzz: cosign-encrypted private keys', () => {
  /** The vectors re-encrypted under the stand-in KDF, and their plaintext PKCS#8 keys. */
  let fast: { pem: string; password: string; key: PrivateKey }[] = []
  beforeAll(async () => {
    fast = await Promise.all(
      ENCRYPTED_CASES.map(async (c) => {
        const key = await decryptCosignPrivateKey(c.pem, c.password, { scrypt: nodeScrypt })
        const pem = await encryptCosignPrivateKey(key, c.password, { scryptN: 32768, scrypt: fastKDF })
        return { pem, password: c.password, key }
      }),
    )
  })

  it('every seed decrypts with its password (real scrypt, and the stand-in KDF for the re-encrypted copies)', async () => {
    for (const c of ENCRYPTED_CASES) {
      const key = await decryptCosignPrivateKey(c.pem, c.password, { scrypt: nodeScrypt })
      expect(key.pkcs8.length, c.name).toBeGreaterThan(0)
    }
    for (const f of fast) {
      expect(unwrap(f.pem).label).toBe(COSIGN_PEM_LABEL)
      expect((await decryptCosignPrivateKey(f.pem, f.password, { scrypt: fastKDF })).pkcs8).toEqual(f.key.pkcs8)
    }
  })

  const REAL_RUNS = runsFor(1 / 20, 50)
  it(`decryptCosignPrivateKey (real scrypt) returns or throws a CountersignError (${REAL_RUNS} inputs)`, async () => {
    await fuzz({
      name: 'cosign-encrypted-key-scrypt',
      runs: REAL_RUNS,
      arbitrary: fc.record({ m: encryptedInputs(ENCRYPTED_CASES), password: passwordChoice }),
      describe: ({ m, password }) => `seed ${m.seed} ${m.how} password ${password.kind}`,
      run: async ({ m, password }) => {
        const pw =
          password.kind === 'seed' && m.seed >= 0
            ? ENCRYPTED_CASES[m.seed]!.password
            : password.kind === 'other'
              ? password.value
              : ''
        await decryptCosignPrivateKey(m.value, pw, { scrypt: nodeScrypt })
        return 'decrypted'
      },
    })
  })

  it(`decryptCosignPrivateKey (stand-in KDF) returns or throws a CountersignError (${FUZZ_RUNS} inputs)`, async () => {
    type Input =
      | { kind: 'envelope'; m: { how: string; seed: number; value: string }; password: PasswordChoice }
      | { kind: 'plaintext'; m: { how: string; seed: number; value: Uint8Array } }
    await fuzz<Input>({
      name: 'cosign-encrypted-key-fastkdf',
      arbitrary: fc.oneof(
        {
          weight: 2,
          arbitrary: fc
            .record({ m: encryptedInputs(fast.length > 0 ? fast : ENCRYPTED_CASES), password: passwordChoice })
            .map((r) => ({ kind: 'envelope' as const, ...r })),
        },
        {
          weight: 1,
          arbitrary: byteMutants(fast.map((f) => f.key.pkcs8)).map((m) => ({ kind: 'plaintext' as const, m })),
        },
      ),
      describe: (i) => `${i.kind} seed ${i.m.seed} ${i.m.how}`,
      run: async (i) => {
        if (i.kind === 'plaintext') {
          // A mutated PKCS#8 sealed properly: only the plaintext parse can reject it.
          const password = fast[i.m.seed]!.password
          const pem = await encryptCosignPrivateKey({ pkcs8: i.m.value } as PrivateKey, password, { scrypt: fastKDF })
          await decryptCosignPrivateKey(pem, password, { scrypt: fastKDF })
          return 'decrypted'
        }
        const { m, password } = i
        const pw =
          password.kind === 'seed' && m.seed >= 0
            ? fast[m.seed]!.password
            : password.kind === 'other'
              ? password.value
              : ''
        await decryptCosignPrivateKey(m.value, pw, { scrypt: fastKDF })
        return 'decrypted'
      },
    })
  })
})

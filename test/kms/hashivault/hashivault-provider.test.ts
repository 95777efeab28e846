// The Vault transit provider against a local Vault (test/support/vault-server.ts): URI parsing, configuration,
// signing with every key type (verified with the public key Vault reports), throttling, refusals, AppRole, key
// creation, version selection, hostile answers, and no secret in any error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isCountersignError } from '../../../src/errors.js'
import { verifySignature } from '../../../src/keys/index.js'
import type { HashiVaultKMSOptions } from '../../../src/kms/hashivault/index.js'
import { createHashiVaultKMSProvider, parseHashiVaultURI } from '../../../src/kms/hashivault/index.js'
import { startVaultServer, type VaultServer } from '../../support/vault-server.js'

const TOKEN = 'hvs.CAESIBSecretRootTokenValue000'
const READ_TOKEN = 'hvs.CAESIReadOnlyTokenValue00000'
const BAD_TOKEN = 'hvs.CAESIRevokedTokenValue0000000'
const SECRET_ID = 'f1e2d3c4-approle-secret-id-0000'
let vault: VaultServer

const noSleep = { sleep: async () => {} }
const provider = (extra: HashiVaultKMSOptions = {}) =>
  createHashiVaultKMSProvider({ env: { VAULT_ADDR: vault.url, VAULT_TOKEN: TOKEN }, ...noSleep, ...extra })
const message = new TextEncoder().encode('{"critical":{"type":"cosign container image signature"}}')

/** Fails the test if any secret appears in the error's message, details or cause chain. */
function expectNoSecrets(error: unknown): void {
  let text = ''
  let e = error as { message?: unknown; details?: unknown; cause?: unknown; stack?: unknown } | undefined
  for (let i = 0; i < 6 && e; i++) {
    text += `${String(e.message)} ${JSON.stringify(e.details ?? {})} ${String(e.stack)}\n`
    e = e.cause as typeof e
  }
  for (const secret of [TOKEN, READ_TOKEN, BAD_TOKEN, SECRET_ID, ...vault.issuedTokens])
    expect(text).not.toContain(secret)
}

async function failure(
  p: Promise<unknown>,
): Promise<{ code: string; message: string; details?: Record<string, unknown> }> {
  const error = await p.then(
    () => {
      throw new Error('expected a failure')
    },
    (e: unknown) => e,
  )
  expect(isCountersignError(error)).toBe(true)
  expectNoSecrets(error)
  return error as { code: string; message: string; details?: Record<string, unknown> }
}

beforeAll(async () => {
  vault = await startVaultServer({
    tokens: [TOKEN],
    readOnlyTokens: [READ_TOKEN],
    appRole: { roleId: 'role-1', secretId: SECRET_ID, leaseSeconds: 600 },
  })
  for (const type of ['ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'ed25519', 'rsa-2048', 'rsa-3072'] as const) {
    vault.createKey(type, type)
  }
  vault.createKey('aes', 'aes256-gcm96')
})
afterAll(() => vault?.close())

describe('hashivault:// references (sigstore referenceRegex)', () => {
  it.each([
    ['hashivault://release', 'hashivault', 'release'],
    ['openbao://release', 'openbao', 'release'],
    ['hashivault://a', 'hashivault', 'a'],
    ['hashivault://my-key.v2_x', 'hashivault', 'my-key.v2_x'],
    ['hashivault://_k', 'hashivault', '_k'],
  ])('%s', (uri, scheme, name) => {
    expect(parseHashiVaultURI(uri)).toEqual({ scheme, name })
  })

  it.each([
    'hashivault://',
    'hashivault://-key',
    'hashivault://key-',
    'hashivault://key.',
    'hashivault://transit/key',
    'hashivault://key?version=2',
    'hashivault://k%20y',
    'hashivault:///key',
    'Hashivault://key',
    'vault://key',
    'awskms:///alias/x',
  ])('rejects %s', (uri) => {
    expect(() => parseHashiVaultURI(uri)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
  })
})

describe('configuration', () => {
  it('needs an address and a token; BAO_ADDR/BAO_TOKEN work too', async () => {
    const none = createHashiVaultKMSProvider({ env: {} })
    expect(await failure(none.publicKey('hashivault://ecdsa-p256'))).toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: 'VAULT_ADDR or BAO_ADDR is not set',
    })
    const noToken = createHashiVaultKMSProvider({ env: { VAULT_ADDR: vault.url } })
    expect(await failure(noToken.publicKey('hashivault://ecdsa-p256'))).toMatchObject({
      code: 'ERR_KMS',
      message: 'no Vault credentials found; tried in order: 1. environment: VAULT_TOKEN and BAO_TOKEN not set',
      details: { reason: 'no-credentials' },
    })
    const bao = createHashiVaultKMSProvider({ env: { BAO_ADDR: vault.url, BAO_TOKEN: TOKEN } })
    expect((await bao.publicKey('openbao://ecdsa-p256')).algorithm).toBe('ecdsa-p256')
  })

  it('rejects malformed addresses, mounts and VAULT_KEY_PREFIX', async () => {
    for (const env of [
      { VAULT_ADDR: 'not a url', VAULT_TOKEN: TOKEN },
      { VAULT_ADDR: 'ftp://vault', VAULT_TOKEN: TOKEN },
      { VAULT_ADDR: 'https://user:pw@vault', VAULT_TOKEN: TOKEN },
      { VAULT_ADDR: vault.url, VAULT_TOKEN: TOKEN, TRANSIT_SECRET_ENGINE_PATH: '../sys' },
      { VAULT_ADDR: vault.url, VAULT_TOKEN: TOKEN, VAULT_KEY_PREFIX: 'v2' },
      { VAULT_ADDR: vault.url, VAULT_TOKEN: TOKEN, VAULT_KEY_PREFIX: 'vault:v0:' },
    ]) {
      const p = createHashiVaultKMSProvider({ env })
      expect((await failure(p.publicKey('hashivault://ecdsa-p256'))).code).toBe('ERR_INVALID_INPUT')
    }
  })

  it('uses TRANSIT_SECRET_ENGINE_PATH and sends VAULT_NAMESPACE', async () => {
    const other = await startVaultServer({ tokens: [TOKEN], transitPath: 'kms/transit', namespace: 'team-a' })
    try {
      other.createKey('k', 'ecdsa-p256')
      const env = { VAULT_ADDR: `${other.url}/`, VAULT_TOKEN: TOKEN, TRANSIT_SECRET_ENGINE_PATH: '/kms/transit/' }
      const denied = createHashiVaultKMSProvider({ env })
      expect(await failure(denied.publicKey('hashivault://k'))).toMatchObject({
        code: 'ERR_KMS',
        details: { status: 403 },
      })
      const ok = createHashiVaultKMSProvider({ env: { ...env, VAULT_NAMESPACE: 'team-a' } })
      const signer = await ok.createSigner('hashivault://k')
      const sig = await signer.sign(message)
      expect(await verifySignature(await signer.publicKey(), message, sig)).toBe(true)
      expect(other.requests.at(-1)).toMatchObject({ path: 'kms/transit/sign/k/sha2-256', namespace: 'team-a' })
    } finally {
      await other.close()
    }
  })
})

describe('signing', () => {
  it.each([
    ['ecdsa-p256', 'ecdsa-p256-sha256', 'sha256'],
    ['ecdsa-p384', 'ecdsa-p384-sha384', 'sha384'],
    ['ecdsa-p521', 'ecdsa-p521-sha512', 'sha512'],
    ['rsa-2048', 'rsa-pkcs1v15-sha256', 'sha256'],
    ['rsa-3072', 'rsa-pkcs1v15-sha256', 'sha256'],
    ['ed25519', 'ed25519', undefined],
  ] as const)('%s signs as %s; the signature verifies with the reported key', async (name, algorithm, hash) => {
    const signer = await provider().createSigner(`hashivault://${name}`)
    expect(signer.algorithm).toBe(algorithm)
    expect(signer.uri).toBe(`hashivault://${name}`)
    const material = await signer.keyMaterial()
    expect(material).toMatchObject({ type: 'public-key', spki: (await signer.publicKey()).spki })
    const sig = await signer.sign(message)
    const key = await signer.publicKey()
    expect(await verifySignature(key, message, sig, hash ? { hash } : {})).toBe(true)
    expect(await verifySignature(key, new TextEncoder().encode('other'), sig, hash ? { hash } : {})).toBe(false)
    // The request is what sigstore sends: the digest with prehashed=true (the message itself for Ed25519).
    const sent = vault.requests.at(-1)!
    expect(sent.token).toBe(TOKEN)
    if (hash === undefined) {
      expect(sent.path).toBe(`transit/sign/${name}`)
      expect(sent.body).toEqual({ input: Buffer.from(message).toString('base64'), prehashed: false, key_version: 1 })
    } else {
      expect(sent.path).toBe(`transit/sign/${name}/sha2-${hash.slice(3)}`)
      expect(sent.body).toMatchObject({ prehashed: true, key_version: 1 })
      expect(Buffer.from(sent.body!.input as string, 'base64').length).toBe(Number(hash.slice(3)) / 8)
      if (name.startsWith('rsa')) expect(sent.body!.signature_algorithm).toBe('pkcs1v15')
      else expect(sent.body!.marshaling_algorithm).toBe('asn1')
    }
  })

  it('fetches the key once per signer', async () => {
    const signer = await provider().createSigner('hashivault://ecdsa-p256')
    const before = vault.requests.length
    await signer.sign(message)
    await signer.sign(message)
    await signer.keyMaterial()
    await signer.publicKey()
    expect(vault.requests.slice(before).map((r) => r.path)).toEqual([
      'transit/sign/ecdsa-p256/sha2-256',
      'transit/sign/ecdsa-p256/sha2-256',
    ])
  })

  it('retries 429 and 503, then succeeds', async () => {
    const signer = await provider().createSigner('hashivault://ecdsa-p256')
    vault.faults.push(
      { status: 429, times: 2, path: 'sign/', retryAfter: '0' },
      { status: 503, times: 1, path: 'sign/' },
    )
    const before = vault.requests.length
    const sig = await signer.sign(message)
    expect(vault.requests.length - before).toBe(4)
    expect(await verifySignature(await signer.publicKey(), message, sig)).toBe(true)
  })

  it('throttling that outlasts the retries is ERR_KMS with the status', async () => {
    const signer = await provider({ retry: { attempts: 2 } }).createSigner('hashivault://ecdsa-p256')
    vault.faults.push({ status: 429, times: 3, path: 'sign/' })
    expect(await failure(signer.sign(message))).toMatchObject({
      code: 'ERR_KMS',
      details: { provider: 'hashivault', status: 429, reason: 'throttled' },
    })
  })

  it('aborts', async () => {
    const signer = await provider().createSigner('hashivault://ecdsa-p256')
    await expect(signer.sign(message, { signal: AbortSignal.abort() })).rejects.toBeDefined()
  })
})

describe('refusals', () => {
  it('a bad token is 403 permission denied, without the token in the error', async () => {
    const p = createHashiVaultKMSProvider({ env: { VAULT_ADDR: vault.url, VAULT_TOKEN: BAD_TOKEN }, ...noSleep })
    const error = await failure(p.createSigner('hashivault://ecdsa-p256'))
    expect(error).toMatchObject({
      code: 'ERR_KMS',
      details: { provider: 'hashivault', status: 403, reason: 'permission-denied' },
    })
    expect(error.message).toContain('permission denied')
    expect(vault.requests.at(-1)!.token).toBe(BAD_TOKEN)
  })

  it('a read-only token reads the key but may not sign', async () => {
    const p = createHashiVaultKMSProvider({ env: { VAULT_ADDR: vault.url, VAULT_TOKEN: READ_TOKEN }, ...noSleep })
    const signer = await p.createSigner('hashivault://ecdsa-p256')
    expect(await failure(signer.sign(message))).toMatchObject({ code: 'ERR_KMS', details: { status: 403 } })
  })

  it('an unknown key is 404', async () => {
    const error = await failure(provider().createSigner('hashivault://missing'))
    expect(error).toMatchObject({ code: 'ERR_KMS', details: { status: 404, reason: 'not-found' } })
    expect(error.message).toContain('transit key "missing"')
  })

  it('a symmetric key cannot sign: ERR_UNSUPPORTED_ALGORITHM', async () => {
    expect(await failure(provider().createSigner('hashivault://aes'))).toMatchObject({
      code: 'ERR_UNSUPPORTED_ALGORITHM',
    })
  })

  it('an error body echoing the token is redacted', async () => {
    const signer = await provider().createSigner('hashivault://ecdsa-p256')
    vault.faults.push({ status: 400, path: 'sign/', body: JSON.stringify({ errors: [`bad token ${TOKEN}`] }) })
    const error = await failure(signer.sign(message))
    expect(error.message).toContain('[REDACTED]')
  })
})

describe('AppRole', () => {
  it('logs in once, caches the token for its lease, and logs in again when it expires or is revoked', async () => {
    let clock = 1_000_000
    const p = createHashiVaultKMSProvider({
      env: { VAULT_ADDR: vault.url, VAULT_TOKEN: 'ignored-env-token' },
      appRole: { roleId: 'role-1', secretId: SECRET_ID },
      now: () => clock,
      ...noSleep,
    })
    const logins = () => vault.requests.filter((r) => r.path === 'auth/approle/login').length
    const start = logins()
    const signer = await p.createSigner('hashivault://ecdsa-p256')
    await Promise.all([signer.sign(message), signer.sign(message)])
    expect(logins() - start).toBe(1)
    expect(vault.requests.at(-1)!.token).toBe(vault.issuedTokens.at(-1))
    expect(vault.requests.find((r) => r.path === 'auth/approle/login')!.body).toEqual({
      role_id: 'role-1',
      secret_id: SECRET_ID,
    })
    clock += 600_000 // past the lease (minus the margin)
    await signer.sign(message)
    expect(logins() - start).toBe(2)
    vault.revokeToken(vault.issuedTokens.at(-1)!)
    await signer.sign(message)
    expect(logins() - start).toBe(3)
  })

  it('a wrong secret is a 400 from the login, with no secret in the error', async () => {
    const p = createHashiVaultKMSProvider({
      env: { VAULT_ADDR: vault.url },
      appRole: { roleId: 'role-1', secretId: `${SECRET_ID}-wrong` },
    })
    const error = await failure(p.publicKey('hashivault://ecdsa-p256'))
    expect(error).toMatchObject({ code: 'ERR_KMS', details: { status: 400 } })
    expect(error.message).toContain('invalid role or secret ID')
    expect(error.message).not.toContain(`${SECRET_ID}-wrong`)
  })
})

describe('key creation and versions', () => {
  it('creates keys (default ecdsa-p256; type from algorithm or keyType) and returns the existing one again', async () => {
    const p = provider()
    expect((await p.createKey('hashivault://created-default')).algorithm).toBe('ecdsa-p256')
    expect(vault.requests.find((r) => r.method === 'POST' && r.path === 'transit/keys/created-default')!.body).toEqual({
      type: 'ecdsa-p256',
    })
    expect((await p.createKey('hashivault://created-ed', { algorithm: 'ed25519' })).algorithm).toBe('ed25519')
    const rsa = await p.createKey('hashivault://created-rsa', { keyType: 'rsa-3072' })
    expect(rsa).toMatchObject({ algorithm: 'rsa', rsaBits: 3072 })
    const again = await p.createKey('openbao://created-default')
    expect(again.spki).toEqual((await p.publicKey('hashivault://created-default')).spki)
    expect(await failure(p.createKey('hashivault://created-default', { keyType: 'ed25519' }))).toMatchObject({
      code: 'ERR_KMS',
      details: { reason: 'key-exists' },
    })
    expect(await failure(p.createKey('hashivault://x', { algorithm: 'rsa-pss-sha256' }))).toMatchObject({
      code: 'ERR_UNSUPPORTED_ALGORITHM',
    })
  })

  it('signs with a pinned version; publicKey follows keyVersion and VAULT_KEY_PREFIX; publicKeys lists every version', async () => {
    const p = provider()
    expect((await failure(p.createKey('versioned'))).code).toBe('ERR_INVALID_INPUT')
    await p.createKey('hashivault://versioned')
    vault.rotateKey('versioned')
    vault.rotateKey('versioned')
    const all = await p.publicKeys('hashivault://versioned')
    expect(all.map((v) => v.version)).toEqual([1, 2, 3])
    expect((await p.publicKey('hashivault://versioned')).spki).toEqual(all[2]!.publicKey.spki)
    expect((await p.publicKey('hashivault://versioned', { keyVersion: 1 })).spki).toEqual(all[0]!.publicKey.spki)
    const prefixed = createHashiVaultKMSProvider({
      env: { VAULT_ADDR: vault.url, VAULT_TOKEN: TOKEN, VAULT_KEY_PREFIX: 'vault:v2:' },
    })
    expect((await prefixed.publicKey('hashivault://versioned')).spki).toEqual(all[1]!.publicKey.spki)
    const v2 = await p.createSigner('hashivault://versioned', { keyVersion: 2 })
    const sig = await v2.sign(message)
    expect(vault.requests.at(-1)!.body).toMatchObject({ key_version: 2 })
    expect(await verifySignature(all[1]!.publicKey, message, sig)).toBe(true)
    expect(await verifySignature(all[2]!.publicKey, message, sig)).toBe(false)
    expect(await failure(p.createSigner('hashivault://versioned', { keyVersion: 9 }))).toMatchObject({
      code: 'ERR_KMS',
      details: { reason: 'key-version-not-found' },
    })
    expect(await failure(p.createSigner('hashivault://versioned', { keyVersion: 0 }))).toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
  })

  it('a signer keeps its version when the key is rotated under it', async () => {
    const p = provider()
    await p.createKey('hashivault://moving')
    const signer = await p.createSigner('hashivault://moving')
    vault.rotateKey('moving')
    const sig = await signer.sign(message)
    expect(await verifySignature(await signer.publicKey(), message, sig)).toBe(true)
  })
})

describe('hostile answers', () => {
  const keyBody = async () => {
    const res = await fetch(`${vault.url}/v1/transit/keys/ecdsa-p256`, { headers: { 'X-Vault-Token': TOKEN } })
    return (await res.json()) as { data: Record<string, unknown> }
  }
  const fake =
    (answer: (path: string) => unknown, status = 200): typeof fetch =>
    async (input) => {
      const path = new URL(String(input)).pathname
      return new Response(JSON.stringify(answer(path)), { status, headers: { 'Content-Type': 'application/json' } })
    }

  it('malformed key reads are ERR_KMS invalid-response', async () => {
    const good = await keyBody()
    const otherKey = (await (
      await fetch(`${vault.url}/v1/transit/keys/ecdsa-p384`, { headers: { 'X-Vault-Token': TOKEN } })
    ).json()) as { data: { keys: Record<string, unknown> } }
    for (const data of [
      null,
      'x',
      { ...good.data, latest_version: '1' },
      { ...good.data, latest_version: 2 },
      { ...good.data, keys: [] },
      { ...good.data, keys: { one: good.data.keys } },
      { ...good.data, keys: { 1: { public_key: 'not a pem' } } },
      { ...good.data, keys: { 1: { public_key: '' } } },
      { ...good.data, keys: otherKey.data.keys }, // a P-384 key under an ecdsa-p256 type
      { ...good.data, type: 'ed25519', keys: { 1: { public_key: Buffer.alloc(31).toString('base64') } } },
      { ...good.data, type: undefined },
    ]) {
      const p = provider({ fetch: fake(() => ({ data })) })
      expect(await failure(p.publicKey('hashivault://ecdsa-p256'))).toMatchObject({
        code: 'ERR_KMS',
        details: { reason: 'invalid-response' },
      })
    }
    const notJSON = provider({ fetch: async () => new Response('<html>', { status: 200 }) })
    expect((await failure(notJSON.publicKey('hashivault://ecdsa-p256'))).code).toBe('ERR_KMS')
  })

  it('malformed or wrong-version signatures are rejected', async () => {
    const good = await keyBody()
    for (const signature of [
      undefined,
      42,
      'MEUCIQ==',
      'vault:v1:',
      'vault:v1:!!!',
      'vault:v2:MAYCAQECAQE=',
      `vault:v1:${Buffer.alloc(64, 1).toString('base64')}`, // raw r‖s, not DER
    ]) {
      const p = provider({
        fetch: fake((path) => (path.includes('/sign/') ? { data: { signature } } : good)),
      })
      const signer = await p.createSigner('hashivault://ecdsa-p256')
      expect((await failure(signer.sign(message))).code).toBe('ERR_KMS')
    }
  })

  it('a huge answer is refused', async () => {
    const p = provider({ fetch: async () => new Response('x'.repeat(2 * 1024 * 1024), { status: 200 }) })
    expect((await failure(p.publicKey('hashivault://ecdsa-p256'))).code).toBe('ERR_KMS')
  })
})

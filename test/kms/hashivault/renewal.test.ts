// Login tokens in a long-running process (the admission webhook): renewed with auth/token/renew-self five minutes
// before the lease ends (two thirds into a short lease), replaced by a new login once the max TTL caps a renewal or
// the token is not renewable, kept while Vault is briefly unreachable. Vault and the provider share one injected
// clock, so the stand-in expires tokens when the provider believes they expire. Static tokens are used as given.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { verifySignature } from '../../../src/keys/index.js'
import { createHashiVaultKMSProvider, type HashiVaultKMSOptions } from '../../../src/kms/hashivault/index.js'
import { leaseFromLogin, leaseFromRenewal, leaseRetryLater } from '../../../src/kms/hashivault/lease.js'
import { errorText, fakeJWT, fakeSecret, leakedSecrets, thrown } from '../../support/secret-leaks.js'
import { startVaultServer, type VaultServer } from '../../support/vault-server.js'

const JWT = fakeJWT('repo:acme/app:ref:refs/heads/main')
const STATIC = fakeSecret('hvs.static-')
const SECRET_ID = fakeSecret('approle-secret-')
const message = new TextEncoder().encode('signed by a long-running process')
const S = 1000
const MIN = 60 * S
let vault: VaultServer
let clock: number
let start: number

beforeAll(async () => {
  vault = await startVaultServer({
    tokens: [STATIC],
    now: () => clock,
    appRole: { roleId: 'webhook', secretId: SECRET_ID, leaseSeconds: 3600 },
    logins: [
      { method: 'jwt', name: 'long', ttlSeconds: 3600, maxTtlSeconds: 3 * 3600 },
      { method: 'jwt', name: 'short', ttlSeconds: 600 },
      { method: 'jwt', name: 'oneshot', ttlSeconds: 3600, renewable: false },
    ],
  })
  vault.createKey('release', 'ecdsa-p256')
})
afterAll(() => vault?.close())
beforeEach(() => {
  clock = Date.parse('2026-03-01T12:00:00Z')
  start = clock
})

const at = (ms: number) => {
  clock = start + ms
}
const count = (path: string, from = 0) => vault.requests.slice(from).filter((r) => r.path === path).length
const renewals = (from = 0) => count('auth/token/renew-self', from)
const logins = (from = 0) => count('auth/jwt/login', from)

async function signer(extra: HashiVaultKMSOptions) {
  const p = createHashiVaultKMSProvider({
    env: { VAULT_ADDR: vault.url },
    now: () => clock,
    sleep: async () => {},
    ...extra,
  })
  return p.createSigner('hashivault://release')
}

async function signOnce(s: Awaited<ReturnType<typeof signer>>): Promise<string> {
  const sig = await s.sign(message)
  expect(await verifySignature(await s.publicKey(), message, sig)).toBe(true)
  return vault.requests.at(-1)!.token!
}

describe('renewal of login tokens', () => {
  it('renews five minutes before the lease ends; logs in again once the max TTL caps a renewal', async () => {
    const from = vault.requests.length
    const s = await signer({ login: { method: 'jwt', role: 'long', jwt: JWT } })
    const first = await signOnce(s)
    expect(logins(from)).toBe(1)
    at(55 * MIN - S) // just before the refresh point of a one-hour lease
    expect(await signOnce(s)).toBe(first)
    expect(renewals(from)).toBe(0)

    at(55 * MIN + S)
    expect(await signOnce(s)).toBe(first)
    expect(renewals(from)).toBe(1)
    const renew = vault.requests.filter((r) => r.path === 'auth/token/renew-self').at(-1)!
    expect(renew.token).toBe(first)
    expect(vault.leases.get(first)!.expiresAt).toBe(start + 55 * MIN + S + 60 * MIN)

    at(110 * MIN + 2 * S) // the renewed lease's refresh point
    expect(await signOnce(s)).toBe(first)
    at(165 * MIN + 3 * S) // 15 minutes left of the 3-hour max TTL: Vault caps the renewal
    expect(await signOnce(s)).toBe(first)
    expect(renewals(from)).toBe(3)
    expect(vault.leases.get(first)!.expiresAt).toBe(start + 180 * MIN)

    at(174 * MIN) // still before the capped lease's refresh point (max TTL minus five minutes)
    expect(await signOnce(s)).toBe(first)
    at(175 * MIN + S) // no more renewing a capped token: a new login
    const second = await signOnce(s)
    expect(second).not.toBe(first)
    expect(second).toBe(vault.issuedTokens.at(-1))
    expect(renewals(from)).toBe(3)
    expect(logins(from)).toBe(2)
  })

  it('a short lease is renewed two thirds in', async () => {
    const from = vault.requests.length
    const s = await signer({ login: { method: 'jwt', role: 'short', jwt: JWT } })
    const token = await signOnce(s)
    at(400 * S - 1)
    await signOnce(s)
    expect(renewals(from)).toBe(0)
    at(400 * S)
    expect(await signOnce(s)).toBe(token)
    expect(renewals(from)).toBe(1)
  })

  it('a token that is not renewable is replaced by a new login before it expires', async () => {
    const from = vault.requests.length
    const s = await signer({ login: { method: 'jwt', role: 'oneshot', jwt: JWT } })
    const first = await signOnce(s)
    at(55 * MIN + S)
    const second = await signOnce(s)
    expect(second).not.toBe(first)
    expect(renewals(from)).toBe(0)
    expect(logins(from)).toBe(2)
  })

  it('AppRole tokens are renewed the same way', async () => {
    const from = vault.requests.length
    const s = await signer({ appRole: { roleId: 'webhook', secretId: SECRET_ID } })
    const token = await signOnce(s)
    at(56 * MIN)
    expect(await signOnce(s)).toBe(token)
    expect(renewals(from)).toBe(1)
    expect(count('auth/approle/login', from)).toBe(1)
  })

  it('concurrent requests at the refresh point share one renewal', async () => {
    const from = vault.requests.length
    const s = await signer({ login: { method: 'jwt', role: 'long', jwt: JWT } })
    await signOnce(s)
    at(56 * MIN)
    await Promise.all(Array.from({ length: 5 }, () => s.sign(message)))
    expect(renewals(from)).toBe(1)
  })

  it('a refused renewal falls back to a new login', async () => {
    const from = vault.requests.length
    const s = await signer({ login: { method: 'jwt', role: 'long', jwt: JWT } })
    const first = await signOnce(s)
    vault.faults.push({ status: 400, path: 'renew-self', body: JSON.stringify({ errors: ['lease is not renewable'] }) })
    at(56 * MIN)
    const second = await signOnce(s)
    expect(second).not.toBe(first)
    expect(renewals(from)).toBe(1)
    expect(logins(from)).toBe(2)
  })
})

describe('Vault unreachable at refresh time', () => {
  it('keeps a token that still works and tries again 30 s later', async () => {
    const from = vault.requests.length
    const s = await signer({ login: { method: 'jwt', role: 'long', jwt: JWT }, retry: { attempts: 0 } })
    const token = await signOnce(s)
    const outage = { status: 503, times: 1000, path: 'auth/' }
    vault.faults.push(outage)
    at(56 * MIN)
    expect(await signOnce(s)).toBe(token) // renewal and login failed; the token has four minutes left
    const tries = vault.requests.slice(from).filter((r) => r.path.startsWith('auth/')).length
    expect(tries).toBe(3) // the first login, then one renewal and one login
    at(56 * MIN + 29 * S)
    await signOnce(s)
    expect(vault.requests.slice(from).filter((r) => r.path.startsWith('auth/')).length).toBe(tries)
    outage.times = 0
    at(56 * MIN + 31 * S)
    expect(await signOnce(s)).toBe(token)
    expect(renewals(from)).toBe(2)
  })

  it('an expired token with Vault down is an error, with no secret in it', async () => {
    const s = await signer({ login: { method: 'jwt', role: 'long', jwt: JWT }, retry: { attempts: 0 } })
    const token = await signOnce(s)
    const outage = { status: 503, times: 1000, path: 'auth/' }
    vault.faults.push(outage)
    try {
      at(61 * MIN)
      const error = await thrown(() => s.sign(message))
      expect(error).toMatchObject({ code: 'ERR_KMS', details: { provider: 'hashivault', status: 503 } })
      expect(leakedSecrets(errorText(error), { JWT, token })).toEqual({})
    } finally {
      outage.times = 0
    }
  })
})

describe('static tokens', () => {
  it('VAULT_TOKEN is used as given: never renewed, even a day later', async () => {
    const from = vault.requests.length
    const s = await signer({ env: { VAULT_ADDR: vault.url, VAULT_TOKEN: STATIC } })
    expect(await signOnce(s)).toBe(STATIC)
    at(24 * 60 * MIN)
    expect(await signOnce(s)).toBe(STATIC)
    expect(vault.requests.slice(from).some((r) => r.path.startsWith('auth/'))).toBe(false)
  })
})

describe('lease arithmetic', () => {
  it('margins, caps and retries', () => {
    const t = 1_000_000
    const hour = leaseFromLogin({ token: 't', leaseSeconds: 3600, renewable: true }, t)
    expect(hour).toEqual({
      token: 't',
      expiresAt: t + 60 * MIN,
      refreshAt: t + 55 * MIN,
      renewable: true,
      grantedMs: 60 * MIN,
    })
    const forever = leaseFromLogin({ token: 't', leaseSeconds: 0, renewable: false }, t)
    expect(forever.refreshAt).toBe(Number.POSITIVE_INFINITY)
    const renewed = leaseFromRenewal(hour, { token: 't', leaseSeconds: 3600, renewable: true }, t + 55 * MIN)
    expect(renewed).toMatchObject({ expiresAt: t + 115 * MIN, refreshAt: t + 110 * MIN, renewable: true })
    const capped = leaseFromRenewal(renewed, { token: 't', leaseSeconds: 900, renewable: true }, t + 110 * MIN)
    expect(capped).toMatchObject({ expiresAt: t + 125 * MIN, refreshAt: t + 120 * MIN, renewable: false })
    expect(leaseRetryLater(hour, t + 55 * MIN).refreshAt).toBe(t + 55 * MIN + 30 * S)
    expect(leaseRetryLater(hour, t + 59 * MIN + 50 * S).refreshAt).toBe(t + 60 * MIN)
  })
})

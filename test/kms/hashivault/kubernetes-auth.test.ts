// Vault Kubernetes auth: VAULT_AUTH_METHOD=kubernetes logs in with the pod's service-account token
// (VAULT_AUTH_JWT_FILE, default /var/run/secrets/kubernetes.io/serviceaccount/token), re-read at every login because
// projected tokens rotate; then a real transit signature with the issued token. Refusals keep the token out.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifySignature } from '../../../src/keys/index.js'
import type { CredentialSourceReport } from '../../../src/kms/credential-chain.js'
import { hashiVaultKMSProviderFromEnvironment } from '../../../src/node/vault-credentials.js'
import { errorText, fakeJWT, leakedSecrets, thrown } from '../../support/secret-leaks.js'
import { startVaultServer, type VaultServer } from '../../support/vault-server.js'

const SA_TOKEN = fakeJWT('system:serviceaccount:signing:countersign')
const ROTATED = fakeJWT('system:serviceaccount:signing:countersign')
const message = new TextEncoder().encode('payload signed from a pod')
/** The role's accepted service-account tokens: the test rotates them as the kubelet would. */
const accepted = [SA_TOKEN]
let vault: VaultServer
let dir: string
let tokenFile: string
let clock = Date.parse('2026-01-01T00:00:00Z')

beforeAll(async () => {
  vault = await startVaultServer({
    now: () => clock,
    logins: [{ method: 'kubernetes', name: 'signer', jwts: accepted, ttlSeconds: 1200, renewable: false }],
  })
  vault.createKey('release', 'ecdsa-p256')
  dir = mkdtempSync(join(tmpdir(), 'countersign-vault-k8s-'))
  tokenFile = join(dir, 'token')
  writeFileSync(tokenFile, SA_TOKEN)
})
afterAll(async () => {
  await vault?.close()
  rmSync(dir, { recursive: true, force: true })
})

const logins = () => vault.requests.filter((r) => r.path === 'auth/kubernetes/login')

function fromEnv(env: Record<string, string>, reports: CredentialSourceReport[] = []) {
  return hashiVaultKMSProviderFromEnvironment({
    env: { VAULT_ADDR: vault.url, ...env },
    homeDir: dir,
    now: () => clock,
    onCredentialSource: (r) => reports.push(r),
  })
}

const k8sEnv = () => ({ VAULT_AUTH_METHOD: 'kubernetes', VAULT_AUTH_ROLE: 'signer', VAULT_AUTH_JWT_FILE: tokenFile })

describe('VAULT_AUTH_METHOD=kubernetes', () => {
  it('logs in with the role and the service-account token, then signs with the issued token', async () => {
    const reports: CredentialSourceReport[] = []
    const signer = await fromEnv(k8sEnv(), reports).createSigner('hashivault://release')
    const sig = await signer.sign(message)
    expect(await verifySignature(await signer.publicKey(), message, sig)).toBe(true)
    expect(logins().at(-1)!.body).toEqual({ role: 'signer', jwt: SA_TOKEN })
    expect(vault.requests.at(-1)).toMatchObject({
      path: 'transit/sign/release/sha2-256',
      token: vault.issuedTokens.at(-1),
    })
    expect(vault.leases.get(vault.issuedTokens.at(-1)!)!.role).toBe('kubernetes/signer')
    expect(reports).toEqual([
      {
        provider: 'vault',
        source: 'kubernetes auth',
        detail: `role "signer" at auth/kubernetes, JWT from ${tokenFile}`,
      },
    ])
    expect(leakedSecrets(JSON.stringify(reports), { SA_TOKEN })).toEqual({})
  })

  it('reads the rotated token file at the next login', async () => {
    writeFileSync(tokenFile, SA_TOKEN)
    const signer = await fromEnv(k8sEnv()).createSigner('hashivault://release')
    await signer.sign(message)
    const first = logins().length
    // The kubelet rotates the projected token; Vault stops accepting the old one.
    writeFileSync(tokenFile, `${ROTATED}\n`)
    accepted.push(ROTATED)
    accepted.splice(accepted.indexOf(SA_TOKEN), 1)
    // The role's tokens are not renewable: past the refresh point (20 min lease, 5 min margin) the provider logs in again.
    clock += 16 * 60_000
    await signer.sign(message)
    expect(logins().length).toBe(first + 1)
    expect(logins().at(-1)!.body).toEqual({ role: 'signer', jwt: ROTATED })
    expect(vault.requests.at(-1)!.token).toBe(vault.issuedTokens.at(-1))
    expect(vault.requests.some((r) => r.path === 'auth/token/renew-self')).toBe(false)
  })

  it('VAULT_AUTH_ROLE is required', async () => {
    expect(
      await thrown(() =>
        fromEnv({ VAULT_AUTH_METHOD: 'kubernetes', VAULT_AUTH_JWT_FILE: tokenFile }).publicKey('hashivault://release'),
      ),
    ).toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: 'VAULT_AUTH_METHOD=kubernetes needs VAULT_AUTH_ROLE (the Vault role to log in as)',
    })
  })

  it.skipIf(existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token'))(
    'outside a pod the default token file is absent: the source is passed over, with why',
    async () => {
      const error = await thrown(() =>
        fromEnv({ VAULT_AUTH_METHOD: 'kubernetes', VAULT_AUTH_ROLE: 'signer' }).publicKey('hashivault://release'),
      )
      expect(error).toMatchObject({ code: 'ERR_KMS', details: { reason: 'no-credentials' } })
      expect((error as Error).message).toContain(
        '2. kubernetes auth: /var/run/secrets/kubernetes.io/serviceaccount/token not found (not in a pod?)',
      )
    },
  )

  it('a named token file that cannot be read names the file, not a token', async () => {
    const error = await thrown(() =>
      fromEnv({ ...k8sEnv(), VAULT_AUTH_JWT_FILE: join(dir, 'missing') }).publicKey('hashivault://release'),
    )
    expect(error).toMatchObject({ code: 'ERR_INVALID_INPUT', details: { reason: 'jwt-file' } })
    expect((error as Error).message).toBe(`reading the JWT file ${join(dir, 'missing')} for the Vault login failed`)
  })
})

describe('refusals', () => {
  it('an unknown role is Vault’s 400 "invalid role name"', async () => {
    writeFileSync(tokenFile, accepted[0]!)
    const error = await thrown(() =>
      fromEnv({ ...k8sEnv(), VAULT_AUTH_ROLE: 'builder' }).publicKey('hashivault://release'),
    )
    expect(error).toMatchObject({ code: 'ERR_KMS', details: { status: 400 } })
    expect((error as Error).message).toContain('invalid role name "builder"')
    expect(leakedSecrets(errorText(error), { token: accepted[0]! })).toEqual({})
  })

  it('a token Vault does not accept is 403 permission denied, without the token', async () => {
    const stale = fakeJWT('system:serviceaccount:signing:other')
    writeFileSync(tokenFile, stale)
    try {
      const error = await thrown(() => fromEnv(k8sEnv()).publicKey('hashivault://release'))
      expect(error).toMatchObject({ code: 'ERR_KMS', details: { status: 403, reason: 'permission-denied' } })
      expect((error as Error).message).toContain('the kubernetes login (role "signer" at auth/kubernetes)')
      expect(leakedSecrets(errorText(error), { stale })).toEqual({})
    } finally {
      writeFileSync(tokenFile, accepted[0]!)
    }
  })
})

// Vault JWT/OIDC auth (the CI token): VAULT_AUTH_METHOD=jwt with the JWT from VAULT_AUTH_JWT, VAULT_AUTH_JWT_FILE
// or GitHub Actions' token endpoint; POST auth/<mount>/login {role, jwt} against the local Vault, then a real
// transit signature with the issued token (the stand-in checks X-Vault-Token). Refusals surface Vault's reason
// without the JWT; the credential source is reported without secrets.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifySignature } from '../../../src/keys/index.js'
import type { CredentialSourceReport } from '../../../src/kms/credential-chain.js'
import { createHashiVaultKMSProvider } from '../../../src/kms/hashivault/index.js'
import { hashiVaultKMSProviderFromEnvironment } from '../../../src/node/vault-credentials.js'
import { startGitHubTokenEndpoint } from '../../support/github-token-endpoint.js'
import { errorText, leakedSecrets, thrown } from '../../support/secret-leaks.js'
import { startVaultServer, type VaultServer } from '../../support/vault-server.js'

/** A JWT-shaped token with these claims (the stand-in decodes claims; it checks no signature). */
function jwtWith(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}.${Buffer.from(`sig-${Math.random()}`).toString('base64url')}`
}

const CI_JWT = jwtWith({
  iss: 'https://gitlab.example.com',
  aud: 'https://vault.example',
  sub: 'project_path:acme/app',
})
const message = new TextEncoder().encode('payload signed with a JWT-auth token')
let vault: VaultServer
let home: string

beforeAll(async () => {
  vault = await startVaultServer({
    logins: [
      {
        method: 'jwt',
        name: 'ci',
        boundAudiences: ['https://vault.example'],
        boundClaims: { sub: 'project_path:acme/app' },
      },
      { method: 'jwt', mount: 'github', name: 'release', boundAudiences: ['https://github.com/acme', 'vault'] },
    ],
  })
  vault.createKey('release', 'ecdsa-p256')
  home = mkdtempSync(join(tmpdir(), 'countersign-vault-jwt-'))
})
afterAll(async () => {
  await vault?.close()
  rmSync(home, { recursive: true, force: true })
})

const logins = (mount = 'jwt') => vault.requests.filter((r) => r.path === `auth/${mount}/login`)

function fromEnv(env: Record<string, string>, reports: CredentialSourceReport[] = []) {
  return hashiVaultKMSProviderFromEnvironment({
    env: { VAULT_ADDR: vault.url, ...env },
    homeDir: home,
    sleep: async () => {},
    onCredentialSource: (r) => reports.push(r),
  })
}

async function signAndVerify(p: ReturnType<typeof fromEnv>): Promise<void> {
  const signer = await p.createSigner('hashivault://release')
  const sig = await signer.sign(message)
  expect(await verifySignature(await signer.publicKey(), message, sig)).toBe(true)
}

describe('VAULT_AUTH_METHOD=jwt', () => {
  it('logs in with VAULT_AUTH_ROLE and VAULT_AUTH_JWT, then signs with the issued token', async () => {
    const reports: CredentialSourceReport[] = []
    const before = logins().length
    await signAndVerify(fromEnv({ VAULT_AUTH_METHOD: 'jwt', VAULT_AUTH_ROLE: 'ci', VAULT_AUTH_JWT: CI_JWT }, reports))
    expect(logins().length - before).toBe(1)
    expect(logins().at(-1)!.body).toEqual({ role: 'ci', jwt: CI_JWT })
    expect(logins().at(-1)!.token).toBeUndefined()
    const issued = vault.issuedTokens.at(-1)!
    expect(vault.leases.get(issued)!.role).toBe('jwt/ci')
    expect(vault.requests.at(-1)).toMatchObject({ path: 'transit/sign/release/sha2-256', token: issued })
    expect(reports).toEqual([
      { provider: 'vault', source: 'jwt auth', detail: 'role "ci" at auth/jwt, JWT from VAULT_AUTH_JWT' },
    ])
  })

  it('VAULT_AUTH_PATH names the mount; VAULT_NAMESPACE goes on the login too', async () => {
    const ns = await startVaultServer({
      namespace: 'team-a',
      logins: [{ method: 'jwt', mount: 'ci/gitlab', name: 'ci' }],
    })
    try {
      ns.createKey('release', 'ecdsa-p256')
      const p = hashiVaultKMSProviderFromEnvironment({
        env: {
          VAULT_ADDR: ns.url,
          VAULT_NAMESPACE: 'team-a',
          VAULT_AUTH_METHOD: 'JWT',
          VAULT_AUTH_PATH: 'ci/gitlab',
          VAULT_AUTH_ROLE: 'ci',
          VAULT_AUTH_JWT: CI_JWT,
        },
        homeDir: home,
      })
      await signAndVerify(p)
      expect(ns.requests.find((r) => r.path === 'auth/ci/gitlab/login')).toMatchObject({ namespace: 'team-a' })
      expect(ns.requests.at(-1)).toMatchObject({ namespace: 'team-a', token: ns.issuedTokens.at(-1) })
    } finally {
      await ns.close()
    }
  })

  it('without VAULT_AUTH_ROLE the mount’s default_role decides (the login carries no role)', async () => {
    const dflt = await startVaultServer({ logins: [{ method: 'jwt', name: 'fallback', defaultRole: true }] })
    try {
      dflt.createKey('release', 'ecdsa-p256')
      const p = hashiVaultKMSProviderFromEnvironment({
        env: { VAULT_ADDR: dflt.url, VAULT_AUTH_METHOD: 'jwt', VAULT_AUTH_JWT: CI_JWT },
        homeDir: home,
      })
      await signAndVerify(p)
      expect(dflt.requests.find((r) => r.path === 'auth/jwt/login')!.body).toEqual({ jwt: CI_JWT })
    } finally {
      await dflt.close()
    }
  })

  it('VAULT_AUTH_JWT_FILE is read again at each login (a CI runner may refresh it)', async () => {
    const file = join(home, 'id-token')
    const second = jwtWith({ aud: 'https://vault.example', sub: 'project_path:acme/app', jti: 'second' })
    writeFileSync(file, `${CI_JWT}\n`)
    const p = fromEnv({ VAULT_AUTH_METHOD: 'jwt', VAULT_AUTH_ROLE: 'ci', VAULT_AUTH_JWT_FILE: file })
    const signer = await p.createSigner('hashivault://release')
    await signer.sign(message)
    expect(logins().at(-1)!.body).toEqual({ role: 'ci', jwt: CI_JWT })
    writeFileSync(file, second)
    // Vault forgets the token (revoked): the provider logs in again, with the file's new JWT.
    vault.revokeToken(vault.issuedTokens.at(-1)!)
    await signer.sign(message)
    expect(logins().at(-1)!.body).toEqual({ role: 'ci', jwt: second })
    expect(vault.requests.at(-1)!.token).toBe(vault.issuedTokens.at(-1))
  })

  it('in GitHub Actions the JWT comes from the token endpoint, for VAULT_AUTH_JWT_AUDIENCE', async () => {
    const gh = await startGitHubTokenEndpoint()
    try {
      gh.setRun({
        repository: 'acme/app',
        sha: 'a'.repeat(40),
        ref: 'refs/heads/main',
        workflowRef: 'acme/app/.github/workflows/release.yml@refs/heads/main',
        workflowName: 'release',
        eventName: 'push',
        runId: '1',
        runAttempt: '1',
        actor: 'octocat',
      })
      const reports: CredentialSourceReport[] = []
      const env = { VAULT_AUTH_METHOD: 'jwt', VAULT_AUTH_PATH: 'github', VAULT_AUTH_ROLE: 'release', ...gh.env }
      await signAndVerify(fromEnv({ ...env, VAULT_AUTH_JWT_AUDIENCE: 'vault' }, reports))
      expect(gh.issued.at(-1)!.aud).toBe('vault')
      const sent = logins('github').at(-1)!.body as { jwt: string; role: string }
      expect(sent.role).toBe('release')
      expect(JSON.parse(Buffer.from(sent.jwt.split('.')[1]!, 'base64url').toString())).toMatchObject({
        aud: 'vault',
        repository: 'acme/app',
      })
      expect(reports[0]).toEqual({
        provider: 'vault',
        source: 'jwt auth',
        detail: 'role "release" at auth/github, JWT from GitHub Actions, audience vault',
      })
      // Without VAULT_AUTH_JWT_AUDIENCE: GitHub's own default audience, the owner's URL (as vault-action uses).
      await signAndVerify(fromEnv({ ...env, GITHUB_REPOSITORY_OWNER: 'acme' }))
      expect(gh.issued.at(-1)!.aud).toBe('https://github.com/acme')
      // Neither: a configuration error, not a silent fallback.
      expect(await thrown(() => fromEnv(env).publicKey('hashivault://release'))).toMatchObject({
        code: 'ERR_INVALID_INPUT',
        message: expect.stringContaining('VAULT_AUTH_JWT_AUDIENCE'),
      })
    } finally {
      await gh.close()
    }
  })

  it('the portable provider takes a login whose JWT function is asked at every login', async () => {
    let calls = 0
    const p = createHashiVaultKMSProvider({
      env: { VAULT_ADDR: vault.url },
      login: {
        method: 'jwt',
        role: 'ci',
        jwt: async () => {
          calls++
          return CI_JWT
        },
      },
    })
    const signer = await p.createSigner('hashivault://release')
    await signer.sign(message)
    vault.revokeToken(vault.issuedTokens.at(-1)!)
    await signer.sign(message)
    expect(calls).toBe(2)
  })
})

describe('precedence and absence', () => {
  it('VAULT_TOKEN wins over VAULT_AUTH_METHOD (no login is made)', async () => {
    const token = 'hvs.static-token-beats-login-0000'
    const root = await startVaultServer({ tokens: [token], logins: [{ method: 'jwt', name: 'ci' }] })
    try {
      root.createKey('release', 'ecdsa-p256')
      const reports: CredentialSourceReport[] = []
      const p = hashiVaultKMSProviderFromEnvironment({
        env: { VAULT_ADDR: root.url, VAULT_TOKEN: token, VAULT_AUTH_METHOD: 'jwt', VAULT_AUTH_JWT: CI_JWT },
        homeDir: home,
        onCredentialSource: (r) => reports.push(r),
      })
      await signAndVerify(p)
      expect(root.requests.some((r) => r.path.startsWith('auth/'))).toBe(false)
      expect(reports).toEqual([{ provider: 'vault', source: 'environment', detail: 'VAULT_TOKEN' }])
    } finally {
      await root.close()
    }
  })

  it('jwt without any JWT: the no-credentials error lists every source tried, in order', async () => {
    const error = await thrown(() => fromEnv({ VAULT_AUTH_METHOD: 'jwt' }).publicKey('hashivault://release'))
    expect(error).toMatchObject({ code: 'ERR_KMS', details: { provider: 'hashivault', reason: 'no-credentials' } })
    expect((error as Error).message).toBe(
      'no Vault credentials found; tried in order: 1. environment: VAULT_TOKEN and BAO_TOKEN not set; ' +
        '2. jwt auth: no JWT: VAULT_AUTH_JWT, VAULT_AUTH_JWT_FILE and ACTIONS_ID_TOKEN_REQUEST_URL not set ' +
        '(in GitHub Actions the job needs "permissions: id-token: write"); ' +
        `3. token helper: ${join(home, '.vault')} not found; 4. token file: ${join(home, '.vault-token')} not found or empty`,
    )
  })

  it('an unknown VAULT_AUTH_METHOD is ERR_INVALID_INPUT', async () => {
    expect(await thrown(() => fromEnv({ VAULT_AUTH_METHOD: 'ldap' }).publicKey('hashivault://release'))).toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: 'VAULT_AUTH_METHOD must be jwt, kubernetes, approle or token, not "ldap"',
    })
  })
})

describe('refusals keep the JWT out of errors', () => {
  it('a wrong role is Vault’s 400 with its reason; no fallback to ~/.vault-token', async () => {
    writeFileSync(join(home, '.vault-token'), 'hvs.laptop-token-must-not-be-used\n')
    try {
      const error = await thrown(() =>
        fromEnv({ VAULT_AUTH_METHOD: 'jwt', VAULT_AUTH_ROLE: 'nope', VAULT_AUTH_JWT: CI_JWT }).publicKey(
          'hashivault://release',
        ),
      )
      expect(error).toMatchObject({ code: 'ERR_KMS', details: { provider: 'hashivault', status: 400 } })
      expect((error as Error).message).toBe(
        'HashiCorp Vault rejected the jwt login (role "nope" at auth/jwt) (HTTP 400: role "nope" could not be found)',
      )
      expect(leakedSecrets(errorText(error), { CI_JWT })).toEqual({})
      expect(vault.requests.at(-1)!.path).toBe('auth/jwt/login')
    } finally {
      rmSync(join(home, '.vault-token'))
    }
  })

  it('a JWT for another audience or subject is refused with Vault’s claim error', async () => {
    const other = jwtWith({ aud: 'https://elsewhere.example', sub: 'project_path:acme/app' })
    const error = await thrown(() =>
      fromEnv({ VAULT_AUTH_METHOD: 'jwt', VAULT_AUTH_ROLE: 'ci', VAULT_AUTH_JWT: other }).publicKey(
        'hashivault://release',
      ),
    )
    expect((error as Error).message).toContain('invalid audience (aud) claim')
    const wrongSub = jwtWith({ aud: 'https://vault.example', sub: 'project_path:evil/app' })
    const error2 = await thrown(() =>
      fromEnv({ VAULT_AUTH_METHOD: 'jwt', VAULT_AUTH_ROLE: 'ci', VAULT_AUTH_JWT: wrongSub }).publicKey(
        'hashivault://release',
      ),
    )
    expect((error2 as Error).message).toContain('claim "sub" does not match')
    expect(leakedSecrets(`${errorText(error)}${errorText(error2)}`, { other, wrongSub })).toEqual({})
  })

  it('an answer echoing the JWT or the issued token is redacted', async () => {
    vault.faults.push({ status: 400, path: 'auth/jwt/login', body: JSON.stringify({ errors: [`bad jwt ${CI_JWT}`] }) })
    const error = await thrown(() =>
      fromEnv({ VAULT_AUTH_METHOD: 'jwt', VAULT_AUTH_ROLE: 'ci', VAULT_AUTH_JWT: CI_JWT }).publicKey(
        'hashivault://release',
      ),
    )
    expect((error as Error).message).toContain('[REDACTED]')
    expect(leakedSecrets(errorText(error), { CI_JWT })).toEqual({})

    const p = fromEnv({ VAULT_AUTH_METHOD: 'jwt', VAULT_AUTH_ROLE: 'ci', VAULT_AUTH_JWT: CI_JWT })
    const signer = await p.createSigner('hashivault://release')
    const issued = vault.issuedTokens.at(-1)!
    vault.faults.push({ status: 400, path: 'sign/', body: JSON.stringify({ errors: [`token ${issued} denied`] }) })
    const error3 = await thrown(() => signer.sign(message))
    expect(leakedSecrets(errorText(error3), { issued, CI_JWT })).toEqual({})
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isCountersignError } from '../../src/errors.js'
import {
  detectIdentityToken,
  environmentIdentityToken,
  githubActionsIdentityToken,
  staticIdentityToken,
} from '../../src/oidc/providers.js'
import { parseIdentityToken } from '../../src/oidc/token.js'
import { type OIDCServer, startOIDCServer } from '../support/oidc-server.js'

let server: OIDCServer
beforeAll(async () => {
  server = await startOIDCServer()
})
afterAll(async () => {
  await server?.close()
})

const noSleep = async () => {}

async function rejection(
  p: Promise<unknown>,
): Promise<{ code: string; message: string; details?: Record<string, unknown> }> {
  try {
    await p
  } catch (e) {
    return e as { code: string; message: string; details?: Record<string, unknown> }
  }
  throw new Error('expected a rejection')
}

describe('githubActionsIdentityToken', () => {
  it('requests a sigstore-audience token with the bearer request token', async () => {
    const jwt = await githubActionsIdentityToken({ env: server.githubEnv })()
    const token = parseIdentityToken(jwt)
    expect(token.audience).toEqual(['sigstore'])
    expect(token.issuer).toBe(server.url)
    expect(token.subject).toBe('repo:acme/app:ref:refs/heads/main')
    expect(token.challenge).toBe(token.subject)
    expect(server.requests.at(-1)).toBe('GET /gha/token 200')
  })

  it('asks for another audience when told', async () => {
    const jwt = await githubActionsIdentityToken({ env: server.githubEnv, audience: 'other' })()
    expect(parseIdentityToken(jwt, { audience: 'other' }).audience).toEqual(['other'])
  })

  it('reports a refused request token with its status, without the request token', async () => {
    const env = { ...server.githubEnv, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong-request-token-value-123456' }
    const e = await rejection(githubActionsIdentityToken({ env, sleep: noSleep })())
    expect(e.code).toBe('ERR_OIDC_TOKEN')
    expect(e.details?.status).toBe(401)
    expect(e.message).not.toContain('wrong-request-token-value-123456')
  })

  it('explains missing variables (the job needs id-token: write)', async () => {
    const e = await rejection(githubActionsIdentityToken({ env: {} })())
    expect(e.code).toBe('ERR_OIDC_TOKEN')
    expect(e.details?.reason).toBe('unset')
    expect(e.message).toContain('id-token: write')
  })

  it('rejects answers without a token and non-JSON answers', async () => {
    const answers = [JSON.stringify({ count: 0 }), JSON.stringify({ value: 7 }), 'null', '<html>oops</html>']
    for (const body of answers) {
      const fetch = async () => new Response(body, { status: 200 })
      const e = await rejection(githubActionsIdentityToken({ env: server.githubEnv, fetch })())
      expect(e.code, body).toBe('ERR_OIDC_TOKEN')
    }
  })

  it('never repeats the request token a hostile endpoint echoes back', async () => {
    const secret = server.githubEnv.ACTIONS_ID_TOKEN_REQUEST_TOKEN
    const fetch = async () => new Response(JSON.stringify({ message: `bad token ${secret}` }), { status: 403 })
    const e = await rejection(githubActionsIdentityToken({ env: server.githubEnv, fetch })())
    expect(e.code).toBe('ERR_OIDC_TOKEN')
    expect(e.message).toContain('[REDACTED]')
    expect(e.message).not.toContain(secret)
  })
})

describe('environment and static tokens', () => {
  it('reads SIGSTORE_ID_TOKEN (GitLab id_tokens convention) at call time', async () => {
    const env: Record<string, string | undefined> = {}
    const provider = environmentIdentityToken(env)
    expect((await rejection(provider())).code).toBe('ERR_OIDC_TOKEN')
    env.SIGSTORE_ID_TOKEN = ' a.b.c\n'
    expect(await provider()).toBe('a.b.c')
  })

  it('reads another variable when named', async () => {
    expect(await environmentIdentityToken({ MY_TOKEN: 'x.y.z' }, { name: 'MY_TOKEN' })()).toBe('x.y.z')
  })

  it('returns a static token and refuses an empty one', async () => {
    expect(await staticIdentityToken('x.y.z')()).toBe('x.y.z')
    expect((await rejection(staticIdentityToken('')())).code).toBe('ERR_OIDC_TOKEN')
  })
})

describe('detectIdentityToken', () => {
  it('finds nothing in a plain environment', () => {
    expect(detectIdentityToken({ env: { HOME: '/root' } })).toBeUndefined()
    expect(detectIdentityToken({ env: { SIGSTORE_ID_TOKEN: '' } })).toBeUndefined()
    // Only one of GitHub's two variables does not count (cosign's Enabled()).
    expect(
      detectIdentityToken({ env: { ACTIONS_ID_TOKEN_REQUEST_URL: server.githubEnv.ACTIONS_ID_TOKEN_REQUEST_URL } }),
    ).toBeUndefined()
  })

  it('uses SIGSTORE_ID_TOKEN outside GitHub Actions', async () => {
    const detected = detectIdentityToken({ env: { SIGSTORE_ID_TOKEN: 'e.n.v' } })
    expect(detected?.source).toBe('environment')
    expect(await detected?.getToken()).toBe('e.n.v')
  })

  it('prefers GitHub Actions (cosign order) and makes no request until asked', async () => {
    const before = server.requests.length
    const detected = detectIdentityToken({ env: { ...server.githubEnv, SIGSTORE_ID_TOKEN: 'e.n.v' } })
    expect(detected?.source).toBe('github-actions')
    expect(server.requests.length).toBe(before)
    const jwt = await detected!.getToken()
    expect(parseIdentityToken(jwt).issuer).toBe(server.url)
  })

  it('falls back to SIGSTORE_ID_TOKEN when the GitHub request fails, and fails without it', async () => {
    const env = { ...server.githubEnv, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'nope-nope-nope' }
    expect(await detectIdentityToken({ env: { ...env, SIGSTORE_ID_TOKEN: 'e.n.v' }, sleep: noSleep })!.getToken()).toBe(
      'e.n.v',
    )
    const e = await rejection(detectIdentityToken({ env, sleep: noSleep })!.getToken())
    expect(isCountersignError(e, 'ERR_OIDC_TOKEN')).toBe(true)
  })
})

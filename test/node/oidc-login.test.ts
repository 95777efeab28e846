/**
 * The interactive login end to end: loginInteractively (browser disabled) against the local OIDC provider; the test
 * plays the browser by fetching the printed URL, which redirects to the loopback callback.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loginInteractively } from '../../src/node/oidc-login.js'
import {
  createAuthorizationRequest,
  discoverOIDCProvider,
  exchangeAuthorizationCode,
  parseAuthorizationCallback,
} from '../../src/oidc/authorization-code.js'
import { parseIdentityToken } from '../../src/oidc/token.js'
import { type OIDCServer, startOIDCServer } from '../support/oidc-server.js'

let server: OIDCServer
beforeAll(async () => {
  server = await startOIDCServer()
})
afterAll(async () => {
  await server?.close()
})
afterEach(() => {
  server.authorizeError = undefined
  server.tamperState = undefined
  server.tamperNonce = undefined
})

type Outcome =
  | { ok: true; token: string }
  | { ok: false; error: { code: string; message: string; details?: Record<string, unknown> } }

/** Start a login; resolves with the printed authorization URL, the output lines and the eventual outcome. */
async function startLogin(extra: Partial<Parameters<typeof loginInteractively>[0]> = {}) {
  const lines: string[] = []
  let printed!: (url: string) => void
  const url = new Promise<string>((resolve) => {
    printed = resolve
  })
  const outcome: Promise<Outcome> = loginInteractively({
    issuer: server.url,
    openBrowser: false,
    timeoutMs: 15_000,
    output: (line) => {
      lines.push(line)
      if (/^https?:\/\//.test(line)) printed(line)
    },
    ...extra,
  }).then(
    (token) => ({ ok: true as const, token }),
    (error) => ({ ok: false as const, error }),
  )
  return { url: await Promise.race([url, outcome.then(() => '')]), lines, outcome }
}

describe('loginInteractively', () => {
  it('completes the authorization-code + PKCE flow and returns the ID token', async () => {
    const { url, lines, outcome } = await startLogin()
    const auth = new URL(url)
    expect(auth.origin + auth.pathname).toBe(`${server.url}/authorize`)
    const p = auth.searchParams
    expect(p.get('client_id')).toBe('sigstore')
    expect(p.get('scope')).toBe('openid email')
    expect(p.get('response_type')).toBe('code')
    expect(p.get('code_challenge_method')).toBe('S256')
    expect(p.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(p.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(p.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const redirect = new URL(p.get('redirect_uri')!)
    expect(redirect.hostname).toBe('localhost')
    expect(redirect.pathname).toBe('/auth/callback')

    // The browser's part: follow the provider's redirect to the loopback callback.
    const page = await fetch(url)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('successful')

    const result = await outcome
    expect(result.ok).toBe(true)
    const token = parseIdentityToken((result as { token: string }).token)
    expect(token.issuer).toBe(server.url)
    expect(token.claims.nonce).toBe(p.get('nonce'))
    expect(token.email).toBe('alice@example.com')
    expect(server.requests).toContain('POST /token 200')
    // The output shows the URL, never the token.
    expect(lines).toContain(url)
    for (const line of lines) expect(line).not.toContain((result as { token: string }).token.split('.')[1])

    // The listener is gone once the login returns.
    await expect(fetch(`${redirect.origin}/auth/callback?code=x&state=y`)).rejects.toThrow()
  })

  it('reports access_denied from the provider', async () => {
    server.authorizeError = 'access_denied'
    const { url, outcome } = await startLogin()
    const page = await fetch(url)
    expect(page.status).toBe(400)
    const result = await outcome
    expect(result.ok).toBe(false)
    const { error } = result as Extract<Outcome, { ok: false }>
    expect(error.code).toBe('ERR_OIDC_LOGIN')
    expect(error.details?.reason).toBe('denied')
    expect(error.details?.error).toBe('access_denied')
    expect(error.message).toContain('access_denied')
  })

  it('refuses a callback with another state (CSRF)', async () => {
    server.tamperState = 'forged-state'
    const exchanges = server.requests.filter((r) => r.startsWith('POST /token')).length
    const { url, outcome } = await startLogin()
    expect((await fetch(url)).status).toBe(400)
    const result = (await outcome) as Extract<Outcome, { ok: false }>
    expect(result.ok).toBe(false)
    expect(result.error.code).toBe('ERR_OIDC_LOGIN')
    expect(result.error.details?.reason).toBe('state-mismatch')
    // The code was never exchanged.
    expect(server.requests.filter((r) => r.startsWith('POST /token')).length).toBe(exchanges)
  })

  it('refuses an ID token without this login\u2019s nonce', async () => {
    server.tamperNonce = 'replayed-nonce'
    const { url, outcome } = await startLogin()
    await fetch(url)
    const result = (await outcome) as Extract<Outcome, { ok: false }>
    expect(result.error.code).toBe('ERR_OIDC_LOGIN')
    expect(result.error.details?.reason).toBe('nonce-mismatch')
  })

  it('times out when the browser never comes back, and closes the listener', async () => {
    const { url, outcome } = await startLogin({ timeoutMs: 300 })
    const result = (await outcome) as Extract<Outcome, { ok: false }>
    expect(result.error.code).toBe('ERR_OIDC_LOGIN')
    expect(result.error.details?.reason).toBe('timeout')
    const redirect = new URL(new URL(url).searchParams.get('redirect_uri')!)
    await expect(fetch(redirect.href)).rejects.toThrow()
  })

  it('stops when aborted', async () => {
    const controller = new AbortController()
    const { outcome } = await startLogin({ signal: controller.signal })
    controller.abort()
    const result = (await outcome) as Extract<Outcome, { ok: false }>
    expect(result.error.code).toBe('ERR_ABORTED')
  })

  it('fails clearly when the issuer has no discovery document', async () => {
    const { outcome } = await startLogin({ issuer: `${server.url}/nowhere` })
    const result = (await outcome) as Extract<Outcome, { ok: false }>
    expect(result.error.code).toBe('ERR_OIDC_LOGIN')
    expect(result.error.details?.status).toBe(404)
  })
})

describe('authorization-code steps', () => {
  it('refuses a discovery document for another issuer and non-https endpoints', async () => {
    const doc = (over: Record<string, unknown>) => async () =>
      new Response(
        JSON.stringify({
          issuer: 'https://issuer.example',
          authorization_endpoint: 'https://issuer.example/auth',
          token_endpoint: 'https://issuer.example/token',
          ...over,
        }),
      )
    await expect(discoverOIDCProvider('https://issuer.example', { fetch: doc({}) })).resolves.toMatchObject({
      tokenEndpoint: 'https://issuer.example/token',
    })
    for (const over of [
      { issuer: 'https://evil.example' },
      { token_endpoint: 'http://issuer.example/token' },
      { authorization_endpoint: 42 },
      { code_challenge_methods_supported: 'S256' },
    ]) {
      await expect(discoverOIDCProvider('https://issuer.example', { fetch: doc(over) })).rejects.toMatchObject({
        code: 'ERR_OIDC_LOGIN',
      })
    }
    const plainOnly = await discoverOIDCProvider('https://issuer.example', {
      fetch: doc({ code_challenge_methods_supported: ['plain'] }),
    })
    await expect(createAuthorizationRequest(plainOnly, { redirectUri: 'http://localhost:1/cb' })).rejects.toMatchObject(
      {
        details: { reason: 'pkce-unsupported' },
      },
    )
  })

  it('checks state before believing an error, and requires a code', async () => {
    const provider = await discoverOIDCProvider(server.url)
    const request = await createAuthorizationRequest(provider, { redirectUri: 'http://localhost:1/auth/callback' })
    const cb = (q: Record<string, string>) => `/auth/callback?${new URLSearchParams(q)}`
    expect(parseAuthorizationCallback(cb({ state: request.state, code: 'c0de' }), request)).toBe('c0de')
    expect(() => parseAuthorizationCallback(cb({ error: 'access_denied' }), request)).toThrow(/state/)
    expect(() => parseAuthorizationCallback(cb({ state: request.state }), request)).toThrow(/no authorization code/)
  })

  it('reports a refused code exchange without the code or the verifier', async () => {
    const provider = await discoverOIDCProvider(server.url)
    const request = await createAuthorizationRequest(provider, { redirectUri: 'http://localhost:1/auth/callback' })
    const code = 'unknown-code-0123456789abcdef'
    const error = await exchangeAuthorizationCode(request, code).then(
      () => undefined,
      (e: { code: string; message: string; details?: Record<string, unknown> }) => e,
    )
    expect(error?.code).toBe('ERR_OIDC_LOGIN')
    expect(error?.details?.status).toBe(400)
    expect(error?.message).toContain('unknown or used code')
    expect(error?.message).not.toContain(code)
    expect(error?.message).not.toContain(request.codeVerifier)
  })
})

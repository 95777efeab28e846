import { describe, expect, test } from 'vitest'
import { createAuthenticator, fetchBearerToken, parseWWWAuthenticate } from '../../src/oci/auth.js'

describe('parseWWWAuthenticate', () => {
  test('bearer with quoted params', () => {
    expect(
      parseWWWAuthenticate(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull,push"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/ubuntu:pull,push',
        },
      },
    ])
  })
  test('basic, case, spaces, tokens and escapes', () => {
    expect(parseWWWAuthenticate('basic Realm = "a \\"q\\" b" , charset=UTF-8')).toEqual([
      { scheme: 'basic', params: { realm: 'a "q" b', charset: 'UTF-8' } },
    ])
  })
  test('several challenges in one value (as Headers.get joins them)', () => {
    const c = parseWWWAuthenticate('Basic realm="r1", Bearer realm="https://t/x",service="s,with,commas", Negotiate')
    expect(c.map((x) => x.scheme)).toEqual(['basic', 'bearer', 'negotiate'])
    expect(c[1]?.params).toEqual({ realm: 'https://t/x', service: 's,with,commas' })
  })
  test('malformed input yields what parsed, never throws', () => {
    expect(parseWWWAuthenticate('')).toEqual([])
    expect(parseWWWAuthenticate('=x')).toEqual([])
    expect(parseWWWAuthenticate('Bearer realm="unterminated')).toEqual([{ scheme: 'bearer', params: {} }])
    expect(parseWWWAuthenticate('Bearer realm="a", @@@')).toEqual([{ scheme: 'bearer', params: { realm: 'a' } }])
    const p = parseWWWAuthenticate('Bearer __proto__="x"')[0]!.params
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(p, '__proto__')?.value).toBe('x')
  })
})

function tokenServer(handler: (req: Request) => Response | Promise<Response>) {
  const calls: Request[] = []
  const fetch = async (url: string, init: RequestInit) => {
    const req = new Request(url, init)
    calls.push(req.clone())
    return handler(req)
  }
  return { fetch, calls }
}

const bearer = (realm: string, extra = '') => parseWWWAuthenticate(`Bearer realm="${realm}",service="reg"${extra}`)[0]!

describe('fetchBearerToken', () => {
  test('GET with basic credentials, accepts access_token, default expiry 60 s', async () => {
    const s = tokenServer(() => Response.json({ access_token: 'tok123' }))
    const t = await fetchBearerToken(bearer('https://auth.example/token'), {
      registry: 'reg.example',
      scopes: ['repository:a/b:pull'],
      credential: { username: 'u', password: 'p' },
      fetch: s.fetch,
      now: () => 1000,
    })
    expect(t).toEqual({ token: 'tok123', expiresAt: 61_000 })
    const u = new URL(s.calls[0]!.url)
    expect(s.calls[0]!.method).toBe('GET')
    expect(u.searchParams.get('service')).toBe('reg')
    expect(u.searchParams.getAll('scope')).toEqual(['repository:a/b:pull'])
    expect(s.calls[0]!.headers.get('authorization')).toBe(`Basic ${btoa('u:p')}`)
  })
  test('anonymous GET sends no Authorization; expires_in honoured', async () => {
    const s = tokenServer(() => Response.json({ token: 't', expires_in: 300 }))
    const t = await fetchBearerToken(bearer('https://auth.example/token'), {
      registry: 'r',
      scopes: ['x'],
      fetch: s.fetch,
      now: () => 0,
    })
    expect(t.expiresAt).toBe(300_000)
    expect(s.calls[0]!.headers.get('authorization')).toBeNull()
  })
  test('identity token uses the OAuth2 refresh_token grant, falling back to GET on 404', async () => {
    const s = tokenServer(async (req) => {
      if (req.method === 'POST') {
        const form = new URLSearchParams(await req.text())
        expect(req.headers.get('content-type')).toBe('application/x-www-form-urlencoded')
        expect(form.get('grant_type')).toBe('refresh_token')
        expect(form.get('refresh_token')).toBe('idtok')
        expect(form.get('service')).toBe('reg')
        expect(form.get('scope')).toBe('repository:a:pull repository:a:push')
        return Response.json({ access_token: 'fromPost' })
      }
      return Response.json({ token: 'fromGet' })
    })
    const opts = {
      registry: 'r',
      scopes: ['repository:a:pull', 'repository:a:push'],
      credential: { identityToken: 'idtok' },
      fetch: s.fetch,
    }
    expect((await fetchBearerToken(bearer('https://auth.example/t'), opts)).token).toBe('fromPost')
    const s404 = tokenServer((req) =>
      req.method === 'POST' ? new Response('no', { status: 404 }) : Response.json({ token: 'fromGet' }),
    )
    expect((await fetchBearerToken(bearer('https://auth.example/t'), { ...opts, fetch: s404.fetch })).token).toBe(
      'fromGet',
    )
    expect(s404.calls.map((c) => c.method)).toEqual(['POST', 'GET'])
  })
  test('refusals and junk', async () => {
    const base = { registry: 'r.example', scopes: ['x'] }
    const refused = tokenServer(() => new Response('nope', { status: 401 }))
    await expect(
      fetchBearerToken(bearer('https://a.example/t'), { ...base, fetch: refused.fetch }),
    ).rejects.toMatchObject({
      code: 'ERR_OCI_UNAUTHORIZED',
    })
    const html = tokenServer(() => new Response('<html>', { status: 200 }))
    await expect(fetchBearerToken(bearer('https://a.example/t'), { ...base, fetch: html.fetch })).rejects.toMatchObject(
      { code: 'ERR_OCI_HTTP' },
    )
    const empty = tokenServer(() => Response.json({ token: '' }))
    await expect(
      fetchBearerToken(bearer('https://a.example/t'), { ...base, fetch: empty.fetch }),
    ).rejects.toMatchObject({ code: 'ERR_OCI_HTTP' })
    const injected = tokenServer(() => Response.json({ token: 'a\r\nX-Evil: 1' }))
    await expect(
      fetchBearerToken(bearer('https://a.example/t'), { ...base, fetch: injected.fetch }),
    ).rejects.toMatchObject({
      code: 'ERR_OCI_HTTP',
    })
    const huge = tokenServer(() => new Response(new Uint8Array(100_000)))
    await expect(fetchBearerToken(bearer('https://a.example/t'), { ...base, fetch: huge.fetch })).rejects.toMatchObject(
      {
        code: 'ERR_OCI_SIZE_LIMIT',
      },
    )
    const e500 = tokenServer(() => new Response('x', { status: 503 }))
    await expect(fetchBearerToken(bearer('https://a.example/t'), { ...base, fetch: e500.fetch })).rejects.toMatchObject(
      {
        code: 'ERR_OCI_HTTP',
        details: { status: 503, temporary: true },
      },
    )
  })
  test('realm validation: no http for https registries, no private addresses, no embedded credentials', async () => {
    const s = tokenServer(() => Response.json({ token: 't' }))
    const base = { registry: 'reg.example', scopes: ['x'], fetch: s.fetch }
    for (const realm of [
      'http://auth.example/t',
      'https://127.0.0.1/t',
      'https://10.1.2.3/t',
      'https://[::1]/t',
      'https://u:p@a.example/t',
      'ftp://a/t',
      'not a url',
    ]) {
      await expect(fetchBearerToken(bearer(realm), base)).rejects.toMatchObject({ code: 'ERR_OCI_UNAUTHORIZED' })
    }
    expect(s.calls).toHaveLength(0)
    // A plain-HTTP loopback registry may use a token server on its own host.
    await expect(
      fetchBearerToken(bearer('http://127.0.0.1:9999/t'), { ...base, registry: '127.0.0.1:5000', plainHTTP: true }),
    ).resolves.toMatchObject({ token: 't' })
  })
})

describe('createAuthenticator', () => {
  test('caches bearer tokens per scope until expiry; pull,push serves pull', async () => {
    let n = 0
    const s = tokenServer(() => Response.json({ token: `t${++n}`, expires_in: 120 }))
    let now = 0
    const auth = createAuthenticator({ fetch: s.fetch, now: () => now })
    const challenge = 'Bearer realm="https://auth.example/token",service="reg"'
    const push = { registry: 'reg.example', repository: 'a/b', actions: 'pull,push' as const }
    const pull = { ...push, actions: 'pull' as const }
    expect(auth.cached(push)).toBeUndefined()
    expect(await auth.respond(push, challenge, { plainHTTP: false })).toBe('Bearer t1')
    expect(auth.cached(push)).toBe('Bearer t1')
    expect(auth.cached(pull)).toBe('Bearer t1')
    expect(auth.cached({ ...pull, repository: 'other' })).toBeUndefined()
    now = 116_000 // within the 5 s safety margin
    expect(auth.cached(push)).toBeUndefined()
    expect(s.calls).toHaveLength(1)
  })
  test('basic is cached per repository (credentials may be namespaced) and looked up once per repository', async () => {
    let lookups = 0
    const asked: unknown[] = []
    const auth = createAuthenticator({
      fetch: async () => {
        throw new Error('no token server expected')
      },
      credentials: async (r, context) => {
        lookups++
        asked.push(context)
        return r === 'reg.example' ? { username: 'u', password: 'p' } : undefined
      },
    })
    const scope = { registry: 'reg.example', repository: 'a', actions: 'pull' as const }
    expect(await auth.respond(scope, 'Basic realm="x"', { plainHTTP: false })).toBe(`Basic ${btoa('u:p')}`)
    expect(auth.cached(scope)).toBe(`Basic ${btoa('u:p')}`)
    expect(auth.cached({ ...scope, actions: 'pull,push' })).toBe(`Basic ${btoa('u:p')}`)
    expect(auth.cached({ ...scope, repository: 'b' })).toBeUndefined()
    await auth.respond(scope, 'Basic realm="x"', { plainHTTP: false })
    expect(lookups).toBe(1)
    expect(asked).toEqual([{ repository: 'a' }])
    await expect(
      auth.respond({ ...scope, registry: 'other' }, 'Basic realm="x"', { plainHTTP: false }),
    ).rejects.toMatchObject({
      code: 'ERR_OCI_UNAUTHORIZED',
    })
    await expect(auth.respond(scope, 'Digest realm="x"', { plainHTTP: false })).rejects.toMatchObject({
      code: 'ERR_OCI_UNAUTHORIZED',
    })
  })
  test('registry tokens are sent as Bearer without an exchange', async () => {
    const auth = createAuthenticator({
      fetch: async () => {
        throw new Error('unexpected')
      },
      credentials: async () => ({ registryToken: 'rt' }),
    })
    const scope = { registry: 'r', repository: 'a', actions: 'pull' as const }
    expect(await auth.respond(scope, 'Bearer realm="https://x/t"', { plainHTTP: false })).toBe('Bearer rt')
  })
})

import { describe, expect, it } from 'vitest'
import { isCountersignError } from '../../src/errors.js'
import { MAX_IDENTITY_TOKEN_LENGTH, parseIdentityToken } from '../../src/oidc/token.js'

const NOW = new Date('2026-06-01T12:00:00Z')
const t = Math.floor(NOW.getTime() / 1000)
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')

function jwt(
  claims: Record<string, unknown>,
  header: unknown = { alg: 'RS256', kid: 'k' },
  sig = 'c2lnbmF0dXJlLWJ5dGVz',
): string {
  return `${b64(header)}.${b64(claims)}.${sig}`
}

const base = {
  iss: 'https://oauth2.sigstore.dev/auth',
  sub: 'CgUzMTg4ORIm',
  aud: 'sigstore',
  email: 'alice@example.com',
  email_verified: true,
  iat: t - 30,
  exp: t + 570,
}

function expectTokenError(token: string, reason: string, options: Parameters<typeof parseIdentityToken>[1] = {}) {
  let error: unknown
  try {
    parseIdentityToken(token, { now: NOW, ...options })
  } catch (e) {
    error = e
  }
  expect(isCountersignError(error, 'ERR_OIDC_TOKEN'), String(error)).toBe(true)
  const { message, details } = error as { message: string; details: { reason: string } }
  expect(details.reason).toBe(reason)
  // The message never contains the token or any of its parts.
  for (const part of token.split('.').filter((p) => p.length >= 8)) expect(message).not.toContain(part)
  expect(message).not.toContain(token.slice(0, 40))
  return message
}

describe('parseIdentityToken', () => {
  it('decodes an email token; the challenge is the email', () => {
    const raw = jwt({ ...base, federated_claims: { connector_id: 'https://github.com/login/oauth' } })
    const token = parseIdentityToken(`  ${raw}\n`, { now: NOW })
    expect(token.raw).toBe(raw)
    expect(token.issuer).toBe(base.iss)
    expect(token.subject).toBe(base.sub)
    expect(token.audience).toEqual(['sigstore'])
    expect(token.expiresAt.toISOString()).toBe(new Date((t + 570) * 1000).toISOString())
    expect(token.issuedAt.getTime()).toBe((t - 30) * 1000)
    expect(token.email).toBe('alice@example.com')
    expect(token.emailVerified).toBe(true)
    expect(token.challenge).toBe('alice@example.com')
    expect((token.claims.federated_claims as { connector_id: string }).connector_id).toBe(
      'https://github.com/login/oauth',
    )
    expect(Object.isFrozen(token)).toBe(true)
  })

  it('uses sub as the challenge when there is no email (CI tokens)', () => {
    const { email: _e, email_verified: _v, ...rest } = base
    const token = parseIdentityToken(jwt({ ...rest, sub: 'repo:acme/app:ref:refs/heads/main' }), { now: NOW })
    expect(token.email).toBeUndefined()
    expect(token.challenge).toBe('repo:acme/app:ref:refs/heads/main')
  })

  it('accepts an audience list containing sigstore, an unsigned token, and "true" as a string', () => {
    const token = parseIdentityToken(
      jwt({ ...base, aud: ['other', 'sigstore'], email_verified: 'true' }, { alg: 'none' }, ''),
      {
        now: NOW,
      },
    )
    expect(token.audience).toEqual(['other', 'sigstore'])
    expect(token.emailVerified).toBe(true)
  })

  it('accepts another audience when asked for it', () => {
    expect(parseIdentityToken(jwt({ ...base, aud: 'my-client' }), { now: NOW, audience: 'my-client' }).issuer).toBe(
      base.iss,
    )
  })

  it('tolerates clock skew within the limit', () => {
    expect(() => parseIdentityToken(jwt({ ...base, exp: t - 30 }), { now: NOW })).not.toThrow()
    expect(() => parseIdentityToken(jwt({ ...base, exp: t - 30 }), { now: NOW, clockSkewSeconds: 0 })).toThrow()
  })

  const cases: Array<[string, string, string]> = [
    ['expired', jwt({ ...base, exp: t - 3600 }), 'expired'],
    ['not yet valid (nbf)', jwt({ ...base, nbf: t + 3600 }), 'not-yet-valid'],
    ['wrong audience (string)', jwt({ ...base, aud: 'not-sigstore' }), 'audience'],
    ['wrong audience (array)', jwt({ ...base, aud: ['a', 'b'] }), 'audience'],
    ['empty audience array', jwt({ ...base, aud: [] }), 'claims'],
    ['non-string audience', jwt({ ...base, aud: [7] }), 'claims'],
    ['missing iss', jwt({ ...base, iss: undefined }), 'claims'],
    ['missing sub', jwt({ ...base, sub: undefined }), 'claims'],
    ['missing aud', jwt({ ...base, aud: undefined }), 'claims'],
    ['missing exp', jwt({ ...base, exp: undefined }), 'claims'],
    ['string exp', jwt({ ...base, exp: String(t + 600) }), 'claims'],
    ['missing iat', jwt({ ...base, iat: undefined }), 'claims'],
    ['email_verified false', jwt({ ...base, email_verified: false }), 'email-unverified'],
    ['email_verified missing', jwt({ ...base, email_verified: undefined }), 'email-unverified'],
    ['email_verified "yes"', jwt({ ...base, email_verified: 'yes' }), 'email-unverified'],
    ['non-string email', jwt({ ...base, email: 42 }), 'claims'],
    ['garbage', 'this is not a token at all', 'malformed'],
    ['empty', '   ', 'malformed'],
    ['two parts', `${b64({ alg: 'none' })}.${b64(base)}`, 'malformed'],
    ['JWE (five parts)', `${b64({ alg: 'RSA-OAEP' })}.a.b.c.d`, 'malformed'],
    ['payload not JSON', `${b64({ alg: 'none' })}.${b64('not json at all!')}.`, 'malformed'],
    ['payload an array', `${b64({ alg: 'none' })}.${b64([1, 2])}.`, 'malformed'],
    ['payload with bad characters', `${b64({ alg: 'none' })}.eyJ*x.`, 'malformed'],
    ['header without alg', jwt(base, { typ: 'JWT' }), 'malformed'],
    ['signature with bad characters', jwt(base, { alg: 'RS256' }, 'a+b/c'), 'malformed'],
    ['huge', jwt({ ...base, pad: 'x'.repeat(MAX_IDENTITY_TOKEN_LENGTH) }), 'too-large'],
  ]
  it.each(cases)('rejects %s with ERR_OIDC_TOKEN', (_name, token, reason) => {
    expectTokenError(token, reason)
  })

  it('names what is wrong in plain words', () => {
    expect(expectTokenError(jwt({ ...base, exp: t - 3600 }), 'expired')).toMatch(/expired at 2026-06-01T11:0/)
    expect(expectTokenError(jwt({ ...base, aud: 'x' }), 'audience')).toContain('"sigstore"')
  })

  it('rejects a non-string argument as a programming error', () => {
    expect(() => parseIdentityToken(42 as unknown as string)).toThrow(TypeError)
  })
})

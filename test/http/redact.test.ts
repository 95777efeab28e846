// The one redaction of secrets in text from servers (src/http/redact.ts): every encoding a server may echo a secret
// in, identifying parts of one (JWT segments, cut tokens), redaction before clipping, and errors (message, details,
// cause chain) rebuilt only when they leak.
import { describe, expect, it } from 'vitest'
import { CountersignError } from '../../src/errors.js'
import {
  clipReason,
  createSecretSet,
  REDACTED,
  redactError,
  redactingErrors,
  redactValue,
  rememberHeaderSecrets,
} from '../../src/http/redact.js'
import { errorText, fakeJWT, fakeSecret, leaksOf } from '../support/secret-leaks.js'

const password = 'pa55/word+with?odd&chars é'
const pair = `u9:${password}`

describe('SecretSet.redact', () => {
  const secrets = createSecretSet([password, pair])

  const echoes: Record<string, string> = {
    raw: password,
    'Basic header': `Basic ${Buffer.from(pair).toString('base64')}`,
    'base64url, no padding': Buffer.from(pair).toString('base64url'),
    'base64 inside a longer base64 text (offset 1)': Buffer.from(`x${password}yz`).toString('base64'),
    'base64 inside a longer base64 text (offset 2)': Buffer.from(`xy${password}z`).toString('base64'),
    'base64url inside a longer text (offset 0)': Buffer.from(`${password}tail`).toString('base64url'),
    'URI component': encodeURIComponent(password),
    'URI component, lower-case hex': encodeURIComponent(password).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    'form encoding': new URLSearchParams({ password }).toString(),
    'JSON-escaped': JSON.stringify({ password }),
    'JSON with escaped slashes': JSON.stringify({ password }).replace(/\//g, '\\/'),
    'JSON, ASCII only': JSON.stringify(password).replace(/é/g, '\\u00e9'),
    'XML-escaped': `<Code>${password.replace(/&/g, '&amp;')}</Code>`,
  }
  for (const [name, echo] of Object.entries(echoes)) {
    it(`removes the ${name} form`, () => {
      const out = secrets.redact(`the server said: ${echo} (end)`)
      expect(out).toContain(REDACTED)
      expect(out).toMatch(/^the server said: /)
      expect(out).toMatch(/ \(end\)$/)
      expect(leaksOf(out, password)).toEqual([])
      expect(leaksOf(out, pair)).toEqual([])
    })
  }

  it('removes parts long enough to identify a secret: a JWT segment, a token cut short', () => {
    const jwt = fakeJWT('alice')
    const set = createSecretSet([jwt])
    const [header, claims] = jwt.split('.')
    for (const part of [claims!, jwt.slice(0, 60), jwt.slice(-30), header!.slice(3, 20)]) {
      const out = set.redact(`invalid token ${part}…`)
      expect(out).toBe(`invalid token ${REDACTED}…`)
    }
  })

  it('leaves text alone that holds no secret, and short values are not secrets', () => {
    const set = createSecretSet(['abc', 'hello', undefined, fakeSecret('tok-')])
    const text = 'GET manifest ghcr.io/org/app:hello failed with HTTP 404: abc'
    expect(set.redact(text)).toBe(text)
    expect(createSecretSet().redact(text)).toBe(text)
  })

  it('merges neighbouring matches into one marker', () => {
    const a = fakeSecret('aaa-')
    const b = fakeSecret('bbb-')
    expect(createSecretSet([a, b]).redact(`x ${a}${b} y`)).toBe(`x ${REDACTED} y`)
  })

  it('keeps only the latest temporary secrets, but every permanent one', () => {
    const set = createSecretSet()
    const permanent = fakeSecret('perm-')
    set.add(permanent)
    const first = fakeSecret('first-')
    set.addTemporary(first)
    for (let i = 0; i < 64; i++) set.addTemporary(fakeSecret(`t${i}-`))
    expect(set.redact(first)).toBe(first)
    expect(set.redact(permanent)).toBe(REDACTED)
    // Adding a temporary secret again keeps it.
    const kept = fakeSecret('kept-')
    set.addTemporary(kept)
    for (let i = 0; i < 63; i++) {
      set.addTemporary(fakeSecret(`u${i}-`))
      set.addTemporary(kept)
    }
    expect(set.redact(kept)).toBe(REDACTED)
  })
})

describe('clipReason', () => {
  it('redacts before it clips, so no prefix of a secret survives at the limit', () => {
    const token = fakeSecret('ghp_', 48)
    const secrets = createSecretSet([token])
    for (let pad = 280; pad <= 300; pad++) {
      const out = clipReason(`${'.'.repeat(pad)}${token}`, secrets, 300)
      expect(leaksOf(out, token), `pad ${pad}`).toEqual([])
      expect(out.length).toBeLessThanOrEqual(301)
    }
  })
})

describe('rememberHeaderSecrets', () => {
  it('learns Bearer and Basic credentials (and the pair inside Basic) and token headers, not signatures', () => {
    const set = createSecretSet()
    const token = fakeSecret('bearer-')
    const vault = fakeSecret('hvs.')
    rememberHeaderSecrets(set, {
      Authorization: `Basic ${Buffer.from(pair).toString('base64')}`,
      'Proxy-Authorization': `bearer ${token}`,
      'X-Vault-Token': vault,
      'X-Amz-Date': '20250101T000000Z',
    })
    expect(set.redact(`${password} ${token} ${vault}`)).toBe(`${REDACTED} ${REDACTED} ${REDACTED}`)
    const sig = createSecretSet()
    rememberHeaderSecrets(sig, {
      Authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x, Signature=abcdef0123456789',
    })
    expect(sig.redact('Signature=abcdef0123456789')).toBe('Signature=abcdef0123456789')
  })
})

describe('redactError and redactValue', () => {
  const token = fakeSecret('tok-')
  const secrets = createSecretSet([token])

  it('returns an error that mentions no secret as it is', () => {
    const e = new CountersignError('ERR_OCI_HTTP', 'plain', { details: { status: 500 }, cause: new Error('inner') })
    expect(redactError(e, secrets)).toBe(e)
    expect(redactValue({ a: ['x', { b: 1 }] }, secrets)).toEqual({ a: ['x', { b: 1 }] })
  })

  it('rebuilds a leaking CountersignError with its code, redacting message, details (keys too) and causes', () => {
    const inner = Object.assign(new TypeError(`socket said ${token}`), { code: 'UND_ERR_SOCKET' })
    const e = new CountersignError('ERR_KMS', `denied: ${token}`, {
      cause: new CountersignError('ERR_NETWORK', 'wrapped', { cause: inner }),
      details: { status: 403, echo: [{ [token]: token }], nested: { deep: `x${token}` } },
    })
    const r = redactError(e, secrets) as CountersignError
    expect(r).toBeInstanceOf(CountersignError)
    expect(r.code).toBe('ERR_KMS')
    expect(r.message).toBe(`denied: ${REDACTED}`)
    expect(r.details).toEqual({ status: 403, echo: [{ [REDACTED]: REDACTED }], nested: { deep: `x${REDACTED}` } })
    const cause = r.cause as CountersignError
    expect(cause.code).toBe('ERR_NETWORK')
    const root = cause.cause as Error & { code?: string }
    expect(root.name).toBe('TypeError')
    expect(root.code).toBe('UND_ERR_SOCKET')
    expect(leaksOf(errorText(r), token)).toEqual([])
  })

  it('replaces a value nested deeper than it walks when it still leaks', () => {
    let deep: unknown = token
    for (let i = 0; i < 30; i++) deep = { d: deep }
    expect(JSON.stringify(redactValue(deep, secrets))).not.toContain(token)
  })

  it('redactingErrors wraps a client method', async () => {
    const f = redactingErrors(async (x: string) => {
      throw new CountersignError('ERR_REKOR_HTTP', `bad ${x}`)
    }, secrets)
    await expect(f(token)).rejects.toMatchObject({ code: 'ERR_REKOR_HTTP', message: `bad ${REDACTED}` })
  })
})

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createFulcioClient } from '../../src/fulcio/client.js'
import { decodePEM } from '../../src/internal/pem.js'

const dir = join(import.meta.dirname, '../vectors/certs/sct/sigstore-js-fulcio-embedded-sct-valid')
const leafPEM = readFileSync(join(dir, 'leaf.pem'), 'utf8')
const issuerPEM = readFileSync(join(dir, 'issuer.pem'), 'utf8')
const b64 = (v: string | Uint8Array) => Buffer.from(v).toString('base64url')
const TOKEN = `${b64(JSON.stringify({ alg: 'none' }))}.${b64(JSON.stringify({ iss: 'https://issuer.example', sub: 'someone-special', aud: 'sigstore' }))}.`
const SPKI = new Uint8Array([0x30, 0x59, 1, 2, 3, 4, 5, 6, 7, 8])
const POP = new Uint8Array([0x30, 0x45, 9, 9, 9])
const noSleep = async () => {}

interface Call {
  url: string
  method: string
  body: unknown
}

function fakeFetch(...responses: Array<() => Response>) {
  const calls: Call[] = []
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const body = init?.body ? JSON.parse(Buffer.from(init.body as Uint8Array).toString('utf8')) : undefined
    calls.push({ url: String(input), method: init?.method ?? 'GET', body })
    const next = responses[Math.min(calls.length - 1, responses.length - 1)]!
    return next()
  }
  return { fetch, calls }
}

const json = (status: number, value: unknown) => () =>
  new Response(typeof value === 'string' ? value : JSON.stringify(value), {
    status,
    headers: { 'Content-Type': 'application/json' },
  })
const embedded = (certificates: unknown) => ({ signedCertificateEmbeddedSct: { chain: { certificates } } })

async function failure(p: Promise<unknown>) {
  try {
    await p
  } catch (e) {
    return e as { code: string; message: string; details?: Record<string, unknown> }
  }
  throw new Error('expected a rejection')
}

describe('createFulcioClient', () => {
  const request = { identityToken: TOKEN, publicKey: SPKI, proofOfPossession: POP }

  it('sends a v2 publicKeyRequest and returns the DER chain (embedded SCT)', async () => {
    const { fetch, calls } = fakeFetch(json(201, embedded([leafPEM, issuerPEM])))
    const client = createFulcioClient({ url: 'https://fulcio.example/', fetch })
    expect(client.url).toBe('https://fulcio.example')
    const cert = await client.createSigningCertificate(request)
    expect(cert.chain.map((c) => Buffer.from(c).toString('hex'))).toEqual([
      Buffer.from(decodePEM(leafPEM).bytes).toString('hex'),
      Buffer.from(decodePEM(issuerPEM).bytes).toString('hex'),
    ])
    expect(cert.detachedSct).toBeUndefined()
    expect(calls).toHaveLength(1)
    expect(calls[0]!.url).toBe('https://fulcio.example/api/v2/signingCert')
    expect(calls[0]!.method).toBe('POST')
    const body = calls[0]!.body as {
      credentials: { oidcIdentityToken: string }
      publicKeyRequest: { publicKey: { algorithm: string; content: string }; proofOfPossession: string }
    }
    expect(body.credentials.oidcIdentityToken).toBe(TOKEN)
    expect(body.publicKeyRequest.publicKey.algorithm).toBe('ECDSA')
    expect(decodePEM(body.publicKeyRequest.publicKey.content)).toMatchObject({ label: 'PUBLIC KEY', bytes: SPKI })
    expect(body.publicKeyRequest.proofOfPossession).toBe(Buffer.from(POP).toString('base64'))
  })

  it('returns the detached SCT bytes when Fulcio sends one', async () => {
    const sct = JSON.stringify({ sct_version: 0, id: 'AAAA', timestamp: 1, extensions: '', signature: 'BAMARzBF' })
    const { fetch } = fakeFetch(
      json(201, {
        signedCertificateDetachedSct: {
          chain: { certificates: [leafPEM, issuerPEM] },
          signedCertificateTimestamp: Buffer.from(sct).toString('base64'),
        },
      }),
    )
    const cert = await createFulcioClient({ fetch }).createSigningCertificate(request)
    expect(cert.chain).toHaveLength(2)
    expect(Buffer.from(cert.detachedSct!).toString('utf8')).toBe(sct)
  })

  it('retries 500s and succeeds', async () => {
    const { fetch, calls } = fakeFetch(json(500, { message: 'busy' }), json(503, 'x'), json(201, embedded([leafPEM])))
    const cert = await createFulcioClient({ fetch, sleep: noSleep }).createSigningCertificate(request)
    expect(cert.chain).toHaveLength(1)
    expect(calls).toHaveLength(3)
  })

  it('gives up on persistent 500s with ERR_FULCIO_HTTP', async () => {
    const { fetch, calls } = fakeFetch(json(500, { code: 13, message: 'error communicating with CA backend' }))
    const e = await failure(createFulcioClient({ fetch, sleep: noSleep }).createSigningCertificate(request))
    expect(e.code).toBe('ERR_FULCIO_HTTP')
    expect(e.details?.status).toBe(500)
    expect(e.message).toContain('error communicating with CA backend')
    expect(calls).toHaveLength(4)
  })

  it('reports a 401 with the server reason and does not retry', async () => {
    const { fetch, calls } = fakeFetch(
      json(401, { code: 16, message: 'There was an error processing the identity token' }),
    )
    const e = await failure(createFulcioClient({ fetch, sleep: noSleep }).createSigningCertificate(request))
    expect(e.code).toBe('ERR_FULCIO_HTTP')
    expect(e.details?.status).toBe(401)
    expect(e.message).toContain('There was an error processing the identity token')
    expect(calls).toHaveLength(1)
  })

  it('never repeats the token a hostile server echoes', async () => {
    const payload = TOKEN.split('.')[1]!
    for (const echo of [`invalid token ${TOKEN}`, `bad claims ${payload}`]) {
      const { fetch } = fakeFetch(json(400, { message: echo }))
      const e = await failure(createFulcioClient({ fetch }).createSigningCertificate(request))
      expect(e.code).toBe('ERR_FULCIO_HTTP')
      expect(e.message).toContain('[REDACTED]')
      expect(e.message).not.toContain(payload)
    }
  })

  const garbage: Array<[string, () => Response]> = [
    ['not JSON', json(201, '<html>proxy error</html>')],
    ['JSON array', json(201, [])],
    ['neither form', json(201, { chain: [leafPEM] })],
    [
      'both forms',
      json(201, { ...embedded([leafPEM]), signedCertificateDetachedSct: { chain: { certificates: [leafPEM] } } }),
    ],
    ['no chain', json(201, { signedCertificateEmbeddedSct: {} })],
    ['null form', json(201, { signedCertificateEmbeddedSct: null })],
    ['empty chain', json(201, embedded([]))],
    ['non-string entry', json(201, embedded([42]))],
    ['not PEM', json(201, embedded(['hello']))],
    ['PEM of a key', json(201, embedded(['-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n']))],
    ['two certificates in one entry', json(201, embedded([leafPEM + issuerPEM]))],
    [
      'corrupt certificate',
      json(201, embedded(['-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n'])),
    ],
    ['eleven certificates', json(201, embedded(Array(11).fill(leafPEM)))],
    ['detached without SCT', json(201, { signedCertificateDetachedSct: { chain: { certificates: [leafPEM] } } })],
    [
      'detached with a bad SCT',
      json(201, {
        signedCertificateDetachedSct: { chain: { certificates: [leafPEM] }, signedCertificateTimestamp: '***' },
      }),
    ],
    ['huge body', json(201, { pad: 'x'.repeat(300 * 1024) })],
  ]
  it.each(garbage)('rejects a hostile answer (%s) with ERR_FULCIO_HTTP', async (_name, response) => {
    const { fetch } = fakeFetch(response)
    const e = await failure(createFulcioClient({ fetch, sleep: noSleep }).createSigningCertificate(request))
    expect(e.code).toBe('ERR_FULCIO_HTTP')
    expect(e.message).not.toContain(TOKEN.split('.')[1]!)
  })

  it('refuses a URL that is not http(s)', () => {
    expect(() => createFulcioClient({ url: 'file:///etc/passwd' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
  })
})

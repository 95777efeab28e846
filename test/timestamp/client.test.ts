import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { utf8 } from '../../src/internal/bytes.js'
import {
  encodeInteger,
  encodeNull,
  encodeOctetString,
  encodeOID,
  encodeSequence,
  encodeTLV,
  parseDER,
  readChildren,
  readInteger,
  readOctetString,
  readOID,
} from '../../src/internal/der.js'
import { createTimestampClient } from '../../src/timestamp/client.js'
import { parseTimestamp } from '../../src/timestamp/parse.js'
import { encodeTimestampRequest } from '../../src/timestamp/request.js'
import { verifyTimestamp } from '../../src/timestamp/verify.js'
import { parseTrustedRoot } from '../../src/trust/trusted-root.js'
import { type OpenSSLTSA, startOpenSSLTSA } from '../support/openssl-tsa.js'
import { type SigstoreMock, startSigstoreMock } from '../support/sigstore-mock.js'

const signature = new TextEncoder().encode('the signature bytes a bundle carries')
const sha = (alg: string, data: Uint8Array) => new Uint8Array(createHash(alg).update(data).digest())
const instant = { sleep: async () => {} }
/** A Response body from bytes (a fresh ArrayBuffer-backed copy, as BodyInit wants). */
const bytes = (b: Uint8Array) => new Uint8Array(b)
const OIDS = { sha256: '2.16.840.1.101.3.4.2.1', sha384: '2.16.840.1.101.3.4.2.2', sha512: '2.16.840.1.101.3.4.2.3' }

// ---------------------------------------------------------------------------------------------------------------
// A structurally valid TimeStampResp built in-process (its CMS signature is junk: the client does not verify it).

interface TokenFields {
  readonly imprintOID: string
  readonly digest: Uint8Array
  readonly nonce?: bigint
}

function tokenDER(f: TokenFields): Uint8Array {
  const tstInfo = encodeSequence(
    encodeInteger(1),
    encodeOID('1.3.6.1.4.1.57264.2'),
    encodeSequence(encodeSequence(encodeOID(f.imprintOID), encodeNull()), encodeOctetString(f.digest)),
    encodeInteger(1),
    encodeTLV(0x18, utf8('20260101000000Z')),
    ...(f.nonce === undefined ? [] : [encodeInteger(f.nonce)]),
  )
  const attrs = encodeTLV(
    0xa0,
    encodeSequence(encodeOID('1.2.840.113549.1.9.3'), encodeTLV(0x31, encodeOID('1.2.840.113549.1.9.16.1.4'))),
  )
  const signerInfo = encodeSequence(
    encodeInteger(1),
    encodeSequence(encodeSequence(), encodeInteger(1)),
    encodeSequence(encodeOID(OIDS.sha256)),
    attrs,
    encodeSequence(encodeOID('1.2.840.10045.4.3.2')),
    encodeOctetString(new Uint8Array(8)),
  )
  const signedData = encodeSequence(
    encodeInteger(3),
    encodeTLV(0x31, encodeSequence(encodeOID(OIDS.sha256))),
    encodeSequence(encodeOID('1.2.840.113549.1.9.16.1.4'), encodeTLV(0xa0, encodeOctetString(tstInfo))),
    encodeTLV(0x31, signerInfo),
  )
  return encodeSequence(encodeOID('1.2.840.113549.1.7.2'), encodeTLV(0xa0, signedData))
}

function responseDER(status: number, token?: Uint8Array, text?: string[], failBits?: number[]): Uint8Array {
  const parts = [encodeInteger(status)]
  if (text) parts.push(encodeSequence(...text.map((t) => encodeTLV(0x0c, utf8(t)))))
  if (failBits) {
    const max = Math.max(...failBits)
    const bytes = new Uint8Array((max >> 3) + 1)
    for (const b of failBits) bytes[b >> 3]! |= 0x80 >> (b & 7)
    parts.push(encodeTLV(0x03, Uint8Array.of(7 - (max & 7)), bytes))
  }
  return encodeSequence(encodeSequence(...parts), ...(token ? [token] : []))
}

/** What a request asked for, from its DER or JSON body. */
function readRequest(body: Uint8Array, contentType: string | null) {
  if (contentType === 'application/json') {
    const text = new TextDecoder().decode(body)
    const nonce = BigInt(/"nonce":([0-9]+)/.exec(text)![1]!)
    const j = JSON.parse(text)
    return {
      imprintOID: OIDS[j.hashAlgorithm as keyof typeof OIDS],
      digest: new Uint8Array(Buffer.from(j.artifactHash, 'base64')),
      nonce,
      certReq: j.certificates as boolean,
    }
  }
  const [version, imprint, ...rest] = readChildren(parseDER(body))
  const [alg, hash] = readChildren(imprint!)
  const nonceNode = rest.find((n) => n.tag === 0x02)!
  return {
    version: readInteger(version),
    imprintOID: readOID(readChildren(alg!)[0]),
    digest: readOctetString(hash),
    nonce: readInteger(nonceNode),
    certReq: rest.some((n) => n.tag === 0x01 && n.value[0] === 0xff),
    policy: rest.find((n) => n.tag === 0x06) ? readOID(rest.find((n) => n.tag === 0x06)) : undefined,
  }
}

type Answer = (req: ReturnType<typeof readRequest>) => Response

function fakeTSA(...answers: Answer[]) {
  const seen: Array<{ headers: Headers; body: Uint8Array; request: ReturnType<typeof readRequest> }> = []
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init)
    const body = new Uint8Array(await req.arrayBuffer())
    const request = readRequest(body, req.headers.get('content-type'))
    seen.push({ headers: req.headers, body, request })
    const next = answers.shift()
    if (!next) throw new Error('unexpected request')
    return next(request)
  }
  return { seen, fetch }
}

const reply =
  (mutate: (r: ReturnType<typeof readRequest>) => Partial<TokenFields> = () => ({}), status = 200): Answer =>
  (r) =>
    new Response(
      bytes(responseDER(0, tokenDER({ imprintOID: r.imprintOID!, digest: r.digest, nonce: r.nonce, ...mutate(r) }))),
      {
        status,
        headers: { 'content-type': 'application/timestamp-reply' },
      },
    )

const URL_ = 'https://tsa.invalid/api/v1/timestamp'

describe('createTimestampClient with a fake TSA', () => {
  test('DER (default): a TimeStampReq v1 over SHA-256(signature) with a nonce and certReq; the response is returned', async () => {
    const { seen, fetch } = fakeTSA(reply(), reply())
    const tsa = createTimestampClient({ url: URL_, fetch })
    expect(tsa.url).toBe(URL_)
    const der = await tsa.timestamp(signature)
    await tsa.timestamp(signature)
    const [first, second] = seen
    expect(first!.headers.get('content-type')).toBe('application/timestamp-query')
    expect(first!.headers.get('accept')).toBe('application/timestamp-reply')
    expect(first!.request).toMatchObject({ version: 1n, imprintOID: OIDS.sha256, certReq: true, policy: undefined })
    expect(first!.request.digest).toEqual(sha('sha256', signature))
    expect(first!.request.nonce > 0n && first!.request.nonce < 1n << 63n).toBe(true)
    expect(second!.request.nonce).not.toBe(first!.request.nonce)
    // The whole TimeStampResp, as Sigstore bundles store it.
    const token = parseTimestamp(der)
    expect(token.status).toBe(0)
    expect(token.nonce).toBe(first!.request.nonce)
    // The request encoder writes exactly what the fake read back.
    expect(first!.body).toEqual(
      encodeTimestampRequest({
        hashAlgorithm: 'sha256',
        digest: sha('sha256', signature),
        nonce: first!.request.nonce,
        certificates: true,
      }),
    )
  })

  test('options: SHA-512 imprint, no certReq, a policy', async () => {
    const { seen, fetch } = fakeTSA(reply())
    await createTimestampClient({
      url: URL_,
      fetch,
      hashAlgorithm: 'sha512',
      certificates: false,
      policy: '1.2.3.4.1',
    }).timestamp(signature)
    expect(seen[0]!.request).toMatchObject({ imprintOID: OIDS.sha512, certReq: false, policy: '1.2.3.4.1' })
    expect(seen[0]!.request.digest).toEqual(sha('sha512', signature))
  })

  test('JSON: the timestamp-authority JSON form, nonce as a JSON number', async () => {
    const { seen, fetch } = fakeTSA(reply())
    await createTimestampClient({ url: URL_, fetch, format: 'json', hashAlgorithm: 'sha384' }).timestamp(signature)
    expect(seen[0]!.headers.get('content-type')).toBe('application/json')
    const body = JSON.parse(new TextDecoder().decode(seen[0]!.body))
    expect(body).toEqual({
      artifactHash: Buffer.from(sha('sha384', signature)).toString('base64'),
      hashAlgorithm: 'sha384',
      nonce: Number(seen[0]!.request.nonce),
      certificates: true,
    })
    expect(Number.isSafeInteger(body.nonce)).toBe(true)
  })

  test('a PKIStatus rejection says the TSA reason (statusString and failInfo)', async () => {
    const { fetch } = fakeTSA(
      () => new Response(bytes(responseDER(2, undefined, ['Requested policy is not supported.'], [15]))),
    )
    const p = createTimestampClient({ url: URL_, fetch }).timestamp(signature)
    await expect(p).rejects.toMatchObject({
      code: 'ERR_TIMESTAMP_HTTP',
      details: { reason: 'status', status: 2, failInfo: ['unacceptedPolicy'] },
    })
    await expect(p).rejects.toThrow(/rejection: Requested policy is not supported\. – unacceptedPolicy/)
  })

  test.each([
    ['waiting, no text', () => new Response(bytes(responseDER(3))), /waiting/],
    [
      'badAlg and badDataFormat',
      () => new Response(bytes(responseDER(2, undefined, undefined, [0, 5]))),
      /badAlg, badDataFormat/,
    ],
  ])('status %s', async (_, answer, message) => {
    const { fetch } = fakeTSA(answer)
    await expect(createTimestampClient({ url: URL_, fetch }).timestamp(signature)).rejects.toThrow(message)
  })

  test.each([
    ['another nonce', reply((r) => ({ nonce: r.nonce + 1n })), 'nonce-mismatch'],
    ['no nonce', reply(() => ({ nonce: undefined })), 'nonce-mismatch'],
    ['another digest', reply(() => ({ digest: new Uint8Array(32) })), 'imprint-mismatch'],
    [
      'another imprint algorithm',
      reply((r) => ({ imprintOID: OIDS.sha384, digest: sha('sha384', signature) ?? r })),
      'imprint-mismatch',
    ],
    ['garbage', () => new Response('garbage'), 'invalid-response'],
    ['a JSON error with 200', () => new Response('{"message":"ok"}'), 'invalid-response'],
    [
      'a bare token, not a response',
      (r) => new Response(bytes(tokenDER({ imprintOID: r.imprintOID!, digest: r.digest, nonce: r.nonce }))),
      'invalid-response',
    ],
    ['granted without a token', () => new Response(bytes(responseDER(0))), 'invalid-response'],
    ['an oversized body', () => new Response(new Uint8Array(512 * 1024), { status: 200 }), 'size-limit'],
  ] as Array<[string, Answer, string]>)('%s is ERR_TIMESTAMP_HTTP (%s)', async (_, answer, reason) => {
    const { fetch } = fakeTSA(answer)
    await expect(createTimestampClient({ url: URL_, fetch }).timestamp(signature)).rejects.toMatchObject({
      code: 'ERR_TIMESTAMP_HTTP',
      details: { reason },
    })
  })

  test('500 then 201: retried', async () => {
    const { seen, fetch } = fakeTSA(() => new Response('down', { status: 500 }), reply(undefined, 201))
    await expect(createTimestampClient({ url: URL_, fetch, ...instant }).timestamp(signature)).resolves.toBeInstanceOf(
      Uint8Array,
    )
    expect(seen).toHaveLength(2)
    // Each attempt repeats the same request: one nonce per timestamp() call.
    expect(seen[1]!.request.nonce).toBe(seen[0]!.request.nonce)
  })

  test('a refused HTTP request keeps its status and reason, never the request', async () => {
    const { fetch } = fakeTSA(() => new Response('{"message":"error parsing request"}', { status: 400 }))
    const error = (await createTimestampClient({ url: `${URL_}?token=secret-value`, fetch })
      .timestamp(signature)
      .catch((e: unknown) => e)) as Error
    expect(error).toMatchObject({ code: 'ERR_TIMESTAMP_HTTP', details: { status: 400 } })
    expect(error.message).toMatch(/error parsing request/)
    expect(error.message).not.toMatch(/secret-value/)
    expect(error.message).not.toContain(Buffer.from(sha('sha256', signature)).toString('base64'))
  })

  test('bad options are refused up front', () => {
    expect(() => createTimestampClient({ url: 'ftp://tsa.invalid' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
    expect(() => createTimestampClient({ url: URL_, policy: 'not an oid' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
    expect(() => createTimestampClient({ url: URL_, hashAlgorithm: 'md5' as 'sha256' })).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_ALGORITHM' }),
    )
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Real TSAs

const rootWith = (authority: Record<string, unknown>) =>
  parseTrustedRoot({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    timestampAuthorities: [authority],
  })

describe('against OpenSSL (DER, application/timestamp-query)', () => {
  let tsa: OpenSSLTSA
  beforeAll(async () => {
    tsa = await startOpenSSLTSA()
  }, 60_000)
  afterAll(async () => {
    await tsa?.close()
  })

  test('the returned TimeStampResp verifies against a trusted root naming the TSA, for the signature', async () => {
    const der = await createTimestampClient({ url: tsa.url }).timestamp(signature)
    const root = rootWith(tsa.trustedRootTimestampAuthority)
    const v = await verifyTimestamp(der, signature, { trustedRoot: root })
    expect(v.signingCertificate).toEqual(tsa.leaf)
    // certReq: OpenSSL embeds its certificate and (-chain) the root.
    expect(v.token.certificates).toEqual([tsa.leaf, tsa.root])
    expect(Math.abs(v.time.getTime() - Date.now())).toBeLessThan(60_000)
    await expect(verifyTimestamp(der, new Uint8Array([1, 2, 3]), { trustedRoot: root })).rejects.toMatchObject({
      code: 'ERR_TIMESTAMP_INVALID',
    })
  })

  test('SHA-384 imprint without certReq verifies from the trusted root chain alone', async () => {
    const der = await createTimestampClient({ url: tsa.url, hashAlgorithm: 'sha384', certificates: false }).timestamp(
      signature,
    )
    const v = await verifyTimestamp(der, signature, { trustedRoot: rootWith(tsa.trustedRootTimestampAuthority) })
    expect(v.token.certificates).toEqual([])
    expect(v.token.messageImprint.hashAlgorithm).toBe(OIDS.sha384)
  })

  test('an accepted policy is granted; an unknown policy is refused with OpenSSL reason', async () => {
    const granted = await createTimestampClient({ url: tsa.url, policy: '1.2.3.4.1' }).timestamp(signature)
    expect(parseTimestamp(granted).policy).toBe('1.2.3.4.1')
    const refused = createTimestampClient({ url: tsa.url, policy: '1.2.3.4.99' }).timestamp(signature)
    await expect(refused).rejects.toMatchObject({
      code: 'ERR_TIMESTAMP_HTTP',
      details: { reason: 'status', status: 2, failInfo: ['unacceptedPolicy'] },
    })
    await expect(refused).rejects.toThrow(/policy/i)
  })

  test('the JSON form is not RFC 3161: OpenSSL answers 415', async () => {
    await expect(createTimestampClient({ url: tsa.url, format: 'json' }).timestamp(signature)).rejects.toMatchObject({
      code: 'ERR_TIMESTAMP_HTTP',
      details: { status: 415 },
    })
  })
})

describe('against the @sigstore/mock TSA (JSON form)', () => {
  let mock: SigstoreMock
  beforeAll(async () => {
    // Whole seconds: the mock writes genTime's milliseconds, irrelevant here. A few seconds ahead: the mock's TSA
    // certificates take notBefore from the wall clock while it starts, and a start that crossed a second boundary
    // (a loaded machine) left genTime before notBefore.
    mock = await startSigstoreMock({ clock: new Date(Math.floor(Date.now() / 1000) * 1000 + 5000) })
  })
  afterAll(async () => {
    await mock?.close()
  })

  test('the returned TimeStampResp verifies against the mock trusted root', async () => {
    const der = await createTimestampClient({ url: `${mock.url}/api/v1/timestamp`, format: 'json' }).timestamp(
      signature,
    )
    const v = await verifyTimestamp(der, signature, { trustedRoot: parseTrustedRoot(mock.trustedRootJSON) })
    expect(v.token.certificates).toHaveLength(1)
    expect(mock.requests).toContain('POST /api/v1/timestamp 201')
  })
})

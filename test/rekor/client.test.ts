/**
 * Rekor v1 client, proposed entries and log-entry conversion with in-process fetch fakes: the wire format of each
 * kind, 201/409/5xx/4xx handling, and hostile answers (non-JSON, oversized, mis-keyed, malformed fields).
 */
import { createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto'
import canonicalize from 'canonicalize'
import { describe, expect, it } from 'vitest'
import type { BundleContent } from '../../src/bundle/bundle.js'
import type { LogSigner } from '../../src/contracts/transparency-log.js'
import { dssePAE } from '../../src/dsse/pae.js'
import { isCountersignError } from '../../src/errors.js'
import { encodePEM } from '../../src/internal/pem.js'
import { IN_TOTO_PAYLOAD_TYPE } from '../../src/oci/media-types.js'
import { createRekorClient } from '../../src/rekor/client.js'
import { parseTransparencyLogEntry } from '../../src/rekor/entry.js'
import { parseRekorLogEntry, rekorEntryUUID, toBundleLogEntry } from '../../src/rekor/log-entry.js'
import { createRekorProposedEntry, type RekorDSSEEntry, type RekorIntotoEntry } from '../../src/rekor/proposed-entry.js'

const BASE = 'https://rekor.example'
const TREE = '0123456789abcdef'
const instant = async () => {}

const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
const spki = new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' }))
const keySigner: LogSigner = { type: 'publicKey', spki, algorithm: 'ecdsa-p256-sha256' }
const pem = encodePEM('PUBLIC KEY', spki)
const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64')
const sha256 = (b: Uint8Array | string) => new Uint8Array(createHash('sha256').update(b).digest())
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

const artifact = Buffer.from('artifact\n')
const signature = new Uint8Array(nodeSign('sha256', artifact, pair.privateKey))
const message: BundleContent = {
  type: 'messageSignature',
  signature,
  messageDigest: { algorithm: 'SHA2_256', digest: sha256(artifact) },
}
const payload = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}')
const dsseSig = new Uint8Array(nodeSign('sha256', dssePAE(IN_TOTO_PAYLOAD_TYPE, payload), pair.privateKey))
const envelopeContent: BundleContent = {
  type: 'dsseEnvelope',
  envelope: { payloadType: IN_TOTO_PAYLOAD_TYPE, payload, signatures: [{ sig: dsseSig }] },
}

/** A hashedrekord body as Rekor stores it for `message`. */
const hashedBody = canonicalize(createRekorProposedEntry(message, keySigner))!

/** A LogEntry response for `body`, with plausible (unverified) SET and proof. */
function logEntry(body: string, overrides: Record<string, unknown> = {}, uuid?: string) {
  const bytes = Buffer.from(body)
  return {
    [uuid ?? TREE + rekorEntryUUID(bytes)]: {
      body: b64(bytes),
      integratedTime: 1_700_000_000,
      logID: 'ab'.repeat(32),
      logIndex: 123_456,
      verification: {
        signedEntryTimestamp: b64('set'),
        inclusionProof: {
          checkpoint: 'rekor.example - 1\n3\nAAAA\n\n— rekor.example AAAA\n',
          hashes: ['cd'.repeat(32), 'ef'.repeat(32)],
          logIndex: 2,
          rootHash: '01'.repeat(32),
          treeSize: 3,
        },
      },
      ...overrides,
    },
  }
}

interface Call {
  method: string
  url: string
  body?: unknown
}

/** A fetch that answers from a queue of responses and records the requests. */
function fakeFetch(responses: (Response | (() => Response))[]) {
  const calls: Call[] = []
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const raw = init?.body === undefined ? undefined : new TextDecoder().decode(init.body as Uint8Array)
    calls.push({ method: init?.method ?? 'GET', url: String(input), ...(raw ? { body: JSON.parse(raw) } : {}) })
    const next = responses.shift()
    if (!next) throw new Error('unexpected request')
    return typeof next === 'function' ? next() : next
  }
  return { fetch: fetch as typeof globalThis.fetch, calls }
}

const json = (status: number, value: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(value), { status, headers: { 'Content-Type': 'application/json', ...headers } })

async function codeOf(
  p: Promise<unknown>,
): Promise<{ code?: string; message: string; details?: Record<string, unknown> }> {
  try {
    await p
  } catch (e) {
    if (!isCountersignError(e)) throw e
    return e as never
  }
  throw new Error('expected a rejection')
}

describe('proposed entries', () => {
  it('hashedrekord 0.0.1: hex digest, base64 signature, base64 PEM key', () => {
    expect(createRekorProposedEntry(message, keySigner)).toEqual({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: hex(sha256(artifact)) } },
        signature: { content: b64(signature), publicKey: { content: b64(pem) } },
      },
    })
    const cert = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])
    const entry = createRekorProposedEntry(message, {
      type: 'certificate',
      certificate: cert,
      algorithm: 'ecdsa-p256-sha256',
    })
    expect(
      Buffer.from(
        (entry.spec as { signature: { publicKey: { content: string } } }).signature.publicKey.content,
        'base64',
      ).toString(),
    ).toBe(encodePEM('CERTIFICATE', cert))
  })

  it('dsse 0.0.1: the envelope as a JSON string (sigstore-go field order) and base64 PEM verifiers', () => {
    const entry = createRekorProposedEntry(envelopeContent, keySigner) as RekorDSSEEntry
    expect(entry.kind).toBe('dsse')
    const { envelope, verifiers } = entry.spec.proposedContent
    expect(envelope).toBe(
      `{"payload":"${b64(payload)}","payloadType":"${IN_TOTO_PAYLOAD_TYPE}","signatures":[{"sig":"${b64(dsseSig)}"}]}`,
    )
    expect(verifiers).toEqual([b64(pem)])
  })

  it('intoto 0.0.2: payload and signature base64 twice; hash as sigstore-js computes it', () => {
    const entry = createRekorProposedEntry(envelopeContent, keySigner, { kind: 'intoto' })
    const expectedHash = hex(
      sha256(
        canonicalize({
          payloadType: IN_TOTO_PAYLOAD_TYPE,
          payload: b64(payload),
          signatures: [{ sig: b64(dsseSig), publicKey: pem }],
        })!,
      ),
    )
    expect(entry).toEqual({
      apiVersion: '0.0.2',
      kind: 'intoto',
      spec: {
        content: {
          envelope: {
            payloadType: IN_TOTO_PAYLOAD_TYPE,
            payload: b64(b64(payload)),
            signatures: [{ sig: b64(b64(dsseSig)), publicKey: b64(pem) }],
          },
          hash: { algorithm: 'sha256', value: expectedHash },
          payloadHash: { algorithm: 'sha256', value: hex(sha256(payload)) },
        },
      },
    })
    const withKeyid: BundleContent = {
      type: 'dsseEnvelope',
      envelope: { ...envelopeContent.envelope, signatures: [{ sig: dsseSig, keyid: 'k1' }] },
    }
    const sigs = (createRekorProposedEntry(withKeyid, keySigner, { kind: 'intoto' }) as RekorIntotoEntry).spec.content
      .envelope.signatures
    expect(sigs).toEqual([{ sig: b64(b64(dsseSig)), publicKey: b64(pem), keyid: 'k1' }])
  })

  it('refuses what Rekor v1 cannot log', () => {
    const noDigest: BundleContent = { type: 'messageSignature', signature }
    expect(() => createRekorProposedEntry(noDigest, keySigner)).toThrow(/messageDigest/)
    const sha3: BundleContent = { ...message, messageDigest: { algorithm: 'SHA3_256', digest: sha256('x') } }
    expect(() => createRekorProposedEntry(sha3, keySigner)).toThrow(/SHA3_256/)
    const short: BundleContent = { ...message, messageDigest: { algorithm: 'SHA2_384', digest: sha256('x') } }
    expect(() => createRekorProposedEntry(short, keySigner)).toThrow(/wrong length/)
    const two: BundleContent = {
      type: 'dsseEnvelope',
      envelope: { ...envelopeContent.envelope, signatures: [{ sig: dsseSig }, { sig: dsseSig }] },
    }
    expect(() => createRekorProposedEntry(two, keySigner)).toThrow(/exactly one signature/)
    expect(() => createRekorProposedEntry(envelopeContent, keySigner, { kind: 'hashedrekord' })).toThrow(
      /cannot be logged as "hashedrekord"/,
    )
    // The DSSE kind choice does not apply to message signatures.
    expect(createRekorProposedEntry(message, keySigner, { kind: 'intoto' }).kind).toBe('hashedrekord')
  })
})

describe('log entries', () => {
  it('converts to the bundle TransparencyLogEntry (global index on top, shard index in the proof)', () => {
    const entry = parseRekorLogEntry(logEntry(hashedBody))
    expect(entry.uuid).toBe(TREE + rekorEntryUUID(Buffer.from(hashedBody)))
    expect(entry.treeID).toBe(TREE)
    const tle = toBundleLogEntry(entry)
    expect(tle).toEqual({
      logIndex: '123456',
      logId: { keyId: b64(Buffer.from('ab'.repeat(32), 'hex')) },
      kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
      integratedTime: '1700000000',
      inclusionPromise: { signedEntryTimestamp: b64('set') },
      inclusionProof: {
        logIndex: '2',
        rootHash: b64(Buffer.from('01'.repeat(32), 'hex')),
        treeSize: '3',
        hashes: [b64(Buffer.from('cd'.repeat(32), 'hex')), b64(Buffer.from('ef'.repeat(32), 'hex'))],
        checkpoint: { envelope: 'rekor.example - 1\n3\nAAAA\n\n— rekor.example AAAA\n' },
      },
      canonicalizedBody: b64(hashedBody),
    })
    const parsed = parseTransparencyLogEntry(tle)
    expect(parsed.logIndex).toBe(123456n)
    expect(parsed.inclusionProof?.logIndex).toBe(2n)
  })

  it('rekorEntryUUID takes a decimal or hex tree ID', () => {
    const body = Buffer.from('{}')
    expect(rekorEntryUUID(body, '81985529216486895')).toBe(TREE + rekorEntryUUID(body))
    expect(rekorEntryUUID(body, TREE)).toHaveLength(80)
    expect(() => rekorEntryUUID(body, 'x')).toThrow(TypeError)
  })

  const hostile: [string, unknown][] = [
    ['not an object', []],
    ['two entries', { ...logEntry(hashedBody), ...logEntry('{"kind":"a","apiVersion":"b"}') }],
    ['no entries', {}],
    ['a key that is not a UUID', logEntry(hashedBody, {}, 'not-a-uuid')],
    ['a UUID of another body', logEntry(hashedBody, {}, TREE + 'ab'.repeat(32))],
    ['a body that is not base64', logEntry(hashedBody, { body: '%%%%' })],
    ['a body that is not JSON', logEntry('not json')],
    ['a body without kind', logEntry('{"apiVersion":"0.0.1"}')],
    ['a negative index', logEntry(hashedBody, { logIndex: -1 })],
    ['an index that is a string', logEntry(hashedBody, { logIndex: '1' })],
    ['an unsafe integer time', logEntry(hashedBody, { integratedTime: 2 ** 60 })],
    ['a short logID', logEntry(hashedBody, { logID: 'abcd' })],
    [
      'a proof index outside the tree',
      logEntry(hashedBody, {
        verification: {
          inclusionProof: { logIndex: 3, treeSize: 3, rootHash: '01'.repeat(32), hashes: [], checkpoint: 'x' },
        },
      }),
    ],
    [
      'too many proof hashes',
      logEntry(hashedBody, {
        verification: {
          inclusionProof: {
            logIndex: 0,
            treeSize: 3,
            rootHash: '01'.repeat(32),
            hashes: Array(65).fill('01'.repeat(32)),
            checkpoint: 'x',
          },
        },
      }),
    ],
    [
      'an upper-case proof hash',
      logEntry(hashedBody, {
        verification: {
          inclusionProof: { logIndex: 0, treeSize: 3, rootHash: 'AB'.repeat(32), hashes: [], checkpoint: 'x' },
        },
      }),
    ],
    [
      'a proof without checkpoint',
      logEntry(hashedBody, {
        verification: { inclusionProof: { logIndex: 0, treeSize: 3, rootHash: '01'.repeat(32), hashes: [] } },
      }),
    ],
    ['a SET that is not base64', logEntry(hashedBody, { verification: { signedEntryTimestamp: 'a b' } })],
  ]
  it.each(hostile)('rejects %s with ERR_REKOR_HTTP', (_name, value) => {
    let error: unknown
    try {
      parseRekorLogEntry(value)
    } catch (e) {
      error = e
    }
    expect(isCountersignError(error, 'ERR_REKOR_HTTP')).toBe(true)
    expect((error as { details: { reason: string } }).details.reason).toBe('invalid-entry')
  })
})

describe('createRekorClient', () => {
  it('createEntry: POST the proposed entry, 201 → bundle entry', async () => {
    const response = logEntry(hashedBody)
    const uuid = Object.keys(response)[0]!
    const { fetch, calls } = fakeFetch([json(201, response, { ETag: uuid, Location: `/api/v1/log/entries/${uuid}` })])
    const rekor = createRekorClient({ url: `${BASE}/`, fetch })
    expect(rekor.url).toBe(BASE)
    expect(rekor.apiVersion).toBe(1)
    const tle = await rekor.createEntry(message, keySigner)
    expect(calls).toEqual([{ method: 'POST', url: `${BASE}/api/v1/log/entries`, body: JSON.parse(hashedBody) }])
    expect(tle.canonicalizedBody).toBe(b64(hashedBody))
    expect(parseTransparencyLogEntry(tle).kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.1' })
  })

  it('createEntry: 409 → GET the entry named by Location', async () => {
    const response = logEntry(hashedBody)
    const uuid = Object.keys(response)[0]!
    const { fetch, calls } = fakeFetch([
      json(
        409,
        { code: 409, message: `an equivalent entry already exists in the transparency log with UUID ${uuid}` },
        {
          Location: `/api/v1/log/entries/${uuid}`,
        },
      ),
      json(200, response),
    ])
    const tle = await createRekorClient({ url: BASE, fetch }).createEntry(message, keySigner)
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      `POST ${BASE}/api/v1/log/entries`,
      `GET ${BASE}/api/v1/log/entries/${uuid}`,
    ])
    expect(tle.logIndex).toBe('123456')
  })

  it('createEntry: 409 without Location → the UUID in the message; with neither → a clear error', async () => {
    const response = logEntry(hashedBody)
    const uuid = Object.keys(response)[0]!
    const a = fakeFetch([
      json(409, { code: 409, message: `an equivalent entry already exists in the transparency log with UUID ${uuid}` }),
      json(200, response),
    ])
    await createRekorClient({ url: BASE, fetch: a.fetch }).createEntry(message, keySigner)
    expect(a.calls[1]!.url).toBe(`${BASE}/api/v1/log/entries/${uuid}`)

    const b = fakeFetch([json(409, { code: 409, message: 'conflict' })])
    const error = await codeOf(createRekorClient({ url: BASE, fetch: b.fetch }).createEntry(message, keySigner))
    expect(error.code).toBe('ERR_REKOR_HTTP')
    expect(error.details).toMatchObject({ status: 409, reason: 'duplicate' })
  })

  it('createEntry: the 409 entry must be the one asked for', async () => {
    const other = logEntry('{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}')
    const uuid = TREE + rekorEntryUUID(Buffer.from(hashedBody))
    const { fetch } = fakeFetch([json(409, {}, { Location: `/api/v1/log/entries/${uuid}` }), json(200, other)])
    const error = await codeOf(createRekorClient({ url: BASE, fetch }).createEntry(message, keySigner))
    expect(error.code).toBe('ERR_REKOR_HTTP')
    expect(error.message).toMatch(/another entry/)
  })

  it('createEntry: 500 then 201 is retried', async () => {
    const { fetch, calls } = fakeFetch([json(500, { code: 500, message: 'boom' }), json(201, logEntry(hashedBody))])
    await createRekorClient({ url: BASE, fetch, sleep: instant }).createEntry(message, keySigner)
    expect(calls).toHaveLength(2)
  })

  it('createEntry: 400 carries Rekor’s message but never the signature, key or body', async () => {
    const { fetch } = fakeFetch([json(400, { code: 400, message: 'error processing entry: verifying signature' })])
    const error = await codeOf(createRekorClient({ url: BASE, fetch }).createEntry(message, keySigner))
    expect(error.code).toBe('ERR_REKOR_HTTP')
    expect(error.details).toMatchObject({ status: 400 })
    expect(error.message).toMatch(/verifying signature/)
    for (const secret of [b64(signature), b64(pem), hex(sha256(artifact)), 'BEGIN PUBLIC KEY']) {
      expect(error.message).not.toContain(secret)
      expect(JSON.stringify(error.details)).not.toContain(secret)
    }
  })

  it('createEntry: an entry that logs another signature is refused (ERR_TLOG_ENTRY_MISMATCH)', async () => {
    const otherSig = new Uint8Array(nodeSign('sha256', Buffer.from('other'), pair.privateKey))
    const otherBody = canonicalize(
      createRekorProposedEntry({ ...message, signature: otherSig } as BundleContent, keySigner),
    )!
    const { fetch } = fakeFetch([json(201, logEntry(otherBody))])
    const error = await codeOf(createRekorClient({ url: BASE, fetch }).createEntry(message, keySigner))
    expect(error.code).toBe('ERR_TLOG_ENTRY_MISMATCH')
  })

  it('createEntry: an entry of another kind, or without SET and proof, is refused', async () => {
    const dsseBody = '{"apiVersion":"0.0.1","kind":"dsse","spec":{}}'
    const a = fakeFetch([json(201, logEntry(dsseBody))])
    expect(
      (await codeOf(createRekorClient({ url: BASE, fetch: a.fetch }).createEntry(message, keySigner))).message,
    ).toMatch(/kind dsse/)
    const b = fakeFetch([json(201, logEntry(hashedBody, { verification: {} }))])
    expect(
      (await codeOf(createRekorClient({ url: BASE, fetch: b.fetch }).createEntry(message, keySigner))).message,
    ).toMatch(/neither/)
  })

  it('createEntry: an ETag that is not the entry is refused', async () => {
    const { fetch } = fakeFetch([json(201, logEntry(hashedBody), { ETag: `"${'0'.repeat(80)}"` })])
    const error = await codeOf(createRekorClient({ url: BASE, fetch }).createEntry(message, keySigner))
    expect(error.message).toMatch(/ETag/)
  })

  it('hostile answers: non-JSON, oversized, mis-keyed', async () => {
    const notJSON = fakeFetch([new Response('<html>', { status: 201 })])
    expect(
      (await codeOf(createRekorClient({ url: BASE, fetch: notJSON.fetch }).createEntry(message, keySigner))).details,
    ).toMatchObject({
      reason: 'invalid-json',
    })
    const huge = fakeFetch([new Response(new Uint8Array(5 * 1024 * 1024).fill(0x20), { status: 201 })])
    expect(
      (await codeOf(createRekorClient({ url: BASE, fetch: huge.fetch }).createEntry(message, keySigner))).details,
    ).toMatchObject({
      reason: 'size-limit',
    })
    const uuid = TREE + rekorEntryUUID(Buffer.from(hashedBody))
    const other = logEntry('{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}')
    const misKeyed = fakeFetch([json(200, other)])
    const error = await codeOf(createRekorClient({ url: BASE, fetch: misKeyed.fetch }).getEntryByUUID(uuid))
    expect(error.code).toBe('ERR_REKOR_HTTP')
  })

  it('getEntryByUUID / getEntryByIndex', async () => {
    const response = logEntry(hashedBody)
    const uuid = Object.keys(response)[0]!
    const { fetch, calls } = fakeFetch([json(200, response), json(200, response), json(200, response)])
    const rekor = createRekorClient({ url: BASE, fetch })
    expect((await rekor.getEntryByUUID(uuid.toUpperCase())).uuid).toBe(uuid)
    expect((await rekor.getEntryByIndex(123456)).logIndex).toBe(123456)
    expect(calls.map((c) => c.url)).toEqual([
      `${BASE}/api/v1/log/entries/${uuid}`,
      `${BASE}/api/v1/log/entries?logIndex=123456`,
    ])
    expect((await codeOf(rekor.getEntryByIndex(7))).message).toMatch(/index 123456/)
    await expect(rekor.getEntryByUUID('../../etc')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    await expect(rekor.getEntryByIndex(-1)).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    // A different tree ID for the same leaf is another entry.
    const { fetch: f2 } = fakeFetch([json(200, response)])
    const otherTree = `fedcba9876543210${uuid.slice(16)}`
    await expect(createRekorClient({ url: BASE, fetch: f2 }).getEntryByUUID(otherTree)).rejects.toMatchObject({
      code: 'ERR_REKOR_HTTP',
    })
  })

  it('searchIndex: request shape and answer validation', async () => {
    const uuid = TREE + 'ab'.repeat(32)
    const { fetch, calls } = fakeFetch([
      json(200, [uuid, 'cd'.repeat(32)]),
      json(200, { not: 'a list' }),
      json(200, ['x']),
    ])
    const rekor = createRekorClient({ url: BASE, fetch })
    const found = await rekor.searchIndex({
      hash: `SHA256:${'AB'.repeat(32)}`,
      publicKey: { format: 'x509', content: new TextEncoder().encode(pem) },
      email: 'a@example.com',
      operator: 'and',
    })
    expect(found).toEqual([uuid, 'cd'.repeat(32)])
    expect(calls[0]).toEqual({
      method: 'POST',
      url: `${BASE}/api/v1/index/retrieve`,
      body: {
        hash: `sha256:${'ab'.repeat(32)}`,
        publicKey: { format: 'x509', content: b64(pem) },
        email: 'a@example.com',
        operator: 'and',
      },
    })
    await expect(rekor.searchIndex({ hash: `sha256:${'ab'.repeat(32)}` })).rejects.toMatchObject({
      code: 'ERR_REKOR_HTTP',
    })
    await expect(rekor.searchIndex({ hash: `sha256:${'ab'.repeat(32)}` })).rejects.toMatchObject({
      code: 'ERR_REKOR_HTTP',
    })
    await expect(rekor.searchIndex({})).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    await expect(rekor.searchIndex({ hash: 'sha256:zz' })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
  })

  it('getLogInfo', async () => {
    const info = { rootHash: '01'.repeat(32), signedTreeHead: 'note', treeID: '123', treeSize: 9 }
    const { fetch } = fakeFetch([
      json(200, { ...info, inactiveShards: [{ ...info, treeID: '7' }] }),
      json(200, { ...info, treeSize: -1 }),
    ])
    const rekor = createRekorClient({ url: BASE, fetch })
    const got = await rekor.getLogInfo()
    expect(got.treeSize).toBe(9)
    expect(got.rootHash).toEqual(new Uint8Array(32).fill(1))
    expect(got.inactiveShards.map((s) => s.treeID)).toEqual(['7'])
    await expect(rekor.getLogInfo()).rejects.toMatchObject({ code: 'ERR_REKOR_HTTP' })
  })

  it('refuses a non-http URL', () => {
    expect(() => createRekorClient({ url: 'file:///etc' })).toThrow(/http/)
  })
})

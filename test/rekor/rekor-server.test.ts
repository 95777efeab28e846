/**
 * The Rekor v1 client against the local Rekor (test/support/rekor-server.ts): hashedrekord, dsse and intoto uploads
 * come back as bundle entries that verify against a trusted root naming the log; duplicates, faults, lookups and
 * searches behave as Rekor's. Bundles built from those entries with a mock Fulcio certificate verify with sigstore-js,
 * which shows the local log is faithful.
 */
import { createHash, generateKeyPairSync, type KeyObject, sign as nodeSign } from 'node:crypto'
import { bundleFromJSON } from '@sigstore/bundle'
import { TrustedRoot as TrustedRootMessage } from '@sigstore/protobuf-specs'
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BundleContent } from '../../src/bundle/bundle.js'
import type { LogSigner } from '../../src/contracts/transparency-log.js'
import { dssePAE } from '../../src/dsse/pae.js'
import { isCountersignError } from '../../src/errors.js'
import { encodePEM } from '../../src/internal/pem.js'
import { generateKeyPair, signData } from '../../src/keys/index.js'
import type { PrivateKey } from '../../src/keys/types.js'
import { IN_TOTO_PAYLOAD_TYPE } from '../../src/oci/media-types.js'
import { checkpointVerifierForLog, verifyCheckpoint } from '../../src/rekor/checkpoint.js'
import { createRekorClient, type RekorClient } from '../../src/rekor/client.js'
import { parseTransparencyLogEntry } from '../../src/rekor/entry.js'
import { verifyTransparencyLogEntry } from '../../src/rekor/verify-entry.js'
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js'
import { type RekorServer, startRekorServer } from '../support/rekor-server.js'
import { MOCK_IDENTITY, MOCK_OIDC_ISSUER, type SigstoreMock, startSigstoreMock } from '../support/sigstore-mock.js'

const OFFSET = 5000 // earlier shards: global index = 5000 + index in this tree
const instant = async () => {}

let rekor: RekorServer
let client: RekorClient
let root: TrustedRoot
let key: PrivateKey
let keySigner: LogSigner

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest())
const utf8 = (s: string) => new TextEncoder().encode(s)

function statementFor(artifact: Uint8Array): Uint8Array {
  return utf8(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'artifact.txt', digest: { sha256: Buffer.from(sha256(artifact)).toString('hex') } }],
      predicateType: 'https://example.com/predicate/v1',
      predicate: {},
    }),
  )
}

async function messageContent(artifact: Uint8Array): Promise<BundleContent> {
  return {
    type: 'messageSignature',
    signature: await signData(key, artifact),
    messageDigest: { algorithm: 'SHA2_256', digest: sha256(artifact) },
  }
}

async function dsseContent(payload: Uint8Array): Promise<BundleContent> {
  const sig = await signData(key, dssePAE(IN_TOTO_PAYLOAD_TYPE, payload))
  return { type: 'dsseEnvelope', envelope: { payloadType: IN_TOTO_PAYLOAD_TYPE, payload, signatures: [{ sig }] } }
}

beforeAll(async () => {
  rekor = await startRekorServer({ globalIndexOffset: OFFSET })
  client = createRekorClient({ url: rekor.url, sleep: instant })
  root = parseTrustedRoot({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [rekor.trustedRootTlog],
  })
  key = await generateKeyPair()
  keySigner = { type: 'publicKey', spki: key.publicKey.spki, algorithm: 'ecdsa-p256-sha256' }
})

afterAll(async () => {
  await rekor?.close()
})

describe('uploads to the local Rekor verify against its trusted root', () => {
  it('hashedrekord: SET and inclusion proof, global vs shard-local index', async () => {
    const artifact = utf8('hashedrekord artifact\n')
    const content = await messageContent(artifact)
    const json = await client.createEntry(content, keySigner)
    const stored = rekor.entries.at(-1)!
    expect(json.logIndex).toBe(String(stored.logIndex))
    expect(stored.logIndex).toBe(OFFSET + stored.shardIndex)
    expect((json.inclusionProof as { logIndex: string }).logIndex).toBe(String(stored.shardIndex))
    expect(json.kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.1' })
    expect(json.logId).toEqual({ keyId: Buffer.from(rekor.logID, 'hex').toString('base64') })
    const verified = await verifyTransparencyLogEntry(json, {
      tlogs: root.tlogs,
      bundleVersion: '0.3',
      content,
      verifier: { publicKey: key.publicKey.spki },
      artifact,
    })
    expect(verified.verifiedBy).toEqual(['set', 'proof'])
    expect(verified.integratedTime?.getTime()).toBe(stored.integratedTime * 1000)
  })

  it('dsse 0.0.1: stored in the canonical form Rekor writes', async () => {
    const payload = statementFor(utf8('dsse artifact'))
    const content = await dsseContent(payload)
    const json = await client.createEntry(content, keySigner)
    expect(json.kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' })
    const body = JSON.parse(Buffer.from(json.canonicalizedBody as string, 'base64').toString('utf8'))
    expect(Object.keys(body.spec).sort()).toEqual(['envelopeHash', 'payloadHash', 'signatures'])
    expect(body.spec.payloadHash.value).toBe(Buffer.from(sha256(payload)).toString('hex'))
    expect(body.spec.signatures).toHaveLength(1)
    const verified = await verifyTransparencyLogEntry(json, {
      tlogs: root.tlogs,
      bundleVersion: '0.3',
      content,
      verifier: { publicKey: key.publicKey.spki },
    })
    expect(verified.body.kind).toBe('dsse')
    expect(verified.verifiedBy).toEqual(['set', 'proof'])
  })

  it('intoto 0.0.2: payload dropped, signature kept double-base64', async () => {
    const payload = statementFor(utf8('intoto artifact'))
    const content = await dsseContent(payload)
    const json = await client.createEntry(content, keySigner, { kind: 'intoto' })
    expect(json.kindVersion).toEqual({ kind: 'intoto', version: '0.0.2' })
    const body = JSON.parse(Buffer.from(json.canonicalizedBody as string, 'base64').toString('utf8'))
    expect(body.spec.content.envelope.payload).toBeUndefined()
    const verified = await verifyTransparencyLogEntry(json, {
      tlogs: root.tlogs,
      bundleVersion: '0.3',
      content,
      verifier: { publicKey: key.publicKey.spki },
    })
    expect(verified.body.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE)
  })

  it('an entry verified against an older tree still verifies after the log grew (fresh proof on GET)', async () => {
    const first = rekor.entries[0]!
    const entry = await client.getEntryByUUID(first.uuid)
    expect(entry.inclusionProof?.treeSize).toBe(rekor.entries.length)
    const byIndex = await client.getEntryByIndex(first.logIndex)
    expect(byIndex.uuid).toBe(first.uuid)
    // A 64-hex UUID (leaf hash only) finds the same entry; the log keys it with its 80-hex UUID.
    expect((await client.getEntryByUUID(first.uuid.slice(16))).uuid).toBe(first.uuid)
  })
})

describe('Rekor behaviours', () => {
  it('a duplicate is answered 409 with Location; the client returns the existing entry', async () => {
    const content = await messageContent(utf8('duplicate'))
    const a = await client.createEntry(content, keySigner)
    const before = rekor.requests.length
    const b = await client.createEntry(content, keySigner)
    expect(rekor.requests.slice(before)).toEqual([
      'POST /api/v1/log/entries 409',
      expect.stringMatching(/^GET \/api\/v1\/log\/entries\/[0-9a-f]{80} 200$/),
    ])
    expect(b.logIndex).toBe(a.logIndex)
    expect(b.canonicalizedBody).toBe(a.canonicalizedBody)
  })

  it('rejects a signature that does not verify (400), as Rekor does', async () => {
    const content = await messageContent(utf8('signed'))
    const wrong = { ...content, messageDigest: { algorithm: 'SHA2_256', digest: sha256(utf8('other')) } }
    const error = await client.createEntry(wrong as BundleContent, keySigner).catch((e: unknown) => e)
    expect(isCountersignError(error, 'ERR_REKOR_HTTP')).toBe(true)
    expect((error as { details: { status: number } }).details.status).toBe(400)
    expect((error as Error).message).toMatch(/verifying signature/)
    // A DSSE signature by another key than the verifier named.
    const other = await generateKeyPair()
    const bad = await dsseContent(statementFor(utf8('x')))
    const otherSigner: LogSigner = { type: 'publicKey', spki: other.publicKey.spki, algorithm: 'ecdsa-p256-sha256' }
    await expect(client.createEntry(bad, otherSigner)).rejects.toMatchObject({ details: { status: 400 } })
    await expect(client.createEntry(bad, otherSigner, { kind: 'intoto' })).rejects.toMatchObject({
      details: { status: 400 },
    })
  })

  it('retries a 503 and succeeds', async () => {
    rekor.fault({ status: 503, times: 2, path: '/api/v1/log/entries' })
    const json = await client.createEntry(await messageContent(utf8('after a fault')), keySigner)
    expect(json.kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.1' })
    expect(rekor.requests.slice(-3).map((r) => r.split(' ').pop())).toEqual(['503', '503', '201'])
  })

  it('an unknown UUID and index are 404 errors', async () => {
    await expect(client.getEntryByUUID('ab'.repeat(32))).rejects.toMatchObject({
      code: 'ERR_REKOR_HTTP',
      details: { status: 404 },
    })
    await expect(client.getEntryByIndex(3)).rejects.toMatchObject({ details: { status: 404 } })
  })

  it('log info: size, root and a checkpoint signed by the log', async () => {
    const info = await client.getLogInfo()
    expect(info.treeSize).toBe(rekor.entries.length)
    expect(info.treeID).toBe(rekor.treeID)
    const cp = await verifyCheckpoint(info.signedTreeHead, [checkpointVerifierForLog(root.tlogs[0]!)], {
      rootHash: info.rootHash,
      treeSize: BigInt(info.treeSize),
    })
    expect(cp.origin).toBe(`${new URL(rekor.url).host} - ${rekor.treeID}`)
  })

  it('search finds entries by artifact hash, payload hash, subject digest and public key', async () => {
    const artifact = utf8('searchable artifact')
    await client.createEntry(await messageContent(artifact), keySigner)
    const hashed = rekor.entries.at(-1)!.uuid
    const payload = statementFor(artifact)
    await client.createEntry(await dsseContent(payload), keySigner)
    const dsse = rekor.entries.at(-1)!.uuid

    const artifactHash = `sha256:${Buffer.from(sha256(artifact)).toString('hex')}`
    // The artifact digest is the hashedrekord's data hash and the in-toto subject digest of the dsse entry.
    expect(await client.searchIndex({ hash: artifactHash })).toEqual([hashed, dsse])
    expect(await client.searchIndex({ hash: `sha256:${Buffer.from(sha256(payload)).toString('hex')}` })).toEqual([dsse])
    const pem = utf8(encodePEM('PUBLIC KEY', key.publicKey.spki))
    const byKey = await client.searchIndex({ publicKey: { format: 'x509', content: pem } })
    // Rekor indexes hashedrekord keys as bare hex but dsse/intoto keys as "sha256:<hex>", while a key search
    // looks up the bare hex: only hashedrekord entries are found by key (rekor pkg/types/*/IndexKeys, pkg/api/index.go).
    expect(byKey).toContain(hashed)
    expect(byKey).not.toContain(dsse)
    expect(
      await client.searchIndex({ hash: artifactHash, publicKey: { format: 'x509', content: pem }, operator: 'and' }),
    ).toEqual([hashed])
    expect(await client.searchIndex({ hash: `sha256:${'0'.repeat(64)}` })).toEqual([])
  })
})

describe('bundles with entries from the local Rekor verify with sigstore-js', () => {
  let mock: SigstoreMock
  let certificate: Uint8Array
  let privateKey: KeyObject
  let trustedRootJSON: string

  beforeAll(async () => {
    mock = await startSigstoreMock()
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    privateKey = pair.privateKey
    const res = await fetch(`${mock.url}/api/v2/signingCert`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        credentials: { oidcIdentityToken: mock.identityToken() },
        publicKeyRequest: {
          publicKey: { algorithm: 'ECDSA', content: pair.publicKey.export({ type: 'spki', format: 'pem' }) },
          proofOfPossession: nodeSign('sha256', Buffer.from(MOCK_IDENTITY), privateKey).toString('base64'),
        },
      }),
    })
    expect(res.status).toBe(201)
    const chain = ((await res.json()) as { signedCertificateEmbeddedSct: { chain: { certificates: string[] } } })
      .signedCertificateEmbeddedSct.chain.certificates
    certificate = new Uint8Array(Buffer.from(chain[0]!.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, ''), 'base64'))
    // The mock's CA and CT log, with our Rekor as the only transparency log.
    const doc = JSON.parse(mock.trustedRootJSON)
    doc.tlogs = [rekor.trustedRootTlog]
    trustedRootJSON = JSON.stringify(doc)
  })

  afterAll(async () => {
    await mock?.close()
  })

  function verifyWithSigstoreJs(bundle: unknown, artifact?: Buffer): void {
    const trust = toTrustMaterial(TrustedRootMessage.fromJSON(JSON.parse(trustedRootJSON)))
    new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 }).verify(
      toSignedEntity(bundleFromJSON(bundle), artifact),
      { subjectAlternativeName: MOCK_IDENTITY, extensions: { issuer: MOCK_OIDC_ISSUER } },
    )
  }

  const certSigner = (): LogSigner => ({ type: 'certificate', certificate, algorithm: 'ecdsa-p256-sha256' })
  const bundleOf = (tlogEntry: Record<string, unknown>, content: Record<string, unknown>) => ({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      certificate: { rawBytes: Buffer.from(certificate).toString('base64') },
      tlogEntries: [tlogEntry],
    },
    ...content,
  })

  it('hashedrekord bundle', async () => {
    const artifact = Buffer.from('keyless artifact\n')
    const signature = nodeSign('sha256', artifact, privateKey)
    const digest = sha256(artifact)
    const tlogEntry = await client.createEntry(
      { type: 'messageSignature', signature, messageDigest: { algorithm: 'SHA2_256', digest } },
      certSigner(),
    )
    const bundle = bundleOf(tlogEntry, {
      messageSignature: {
        messageDigest: { algorithm: 'SHA2_256', digest: Buffer.from(digest).toString('base64') },
        signature: signature.toString('base64'),
      },
    })
    verifyWithSigstoreJs(bundle, artifact)
    expect(() => verifyWithSigstoreJs(bundle, Buffer.from('tampered'))).toThrow()
  })

  for (const kind of ['dsse', 'intoto'] as const) {
    it(`${kind} bundle`, async () => {
      const payload = Buffer.from(statementFor(utf8(`keyless ${kind}`)))
      const sig = nodeSign('sha256', dssePAE(IN_TOTO_PAYLOAD_TYPE, payload), privateKey)
      const tlogEntry = await client.createEntry(
        { type: 'dsseEnvelope', envelope: { payloadType: IN_TOTO_PAYLOAD_TYPE, payload, signatures: [{ sig }] } },
        certSigner(),
        { kind },
      )
      expect(parseTransparencyLogEntry(tlogEntry).kindVersion.kind).toBe(kind)
      const bundle = bundleOf(tlogEntry, {
        dsseEnvelope: {
          payload: payload.toString('base64'),
          payloadType: IN_TOTO_PAYLOAD_TYPE,
          signatures: [{ sig: sig.toString('base64'), keyid: '' }],
        },
      })
      verifyWithSigstoreJs(bundle)
      const tampered = structuredClone(bundle) as typeof bundle & { dsseEnvelope: { payload: string } }
      tampered.dsseEnvelope.payload = Buffer.from(statementFor(utf8('other'))).toString('base64')
      expect(() => verifyWithSigstoreJs(tampered)).toThrow()
    })
  }
})

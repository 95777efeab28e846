import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  blobSigningAlgorithm,
  decodeBlobSignature,
  parseLegacyBlobBundle,
  serializeLegacyBlobBundle,
  signBlob,
  verifyBlob,
} from '../../src/blob/index.js'
import { parseBundle } from '../../src/bundle/bundle.js'
import { fromBase64, toBase64, utf8 } from '../../src/internal/bytes.js'
import {
  ecdsaP1363ToDER,
  generateKeyPair,
  type KeyAlgorithm,
  keyHint,
  type PrivateKey,
  publicKeyToPEM,
  signData,
  verifySignature,
} from '../../src/keys/index.js'
import { createKeySigner } from '../../src/signers/key-signer.js'

const data = utf8('hello, blob\n')
const tampered = utf8('hello, blob!\n')
const ignore = { insecureIgnoreTlog: true } as const

function blobSigner(key: PrivateKey) {
  return createKeySigner(key, { algorithm: blobSigningAlgorithm(key.publicKey, { tlogUpload: false }) })
}

const nodeHash = (alg: string, b: Uint8Array) => new Uint8Array(createHash(alg).update(b).digest())

const CASES: readonly { algorithm: KeyAlgorithm; digest: string; hash: string }[] = [
  { algorithm: 'ecdsa-p256', digest: 'SHA2_256', hash: 'sha256' },
  { algorithm: 'ecdsa-p384', digest: 'SHA2_384', hash: 'sha384' },
  { algorithm: 'ecdsa-p521', digest: 'SHA2_512', hash: 'sha512' },
  { algorithm: 'ed25519', digest: 'SHA2_256', hash: 'sha256' },
  { algorithm: 'rsa', digest: 'SHA2_256', hash: 'sha256' },
]

describe.each(CASES)('sign-blob / verify-blob round trip: $algorithm', ({ algorithm, digest, hash }) => {
  let key: PrivateKey
  let other: PrivateKey
  let result: Awaited<ReturnType<typeof signBlob>>

  it('signs and records the scheme hash as the message digest', async () => {
    key = await generateKeyPair({ algorithm })
    other = await generateKeyPair({ algorithm })
    result = await signBlob(data, blobSigner(key), { tlogUpload: false })
    expect(result.messageDigest.algorithm).toBe(digest)
    expect(result.messageDigest.digest).toEqual(nodeHash(hash, data))
    const bundle = parseBundle(result.bundle)
    expect(bundle.version).toBe('0.3')
    expect(bundle.verificationMaterial).toEqual({ type: 'publicKey', hint: keyHint(key.publicKey) })
    expect(bundle.tlogEntries).toEqual([])
    expect(bundle.content).toEqual({
      type: 'messageSignature',
      signature: result.signature,
      messageDigest: result.messageDigest,
    })
  })

  it('signs with cosign sign-blob’s scheme (pure Ed25519 without a tlog; P-384 with SHA-384)', async () => {
    const pub = key.publicKey
    if (algorithm === 'ed25519') {
      expect(await verifySignature(pub, data, result.signature)).toBe(true)
      expect(await verifySignature(pub, data, result.signature, { ed25519ph: true })).toBe(false)
    } else {
      expect(await verifySignature(pub, data, result.signature, { hash: hash as 'sha256' })).toBe(true)
    }
    if (algorithm === 'ecdsa-p384') expect(await verifySignature(pub, data, result.signature)).toBe(false)
  })

  it('verifies the raw signature (bytes and base64), the bundle and the older bundle', async () => {
    const keys = [key.publicKey]
    const raw = await verifyBlob(data, { keys, signature: result.signature, ...ignore })
    expect(raw).toMatchObject({ source: 'signature', keyIndex: 0 })
    const b64 = await verifyBlob(data, { keys, signature: `${toBase64(result.signature)}\n`, ...ignore })
    expect(b64.signature).toEqual(result.signature)
    const bundled = await verifyBlob(data, { keys, bundle: result.bundle, ...ignore })
    expect(bundled.source).toBe('bundle')
    const legacy = serializeLegacyBlobBundle({
      base64Signature: toBase64(result.signature),
      cert: toBase64(utf8(publicKeyToPEM(key.publicKey))),
    })
    expect((await verifyBlob(data, { keys, bundle: legacy, ...ignore })).source).toBe('legacy-bundle')
  })

  it('rejects a tampered blob and a wrong key in every form', async () => {
    const legacy = serializeLegacyBlobBundle({ base64Signature: toBase64(result.signature) })
    for (const input of [{ signature: result.signature }, { bundle: result.bundle }, { bundle: legacy }]) {
      await expect(verifyBlob(tampered, { keys: [key.publicKey], ...input, ...ignore })).rejects.toMatchObject({
        code: 'ERR_SIGNATURE_INVALID',
      })
      await expect(verifyBlob(data, { keys: [other.publicKey], ...input, ...ignore })).rejects.toMatchObject({
        code: 'ERR_SIGNATURE_INVALID',
      })
    }
  })

  it('accepts the right key among several and reports its index', async () => {
    const r = await verifyBlob(data, { keys: [other.publicKey, key.publicKey], bundle: result.bundle, ...ignore })
    expect(r.keyIndex).toBe(1)
  })
})

describe('bundle bytes', () => {
  it('is protojson of a v0.3 bundle: mediaType, publicKey hint, messageSignature{messageDigest, signature}', async () => {
    const key = await generateKeyPair()
    const r = await signBlob(data, blobSigner(key), { tlogUpload: false })
    expect(new TextDecoder().decode(r.bundle)).toBe(
      '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",' +
        `"verificationMaterial":{"publicKey":{"hint":"${keyHint(key.publicKey)}"}},` +
        `"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"${toBase64(nodeHash('sha256', data))}"},` +
        `"signature":"${toBase64(r.signature)}"}}`,
    )
  })

  it('refuses to sign with tlogUpload but no transparency log configured', async () => {
    const key = await generateKeyPair()
    await expect(signBlob(data, blobSigner(key))).rejects.toMatchObject({ code: 'ERR_TLOG_REQUIRED' })
    await expect(signBlob(data, blobSigner(key), { tlogUpload: true })).rejects.toMatchObject({
      code: 'ERR_TLOG_REQUIRED',
    })
  })

  it('blobSigningAlgorithm: Ed25519ph only when uploading to a tlog, otherwise the key default', async () => {
    const ed = await generateKeyPair({ algorithm: 'ed25519' })
    expect(blobSigningAlgorithm(ed.publicKey, { tlogUpload: false })).toBe('ed25519')
    expect(blobSigningAlgorithm(ed.publicKey)).toBe('ed25519ph')
    const p384 = await generateKeyPair({ algorithm: 'ecdsa-p384' })
    expect(blobSigningAlgorithm(p384.publicKey, { tlogUpload: false })).toBe('ecdsa-p384-sha384')
  })
})

describe('verifyBlob details', () => {
  async function signed(algorithm: KeyAlgorithm = 'ecdsa-p256') {
    const key = await generateKeyPair({ algorithm })
    const r = await signBlob(data, blobSigner(key), { tlogUpload: false })
    return { key, r, doc: JSON.parse(new TextDecoder().decode(r.bundle)) }
  }

  it('accepts bundle v0.1 and v0.2 media types with a message signature', async () => {
    const { key, doc } = await signed()
    for (const mediaType of [
      'application/vnd.dev.sigstore.bundle+json;version=0.1',
      'application/vnd.dev.sigstore.bundle+json;version=0.2',
    ]) {
      const r = await verifyBlob(data, { keys: [key.publicKey], bundle: { ...doc, mediaType }, ...ignore })
      expect(r.bundle?.version).toBe(mediaType.slice(-3))
    }
  })

  it('a messageDigest that is not the blob’s fails even though the signature verifies', async () => {
    const { key, doc } = await signed()
    doc.messageSignature.messageDigest.digest = toBase64(nodeHash('sha256', tampered))
    await expect(verifyBlob(data, { keys: [key.publicKey], bundle: doc, ...ignore })).rejects.toMatchObject({
      code: 'ERR_CLAIMS_INVALID',
      message: expect.stringContaining('artifact digest does not match message digest'),
    })
  })

  it('the messageDigest never stands in for the signature', async () => {
    const { key, doc } = await signed()
    // Digest of the tampered blob, signature of the original: still rejected on the signature.
    doc.messageSignature.messageDigest.digest = toBase64(nodeHash('sha256', tampered))
    await expect(verifyBlob(tampered, { keys: [key.publicKey], bundle: doc, ...ignore })).rejects.toMatchObject({
      code: 'ERR_SIGNATURE_INVALID',
    })
  })

  it('accepts cosign’s pure-Ed25519 shape "messageDigest":{} (no digest to compare)', async () => {
    const { key, doc } = await signed('ed25519')
    doc.messageSignature.messageDigest = {}
    expect((await verifyBlob(data, { keys: [key.publicKey], bundle: doc, ...ignore })).source).toBe('bundle')
  })

  it('refuses a digest with an algorithm it cannot check', async () => {
    const { key, doc } = await signed()
    for (const md of [
      { algorithm: 'SHA3_256', digest: doc.messageSignature.messageDigest.digest },
      { digest: 'AAAA' },
    ]) {
      doc.messageSignature.messageDigest = md
      await expect(verifyBlob(data, { keys: [key.publicKey], bundle: doc, ...ignore })).rejects.toMatchObject({
        code: 'ERR_UNSUPPORTED_ALGORITHM',
      })
    }
  })

  it('malformed bundles are ERR_BUNDLE_INVALID', async () => {
    const { key } = await signed()
    const keys = [key.publicKey]
    for (const bundle of [utf8('{"mediaType":'), utf8('[1,2]'), utf8('{"foo":1}'), utf8('{"mediaType":"x/y"}')]) {
      await expect(verifyBlob(data, { keys, bundle, ...ignore })).rejects.toMatchObject({ code: 'ERR_BUNDLE_INVALID' })
    }
    await expect(
      verifyBlob(data, { keys, bundle: '{"base64Signature":"","cert":"x"}', ...ignore }),
    ).rejects.toMatchObject({ code: 'ERR_BUNDLE_INVALID' })
    await expect(verifyBlob(data, { keys, bundle: '{"base64Signature":"!!!!"}', ...ignore })).rejects.toMatchObject({
      code: 'ERR_BUNDLE_INVALID',
    })
  })

  it('refuses a Sigstore bundle together with a separate signature (cosign: unsupported)', async () => {
    const { key, r } = await signed()
    await expect(
      verifyBlob(data, { keys: [key.publicKey], bundle: r.bundle, signature: r.signature, ...ignore }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT', message: expect.stringContaining('--signature') })
  })

  it('needs insecureIgnoreTlog, a key, and a signature or bundle', async () => {
    const { key, r } = await signed()
    await expect(verifyBlob(data, { keys: [key.publicKey], bundle: r.bundle })).rejects.toMatchObject({
      code: 'ERR_TLOG_REQUIRED',
    })
    await expect(verifyBlob(data, { keys: [], bundle: r.bundle, ...ignore })).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
    await expect(verifyBlob(data, { keys: [key.publicKey], ...ignore })).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
    await expect(
      verifyBlob(data, { keys: [key.publicKey], signature: 'not base64!', ...ignore }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
    await expect(verifyBlob('x' as unknown as Uint8Array, { keys: [key.publicKey], ...ignore })).rejects.toThrow(
      TypeError,
    )
  })

  it('hash: an explicit --signature-digest-algorithm is the only hash tried', async () => {
    const { key, r } = await signed('ecdsa-p384')
    await expect(
      verifyBlob(data, { keys: [key.publicKey], signature: r.signature, hash: 'sha256', ...ignore }),
    ).rejects.toMatchObject({ code: 'ERR_SIGNATURE_INVALID' })
    expect(
      (await verifyBlob(data, { keys: [key.publicKey], signature: r.signature, hash: 'sha384', ...ignore })).keyIndex,
    ).toBe(0)
  })

  it('hash: P-384 signatures over SHA-256 (older cosign) still verify by default', async () => {
    const key = await generateKeyPair({ algorithm: 'ecdsa-p384' })
    // What cosign < 2.6 made: ECDSA P-384 over SHA-256.
    const pkcs8Key = await crypto.subtle.importKey(
      'pkcs8',
      new Uint8Array(key.pkcs8),
      { name: 'ECDSA', namedCurve: 'P-384' },
      false,
      ['sign'],
    )
    const sig = ecdsaP1363ToDER(
      new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pkcs8Key, new Uint8Array(data))),
    )
    expect((await verifyBlob(data, { keys: [key.publicKey], signature: sig, ...ignore })).source).toBe('signature')
  })

  it('Ed25519ph is accepted only where the bundle says SHA2_512', async () => {
    const key = await generateKeyPair({ algorithm: 'ed25519' })
    const ph = await signBlob(data, createKeySigner(key, { algorithm: 'ed25519ph' }), { tlogUpload: false })
    expect(ph.messageDigest.algorithm).toBe('SHA2_512')
    expect((await verifyBlob(data, { keys: [key.publicKey], bundle: ph.bundle, ...ignore })).keyIndex).toBe(0)
    await expect(verifyBlob(data, { keys: [key.publicKey], signature: ph.signature, ...ignore })).rejects.toMatchObject(
      { code: 'ERR_SIGNATURE_INVALID' },
    )
  })

  it('signature messages follow Go’s verifiers', async () => {
    for (const [algorithm, message] of [
      ['ecdsa-p256', 'invalid signature when validating ASN.1 encoded signature'],
      ['rsa', 'crypto/rsa: verification error'],
      ['ed25519', 'failed to verify signature'],
    ] as const) {
      const { key, r } = await signed(algorithm)
      await expect(
        verifyBlob(tampered, { keys: [key.publicKey], signature: r.signature, ...ignore }),
      ).rejects.toMatchObject({ message })
      await expect(verifyBlob(tampered, { keys: [key.publicKey], bundle: r.bundle, ...ignore })).rejects.toMatchObject({
        message: `failed to verify signature: could not verify message: ${message}`,
      })
    }
  })
})

describe('cosign’s older blob bundle', () => {
  // Shapes followed (sigstore/cosign @ d6d86c22 and tag v2.6.1):
  // - pkg/cosign/fetch.go LocalSignedPayload: json tags base64Signature, cert (omitempty), rekorBundle (omitempty).
  // - v2.6.1 cmd/cosign/cli/sign/sign_blob.go: Base64Signature = base64(sig); Cert = base64(certificate PEM), empty
  //   (so omitted) for a plain key; rekorBundle = cbundle.EntryToBundle(entry) when uploaded to Rekor.
  // - pkg/cosign/bundle/rekor.go RekorBundle{SignedEntryTimestamp []byte; Payload{body, integratedTime, logIndex, logID}}.
  // - v3 cmd/cosign/cli/signcommon/common.go NewLegacyBundleFromProtoBundleComponents: with no certificate, cert is
  //   base64 of the public key PEM.
  const rekorBundle = {
    SignedEntryTimestamp:
      'MEUCIQDgTDkxVk0dwzYgNAXqK3Y3JzjH3Y5vXK9q5Dm3bJd6gQIgYv0J1Gp0u3eZlY0c5k9vVvQ7sQk0k1h7kqkE2y5m7w8=',
    Payload: {
      body: 'eyJhcGlWZXJzaW9uIjoiMC4wLjEifQ==',
      integratedTime: 1700000000,
      logIndex: 123,
      logID: 'c0d23d6ad406973f',
    },
  }

  it('serialises like Go json.Marshal (field order, omitempty, RekorBundle struct order)', () => {
    expect(new TextDecoder().decode(serializeLegacyBlobBundle({ base64Signature: 'AAAA' }))).toBe(
      '{"base64Signature":"AAAA"}',
    )
    const shuffled = {
      Payload: { logID: 'c0d23d6ad406973f', logIndex: 123, integratedTime: 1700000000, body: 'eyJ9' },
      SignedEntryTimestamp: 'TUVV',
    }
    expect(
      new TextDecoder().decode(
        serializeLegacyBlobBundle({ base64Signature: 'AAAA', cert: 'Q0VSVA==', rekorBundle: shuffled }),
      ),
    ).toBe(
      '{"base64Signature":"AAAA","cert":"Q0VSVA==","rekorBundle":{"SignedEntryTimestamp":"TUVV",' +
        '"Payload":{"body":"eyJ9","integratedTime":1700000000,"logIndex":123,"logID":"c0d23d6ad406973f"}}}',
    )
  })

  it('parses v2 (no cert, rekorBundle) and v3 (public key cert) shapes; field names match case-insensitively', () => {
    const v2 = parseLegacyBlobBundle(JSON.stringify({ base64Signature: 'AAAA', rekorBundle }))
    expect(v2).toEqual({ base64Signature: 'AAAA', rekorBundle })
    expect(parseLegacyBlobBundle({ Base64Signature: 'AAAA', Cert: 'QQ==' })).toEqual({
      base64Signature: 'AAAA',
      cert: 'QQ==',
    })
    expect(() => parseLegacyBlobBundle({ cert: 'QQ==' })).toThrow(
      expect.objectContaining({ code: 'ERR_BUNDLE_INVALID' }),
    )
    expect(() => parseLegacyBlobBundle({ base64Signature: 'AAAA', cert: 5 })).toThrow(
      expect.objectContaining({ code: 'ERR_BUNDLE_INVALID' }),
    )
  })

  it('a v2 key bundle with a rekorBundle verifies under insecureIgnoreTlog (rekorBundle ignored)', async () => {
    const key = await generateKeyPair()
    const sig = await signData(key, data)
    const bytes = utf8(JSON.stringify({ base64Signature: toBase64(sig), rekorBundle }))
    const r = await verifyBlob(data, { keys: [key.publicKey], bundle: bytes, ...ignore })
    expect(r.legacyBundle?.rekorBundle).toEqual(rekorBundle)
  })

  it('a public key in cert must be the given key (cosign would verify with the embedded key instead)', async () => {
    const key = await generateKeyPair()
    const attacker = await generateKeyPair()
    const sig = await signData(attacker, data)
    const bundle = serializeLegacyBlobBundle({
      base64Signature: toBase64(sig),
      cert: toBase64(utf8(publicKeyToPEM(attacker.publicKey))),
    })
    await expect(verifyBlob(data, { keys: [key.publicKey], bundle, ...ignore })).rejects.toMatchObject({
      code: 'ERR_SIGNATURE_INVALID',
      message: 'the public key in the bundle does not match the provided key',
    })
  })

  it('a certificate in cert is keyless material: ignored under --key, the key decides', async () => {
    const key = await generateKeyPair()
    const sig = await signData(key, data)
    // Any real certificate will do: take the Fulcio leaf from a conformance bundle.
    const { readFileSync } = await import('node:fs')
    const cb = JSON.parse(
      readFileSync(
        new URL(
          '../vectors/blob-bundles/sigstore-js-client-v0.3-message-signature/bundle.sigstore.json',
          import.meta.url,
        ),
        'utf8',
      ),
    )
    const der = fromBase64(cb.verificationMaterial.certificate.rawBytes)
    const pem = `-----BEGIN CERTIFICATE-----\n${toBase64(der).replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`
    const bundle = serializeLegacyBlobBundle({ base64Signature: toBase64(sig), cert: toBase64(utf8(pem)) })
    expect((await verifyBlob(data, { keys: [key.publicKey], bundle, ...ignore })).source).toBe('legacy-bundle')
    await expect(
      verifyBlob(data, {
        keys: [key.publicKey],
        bundle: serializeLegacyBlobBundle({ base64Signature: toBase64(sig), cert: 'bm90IHBlbQ==' }),
        ...ignore,
      }),
    ).rejects.toMatchObject({ code: 'ERR_BUNDLE_INVALID' })
  })

  it('--signature overrides base64Signature, as cosign does; bundleFormat legacy refuses a Sigstore bundle', async () => {
    const key = await generateKeyPair()
    const sig = await signData(key, data)
    const bundle = serializeLegacyBlobBundle({ base64Signature: toBase64(await signData(key, tampered)) })
    expect((await verifyBlob(data, { keys: [key.publicKey], bundle, signature: sig, ...ignore })).signature).toEqual(
      sig,
    )
    const sigstore = (await signBlob(data, blobSigner(key), { tlogUpload: false })).bundle
    await expect(
      verifyBlob(data, { keys: [key.publicKey], bundle: sigstore, bundleFormat: 'legacy', ...ignore }),
    ).rejects.toMatchObject({ code: 'ERR_BUNDLE_INVALID' })
  })
})

describe('decodeBlobSignature', () => {
  it('base64 text (with a trailing newline) decodes; raw DER stays raw; empty is refused', async () => {
    const key = await generateKeyPair()
    const der = await signData(key, data)
    expect(decodeBlobSignature(utf8(`${toBase64(der)}\n`))).toEqual(der)
    expect(decodeBlobSignature(der)).toEqual(der)
    expect(() => decodeBlobSignature(new Uint8Array())).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
  })
})

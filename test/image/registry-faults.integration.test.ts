/**
 * Sign, attest and verify through a fault-injecting proxy in front of a real docker-registry: faults after the
 * headers are retried, a write whose answer was lost is reported as what the registry holds, and a registry that
 * fails to deliver never becomes a verdict on a signature (docs/formats.md §Registry failures).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { attestImage } from '../../src/image/attest.js'
import { signImage } from '../../src/image/sign.js'
import { verifyImage } from '../../src/image/verify.js'
import { verifyImageAttestations } from '../../src/image/verify-attestation.js'
import { generateKeyPair, type PrivateKey } from '../../src/keys/index.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import type { Reference } from '../../src/oci/types.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { pushTinyImage } from '../support/oci-image.js'
import { type Fault, type ProxiedRequest, startProxy, type TestProxy } from '../support/proxy.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

let reg: TestRegistry
let proxy: TestProxy
let fault: ((r: ProxiedRequest) => Fault | undefined) | undefined
let key: PrivateKey

beforeAll(async () => {
  reg = await startRegistry()
  proxy = await startProxy({ target: reg.url, fault: (r) => fault?.(r) })
  key = await generateKeyPair()
})
afterAll(async () => {
  await proxy?.stop()
  await reg?.stop()
})
afterEach(() => {
  fault = undefined
})

/** A client through the proxy whose retry backoff is not waited for. */
const viaProxy = () => createRegistryClient({ sleep: async () => {} })
/** A client straight to the registry, for checking what it holds. */
const direct = () => createRegistryClient()

let images = 0
/** A fresh image behind the proxy (and its name straight at the registry). */
async function freshImage(): Promise<{ ref: Reference; digest: string; hex: string }> {
  const name = `faults/img${++images}:v1`
  const digest = await pushTinyImage(direct(), parseReference(`${reg.host}/${name}`), `image ${images}`)
  return { ref: parseReference(`${proxy.host}/${name}`), digest, hex: digest.slice(7) }
}

/** A warning about a registry failure (not the one about signing by tag). */
const failed = (warning: string) => warning.startsWith('the registry failed')
const isBlobGet = (r: ProxiedRequest) => r.method === 'GET' && r.path.includes('/blobs/sha256:')

describe.each(['legacy', 'bundle'] as const)('%s form', (format) => {
  const verifyOptions = () => ({ store: viaProxy(), keys: [key.publicKey], insecureIgnoreTlog: true })
  /** The write that makes a signature visible: the `.sig` tag, or the referrers fallback index (no Referrers API). */
  const finalWrite = (hex: string) => (r: ProxiedRequest) =>
    r.method === 'PUT' &&
    r.path.endsWith(format === 'legacy' ? `/manifests/sha256-${hex}.sig` : `/manifests/sha256-${hex}`)

  test('every GET body cut off once: sign and verify succeed', async () => {
    const { ref } = await freshImage()
    const broken = new Set<string>()
    fault = (r) => {
      if (r.method !== 'GET' || broken.has(r.path)) return undefined
      broken.add(r.path)
      return { kind: 'reset-response', afterBytes: 10 }
    }
    await signImage(ref, createKeySigner(key), { store: viaProxy(), tlogUpload: false, format })
    const result = await verifyImage(ref, verifyOptions())
    expect(result.verified.map((c) => c.format)).toEqual([format])
    expect(broken.size).toBeGreaterThan(0)
  })

  test('the final write lands but its answer is lost on every try: success, with a warning', async () => {
    const { ref, hex } = await freshImage()
    fault = (r) => (finalWrite(hex)(r) ? { kind: 'lose-response' } : undefined)
    const warnings: string[] = []
    const result = await signImage(ref, createKeySigner(key), {
      store: viaProxy(),
      tlogUpload: false,
      format,
      onWarning: (m) => failed(m) && warnings.push(m),
    })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/the registry failed .*could not connect or the connection broke/)
    // Sent once and not repeated: the tag, read instead, already held it (a retry would re-send stale bytes).
    expect(proxy.requests.filter(finalWrite(hex)).length).toBe(1)
    fault = undefined
    const verified = await verifyImage(ref, { ...verifyOptions(), store: direct() })
    expect(verified.verified[0]!.format).toBe(format)
    if (format === 'legacy') {
      const sig = await direct().resolve({ ...ref, tag: `sha256-${hex}.sig` })
      expect(result.signatureManifestDigest).toBe(sig.digest)
    } else {
      expect(verified.verified[0]!.referrer?.digest).toBe(result.signatureManifestDigest)
    }
  })

  test('the final write never lands: the network error is reported, and nothing verifies', async () => {
    const { ref, hex } = await freshImage()
    fault = (r) => (finalWrite(hex)(r) ? { kind: 'reset' } : undefined)
    const warnings: string[] = []
    await expect(
      signImage(ref, createKeySigner(key), {
        store: viaProxy(),
        tlogUpload: false,
        format,
        onWarning: (m) => failed(m) && warnings.push(m),
      }),
    ).rejects.toMatchObject({ code: 'ERR_NETWORK' })
    expect(warnings).toEqual([])
    // The first try and 3 more, each merged again from a fresh read of the tag, never the same request repeated.
    const sent = proxy.requests.filter((r) => r.method === 'PUT' || r.method === 'GET')
    const writes = sent.flatMap((r, i) => (finalWrite(hex)(r) ? [i] : []))
    expect(writes).toHaveLength(4)
    for (let w = 1; w < writes.length; w++) {
      const between = sent.slice(writes[w - 1]! + 1, writes[w]!)
      expect(between.some((r) => r.method === 'GET' && r.path.includes(`/manifests/sha256-${hex}`))).toBe(true)
    }
    fault = undefined
    await expect(verifyImage(ref, { ...verifyOptions(), store: direct() })).rejects.toMatchObject({
      code: 'ERR_NO_SIGNATURES',
    })
  })

  describe('verification when the signature payload cannot be fetched', () => {
    let ref: Reference
    beforeAll(async () => {
      ref = (await freshImage()).ref
      await signImage(ref, createKeySigner(key), { store: direct(), tlogUpload: false, format })
    })

    test('reset on every try: ERR_NETWORK, not a failed signature', async () => {
      fault = (r) => (isBlobGet(r) ? { kind: 'reset-response', afterBytes: 5 } : undefined)
      await expect(verifyImage(ref, verifyOptions())).rejects.toMatchObject({
        code: 'ERR_NETWORK',
        message: expect.stringContaining('the connection broke'),
      })
    })

    test('cut short without Content-Length on every try: ERR_NETWORK (fewer bytes than the descriptor)', async () => {
      fault = (r) => (isBlobGet(r) ? { kind: 'truncate-response', afterBytes: 5 } : undefined)
      const err = await verifyImage(ref, verifyOptions()).catch((e) => e)
      expect(err).toMatchObject({ code: 'ERR_NETWORK', message: expect.stringContaining('cut short') })
      expect(err.cause).toMatchObject({ code: 'ERR_OCI_DIGEST_MISMATCH' })
    })

    test('503 on every try: the registry error, not a failed signature', async () => {
      fault = (r) => (isBlobGet(r) ? { kind: 'respond', status: 503 } : undefined)
      await expect(verifyImage(ref, verifyOptions())).rejects.toMatchObject({
        code: 'ERR_OCI_HTTP',
        details: { status: 503, temporary: true },
      })
    })

    test('different content of the declared length: judged as content, not a network failure', async () => {
      fault = (r) => (isBlobGet(r) ? { kind: 'corrupt' } : undefined)
      const err = await verifyImage(ref, verifyOptions()).catch((e) => e)
      if (format === 'legacy') {
        // The layer is a failed signature.
        expect(err).toMatchObject({
          code: 'ERR_NO_MATCHING_SIGNATURES',
          message: expect.stringContaining('does not match'),
        })
      } else {
        // A referrer that is not a readable bundle is skipped, as cosign skips it; there is no .sig either.
        expect(err).toMatchObject({ code: 'ERR_NO_SIGNATURES' })
      }
    })

    test('once cut off, then whole: verifies', async () => {
      let left = 1
      fault = (r) => (isBlobGet(r) && left-- > 0 ? { kind: 'truncate-response', afterBytes: 5 } : undefined)
      expect((await verifyImage(ref, verifyOptions())).verified).toHaveLength(1)
    })
  })

  test('attestations: a payload cut off on every try is ERR_NETWORK; a lost final answer still attests', async () => {
    const { ref, hex } = await freshImage()
    const attest = (onWarning?: (m: string) => void) =>
      attestImage(ref, createKeySigner(key), {
        store: viaProxy(),
        format,
        tlogUpload: false,
        predicate: '{"x":1}',
        predicateType: 'https://example.com/custom/v1',
        ...(onWarning ? { onWarning } : {}),
      })
    const finalAtt = (r: ProxiedRequest) =>
      r.method === 'PUT' &&
      r.path.endsWith(format === 'legacy' ? `/manifests/sha256-${hex}.att` : `/manifests/sha256-${hex}`)
    fault = (r) => (finalAtt(r) ? { kind: 'lose-response' } : undefined)
    const warnings: string[] = []
    await attest((m) => failed(m) && warnings.push(m))
    expect(warnings).toHaveLength(1)
    fault = (r) => (isBlobGet(r) ? { kind: 'reset-response', afterBytes: 5 } : undefined)
    const options = { store: viaProxy(), keys: [key.publicKey], insecureIgnoreTlog: true }
    await expect(verifyImageAttestations(ref, options)).rejects.toMatchObject({ code: 'ERR_NETWORK' })
    fault = undefined
    expect((await verifyImageAttestations(ref, options)).verified).toHaveLength(1)
  })
})

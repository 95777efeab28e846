/**
 * Issue 14 soak finding, made deterministic: a signer whose shared-tag write (the `.sig` tag, or the referrers
 * fallback index) is answered 429 `Retry-After: 1` must not send the same bytes again later. Those bytes were merged
 * from what the tag held before another signer wrote, so re-sending them would drop that signer's signature after it
 * had reported success. Here the other signer runs to completion while the first one is told to wait, and every
 * later request of the first signer is held until the other one has finished: a transport retry of the stale PUT
 * would then land after it and drop its signature; a fresh read-merge-write keeps both.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type SignImageResult, signImage } from '../../src/image/sign.js'
import { verifyImage } from '../../src/image/verify.js'
import { generateKeyPair, type PrivateKey } from '../../src/keys/index.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

let reg: TestRegistry
let keys: PrivateKey[]

beforeAll(async () => {
  reg = await startRegistry()
  keys = await Promise.all([generateKeyPair(), generateKeyPair()])
})
afterAll(async () => {
  await reg?.stop()
})

const methodOf = (init: RequestInit | undefined) => (init?.method ?? 'GET').toUpperCase()

describe.each(['legacy', 'bundle'] as const)('%s form', (format) => {
  test('a write answered 429 Retry-After: 1 is not re-sent stale after another signer succeeded', async () => {
    const ref = parseReference(`${reg.host}/stale/${format}:v1`)
    const digest = await pushTinyImage(createRegistryClient(), ref, `stale ${format}`)
    const tag = `sha256-${digest.slice('sha256:'.length)}${format === 'legacy' ? '.sig' : ''}`
    const isTagWrite = (url: string, init: RequestInit | undefined) =>
      methodOf(init) === 'PUT' && new URL(url).pathname.endsWith(`/manifests/${tag}`)

    const tagWrites: string[] = []
    let other: Promise<SignImageResult> | undefined
    const first = createRegistryClient({
      // The transport's own Retry-After wait is skipped, so only the held requests decide the order.
      sleep: async () => {},
      fetch: async (input, init) => {
        const url = String(input)
        if (other === undefined && isTagWrite(url, init)) {
          tagWrites.push('429')
          // The registry throttles this write; meanwhile the other signer signs, from start to success.
          other = signImage(ref, createKeySigner(keys[1]!), {
            store: createRegistryClient(),
            tlogUpload: false,
            format,
          })
          return new Response('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}', {
            status: 429,
            headers: { 'Retry-After': '1', 'Content-Type': 'application/json' },
          })
        }
        // Nothing of this signer reaches the registry again before the other signer has reported success.
        if (other !== undefined) await other.catch(() => {})
        if (isTagWrite(url, init)) tagWrites.push('sent')
        return fetch(input, init)
      },
    })
    const warnings: string[] = []
    const mine = await signImage(ref, createKeySigner(keys[0]!), {
      store: first,
      tlogUpload: false,
      format,
      onWarning: (m) => warnings.push(m),
    })
    expect(other).toBeDefined()
    const theirs = await other!
    expect([mine.format, theirs.format]).toEqual([format, format])
    // The throttled write was followed by a new read-merge-write, sent once.
    expect(tagWrites).toEqual(['429', 'sent'])
    expect(warnings.filter((m) => m.startsWith('the registry failed'))).toEqual([])

    const verified = await verifyImage(ref, {
      store: createRegistryClient(),
      keys: keys.map((k) => k.publicKey),
      insecureIgnoreTlog: true,
      signatureFormat: format,
    })
    // Both signers' signatures are there: the one that succeeded first was not dropped by the late writer.
    expect(new Set(verified.verified.map((c) => c.keyIndex))).toEqual(new Set([0, 1]))
  })
})

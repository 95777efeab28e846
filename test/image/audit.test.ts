import { describe, expect, it } from 'vitest'
import { attestImage } from '../../src/image/attest.js'
import type { AuditEvent } from '../../src/image/audit.js'
import { signImage } from '../../src/image/sign.js'
import { verifyImage } from '../../src/image/verify.js'
import { verifyImageAttestations } from '../../src/image/verify-attestation.js'
import { generateKeyPair, keyHint } from '../../src/keys/index.js'
import { createLayoutStore } from '../../src/oci/layout.js'
import { createMemoryFileSystem } from '../../src/oci/memory-fs.js'
import type { Reference } from '../../src/oci/types.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { pushTinyImage } from '../support/oci-image.js'

const repo = { registry: 'localhost', repository: 'audit' }

async function setup() {
  const store = createLayoutStore(createMemoryFileSystem())
  const digest = await pushTinyImage(store, { ...repo, tag: 'v1' })
  return { store, digest, ref: { ...repo, tag: 'v1' } as Reference }
}

describe('audit events from verifyImage', () => {
  it('reports a verified image with the verifying key hint and counts', async () => {
    const { store, ref, digest } = await setup()
    const key = await generateKeyPair()
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false })
    await signImage(ref, createKeySigner(await generateKeyPair()), { store, tlogUpload: false })
    const events: AuditEvent[] = []
    await verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true, onAudit: (e) => events.push(e) })
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      type: 'verify',
      reference: 'localhost/audit:v1',
      digest,
      outcome: 'verified',
      signatures: 2,
      verified: 1,
      keys: [keyHint(key.publicKey)],
    })
  })

  it('reports rejections with every reason, and for unsigned images the error', async () => {
    const { store, ref, digest } = await setup()
    const events: AuditEvent[] = []
    const onAudit = (e: AuditEvent) => events.push(e)
    const key = await generateKeyPair()
    await expect(
      verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true, onAudit }),
    ).rejects.toThrow()
    expect(events[0]).toMatchObject({
      outcome: 'rejected',
      digest,
      signatures: 0,
      reasons: ['ERR_NO_SIGNATURES: no signatures found'],
    })
    await signImage(ref, createKeySigner(await generateKeyPair()), { store, tlogUpload: false })
    await expect(
      verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true, onAudit }),
    ).rejects.toThrow()
    expect(events[1]).toMatchObject({
      outcome: 'rejected',
      signatures: 1,
      verified: 0,
      reasons: ['failed to verify signature'],
    })
  })

  it('a throwing listener changes nothing', async () => {
    const { store, ref } = await setup()
    const key = await generateKeyPair()
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false })
    const onAudit = () => {
      throw new Error('logger down')
    }
    const ok = await verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true, onAudit })
    expect(ok.verified).toHaveLength(1)
    const other = await generateKeyPair()
    await expect(
      verifyImage(ref, { store, keys: [other.publicKey], insecureIgnoreTlog: true, onAudit }),
    ).rejects.toMatchObject({
      code: 'ERR_NO_MATCHING_SIGNATURES',
    })
  })
})

describe('audit events from attestImage / verifyImageAttestations', () => {
  it('reports the attestation with its predicate type and key, then its verification', async () => {
    const { store, ref, digest } = await setup()
    const key = await generateKeyPair()
    const events: AuditEvent[] = []
    const onAudit = (e: AuditEvent) => events.push(e)
    await attestImage(ref, createKeySigner(key), {
      store,
      tlogUpload: false,
      predicateType: 'slsaprovenance1',
      predicate: { buildDefinition: { buildType: 'x', externalParameters: {} }, runDetails: { builder: { id: 'y' } } },
      onAudit,
    })
    expect(events[0]).toMatchObject({
      type: 'attest',
      digest,
      format: 'bundle',
      predicateType: 'https://slsa.dev/provenance/v1',
      keys: [keyHint(key.publicKey)],
      outcome: 'success',
    })
    await verifyImageAttestations(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true, onAudit })
    expect(events[1]).toMatchObject({ type: 'verify-attestation', outcome: 'verified', verified: 1 })
    await expect(
      attestImage(ref, createKeySigner(key), { store, tlogUpload: true, predicate: {}, onAudit }),
    ).rejects.toMatchObject({ code: 'ERR_TLOG_REQUIRED' })
    expect(events[2]).toMatchObject({
      type: 'attest',
      outcome: 'failure',
      reasons: [expect.stringMatching(/^ERR_TLOG_REQUIRED/)],
    })
  })
})

describe('audit events from signImage', () => {
  it('reports success with format, digest and key hint, and failures with the error code', async () => {
    const { store, ref, digest } = await setup()
    const key = await generateKeyPair()
    const events: AuditEvent[] = []
    const onAudit = (e: AuditEvent) => events.push(e)
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false, format: 'legacy', onAudit })
    expect(events[0]).toMatchObject({
      type: 'sign',
      digest,
      format: 'legacy',
      keys: [keyHint(key.publicKey)],
      outcome: 'success',
    })
    await expect(
      signImage({ ...repo, tag: 'missing' }, createKeySigner(key), { store, tlogUpload: false, onAudit }),
    ).rejects.toThrow()
    expect(events[1]).toMatchObject({
      type: 'sign',
      outcome: 'failure',
      reasons: [expect.stringMatching(/^ERR_OCI_NOT_FOUND: image tag not found/)],
    })
  })
})

/**
 * Keyless image verification in bundle form, through the library: cosign's own test bundle (a DSSE attestation whose
 * in-toto subject is sha256:732112…0aa4, an image that cannot be rebuilt here) attached as a referrer of that digest
 * in a memory layout. The subject image itself is absent: verification by digest needs only the referrers.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { verifyImage } from '../../../src/image/verify.js'
import { verifyImageAttestations } from '../../../src/image/verify-attestation.js'
import { generateKeyPair } from '../../../src/keys/index.js'
import { createLayoutStore } from '../../../src/oci/layout.js'
import { BUNDLE_V03_MEDIA_TYPE, OCI_IMAGE_MANIFEST_MEDIA_TYPE } from '../../../src/oci/media-types.js'
import { createMemoryFileSystem } from '../../../src/oci/memory-fs.js'
import { pushReferrer } from '../../../src/oci/referrers.js'
import type { Descriptor, OCIStore, Reference } from '../../../src/oci/types.js'
import { buildBundleReferrerManifest, EMPTY_JSON_BLOB } from '../../../src/signature/bundle-referrer.js'
import { parseTrustedRoot } from '../../../src/trust/trusted-root.js'
import { pushTinyImage } from '../../support/oci-image.js'

const dir = join(import.meta.dirname, '../../vectors/bundles/cosign-oci-attestation-new-bundle-format')
const bundleBytes = new Uint8Array(readFileSync(join(dir, 'bundle.sigstore.json')))
const trustedRoot = parseTrustedRoot(readFileSync(join(dir, 'trusted_root.json')))
const SUBJECT = 'sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4'
const identity = { subject: 'cody@soyland.com', issuer: 'https://github.com/login/oauth' }
const repo = { registry: 'localhost', repository: 'repo' }

async function attach(store: OCIStore, subject: Descriptor): Promise<void> {
  const bundle = await store.pushBlob(repo, bundleBytes, BUNDLE_V03_MEDIA_TYPE)
  const emptyConfig = await store.pushBlob(repo, EMPTY_JSON_BLOB, 'application/vnd.oci.empty.v1+json')
  const manifest = buildBundleReferrerManifest({
    bundle,
    emptyConfig,
    subject,
    predicateType: 'https://cosign.sigstore.dev/attestation/v1',
    created: new Date('2025-02-28T19:18:11Z'),
  })
  await pushReferrer(store, repo, manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE, { subject })
}

async function setup() {
  const store = createLayoutStore(createMemoryFileSystem())
  await attach(store, { mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE, size: 0, digest: SUBJECT })
  return { store, ref: { ...repo, digest: SUBJECT } as Reference }
}

describe('keyless bundle verification of an image (cosign test bundle)', () => {
  it('verifies with the signer identity: chain, SCT, tlog, subject digest', async () => {
    const { store, ref } = await setup()
    const result = await verifyImage(ref, { store, keys: [], identity, trustedRoot })
    expect(result.verified).toHaveLength(1)
    expect(result.verified[0]).toMatchObject({ format: 'bundle', identity: { subject: 'cody@soyland.com' } })
    expect(result.verified[0]!.statement!.predicateType).toBe('https://cosign.sigstore.dev/attestation/v1')
    // cosign's test uses regexps ".*".
    await verifyImage(ref, { store, keys: [], identity: { subjectRegExp: '.*', issuerRegExp: '.*' }, trustedRoot })
  })

  it('verify-attestation goes through the same path', async () => {
    const { store, ref } = await setup()
    const result = await verifyImageAttestations(ref, { store, keys: [], identity, trustedRoot })
    expect(result.verified).toHaveLength(1)
    expect(result.verified[0]).toMatchObject({ format: 'bundle', identity: { subject: 'cody@soyland.com' } })
    const err = await verifyImageAttestations(ref, {
      store,
      keys: [],
      identity: { ...identity, subject: 'mallory@example.com' },
      trustedRoot,
    }).catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
  })

  it('fails for a wrong identity or issuer, with the verifier reason', async () => {
    const { store, ref } = await setup()
    for (const wrong of [
      { ...identity, subject: 'mallory@example.com' },
      { ...identity, issuer: 'https://accounts.google.com' },
    ]) {
      const err = await verifyImage(ref, { store, keys: [], identity: wrong, trustedRoot }).catch((e) => e)
      expect(err).toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
      expect(err.details.checks[0].reasons[0]).toMatch(/does not match/)
    }
  })

  it('fails when the bundle is attached to another image (subject digest check)', async () => {
    const store = createLayoutStore(createMemoryFileSystem())
    const digest = await pushTinyImage(store, { ...repo, tag: 'v1' }, 'other')
    const subject = await store.resolve({ ...repo, digest })
    await attach(store, subject)
    const err = await verifyImage({ ...repo, tag: 'v1' }, { store, keys: [], identity, trustedRoot }).catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
    expect(err.details.checks[0].reasons[0]).toMatch(/does not match any digest in statement/)
  })

  it('fails with a trusted root that does not know the CA, and with a key instead of an identity', async () => {
    const { store, ref } = await setup()
    const other = parseTrustedRoot(
      readFileSync(join(import.meta.dirname, '../../vectors/bundles/conformance-happy-path-v0.3/trusted_root.json')),
    )
    // The production root holds the public-good CA and logs, so this one verifies too; a root without CAs must not.
    expect((await verifyImage(ref, { store, keys: [], identity, trustedRoot: other })).verified).toHaveLength(1)
    const empty = { ...trustedRoot, certificateAuthorities: [] }
    await expect(verifyImage(ref, { store, keys: [], identity, trustedRoot: empty })).rejects.toMatchObject({
      code: 'ERR_NO_MATCHING_SIGNATURES',
    })
    const key = await generateKeyPair()
    const err = await verifyImage(ref, { store, keys: [key.publicKey], trustedRoot }).catch((e) => e)
    expect(err.details.checks[0].reasons[0]).toMatch(/verify it with a certificate identity/)
  })
})

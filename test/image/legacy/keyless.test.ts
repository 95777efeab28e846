/**
 * Legacy `.sig` keyless signatures (cosign v1/v2): SET, hashedrekord body, certificate chain at the integrated time,
 * identity (issuer from extension .1.1), then the signature. The CA, Rekor key and trusted root are local (see
 * legacy-fixture.ts); the certificate has no SCT, so SCT checks are covered only as "required and missing".
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type VerifyImageOptions, verifyImage } from '../../../src/image/verify.js'
import { sha256Digest } from '../../../src/oci/digest.js'
import { createLayoutStore } from '../../../src/oci/layout.js'
import { SIMPLE_SIGNING_MEDIA_TYPE } from '../../../src/oci/media-types.js'
import { createMemoryFileSystem } from '../../../src/oci/memory-fs.js'
import { parseReference } from '../../../src/oci/reference.js'
import { createRegistryClient } from '../../../src/oci/registry.js'
import type { OCIStore, Reference } from '../../../src/oci/types.js'
import { attachmentReference } from '../../../src/signature/cosign-tags.js'
import { buildSignatureImage } from '../../../src/signature/signature-image.js'
import { createSimpleSigningPayload } from '../../../src/signature/simple-signing.js'
import { parseTrustedRoot, type TrustedRoot } from '../../../src/trust/trusted-root.js'
import { cli } from '../../support/cli.js'
import { pushTinyImage } from '../../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../../support/registry.js'
import { IDENTITY, ISSUER, type LegacyCA, makeLegacyCA } from './keyless-fixture.js'

let ca: LegacyCA
let root: TrustedRoot
beforeAll(() => {
  ca = makeLegacyCA()
  root = parseTrustedRoot(ca.trustedRootJSON)
})

/** Push a tiny image and a `.sig` image whose one layer carries `annotations` (made by `sign` over the payload). */
async function signedImage(
  store: OCIStore,
  ref: Reference,
  sign: (payload: Uint8Array) => Record<string, string>,
  payloadDigest?: string,
): Promise<string> {
  const digest = await pushTinyImage(store, ref, 'keyless')
  const payload = createSimpleSigningPayload('example/app', payloadDigest ?? digest)
  const sigRef = attachmentReference(ref, digest, 'sig')
  const layer = await store.pushBlob(sigRef, payload, SIMPLE_SIGNING_MEDIA_TYPE)
  const img = await buildSignatureImage([{ ...layer, annotations: sign(payload) }], { digest: sha256Digest })
  await store.pushBlob(sigRef, img.config, img.configDescriptor.mediaType)
  await store.pushManifest(sigRef, img.manifest, img.manifestMediaType)
  return digest
}

const repo = { registry: 'localhost', repository: 'app' }
const ref: Reference = { ...repo, tag: 'v1' }
const keyless = (extra?: Partial<VerifyImageOptions>) => ({
  keys: [],
  identity: { subject: IDENTITY, issuer: ISSUER },
  trustedRoot: root,
  insecureIgnoreSct: true,
  ...extra,
})

async function reasonFor(sign: (p: Uint8Array) => Record<string, string>, extra?: Partial<VerifyImageOptions>) {
  const store = createLayoutStore(createMemoryFileSystem())
  await signedImage(store, ref, sign)
  const err = await verifyImage(ref, { store, ...keyless(extra) }).catch((e) => e)
  expect(err).toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
  return err.details.checks[0].reasons[0] as string
}

describe('legacy keyless signatures (library, memory layout)', () => {
  it('verifies: SET, body, chain at the integrated time, identity, signature, claims', async () => {
    const store = createLayoutStore(createMemoryFileSystem())
    const digest = await signedImage(store, ref, (p) => ca.annotations(p))
    const result = await verifyImage(ref, { store, ...keyless() })
    expect(result.verified).toHaveLength(1)
    expect(result.verified[0]).toMatchObject({ format: 'legacy', identity: { subject: IDENTITY, issuer: ISSUER } })
    expect(result.verified[0]!.claims!.critical.image['docker-manifest-digest']).toBe(digest)
    // Regexps (unanchored, RE2) work too.
    await verifyImage(ref, {
      store,
      ...keyless({ identity: { subjectRegExp: '@example\\.test$', issuerRegExp: 'issuer' } }),
    })
  })

  it('fails with cosign words for a wrong identity or issuer', async () => {
    const wrongSubject = await reasonFor((p) => ca.annotations(p), {
      identity: { subject: 'someone@else.test', issuer: ISSUER },
    })
    expect(wrongSubject).toBe(
      `none of the expected identities matched what was in the certificate, got subjects [${IDENTITY}] with issuer ${ISSUER}`,
    )
    const wrongIssuer = await reasonFor((p) => ca.annotations(p), {
      identity: { subject: IDENTITY, issuerRegExp: '^https://accounts\\.google\\.com$' },
    })
    expect(wrongIssuer).toMatch(/^none of the expected identities matched/)
    const workflow = await reasonFor((p) => ca.annotations(p), {
      identity: { subject: IDENTITY, issuer: ISSUER, githubWorkflowSha: 'abc' },
    })
    expect(workflow).toBe('expected GitHub Workflow SHA not found in certificate')
  })

  it('fails on a bad SET, a body that logs another payload, and a time outside the certificate', async () => {
    expect(await reasonFor((p) => ca.annotations(p, { corruptSET: true }))).toBe(
      'signed entry timestamp: signature does not verify',
    )
    expect(await reasonFor((p) => ca.annotations(p, { bodyHashOf: new Uint8Array([1]) }))).toMatch(
      /logged digest differs/,
    )
    const twoDaysAgo = Math.floor(Date.now() / 1000) - 2 * 86400
    expect(await reasonFor((p) => ca.annotations(p, { integratedTime: twoDaysAgo }))).toMatch(
      /^leaf certificate is not valid at/,
    )
    const future = Math.floor(Date.now() / 1000) + 3600
    expect(await reasonFor((p) => ca.annotations(p, { integratedTime: future }))).toMatch(/future/)
  })

  it('fails without the bundle annotation unless the log is ignored; requires the SCT unless told not to', async () => {
    const noSET = (p: Uint8Array) => {
      const a = ca.annotations(p)
      delete a['dev.sigstore.cosign/bundle']
      return a
    }
    expect(await reasonFor(noSET)).toMatch(/^offline verification failed/)
    const store = createLayoutStore(createMemoryFileSystem())
    await signedImage(store, ref, noSET)
    // --insecure-ignore-tlog: the certificate is checked at the current time (it is valid now).
    await verifyImage(ref, { store, ...keyless({ insecureIgnoreTlog: true }) })
    expect(await reasonFor((p) => ca.annotations(p), { insecureIgnoreSct: false })).toMatch(/no embedded SCT/)
  })

  it('fails when the certificate does not chain to the trusted root, or the signature is not the certificate key', async () => {
    const other = makeLegacyCA()
    // A certificate from another CA, consistently logged in our Rekor: the chain check refuses it.
    const foreign = await reasonFor((p) => ca.annotations(p, { leafPEM: other.leafPEM, leafKey: other.leafKey }))
    expect(foreign).not.toMatch(/signed entry timestamp|logged/)
    expect(foreign).toMatch(/not issued by/)
    // Our certificate, but the signature (logged as it is) made with another key.
    expect(await reasonFor((p) => ca.annotations(p, { leafKey: other.leafKey }))).toBe(
      'invalid signature when validating ASN.1 encoded signature',
    )
  })

  it('checks the claims after the Sigstore checks: a payload for another digest fails', async () => {
    const store = createLayoutStore(createMemoryFileSystem())
    await signedImage(store, ref, (p) => ca.annotations(p), `sha256:${'0'.repeat(64)}`)
    const err = await verifyImage(ref, { store, ...keyless() }).catch((e) => e)
    expect(err.details.checks[0].reasons[0]).toMatch(/^invalid or missing digest in claim/)
  })

  it('refuses incomplete keyless options with cosign texts', async () => {
    const store = createLayoutStore(createMemoryFileSystem())
    await expect(verifyImage(ref, { store, ...keyless({ identity: { issuer: ISSUER } }) })).rejects.toThrow(
      '--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode',
    )
    await expect(verifyImage(ref, { store, ...keyless({ identity: { subject: IDENTITY } }) })).rejects.toThrow(
      '--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode',
    )
  })
})

describe('CLI verify, legacy keyless image in a real docker-registry', () => {
  let reg: TestRegistry
  let dir: string
  beforeAll(async () => {
    reg = await startRegistry()
    dir = mkdtempSync(join(tmpdir(), 'cs-keyless-cli-'))
    writeFileSync(join(dir, 'trusted_root.json'), ca.trustedRootJSON)
  })
  afterAll(async () => {
    await reg?.stop()
  })

  it('passes with the right identity and fails (exit 12) with a wrong one', async () => {
    const image = `${reg.host}/keyless/app:v1`
    const client = createRegistryClient()
    await signedImage(client, parseReference(image), (p) => ca.annotations(p))
    const base = ['verify', '--trusted-root', 'trusted_root.json', '--insecure-ignore-sct', '--allow-http-registry']
    const ok = await cli([...base, '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, image], {
      cwd: dir,
    })
    expect(ok.stderr).toContain('The code-signing certificate was verified using trusted certificate authority')
    expect(ok.code).toBe(0)
    const out = JSON.parse(ok.stdout)
    expect(out[0].optional).toMatchObject({ Subject: IDENTITY, Issuer: ISSUER })
    const bad = await cli([...base, '--certificate-identity', 'x@y.z', '--certificate-oidc-issuer', ISSUER, image], {
      cwd: dir,
    })
    expect(bad.code).toBe(12)
    expect(bad.stderr).toContain('none of the expected identities matched')
  })
})

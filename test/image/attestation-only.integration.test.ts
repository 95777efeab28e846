// Which bundle referrers `verify` counts as signatures, and which `verify-attestation` counts as attestations, on a
// real docker-registry with the local Sigstore stack: an image that carries only an attestation, checked by
// `verify`, and an image that carries only a signature, checked by `verify-attestation`.
//
// cosign v3 (sigstore/cosign d6d86c2, same code in v3.0.0 … v3.1.2): `cosign verify` lists every referrer of the
// digest with no artifactType filter (`pkg/cosign/verify.go` `GetBundles`: `ociremote.Referrers(digest, "")`),
// keeps each one that parses as a bundle ≥ v0.3 (`pkg/oci/remote/signatures.go` `Bundle`), and as soon as one
// exists verifies them all through `VerifyImageAttestations` (`cmd/cosign/cli/verify/verify.go` `Exec`: "OCI
// bundle always contains attestation"), requiring only a DSSE envelope whose subject is the image digest
// (`verifyImageAttestationsSigstoreBundle`). Neither the `dev.sigstore.bundle.predicateType` annotation nor the
// statement's predicate type is consulted, so an attestation is a signature candidate: a foreign key makes it a
// non-matching signature, and the attesting key or identity makes `verify` pass. Only with no bundle at all does
// cosign read the `.sig` tag and report `no signatures found` (exit 10). countersign selects the same way; the
// assertions below pin that, with countersign's exit codes (12 for a non-matching signature, docs/cli-output.md).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COSIGN_SIGN_PREDICATE_TYPE } from '../../src/attestation/statement.js'
import { attestImage } from '../../src/image/attest.js'
import { signImage } from '../../src/image/sign.js'
import { verifyImage } from '../../src/image/verify.js'
import { verifyImageAttestations } from '../../src/image/verify-attestation.js'
import { generateKeyPair, publicKeyToPEM } from '../../src/keys/index.js'
import type { PrivateKey } from '../../src/keys/types.js'
import { BUNDLE_V03_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { listReferrers } from '../../src/oci/referrers.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import type { OCIStore, Reference } from '../../src/oci/types.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'
import { MOCK_IDENTITY, MOCK_OIDC_ISSUER } from '../support/sigstore-mock.js'
import { type LocalSigstore, startLocalSigstore } from '../support/sigstore-stack.js'

const SLSA1_URI = 'https://slsa.dev/provenance/v1'
const SLSA1 = JSON.stringify({
  buildDefinition: { buildType: 'https://example.com/build/v1', externalParameters: { ref: 'main' } },
  runDetails: { builder: { id: 'https://example.com/builder' } },
})

let registry: TestRegistry
let sigstore: LocalSigstore
let store: OCIStore
let dir: string
let rootPath: string
let attester: PrivateKey
let other: PrivateKey

beforeAll(async () => {
  ;[registry, sigstore] = await Promise.all([startRegistry(), startLocalSigstore()])
  store = createRegistryClient({ plainHTTP: true })
  dir = mkdtempSync(join(tmpdir(), 'cs-attestation-only-'))
  rootPath = join(dir, 'trusted_root.json')
  sigstore.writeTrustedRoot(rootPath)
  ;[attester, other] = await Promise.all([generateKeyPair(), generateKeyPair()])
  writeFileSync(join(dir, 'attester.pub'), publicKeyToPEM(attester.publicKey))
  writeFileSync(join(dir, 'other.pub'), publicKeyToPEM(other.publicKey))
  writeFileSync(join(dir, 'slsa.json'), SLSA1)
}, 60_000)

afterAll(async () => {
  await Promise.all([registry?.stop(), sigstore?.close()])
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** A fresh image; `name` is its repository under `attonly/`, `text` what it is for. */
async function image(name: string): Promise<{ ref: Reference; digest: string; cliRef: string }> {
  const ref: Reference = { registry: registry.host, repository: `attonly/${name}`, tag: 'v1' }
  const digest = await pushTinyImage(store, ref, `attestation-only ${name} ${Math.random()}`)
  return { ref, digest, cliRef: `${registry.host}/attonly/${name}:v1` }
}

const run = (argv: readonly string[]) => cli(argv, { cwd: dir })

/** `countersign attest` of the SLSA predicate, keyless, through the local Sigstore stack. */
async function attestKeyless(cliRef: string): Promise<void> {
  const token = sigstore.fulcio.identityToken()
  const services = sigstore.serviceFlags(rootPath)
  const argv = ['attest', '--yes', '--identity-token', token, ...services, '--type', 'slsaprovenance1']
  const attest = await run([...argv, '--predicate', 'slsa.json', cliRef])
  expect(attest.code, attest.stderr).toBe(0)
}

/** A ClusterImagePolicy with one key authority holding `key`'s public key, plus `extra` authority fields. */
function keyPolicy(name: string, key: PrivateKey, extra = ''): string {
  const pem = publicKeyToPEM(key.publicKey)
    .trim()
    .split('\n')
    .map((l) => `        ${l}`)
    .join('\n')
  return `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: ${name}
spec:
  images:
  - glob: "**attonly/**"
  authorities:
  - name: release
    key:
      data: |
${pem}
${extra}`
}

describe('verify on an image that carries only an attestation (bundle referrer)', () => {
  it('a key attestation is a signature candidate: another key → no matching signatures (12); the attesting key → verified', async () => {
    const { ref, digest, cliRef } = await image('key-attested')
    await attestImage(ref, createKeySigner(attester), {
      store,
      tlogUpload: false,
      predicateType: 'slsaprovenance1',
      predicate: SLSA1,
    })
    // What is stored is cosign v3's attestation referrer, nothing else: no `.sig` tag, one bundle referrer.
    const referrers = await listReferrers(store, ref, digest)
    expect(referrers).toHaveLength(1)
    expect(referrers[0]!.artifactType).toBe(BUNDLE_V03_MEDIA_TYPE)

    // Library: the attestation is checked as a signature (cosign v3's GetBundles ignores the predicate type).
    const wrong = verifyImage(ref, { store, keys: [other.publicKey], insecureIgnoreTlog: true })
    await expect(wrong).rejects.toMatchObject({
      code: 'ERR_NO_MATCHING_SIGNATURES',
      message: 'no matching signatures: failed to verify signature',
    })
    const details = (await wrong.catch((e) => e)).details
    expect(details.checks).toHaveLength(1)
    expect(details.checks[0]).toMatchObject({
      format: 'bundle',
      verified: false,
      referrer: { digest: referrers[0]!.digest },
    })

    const ok = await verifyImage(ref, { store, keys: [attester.publicKey], insecureIgnoreTlog: true })
    expect(ok.verified).toHaveLength(1)
    expect(ok.verified[0]).toMatchObject({ format: 'bundle', keyIndex: 0 })
    expect(ok.verified[0]!.statement?.predicateType).toBe(SLSA1_URI)

    // Only the legacy form (cosign `--new-bundle-format=false`, policy-controller's default): nothing is there.
    await expect(
      verifyImage(ref, { store, keys: [attester.publicKey], insecureIgnoreTlog: true, signatureFormat: 'legacy' }),
    ).rejects.toMatchObject({ code: 'ERR_NO_SIGNATURES', message: 'no signatures found' })

    // CLI: the same, with exit codes.
    const cliWrong = await run(['verify', '--key', 'other.pub', '--insecure-ignore-tlog', cliRef])
    expect(cliWrong.code, cliWrong.stderr).toBe(12)
    expect(cliWrong.stderr).toBe('Error: no matching signatures: failed to verify signature\n')
    const cliOk = await run(['verify', '--key', 'attester.pub', '--insecure-ignore-tlog', '-o', 'json', cliRef])
    expect(cliOk.code, cliOk.stderr).toBe(0)
    // cosign's transformOutput: the statement's predicate type becomes `critical.type`.
    expect(JSON.parse(cliOk.stdout)).toEqual([
      {
        critical: {
          identity: { 'docker-reference': cliRef },
          image: { 'docker-manifest-digest': digest },
          type: SLSA1_URI,
        },
        optional: {},
      },
    ])
  })

  it('a keyless attestation made by `countersign attest`, checked with --key: no matching signatures (12), not 10; by its identity: verified', async () => {
    const { ref, cliRef } = await image('keyless-attested')
    await attestKeyless(cliRef)

    // Checked with a key, in both key modes (signature only; key with the transparency log): the attestation is a
    // candidate that does not match, never an absent signature. (cosign v3 reaches the same verdict on this path
    // but prints `no matching attestations: …` and exits 1: its bundle branch returns the error unwrapped.)
    const modes = [
      { flags: ['--insecure-ignore-tlog'], reason: 'failed to verify signature' },
      {
        flags: ['--trusted-root', rootPath],
        reason: 'bundle carries a certificate; verify it with a certificate identity, not a key',
      },
    ]
    for (const { flags, reason } of modes) {
      const r = await run(['verify', '--key', 'attester.pub', ...flags, cliRef])
      expect(r.code, r.stderr).toBe(12)
      expect(r.stderr).toBe(`Error: no matching signatures: ${reason}\n`)
    }
    await expect(
      verifyImage(ref, { store, keys: [attester.publicKey], insecureIgnoreTlog: true }),
    ).rejects.toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })

    // cosign v3 verifies every bundle as an attestation: the attester's identity makes `verify` pass.
    const byIdentity = await run([
      'verify',
      '--certificate-identity',
      MOCK_IDENTITY,
      '--certificate-oidc-issuer',
      MOCK_OIDC_ISSUER,
      '--trusted-root',
      rootPath,
      '-o',
      'json',
      cliRef,
    ])
    expect(byIdentity.code, byIdentity.stderr).toBe(0)
    expect(JSON.parse(byIdentity.stdout)[0].critical.type).toBe(SLSA1_URI)
    const lib = await verifyImage(ref, {
      store,
      keys: [],
      identity: { subject: MOCK_IDENTITY, issuer: MOCK_OIDC_ISSUER },
      trustedRoot: sigstore.trustedRoot,
    })
    expect(lib.verified.map((c) => c.statement?.predicateType)).toEqual([SLSA1_URI])
  })

  it('policy verify with a key authority: the attestation is read as a signature candidate in the default (either) form', async () => {
    const { cliRef } = await image('policy-attested')
    await attestKeyless(cliRef)
    writeFileSync(join(dir, 'key-any.yaml'), keyPolicy('key-any', attester))
    writeFileSync(join(dir, 'key-legacy.yaml'), keyPolicy('key-legacy', attester, '    signatureFormat: legacy\n'))

    const any = await run(['policy', 'verify', '--policy', 'key-any.yaml', cliRef])
    expect(any.code, any.stderr).toBe(1)
    expect(any.stdout).toContain(
      'policy key-any, authority release: signature: no matching signatures: failed to verify signature',
    )
    // policy-controller's default (legacy): only the `.sig` tag is read, and there is none.
    const legacy = await run(['policy', 'verify', '--policy', 'key-legacy.yaml', cliRef])
    expect(legacy.code, legacy.stderr).toBe(1)
    expect(legacy.stdout).toContain('policy key-legacy, authority release: signature: no signatures found')
  })

  it('an image with no signature and no attestation: no signatures found (10)', async () => {
    const { ref, cliRef } = await image('bare')
    await expect(
      verifyImage(ref, { store, keys: [attester.publicKey], insecureIgnoreTlog: true }),
    ).rejects.toMatchObject({ code: 'ERR_NO_SIGNATURES', message: 'no signatures found' })
    const r = await run(['verify', '--key', 'attester.pub', '--insecure-ignore-tlog', cliRef])
    expect(r.code, r.stderr).toBe(10)
    expect(r.stderr).toBe('Error: no signatures found\n')
  })
})

describe('verify-attestation on an image that carries only a signature', () => {
  it('a bundle signature is an attestation of https://sigstore.dev/cosign/sign/v1: --type custom finds nothing (1), its own type verifies', async () => {
    const { ref, cliRef } = await image('bundle-signed')
    await signImage(ref, createKeySigner(attester), { store, tlogUpload: false })

    // cosign v3 verify-attestation: the signature bundle verifies, then `--type` (default `custom`) filters it out.
    const custom = verifyImageAttestations(ref, {
      store,
      keys: [attester.publicKey],
      insecureIgnoreTlog: true,
      predicateType: 'custom',
    })
    await expect(custom).rejects.toMatchObject({
      code: 'ERR_CLAIMS_INVALID',
      message: `none of the attestations matched the predicate type: custom, found: ${COSIGN_SIGN_PREDICATE_TYPE}`,
    })
    const any = await verifyImageAttestations(ref, { store, keys: [attester.publicKey], insecureIgnoreTlog: true })
    expect(any.verified.map((c) => c.predicateType)).toEqual([COSIGN_SIGN_PREDICATE_TYPE])

    const cliCustom = await run(['verify-attestation', '--key', 'attester.pub', '--insecure-ignore-tlog', cliRef])
    expect(cliCustom.code, cliCustom.stderr).toBe(1)
    expect(cliCustom.stderr).toBe(
      `Error: none of the attestations matched the predicate type: custom, found: ${COSIGN_SIGN_PREDICATE_TYPE}\n`,
    )
    const cliSign = await run([
      'verify-attestation',
      '--key',
      'attester.pub',
      '--insecure-ignore-tlog',
      '--type',
      COSIGN_SIGN_PREDICATE_TYPE,
      cliRef,
    ])
    expect(cliSign.code, cliSign.stderr).toBe(0)
    // A foreign key: the signature is a non-matching attestation (cosign: exit 1, no code of its own).
    const cliWrong = await run(['verify-attestation', '--key', 'other.pub', '--insecure-ignore-tlog', cliRef])
    expect(cliWrong.code, cliWrong.stderr).toBe(1)
    expect(cliWrong.stderr).toBe('Error: no matching attestations: failed to verify signature\n')
  })

  it('a legacy `.sig` signature is never an attestation: no attestations found (1)', async () => {
    const { ref, cliRef } = await image('legacy-signed')
    await signImage(ref, createKeySigner(attester), { store, tlogUpload: false, format: 'legacy' })
    // The signature itself is there and verifies.
    expect(
      (await verifyImage(ref, { store, keys: [attester.publicKey], insecureIgnoreTlog: true })).verified,
    ).toHaveLength(1)

    await expect(
      verifyImageAttestations(ref, { store, keys: [attester.publicKey], insecureIgnoreTlog: true }),
    ).rejects.toMatchObject({ code: 'ERR_NO_SIGNATURES', message: 'no matching attestations: no attestations found' })
    const r = await run(['verify-attestation', '--key', 'attester.pub', '--insecure-ignore-tlog', cliRef])
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toBe('Error: no matching attestations: no attestations found\n')
  })
})

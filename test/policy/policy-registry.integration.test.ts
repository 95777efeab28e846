// Policies against a real registry (docker-registry) and the local Sigstore services (mock Fulcio, faithful Rekor,
// openssl TSA): key authorities, keyless identities (exact and regexp, through a named trusted root), a keyless
// attestation condition, a TSA-only keyless authority, and warn mode.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attestImage } from '../../src/image/attest.js'
import { signImage } from '../../src/image/sign.js'
import { generateKeyPair, publicKeyToPEM } from '../../src/keys/index.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import type { OCIStore, Reference } from '../../src/oci/types.js'
import { loadCELEngine } from '../../src/policy/cel.js'
import { parsePolicies } from '../../src/policy/parse.js'
import { verifyImageAgainstPolicies } from '../../src/policy/verify-policies.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { createTimestampClient } from '../../src/timestamp/client.js'
import type { TrustedRoot } from '../../src/trust/trusted-root.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'
import { MOCK_IDENTITY, MOCK_OIDC_ISSUER } from '../support/sigstore-mock.js'
import { type LocalSigstore, startLocalSigstore } from '../support/sigstore-stack.js'

// CEL conditions are compiled synchronously here (parsePolicies, compileCELCondition): load the engine first,
// as users of the synchronous API must.
beforeAll(() => loadCELEngine())

let registry: TestRegistry
let sigstore: LocalSigstore
let trustedRoot: TrustedRoot
let store: OCIStore

beforeAll(async () => {
  ;[registry, sigstore] = await Promise.all([startRegistry(), startLocalSigstore()])
  trustedRoot = sigstore.trustedRoot
  store = createRegistryClient({ plainHTTP: true })
}, 60_000)

afterAll(async () => {
  await Promise.all([registry?.stop(), sigstore?.close()])
})

const keyless = () => sigstore.keylessSigner()
const witness = () => sigstore.witness()

async function image(name: string): Promise<Reference> {
  const ref = { registry: registry.host, repository: `policy/${name}-demo`, tag: 'v1' }
  await pushTinyImage(store, ref, `policy ${name} ${Math.random()}`)
  return ref
}

const cip = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'policy.sigstore.dev/v1alpha1',
  kind: 'ClusterImagePolicy',
  metadata: { name },
  spec: { images: [{ glob: '**demo**' }], ...spec },
})
const keylessAuthority = (identities: unknown[], extra: Record<string, unknown> = {}) => ({
  keyless: { url: sigstore.fulcio.url, identities, trustRootRef: 'local' },
  ...extra,
})
const trustedRoots = () => ({ local: trustedRoot })

describe('policies against a real registry and local Sigstore services', () => {
  it('key authority: signed allowed at the resolved digest, unsigned denied, warn mode allows with a warning', async () => {
    const key = await generateKeyPair()
    const signed = await image('key-signed')
    const unsigned = await image('key-unsigned')
    const { digest } = await signImage(signed, createKeySigner(key), { store, tlogUpload: false })
    const { policies } = parsePolicies(cip('key', { authorities: [{ key: { data: publicKeyToPEM(key.publicKey) } }] }))
    expect(await verifyImageAgainstPolicies(signed, policies, { store })).toMatchObject({ allowed: true, digest })
    const denied = await verifyImageAgainstPolicies(unsigned, policies, { store })
    expect(denied).toMatchObject({ allowed: false, reasons: [{ policy: 'key', check: 'signature' }] })
    expect(denied.reasons[0]!.message).toMatch(/no signatures found/)
    const warn = parsePolicies(
      cip('key-warn', { mode: 'warn', authorities: [{ key: { data: publicKeyToPEM(key.publicKey) } }] }),
    ).policies
    expect(await verifyImageAgainstPolicies(unsigned, warn, { store })).toMatchObject({
      allowed: true,
      reasons: [],
      warnings: [{ policy: 'key-warn', check: 'signature' }],
    })
  })

  it('keyless authority (bundle and legacy forms): identity exact and regexp pass; a wrong identity is denied', async () => {
    for (const format of ['bundle', 'legacy'] as const) {
      const ref = await image(`keyless-${format}`)
      await signImage(ref, keyless(), { store, witness: witness(), format })
      const good = parsePolicies([
        cip('exact', { authorities: [keylessAuthority([{ issuer: MOCK_OIDC_ISSUER, subject: MOCK_IDENTITY }])] }),
        cip('regexp', {
          authorities: [
            keylessAuthority([{ issuerRegExp: '^https://oauth2\\.sigstore\\.dev/', subjectRegExp: '@example\\.com$' }]),
          ],
        }),
      ]).policies
      const ok = await verifyImageAgainstPolicies(ref, good, { store, trustedRoots: trustedRoots() })
      expect(ok.reasons, format).toEqual([])
      expect(ok.allowed).toBe(true)
      const wrong = parsePolicies(
        cip('wrong', {
          authorities: [
            keylessAuthority([
              { issuer: MOCK_OIDC_ISSUER, subject: 'mallory@example.com' },
              { issuer: 'https://token.actions.githubusercontent.com', subject: MOCK_IDENTITY },
            ]),
          ],
        }),
      ).policies
      const denied = await verifyImageAgainstPolicies(ref, wrong, { store, trustedRoots: trustedRoots() })
      expect(denied.allowed).toBe(false)
      expect(denied.reasons[0]).toMatchObject({ check: 'identity' })
      expect(denied.reasons[0]!.message).toContain(`found: ${MOCK_IDENTITY} (${MOCK_OIDC_ISSUER})`)
      // Without the named root the authority cannot be checked: denied, naming the missing root.
      const noRoot = await verifyImageAgainstPolicies(ref, good, { store })
      expect(noRoot.reasons[0]).toMatchObject({ check: 'trust-root', message: 'trustRootRef local not found' })
    }
  })

  it('keyless attestation with a CEL condition; key and keyless authorities OR-ed in one policy', async () => {
    const ref = await image('keyless-att')
    await attestImage(ref, keyless(), {
      store,
      witness: witness(),
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: JSON.stringify({
        buildDefinition: { buildType: 'https://example.com/build/v1', externalParameters: { ref: 'refs/heads/main' } },
        runDetails: { builder: { id: 'https://ci.example.com/runner' } },
      }),
    })
    const unrelatedKey = await generateKeyPair()
    const policy = (condition: string) =>
      parsePolicies(
        cip('provenance', {
          authorities: [
            { name: 'release-key', key: { data: publicKeyToPEM(unrelatedKey.publicKey) } },
            keylessAuthority([{ issuer: MOCK_OIDC_ISSUER, subject: MOCK_IDENTITY }], {
              name: 'ci',
              attestations: [
                {
                  name: 'provenance',
                  predicateType: 'https://slsa.dev/provenance/v1',
                  policy: { type: 'cel', data: condition },
                },
              ],
            }),
          ],
        }),
      ).policies
    const ok = await verifyImageAgainstPolicies(
      ref,
      policy('predicate.runDetails.builder.id == "https://ci.example.com/runner"'),
      { store, trustedRoots: trustedRoots() },
    )
    expect(ok.allowed).toBe(true)
    expect(ok.policies[0]!.authorities.map((a) => a.passed)).toEqual([false, true])
    const bad = await verifyImageAgainstPolicies(
      ref,
      policy('predicate.buildDefinition.externalParameters.ref.startsWith("refs/tags/")'),
      { store, trustedRoots: trustedRoots() },
    )
    expect(bad.allowed).toBe(false)
    // Both authorities' reasons: the key found nothing it verifies, the condition was false.
    expect(bad.reasons.map((r) => [r.authority, r.check])).toEqual([
      ['release-key', 'signature'],
      ['ci', 'condition'],
    ])
  })

  it('keyless with rfc3161timestamp: the signed timestamp stands in for the log', async () => {
    const ref = await image('keyless-tsa')
    // Signed without any transparency log entry: only the TSA dates the certificate.
    await signImage(ref, keyless(), {
      store,
      tlogUpload: false,
      witness: { trustedRoot, timestampAuthorities: [createTimestampClient({ url: sigstore.tsa.url })] },
    })
    const withTSA = parsePolicies(
      cip('tsa', {
        authorities: [
          keylessAuthority([{ issuer: MOCK_OIDC_ISSUER, subject: MOCK_IDENTITY }], {
            rfc3161timestamp: { trustRootRef: 'local' },
          }),
        ],
      }),
    ).policies
    expect(await verifyImageAgainstPolicies(ref, withTSA, { store, trustedRoots: trustedRoots() })).toMatchObject({
      allowed: true,
    })
    // The same signature under an authority that follows the log (the default) is denied: no log entry.
    const withLog = parsePolicies(
      cip('log', { authorities: [keylessAuthority([{ issuer: MOCK_OIDC_ISSUER, subject: MOCK_IDENTITY }])] }),
    ).policies
    const denied = await verifyImageAgainstPolicies(ref, withLog, { store, trustedRoots: trustedRoots() })
    expect(denied.allowed).toBe(false)
    expect(denied.reasons[0]!.message).toMatch(/transparency log/)
  })
})

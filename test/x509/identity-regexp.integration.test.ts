// Issue 14 end to end: a keyless bundle from the local Fulcio whose certificate e-mail is 34 a's and a '!', verified
// with `--certificate-identity-regexp '^(a+)+$'`, used to backtrack for hours; on RE2 it is denied at once, through
// the bundle verifier, the legacy (cosign v1/v2 annotations) identity check and the public checkIdentity. SANs over
// the length bound are compared exactly but never matched against a regexp.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signBlob } from '../../src/blob/sign-blob.js'
import { verifyBlob } from '../../src/blob/verify-blob.js'
import { legacyIdentity } from '../../src/image/legacy/sigstore-annotations.js'
import { fromBase64 } from '../../src/internal/bytes.js'
import { type Certificate, parseCertificate } from '../../src/x509/certificate.js'
import { loadIdentityRegExps, MAX_MATCHED_IDENTITY_LENGTH } from '../../src/x509/identity.js'
import { checkIdentity } from '../../src/x509/index.js'
import { MOCK_OIDC_ISSUER } from '../support/sigstore-mock.js'
import { type LocalSigstore, startLocalSigstore } from '../support/sigstore-stack.js'

let sigstore: LocalSigstore

beforeAll(async () => {
  sigstore = await startLocalSigstore()
}, 60_000)

afterAll(async () => {
  await sigstore?.close()
})

const data = new TextEncoder().encode('issue 14')

async function signedBy(email: string): Promise<{ bundle: Uint8Array; leaf: Certificate }> {
  const { bundle } = await signBlob(data, sigstore.keylessSigner({ email }), { witness: sigstore.witness() })
  const json = JSON.parse(new TextDecoder().decode(bundle))
  return { bundle, leaf: parseCertificate(fromBase64(json.verificationMaterial.certificate.rawBytes)) }
}

async function elapsed<T>(run: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; ms: number }> {
  const start = performance.now()
  const [result] = await Promise.allSettled([run()])
  return { result: result!, ms: performance.now() - start }
}

describe('identity regexps on a keyless bundle', () => {
  it('^(a+)+$ against the 34-a e-mail is denied at once, in every identity check', async () => {
    const email = `${'a'.repeat(34)}!@example.com`
    const { bundle, leaf } = await signedBy(email)
    const trustedRoot = sigstore.trustedRoot
    const hostile = { subjectRegExp: '^(a+)+$', issuer: MOCK_OIDC_ISSUER }

    const denied = await elapsed(() => verifyBlob(data, { keys: [], bundle, identity: hostile, trustedRoot }))
    expect(denied.result).toMatchObject({
      status: 'rejected',
      reason: expect.objectContaining({
        code: 'ERR_POLICY_DENIED',
        details: expect.objectContaining({ check: 'identity' }),
      }),
    })
    expect(denied.ms).toBeLessThan(5000)

    const good = { subjectRegExp: '^a+!@example\\.com$', issuer: MOCK_OIDC_ISSUER }
    const ok = await verifyBlob(data, { keys: [], bundle, identity: good, trustedRoot })
    expect(ok).toMatchObject({ identity: { subject: email, issuer: MOCK_OIDC_ISSUER } })

    // The public synchronous check and cosign's legacy check, on the same certificate.
    const start = performance.now()
    expect(() => checkIdentity(leaf, hostile)).toThrow(expect.objectContaining({ code: 'ERR_POLICY_DENIED' }))
    expect(checkIdentity(leaf, good).subject).toBe(email)
    await loadIdentityRegExps(hostile)
    expect(() => legacyIdentity(leaf, hostile)).toThrow(expect.objectContaining({ code: 'ERR_POLICY_DENIED' }))
    expect(legacyIdentity(leaf, good).subject).toBe(email)
    expect(performance.now() - start).toBeLessThan(1000)

    // Go syntax JavaScript lacks now works: \pL and (?U).
    const unicode = { subjectRegExp: '(?U)^\\pL+!@example\\.com$', issuerRegExp: '^https://oauth2\\.sigstore\\.dev/' }
    await expect(verifyBlob(data, { keys: [], bundle, identity: unicode, trustedRoot })).resolves.toBeDefined()
  }, 60_000)

  it(`a SAN over ${MAX_MATCHED_IDENTITY_LENGTH} characters matches exactly but never a regexp`, async () => {
    const email = `${'a'.repeat(MAX_MATCHED_IDENTITY_LENGTH)}@example.com`
    const { bundle, leaf } = await signedBy(email)
    const trustedRoot = sigstore.trustedRoot
    await expect(
      verifyBlob(data, { keys: [], bundle, identity: { subject: email, issuer: MOCK_OIDC_ISSUER }, trustedRoot }),
    ).resolves.toMatchObject({ identity: { subject: email } })
    const pattern = { subjectRegExp: '@example\\.com$', issuer: MOCK_OIDC_ISSUER }
    await expect(verifyBlob(data, { keys: [], bundle, identity: pattern, trustedRoot })).rejects.toMatchObject({
      code: 'ERR_POLICY_DENIED',
      message: expect.stringContaining(`is longer than ${MAX_MATCHED_IDENTITY_LENGTH} characters, too long to match`),
    })
    expect(() => checkIdentity(leaf, pattern)).toThrow(
      expect.objectContaining({
        details: { check: 'identity', reasons: [expect.objectContaining({ rule: 'subject' })] },
      }),
    )
    await loadIdentityRegExps(pattern)
    expect(() => legacyIdentity(leaf, pattern)).toThrow(expect.objectContaining({ code: 'ERR_POLICY_DENIED' }))
  }, 60_000)
})

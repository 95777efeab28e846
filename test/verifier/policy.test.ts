import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '../../src/keys/index.js'
import { parseTrustedRoot } from '../../src/trust/trusted-root.js'
import { verifyBundle } from '../../src/verifier/verify-bundle.js'

const dir = new URL('../vectors/bundles/conformance-happy-path-v0.3/', import.meta.url)
const bundle = readFileSync(new URL('bundle.sigstore.json', dir))
const root = parseTrustedRoot(readFileSync(new URL('trusted_root.json', dir)))
const artifact = new Uint8Array(readFileSync(new URL('artifact', dir)))
const c = JSON.parse(readFileSync(new URL('case.json', dir), 'utf8'))

describe('verifyBundle policy guards', () => {
  it('refuses a certificate bundle under a key policy (any Fulcio signer would pass otherwise)', async () => {
    const key = (await generateKeyPair()).publicKey
    await expect(verifyBundle(bundle, artifact, { trustedRoot: root, policy: { key } })).rejects.toMatchObject({
      code: 'ERR_POLICY_DENIED',
      message: 'bundle is signed with a certificate, not the given key',
    })
  })

  it('refuses a certificate bundle without any identity policy', async () => {
    await expect(verifyBundle(bundle, artifact, { trustedRoot: root, policy: {} })).rejects.toMatchObject({
      code: 'ERR_POLICY_DENIED',
    })
  })

  it('useCurrentTime checks the certificate at "now" too: a short-lived Fulcio certificate has expired since', async () => {
    const policy = { identity: { subject: c.identity, issuer: c.issuer } }
    const ok = await verifyBundle(bundle, artifact, { trustedRoot: root, policy })
    expect(ok.verifiedTimes).toHaveLength(1)
    await expect(
      verifyBundle(bundle, artifact, { trustedRoot: root, policy, useCurrentTime: true }),
    ).rejects.toMatchObject({ code: 'ERR_CERT_EXPIRED' })
    const during = new Date(ok.verifiedTimes[0]!.getTime() + 1000)
    const r = await verifyBundle(bundle, artifact, { trustedRoot: root, policy, useCurrentTime: true, now: during })
    expect(r.verifiedTimes).toHaveLength(2)
  })
})

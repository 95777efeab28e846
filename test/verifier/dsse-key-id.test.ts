/**
 * The SSH SHA-256 fingerprint sigstore-go matches a DSSE keyid against (go-securesystemslib `dsse.SHA256KeyID`), and
 * the keyid rule in bundle verification. The expected fingerprints were printed by OpenSSH `ssh-keygen -l` for the
 * same keys (the P-256 one is sigstore-go's examples/publish_key.pub, whose bundle carries it as keyid).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parsePublicKey } from '../../src/keys/index.js'
import { sshKeyFingerprint } from '../../src/verifier/dsse-key-id.js'
import { verifyBundle } from '../../src/verifier/verify-bundle.js'
import { countersignInputs, countersignRoot, loadCase } from '../support/bundle-cases.js'

// biome-ignore lint/suspicious/noExplicitAny: bundle JSON is edited in place
type Json = any

/** A mutation that sets (or deletes) the field at a dotted path. */
const set = (path: string, value: unknown) => (d: Json) => {
  const keys = path.split('.')
  const last = keys.pop()!
  keys.reduce((o, k) => o[k], d)[last] = value
}
const del = (path: string) => (d: Json) => {
  const keys = path.split('.')
  const last = keys.pop()!
  delete keys.reduce((o, k) => o[k], d)[last]
}

const pem = (b64: string) => `-----BEGIN PUBLIC KEY-----\n${b64}\n-----END PUBLIC KEY-----\n`

const KEYS: readonly [string, string, string][] = [
  [
    'ECDSA P-256',
    readFileSync(new URL('../vectors/bundles/sigstore-go-example-bundle-publish-key/key.pub', import.meta.url), 'utf8'),
    'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA',
  ],
  [
    'ECDSA P-521',
    pem(
      'MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQAioax9s5JT+pHa6TKYfHpbz12FhD30loLIfkZMRoWzztkXcWqUMogqrxJJ2pPpAVF87gQU+TE' +
        'NAMyKd3vjXjBMmMAsb+GjZs4t4aJlMsYX3s0o/U/Z2V3JYjry00otDM3mDIbrIiY0rvtWxhUvMP/gYqFTGZ7ME540dLqLYr8ui7ybdY=',
    ),
    'SHA256:+KIpJJ4Hb419gxRBXlRvqjOcBvQ39+u0UfTYQS96aJE',
  ],
  [
    'RSA 3072',
    pem(
      'MIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEAkUIB5o8e3IjJ3VhbMtd9z9cfr6eoT92rQRnZIbk9CEO6uMTxFibeEaJ260sObCPG' +
        'VwSBmhVltGyx3G5bWqKOdQ1b+amT9aeXiYmKz0R60UleAYJD37x+6GGbe3WDT/rvxElrDrxzeUQfnEVhN02bPt3diY/N+JTuTVcZkCFwnlgK' +
        'BS1JkLM0WAmwAclenp+YHpshDjkJJwV5MY24I90JVh/5jd/ciqnP1aZt0DmVptsUT6ms+5VKVkd6OVTU24fsP3fZKIJCVQ4/jgpNaQhj32xs' +
        'MGQb0IXLg0vM9XHUlONAEKeuevfspI3yH0/QFqYe9bDHMYOSAtelZDHNwCIU5L292HDKjjuaWodewxXZdyIuOh7wjVyd7+l/Z0HAskEXQhVk' +
        'aZ5nd6v8wGowSb+PgtO5lgJnH+wpDZt3WPC2PZpAGM7oIRJZ7EngLPNJJyXAcyfudwxi9nk/P1t/qn5CfVHl8iiwWJfEBw4988IKyB8epIcZ' +
        '/Qzs42airl4ECSphAgMBAAE=',
    ),
    'SHA256:4oPuVcvx5VVO0tXTDeOcuXYxFP2jQNbieQHjxuOQmUw',
  ],
  [
    'Ed25519',
    pem('MCowBQYDK2VwAyEAVjLYwzPAS0fBG8CC+Wbhh5KIAHlZW/HDDZV/zhCEtKI='),
    'SHA256:Q38uRjf334UtQ7NE14PgzvuS3WimgV9PMRCl/MQIGNg',
  ],
]

describe('sshKeyFingerprint', () => {
  it.each(KEYS)('%s: the fingerprint ssh-keygen prints', (_, key, fingerprint) => {
    expect(sshKeyFingerprint(parsePublicKey(key))).toBe(fingerprint)
  })
})

describe('DSSE keyid in bundle verification (sigstore-go via go-securesystemslib)', () => {
  const name = 'sigstore-go-example-bundle-publish-key'
  const inputs = countersignInputs(loadCase(name))
  const run = (mutate: (doc: Json) => void) => {
    const doc = JSON.parse(new TextDecoder().decode(inputs.bundle))
    mutate(doc)
    return verifyBundle(doc, inputs.artifact, {
      ...inputs.options,
      trustedRoot: countersignRoot(inputs),
      policy: inputs.policy,
    })
  }

  it('a keyid equal to the key fingerprint verifies (the case as published)', async () => {
    await expect(run(() => undefined)).resolves.toBeDefined()
  })

  it('an empty or absent keyid is not compared', async () => {
    await expect(run(set('dsseEnvelope.signatures.0.keyid', ''))).resolves.toBeDefined()
    await expect(run(del('dsseEnvelope.signatures.0.keyid'))).resolves.toBeDefined()
  })

  it('another keyid fails the signature, as sigstore-go skips the signature', async () => {
    for (const keyid of ['SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kz', 'bm90IHRoZSBrZXk=']) {
      await expect(run(set('dsseEnvelope.signatures.0.keyid', keyid))).rejects.toMatchObject({
        code: 'ERR_SIGNATURE_INVALID',
      })
    }
  })
})

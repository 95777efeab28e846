/**
 * The shipped TUF root and the embedded trusted-root snapshot must stay consistent: both are what sigstore-js ships
 * for the public-good repository (`@sigstore/tuf` seeds.json — its root.json and its trusted_root.json target), and
 * the root's signatures verify under its own root role (so it is a TUF root a client may start from).
 */
import { createRequire } from 'node:module'
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expect, it } from 'vitest'
import { PUBLIC_GOOD_TUF_MIRROR, publicGoodTUFRoot } from '../../../src/node/tuf/public-good.js'
import { PUBLIC_GOOD_TRUSTED_ROOT_JSON } from '../../../src/trust/public-good.js'

const seeds = createRequire(import.meta.url)('@sigstore/tuf/seeds.json') as Record<
  string,
  { 'root.json': string; targets: Record<string, string> }
>

/**
 * TUF's canonical JSON (the OLPC form securesystemslib signs): sorted keys, no whitespace, and strings escaping only
 * `\\` and `"` — unlike RFC 8785, control characters such as the newlines inside PEM keys stay raw.
 */
function olpcCanonical(v: unknown): string {
  if (typeof v === 'string') return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return JSON.stringify(v)
  if (Array.isArray(v)) return `[${v.map(olpcCanonical).join(',')}]`
  const o = v as Record<string, unknown>
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${olpcCanonical(k)}:${olpcCanonical(o[k])}`)
    .join(',')}}`
}

describe('public-good TUF root', () => {
  const root = JSON.parse(new TextDecoder().decode(publicGoodTUFRoot()))

  it('is the root sigstore-js ships for the same mirror, byte for byte', () => {
    const seed = seeds[PUBLIC_GOOD_TUF_MIRROR]
    expect(seed).toBeDefined()
    expect(Buffer.from(publicGoodTUFRoot()).toString('base64')).toBe(seed!['root.json'])
    expect(root.signed._type).toBe('root')
    expect(root.signed.version).toBe(14)
    expect(root.signed.consistent_snapshot).toBe(true)
  })

  it('the embedded trusted root is the trusted_root.json target published with it', () => {
    const target = Buffer.from(seeds[PUBLIC_GOOD_TUF_MIRROR]!.targets['trusted_root.json']!, 'base64').toString()
    expect(JSON.stringify(JSON.parse(target))).toBe(PUBLIC_GOOD_TRUSTED_ROOT_JSON)
  })

  it('is signed by a threshold of its own root keys', () => {
    const message = new TextEncoder().encode(olpcCanonical(root.signed))
    const role = root.signed.roles.root as { keyids: string[]; threshold: number }
    let valid = 0
    for (const { keyid, sig } of root.signatures as { keyid: string; sig: string }[]) {
      const key = root.signed.keys[keyid]
      if (!role.keyids.includes(keyid) || !key || sig === '') continue
      const pem = key.keyval.public as string
      if (key.keytype !== 'ecdsa' && key.keytype !== 'ecdsa-sha2-nistp256') continue
      const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
      // SPKI of a P-256 key: the last 65 bytes are the uncompressed point.
      const point = der.subarray(der.length - 65)
      if (p256.verify(Buffer.from(sig, 'hex'), sha256(message), point, { prehash: false, format: 'der', lowS: false }))
        valid++
    }
    expect(valid).toBeGreaterThanOrEqual(role.threshold)
  })
})

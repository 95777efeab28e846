/**
 * The shipped TUF root and the embedded trusted-root snapshot stay consistent (test/vectors/tuf/SOURCE.md): the
 * shipped root is sigstore/root-signing's version 15 byte for byte, it is a valid rotation from version 14 (signed by
 * a threshold of 14's root keys and of its own, as a TUF client checks), and the trusted_root.json target published
 * with them is the trusted root `countersign/trust` embeds.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expect, it } from 'vitest'
import { PUBLIC_GOOD_TUF_MIRROR, publicGoodTUFRoot } from '../../../src/node/tuf/public-good.js'
import { PUBLIC_GOOD_TRUSTED_ROOT_JSON } from '../../../src/trust/public-good.js'

interface RootMetadata {
  signatures: { keyid: string; sig: string }[]
  signed: {
    _type: string
    version: number
    consistent_snapshot: boolean
    keys: Record<string, { keytype: string; keyval: { public: string } }>
    roles: Record<string, { keyids: string[]; threshold: number }>
  }
}

const vector = (n: number) => new URL(`../../vectors/tuf/public-good-${n}.root.json`, import.meta.url)
const parse = (bytes: Uint8Array): RootMetadata => JSON.parse(new TextDecoder().decode(bytes))

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

/** How many of `by`'s root-role keys made a valid signature over `doc`'s canonical `signed` part. */
function validRootSignatures(doc: RootMetadata, by: RootMetadata): number {
  const message = sha256(new TextEncoder().encode(olpcCanonical(doc.signed)))
  const role = by.signed.roles.root!
  let valid = 0
  for (const { keyid, sig } of doc.signatures) {
    const key = by.signed.keys[keyid]
    if (!role.keyids.includes(keyid) || !key || sig === '' || !key.keytype.startsWith('ecdsa')) continue
    const der = Buffer.from(key.keyval.public.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
    // A P-256 SubjectPublicKeyInfo ends with the 65-byte uncompressed point; YubiKey signatures may be high-S.
    const point = der.subarray(der.length - 65)
    if (p256.verify(Buffer.from(sig, 'hex'), message, point, { prehash: false, format: 'der', lowS: false })) valid++
  }
  return valid
}

describe('public-good TUF root', () => {
  const v14 = parse(readFileSync(vector(14)))
  const v15 = parse(readFileSync(vector(15)))

  it('ships root version 15 byte for byte', () => {
    expect(Buffer.from(publicGoodTUFRoot()).equals(readFileSync(vector(15)))).toBe(true)
    expect(v15.signed._type).toBe('root')
    expect(v15.signed.version).toBe(15)
    expect(v15.signed.consistent_snapshot).toBe(true)
    expect(PUBLIC_GOOD_TUF_MIRROR).toBe('https://tuf-repo-cdn.sigstore.dev')
  })

  it('version 15 is signed by a threshold of version 14 root keys and of its own', () => {
    expect(v14.signed.version).toBe(14)
    expect(validRootSignatures(v15, v14)).toBeGreaterThanOrEqual(v14.signed.roles.root!.threshold)
    expect(validRootSignatures(v15, v15)).toBeGreaterThanOrEqual(v15.signed.roles.root!.threshold)
    // The check can fail: version 14's signatures do not count for version 15's content.
    expect(validRootSignatures({ ...v15, signatures: v14.signatures }, v14)).toBe(0)
  })

  it('the embedded trusted root is the trusted_root.json target sigstore-js ships beside the root', () => {
    const seeds = createRequire(import.meta.url)('@sigstore/tuf/seeds.json') as Record<
      string,
      { targets: Record<string, string> }
    >
    const target = Buffer.from(seeds[PUBLIC_GOOD_TUF_MIRROR]!.targets['trusted_root.json']!, 'base64').toString()
    expect(JSON.stringify(JSON.parse(target))).toBe(PUBLIC_GOOD_TRUSTED_ROOT_JSON)
  })
})

// Issue 14: reference strings are bounded (4096 characters) before anything else parses or matches them.
import { describe, expect, it } from 'vitest'
import {
  assertReferenceLength,
  MAX_REFERENCE_LENGTH,
  parseReference,
  parseRepository,
} from '../../src/oci/reference.js'

const D512 = `sha512:${'c'.repeat(128)}`

describe('reference length bound', () => {
  it('is 4096 characters', () => {
    expect(MAX_REFERENCE_LENGTH).toBe(4096)
  })

  it('accepts the longest reference the component limits allow (780 characters)', () => {
    const host = `${'h'.repeat(63)}.${'o'.repeat(63)}.${'s'.repeat(63)}.${'t'.repeat(61)}` // 253: DNS maximum
    const s = `${host}:65535/${'r'.repeat(255)}:${'t'.repeat(128)}@${D512}`
    expect(s).toHaveLength(780)
    expect(parseReference(s)).toEqual({
      registry: `${host}:65535`,
      repository: 'r'.repeat(255),
      tag: 't'.repeat(128),
      digest: D512,
    })
  })

  it('accepts exactly 4096 characters and refuses 4097, with a coded, bounded error', () => {
    const ok = `${'a'.repeat(4096 - 8)}.io/x:v`
    expect(ok).toHaveLength(4096 - 1)
    expect(parseReference(`${ok}1`).tag).toBe('v1')
    let err: unknown
    try {
      parseReference(`${ok}12`)
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({
      code: 'ERR_OCI_REFERENCE_INVALID',
      details: { reason: 'too-long', length: 4097, limit: 4096 },
    })
    const message = (err as Error).message
    expect(message).toMatch(/^reference is 4097 characters long; at most 4096 are accepted: "a{300}…"$/)
  })

  it('refuses before parsing: a million characters of anything answer at once', () => {
    for (const s of ['x.dkr.ecr.'.repeat(100_000), '@'.repeat(1_000_000), `${'a.'.repeat(500_000)}a/app:v1`]) {
      const start = performance.now()
      expect(() => parseReference(s)).toThrow(
        expect.objectContaining({
          code: 'ERR_OCI_REFERENCE_INVALID',
          details: expect.objectContaining({ reason: 'too-long' }),
        }),
      )
      expect(performance.now() - start).toBeLessThan(1000)
    }
  })

  it('the length check comes first: an over-long reference is refused for its length, not its syntax', () => {
    expect(() => parseReference(`UPPER/${'a'.repeat(5000)}`)).toThrow(/characters long; at most 4096/)
    expect(() => parseReference(`a@b@${'c'.repeat(5000)}`)).toThrow(/characters long; at most 4096/)
  })

  it('bounds repositories the same way', () => {
    expect(parseRepository(`${'a'.repeat(4000)}.io/x`).repository).toBe('x')
    const long = `${'a'.repeat(4100)}.io/x`
    expect(() => parseRepository(long)).toThrow(/^repository is 4105 characters long; at most 4096 are accepted/)
    expect(() => parseRepository(long)).toThrow(expect.objectContaining({ code: 'ERR_OCI_REFERENCE_INVALID' }))
  })

  it('assertReferenceLength passes short strings and names what it refuses', () => {
    expect(() => assertReferenceLength('ghcr.io/acme/app:v1')).not.toThrow()
    expect(() => assertReferenceLength('x'.repeat(4096))).not.toThrow()
    expect(() => assertReferenceLength('x'.repeat(4097), 'image')).toThrow(/^image is 4097 characters long/)
  })
})

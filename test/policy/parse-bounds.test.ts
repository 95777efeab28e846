// Issue 18: parsePolicies repeated the quoted policy name in every field error, so a 70 KB policy (50,000-character
// name, 10,000 bad images) made a 477 MiB message and a 1.1 MB one ran out of memory. Messages, details and warnings
// are now bounded; sizes are measured here, not times.
import { describe, expect, it } from 'vitest'
import { CountersignError } from '../../src/errors.js'
import { parsePolicies } from '../../src/policy/parse.js'

interface FieldErrors {
  errors: { policy: string; field: string; message: string }[]
  omittedErrors?: number
}

function cip(spec: Record<string, unknown>, name = 'p') {
  return { apiVersion: 'policy.sigstore.dev/v1beta1', kind: 'ClusterImagePolicy', metadata: { name }, spec }
}

function failure(input: unknown): CountersignError {
  try {
    parsePolicies(input)
  } catch (e) {
    expect(e).toBeInstanceOf(CountersignError)
    expect((e as CountersignError).code).toBe('ERR_INVALID_INPUT')
    return e as CountersignError
  }
  throw new Error('expected an error')
}

/** The reproduction: a long name and many images that are not objects, as JSON text. */
function longNameManyBadImages(nameLength: number, badImages: number): string {
  return JSON.stringify(
    cip(
      { images: new Array(badImages).fill(1), authorities: [{ static: { action: 'pass' } }] },
      'n'.repeat(nameLength),
    ),
  )
}

describe('parsePolicies: bounded errors (issue 18)', () => {
  it.each([
    ['70 KB', 50_000, 10_000],
    ['1.1 MB', 1_000_000, 50_000],
  ])('the %s reproduction gives a message of a few KB and bounded details', (_, nameLength, badImages) => {
    const text = longNameManyBadImages(nameLength, badImages)
    expect(text.length).toBeGreaterThan(nameLength + 2 * badImages)
    const e = failure(text)
    expect(e.message.length).toBeLessThan(24 * 1024)
    expect(
      e.message.startsWith(`invalid ClusterImagePolicy in policy: policy "${'n'.repeat(255)}…": spec.images[0]:`),
    ).toBe(true)
    expect(e.message.endsWith(`; … and ${badImages - 16} more`)).toBe(true)
    const details = e.details as unknown as FieldErrors
    expect(details.errors).toHaveLength(100)
    expect(details.omittedErrors).toBe(badImages - 100)
    expect(details.errors[99]).toEqual({
      policy: `${'n'.repeat(255)}…`,
      field: 'spec.images[99]',
      message: 'expected an object',
    })
    expect(JSON.stringify(details).length).toBeLessThan(64 * 1024)
  })

  it('bounds errors over many documents, and values quoted in messages', () => {
    const docs = Array.from({ length: 20_000 }, (_, i) => ({ kind: 'ClusterImagePolicy', metadata: { name: `p${i}` } }))
    const many = failure(docs)
    expect(many.message.length).toBeLessThan(24 * 1024)
    expect((many.details as unknown as FieldErrors).errors).toHaveLength(100)
    // Two errors per document (apiVersion, spec).
    expect((many.details as unknown as FieldErrors).omittedErrors).toBe(2 * 20_000 - 100)

    const kinds = failure({ kind: 'k'.repeat(1_000_000) })
    expect(kinds.message.length).toBeLessThan(1024)
    const longGlob = failure(cip({ images: [{ glob: `[${'a'.repeat(100_000)}` }], authorities: [{ static: {} }] }))
    const globError = (longGlob.details as unknown as FieldErrors).errors.find((x) => x.field === 'spec.images[0].glob')
    expect(globError?.message).toMatch(/^invalid value: \[a+…: glob is invalid/)
    expect(globError!.message.length).toBeLessThanOrEqual(512)
    expect(longGlob.message.length).toBeLessThan(2048)
  })

  it('keeps small messages as they were: every problem listed, nothing clipped', () => {
    expect(failure(cip({ images: [1], authorities: [{ static: { action: 'pass' } }] })).message).toBe(
      'invalid ClusterImagePolicy in policy: policy "p": spec.images[0]: expected an object',
    )
    const sixteen = failure(cip({ images: new Array(16).fill(1), authorities: [{ static: { action: 'pass' } }] }))
    expect(sixteen.message).toBe(
      `invalid ClusterImagePolicy in policy: ${Array.from({ length: 16 }, (_, i) => `policy "p": spec.images[${i}]: expected an object`).join('; ')}`,
    )
    expect(sixteen.details).toEqual({
      errors: Array.from({ length: 16 }, (_, i) => ({
        policy: 'p',
        field: `spec.images[${i}]`,
        message: 'expected an object',
      })),
    })
    const seventeen = failure(cip({ images: new Array(17).fill(1), authorities: [{ static: { action: 'pass' } }] }))
    expect(seventeen.message.endsWith('policy "p": spec.images[15]: expected an object; … and 1 more')).toBe(true)
  })

  it('bounds warnings: the first 100, each clipped, then a count', () => {
    const spec: Record<string, unknown> = { images: [{ glob: '**' }], authorities: [{ static: { action: 'pass' } }] }
    for (let i = 0; i < 10_000; i++) spec[`unknown-${i}-${'u'.repeat(1000)}`] = true
    const { policies, warnings } = parsePolicies(cip(spec))
    expect(policies).toHaveLength(1)
    expect(warnings).toHaveLength(101)
    expect(warnings[100]).toBe('… and 9900 more warning(s)')
    for (const w of warnings) expect(w.length).toBeLessThanOrEqual(512)
    expect(warnings[0]).toMatch(/^spec\.unknown-0-u+…: unknown field, ignored$/)
  })
})

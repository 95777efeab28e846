/**
 * Kubernetes quantities as Kyverno reads them (k8s.io/apimachinery resource.ParseQuantity, Cmp, String). The
 * canonical-form rows marked "upstream" come from kubernetes/apimachinery pkg/api/resource/quantity_test.go.
 */
import { describe, expect, it } from 'vitest'
import {
  addKubernetesQuantities,
  approximateKubernetesQuantity,
  compareKubernetesQuantities,
  formatKubernetesQuantity,
  parseKubernetesQuantity,
} from '../../../src/policy/kyverno/quantity.js'

const q = (s: string) => {
  const parsed = parseKubernetesQuantity(s)
  if (parsed === undefined) throw new Error(`${s} does not parse`)
  return parsed
}

describe('parse and canonical form', () => {
  it.each([
    ['1Gi', '1Gi'],
    ['1.5Gi', '1536Mi'],
    ['1024Mi', '1Gi'],
    ['1000m', '1'],
    ['1500m', '1500m'],
    ['0.5', '500m'],
    ['1e3', '1e3'],
    ['1E3', '1e3'],
    ['1.5e3', '1500'],
    ['12Ki', '12Ki'],
    ['100Ki', '100Ki'],
    ['0.1m', '100u'],
    ['1n', '1n'],
    ['0.0000000001', '1n'], // rounded up to nanos
    ['-1Gi', '-1Gi'],
    ['+1Ki', '1Ki'],
    ['10000000000000000000000m', '10E'], // upstream
    ['8Ei', '9223372036854775807'], // binary values are capped at 2^63-1
    ['0', '0'],
    ['-', '0'], // Kubernetes accepts a bare sign as zero
    ['.', '0'],
    ['Gi', '0'], // no digits at all is zero, too
    ['1000000E', '1'], // Kubernetes has no suffix past E and prints none: the value is lost (upstream quirk)
  ])('%s → %s', (text, canonical) => {
    expect(formatKubernetesQuantity(q(text))).toBe(canonical)
  })

  it.each(['', '12*', '1K', '1e', '1.5.5', ' 1', '1 ', '1Gi ', 'abc', '1e+'])('refuses %j', (text) => {
    expect(parseKubernetesQuantity(text)).toBeUndefined()
  })

  it('keeps the format it was written in', () => {
    expect(q('1Ki').format).toBe('BinarySI')
    expect(q('1k').format).toBe('DecimalSI')
    expect(q('1e3').format).toBe('DecimalExponent')
    expect(q('0.5Ki').format).toBe('BinarySI')
    expect(formatKubernetesQuantity(q('0.5Ki'))).toBe('512')
  })
})

describe('comparison', () => {
  it.each([
    ['1Gi', '1024Mi', 0],
    ['1Gi', '1073741824', 0],
    ['1500m', '1.5', 0],
    ['1k', '1Ki', -1],
    ['-1', '1m', -1],
    ['1e999999999', '1e999999998', 1],
    ['1e-999999999', '1n', 0], // rounded up to a nano, as Kubernetes does
    ['123456789012345678901234567890', '123456789012345678901234567891', -1],
  ])('%s vs %s → %d', (a, b, expected) => {
    expect(compareKubernetesQuantities(q(a), q(b))).toBe(expected)
    expect(compareKubernetesQuantities(q(b), q(a))).toBe(-expected || 0)
  })
})

describe('arithmetic helpers', () => {
  it('adds exactly and keeps the first operand format', () => {
    expect(formatKubernetesQuantity(addKubernetesQuantities(q('1Gi'), q('512Mi')))).toBe('1536Mi')
    expect(formatKubernetesQuantity(addKubernetesQuantities(q('1k'), q('1Ki')))).toBe('2024')
    expect(formatKubernetesQuantity(addKubernetesQuantities(q('0'), q('1Ki')))).toBe('1Ki')
    expect(formatKubernetesQuantity(addKubernetesQuantities(q('1'), q('1500m'), true))).toBe('-500m')
  })

  it('approximates as Go does (unscaled integer times a power of ten)', () => {
    expect(approximateKubernetesQuantity(q('1.5'))).toBe(15 * 0.1)
    expect(approximateKubernetesQuantity(q('1Ki'))).toBe(1024)
  })
})

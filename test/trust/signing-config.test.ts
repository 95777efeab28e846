import { describe, expect, it } from 'vitest'
import {
  PUBLIC_GOOD_SIGNING_CONFIG_JSON,
  parseSigningConfig,
  publicGoodSigningConfig,
  selectSigningService,
  selectSigningServices,
} from '../../src/trust/index.js'

const MT = 'application/vnd.dev.sigstore.signingconfig.v0.2+json'
const svc = (url: string, majorApiVersion: number, start: string, operator = 'op', end?: string) => ({
  url,
  majorApiVersion,
  validFor: end ? { start, end } : { start },
  operator,
})
const NOW = new Date('2026-11-21T00:00:00Z')

describe('signing config', () => {
  it('parses the embedded public-good config and picks Rekor v2 when the client speaks it, v1 otherwise', () => {
    const config = publicGoodSigningConfig()
    expect(JSON.parse(PUBLIC_GOOD_SIGNING_CONFIG_JSON).mediaType).toBe(MT)
    expect(selectSigningService(config.caUrls, [1], NOW).url).toBe('https://fulcio.sigstore.dev')
    expect(selectSigningService(config.oidcUrls, [1], NOW).url).toBe('https://oauth2.sigstore.dev/auth')
    expect(selectSigningServices(config.rekorTlogUrls, config.rekorTlogConfig, [1, 2], NOW).map((s) => s.url)).toEqual([
      'https://log2025-1.rekor.sigstore.dev',
    ])
    expect(selectSigningServices(config.rekorTlogUrls, config.rekorTlogConfig, [1], NOW).map((s) => s.url)).toEqual([
      'https://rekor.sigstore.dev',
    ])
    // Before the v2 log's validity start, v1 is the only choice even for a v2-capable client.
    const before = new Date('2025-01-01T00:00:00Z')
    expect(selectSigningServices(config.rekorTlogUrls, config.rekorTlogConfig, [1, 2], before)[0]!.url).toBe(
      'https://rekor.sigstore.dev',
    )
    expect(selectSigningServices(config.tsaUrls, config.tsaConfig, [1], NOW)[0]!.url).toBe(
      'https://timestamp.sigstore.dev/api/v1/timestamp',
    )
  })

  it('applies ALL / ANY / EXACT with one service per operator, newest first, and validity ends', () => {
    const services = [
      svc('https://a-old', 1, '2020-01-01T00:00:00Z', 'a'),
      svc('https://a-new', 1, '2024-01-01T00:00:00Z', 'a'),
      svc('https://b', 1, '2023-01-01T00:00:00Z', 'b'),
      svc('https://c-expired', 1, '2020-01-01T00:00:00Z', 'c', '2021-01-01T00:00:00Z'),
    ]
    const config = parseSigningConfig({ mediaType: MT, rekorTlogUrls: services, rekorTlogConfig: { selector: 'ALL' } })
    expect(selectSigningServices(config.rekorTlogUrls, { selector: 'ALL' }, [1], NOW).map((s) => s.url)).toEqual([
      'https://a-new',
      'https://b',
    ])
    expect(selectSigningServices(config.rekorTlogUrls, { selector: 'ANY' }, [1], NOW, () => 0.99)[0]!.url).toBe(
      'https://b',
    )
    expect(selectSigningServices(config.rekorTlogUrls, { selector: 'EXACT', count: 2 }, [1], NOW)).toHaveLength(2)
    expect(() => selectSigningServices(config.rekorTlogUrls, { selector: 'EXACT', count: 3 }, [1], NOW)).toThrow(
      /EXACT selector asks for 3/,
    )
    expect(() => selectSigningService(config.rekorTlogUrls, [2], NOW)).toThrow(/no service of API version 2/)
    expect(selectSigningServices([], { selector: 'ANY' }, [1], NOW)).toEqual([])
  })

  it.each([
    ['not JSON', '{'],
    ['wrong media type', { mediaType: 'application/json' }],
    ['service without start', { mediaType: MT, caUrls: [{ url: 'https://x', majorApiVersion: 1, validFor: {} }] }],
    ['bad URL', { mediaType: MT, caUrls: [svc('file:///etc/passwd', 1, '2020-01-01T00:00:00Z')] }],
    ['bad time', { mediaType: MT, caUrls: [svc('https://x', 1, 'yesterday')] }],
    ['bad version', { mediaType: MT, caUrls: [svc('https://x', -1, '2020-01-01T00:00:00Z')] }],
    ['bad selector', { mediaType: MT, tsaConfig: { selector: 'SOME' } }],
    ['EXACT without count', { mediaType: MT, tsaConfig: { selector: 'EXACT' } }],
  ])('rejects %s with ERR_INVALID_INPUT', (_name, input) => {
    expect(() => parseSigningConfig(input)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
  })
})

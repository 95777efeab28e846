/**
 * The shared-tag write rules (src/oci/shared-tag.ts) and the store option they rely on: a manifest PUT sent with
 * `retry: false` goes out once, whatever the registry answers, and reports `Retry-After`; the layout store accepts
 * the option and ignores it.
 */
import { afterEach, describe, expect, test, vi } from 'vitest'
import { CountersignError } from '../../src/errors.js'
import { createLayoutStore } from '../../src/oci/layout.js'
import { OCI_IMAGE_INDEX_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { createMemoryFileSystem } from '../../src/oci/memory-fs.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { confirmTagWrite, mayHaveLanded, type TagCheck, writeRetryPause } from '../../src/oci/shared-tag.js'

const enc = new TextEncoder()
const tagRef = parseReference('reg.example/org/app:sha256-abc')
const index = enc.encode(JSON.stringify({ schemaVersion: 2, mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE, manifests: [] }))

/** A registry answering every manifest PUT with `status` (and the headers). */
function answering(status: number, headers: Record<string, string> = {}, body = '') {
  const puts: string[] = []
  const client = createRegistryClient({
    sleep: async () => {},
    fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input, init)
      if (req.method === 'PUT') puts.push(new URL(req.url).pathname)
      return new Response(body, { status, headers })
    }) as typeof fetch,
  })
  return { client, puts }
}

const httpError = (details: Record<string, unknown>) =>
  new CountersignError('ERR_OCI_HTTP', 'PUT manifest failed', { details })
const one = () => 0.5

describe('pushManifest with retry: false', () => {
  const throttled = () =>
    answering(
      429,
      { 'Retry-After': '2', 'Content-Type': 'application/json' },
      '{"errors":[{"code":"TOOMANYREQUESTS"}]}',
    )

  test('429 Retry-After: sent once, the error carries retryAfterMs; by default the transport retries it', async () => {
    const once = throttled()
    const err = await once.client
      .pushManifest(tagRef, index, OCI_IMAGE_INDEX_MEDIA_TYPE, { retry: false })
      .catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_OCI_HTTP', details: { status: 429, temporary: true, retryAfterMs: 2000 } })
    expect(once.puts).toEqual(['/v2/org/app/manifests/sha256-abc'])
    const retried = throttled()
    await expect(retried.client.pushManifest(tagRef, index, OCI_IMAGE_INDEX_MEDIA_TYPE)).rejects.toMatchObject({
      details: { status: 429 },
    })
    expect(retried.puts).toHaveLength(4) // the first try and the transport's 3 retries
  })

  test('503 and DIGEST_INVALID: sent once (the race re-sends are the caller loop’s job too)', async () => {
    const unavailable = answering(503)
    await expect(
      unavailable.client.pushManifest(tagRef, index, OCI_IMAGE_INDEX_MEDIA_TYPE, { retry: false }),
    ).rejects.toMatchObject({ details: { status: 503, temporary: true } })
    expect(unavailable.puts).toHaveLength(1)
    const race = answering(400, { 'Content-Type': 'application/json' }, '{"errors":[{"code":"DIGEST_INVALID"}]}')
    const err = await race.client
      .pushManifest(tagRef, index, OCI_IMAGE_INDEX_MEDIA_TYPE, { retry: false })
      .catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_OCI_HTTP', details: { status: 400, temporary: false } })
    expect(race.puts).toHaveLength(1)
    expect(writeRetryPause(err, 1, one)).toBe(50) // 25 ms + half of the 50 ms jitter
  })

  test('the layout store accepts the option and ignores it', async () => {
    const store = createLayoutStore(createMemoryFileSystem())
    const ref = parseReference('localhost/layout:sha256-abc')
    const pushed = await store.pushManifest(ref, index, OCI_IMAGE_INDEX_MEDIA_TYPE, { retry: false })
    expect((await store.resolve(ref)).digest).toBe(pushed.digest)
  })
})

describe('writeRetryPause', () => {
  test('Retry-After when given (plus a little jitter), else full-jitter backoff; at most 3 retries', () => {
    const throttled = httpError({ status: 429, temporary: true, retryAfterMs: 1000 })
    expect(writeRetryPause(throttled, 1, one)).toBe(1125)
    expect(writeRetryPause(httpError({ status: 429, temporary: true, retryAfterMs: 86_400_000 }), 1, one)).toBe(60_125)
    const unavailable = httpError({ status: 503, temporary: true })
    expect([1, 2, 3].map((n) => writeRetryPause(unavailable, n, one))).toEqual([125, 250, 500])
    expect(writeRetryPause(unavailable, 4, one)).toBeUndefined()
    const reset = new CountersignError('ERR_NETWORK', 'PUT failed: the connection broke', {
      details: { retryable: true },
    })
    expect(writeRetryPause(reset, 2, one)).toBe(250)
  })

  test('not retried: refusals, connections that never opened, other errors', () => {
    expect(writeRetryPause(httpError({ status: 400, temporary: false, registryErrors: [] }), 1)).toBeUndefined()
    expect(writeRetryPause(new CountersignError('ERR_OCI_UNAUTHORIZED', 'denied'), 1)).toBeUndefined()
    const refused = new CountersignError('ERR_NETWORK', 'ECONNREFUSED', { details: { retryable: false } })
    expect(writeRetryPause(refused, 1)).toBeUndefined()
    expect(writeRetryPause(new Error('boom'), 1)).toBeUndefined()
  })

  test('mayHaveLanded: network failures and 429/5xx, not refusals', () => {
    expect(mayHaveLanded(new CountersignError('ERR_NETWORK', 'lost'))).toBe(true)
    expect(mayHaveLanded(httpError({ status: 503, temporary: true }))).toBe(true)
    expect(mayHaveLanded(httpError({ status: 400, temporary: false }))).toBe(false)
    expect(mayHaveLanded(new Error('x'))).toBe(false)
  })
})

describe('confirmTagWrite', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  /** Run it under fake timers; the times (ms after the write) at which `check` was called. */
  async function run(seen: TagCheck[], options: { roundTripMs: number; contended: boolean; immediate?: boolean }) {
    vi.useFakeTimers()
    const start = Date.now()
    const at: number[] = []
    const result = confirmTagWrite(
      async () => {
        at.push(Date.now() - start)
        return seen[at.length - 1] ?? 'same'
      },
      { ...options, random: one },
    )
    await vi.runAllTimersAsync()
    return { kept: await result, at }
  }

  test('uncontended: one settle re-check, 4–8× the round trip (here 6×)', async () => {
    expect(await run([], { roundTripMs: 20, contended: false })).toEqual({ kept: true, at: [120] })
    expect(await run([], { roundTripMs: 20, contended: false, immediate: true })).toEqual({ kept: true, at: [0, 120] })
    // At least 50 ms, at most 2 s (before jitter).
    expect((await run([], { roundTripMs: 1, contended: false })).at).toEqual([75])
    expect((await run([], { roundTripMs: 10_000, contended: false })).at).toEqual([3000])
  })

  test('contended, or another writer seen at a re-check: one more re-check 1.5–2.5 s later (here 2 s)', async () => {
    expect(await run([], { roundTripMs: 20, contended: true })).toEqual({ kept: true, at: [120, 2120] })
    expect(await run(['same', 'moved'], { roundTripMs: 20, contended: false, immediate: true })).toEqual({
      kept: true,
      at: [0, 120, 2120],
    })
  })

  test('a lost entry ends it at once', async () => {
    expect(await run(['lost'], { roundTripMs: 20, contended: true })).toEqual({ kept: false, at: [120] })
    expect(await run(['same', 'lost'], { roundTripMs: 20, contended: true })).toEqual({ kept: false, at: [120, 2120] })
  })

  test('an abort ends the wait with ERR_ABORTED', async () => {
    const controller = new AbortController()
    const pending = confirmTagWrite(async () => 'same', { roundTripMs: 20, contended: true, signal: controller.signal })
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' })
  })
})

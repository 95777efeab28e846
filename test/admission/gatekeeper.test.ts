// The Gatekeeper external-data provider handler on its own: a fake ImageCheck, request bodies as Gatekeeper sends
// them (and as it never would), and the ProviderResponse read back as Gatekeeper reads it.
import { describe, expect, it } from 'vitest'
import { createGatekeeperHandler, type GatekeeperHandlerOptions } from '../../src/admission/gatekeeper.js'
import { createAdmissionMetrics } from '../../src/admission/metrics.js'
import type { ImageCheck, ImageCheckResult } from '../../src/admission/types.js'
import { CountersignError } from '../../src/errors.js'

const D = (n: number) => `sha256:${n.toString(16).padStart(2, '0').repeat(32)}`
const RESPONSE_HEAD = { apiVersion: 'externaldata.gatekeeper.sh/v1beta1', kind: 'ProviderResponse' }

/** Images containing "bad" fail with a reason naming the image first (the policy evaluator's wording); others pass. */
function fakeCheck(overrides: Record<string, Partial<ImageCheckResult>> = {}) {
  const calls: string[] = []
  const check: ImageCheck = async (image) => {
    calls.push(image)
    const bad = image.includes('bad')
    return {
      image,
      allowed: !bad,
      warnings: [],
      reasons: bad
        ? [`${image}: policy shop: no signatures found`, `${image}: policy base: no matching signatures`]
        : [],
      ...(bad ? {} : { digest: D(calls.length) }),
      ...overrides[image],
    }
  }
  return { check, calls }
}

const request = (keys: unknown) =>
  JSON.stringify({ apiVersion: 'externaldata.gatekeeper.sh/v1beta1', kind: 'ProviderRequest', request: { keys } })
const bytes = (s: string) => new TextEncoder().encode(s)

function handler(
  options: Partial<GatekeeperHandlerOptions> = {},
  overrides: Record<string, Partial<ImageCheckResult>> = {},
) {
  const fake = fakeCheck(overrides)
  return { ...fake, handle: createGatekeeperHandler({ check: fake.check, ...options }) }
}

describe('createGatekeeperHandler: answers', () => {
  it('validate: a verified image gets {verified, digest, reference}, a denied one its reasons as /validate words them', async () => {
    const { handle, calls } = handler()
    const out = await handle(bytes(request(['registry.example.com/shop/web:v1', 'registry.example.com/shop/bad:v2'])))
    expect(out.status).toBe(200)
    expect(out.decision).toBe('denied')
    expect(out.body).toEqual({
      ...RESPONSE_HEAD,
      response: {
        idempotent: true,
        items: [
          {
            key: 'registry.example.com/shop/web:v1',
            value: { verified: true, digest: D(1), reference: `registry.example.com/shop/web@${D(1)}` },
          },
          {
            key: 'registry.example.com/shop/bad:v2',
            error: 'policy shop: no signatures found; policy base: no matching signatures',
          },
        ],
      },
    })
    expect(calls).toEqual(['registry.example.com/shop/web:v1', 'registry.example.com/shop/bad:v2'])
    expect(out.deniedKeys).toEqual(['registry.example.com/shop/bad:v2'])
    expect(out.keys).toBe(2)
  })

  it('validate: all verified is "allowed"; check warnings travel in the value, sanitised to one line', async () => {
    const { handle } = handler({}, { 'nginx:1.27': { warnings: ['policy base: warn mode\nno signatures'] } })
    const out = await handle(request(['nginx:1.27', `ghcr.io/acme/app@${D(9)}`]))
    expect(out.decision).toBe('allowed')
    expect(out.body.response.items).toEqual([
      {
        key: 'nginx:1.27',
        value: {
          verified: true,
          digest: D(1),
          reference: `nginx@${D(1)}`,
          warnings: ['policy base: warn mode no signatures'],
        },
      },
      // Already pinned: the reference is the key itself, not re-pinned to the check's digest.
      {
        key: `ghcr.io/acme/app@${D(9)}`,
        value: { verified: true, digest: D(2), reference: `ghcr.io/acme/app@${D(9)}` },
      },
    ])
  })

  it('validate: admitted without a verified digest (no policy matched, allowed) has no digest or reference', async () => {
    const { handle } = handler({}, { 'other.example/x:1': { digest: undefined, warnings: ['no policy matches'] } })
    const out = await handle(request(['other.example/x:1']))
    expect(out.body.response.items).toEqual([
      { key: 'other.example/x:1', value: { verified: true, warnings: ['no policy matches'] } },
    ])
  })

  it('mutate: the value is the pinned reference (a pinned key maps to itself; registry port kept); a denial is an error', async () => {
    const { handle } = handler()
    const keys = ['localhost:5000/shop/web:v1', `ghcr.io/acme/app:v1@${D(7)}`, 'nginx', 'ghcr.io/acme/bad:1']
    const out = await handle(request(keys), { endpoint: 'mutate' })
    expect(out.body).toEqual({
      ...RESPONSE_HEAD,
      response: {
        idempotent: true,
        items: [
          { key: keys[0], value: `localhost:5000/shop/web@${D(1)}` },
          { key: keys[1], value: keys[1] },
          { key: 'nginx', value: `nginx@${D(3)}` },
          { key: keys[3], error: 'policy shop: no signatures found; policy base: no matching signatures' },
        ],
      },
    })
  })

  it("the check's own pin: kept-tag form on both endpoints, null means no pinning on mutate, another digest is refused", async () => {
    const keepTag = handler({}, { 'ghcr.io/acme/app:v1': { digest: D(5), pin: `ghcr.io/acme/app:v1@${D(5)}` } })
    const validated = await keepTag.handle(request(['ghcr.io/acme/app:v1']))
    expect(validated.body.response.items).toEqual([
      { key: 'ghcr.io/acme/app:v1', value: { verified: true, digest: D(5), reference: `ghcr.io/acme/app:v1@${D(5)}` } },
    ])
    const mutated = await keepTag.handle(request(['ghcr.io/acme/app:v1']), { endpoint: 'mutate' })
    expect(mutated.body.response.items).toEqual([{ key: 'ghcr.io/acme/app:v1', value: `ghcr.io/acme/app:v1@${D(5)}` }])

    const noPin = handler({}, { 'ghcr.io/acme/app:v1': { pin: null } })
    const unpinned = await noPin.handle(request(['ghcr.io/acme/app:v1']), { endpoint: 'mutate' })
    expect(unpinned.body.response.items).toEqual([{ key: 'ghcr.io/acme/app:v1', value: 'ghcr.io/acme/app:v1' }])

    const wrong = handler({}, { 'ghcr.io/acme/app:v1': { pin: `ghcr.io/acme/app@${D(99)}` } })
    const refused = await wrong.handle(request(['ghcr.io/acme/app:v1']), { endpoint: 'mutate' })
    expect(refused.decision).toBe('error')
    expect(refused.body.response).toEqual({
      idempotent: true,
      systemError: 'could not answer the request: the image check pinned another digest than it verified',
    })
  })

  it('mutate: an image admitted without a digest keeps its reference as written', async () => {
    const { handle } = handler({}, { 'nginx:1.27': { digest: undefined } })
    const out = await handle(request(['nginx:1.27']), { endpoint: 'mutate' })
    expect(out.body.response.items).toEqual([{ key: 'nginx:1.27', value: 'nginx:1.27' }])
  })

  it('dedupes keys (one check, one item each) and echoes every key exactly as sent', async () => {
    const { handle, calls } = handler(
      {},
      { ' nginx:1.27': { allowed: false, digest: undefined, reasons: ['does not parse'] } },
    )
    // Escaped in the JSON text (`\/`, `\u0061`), as any JSON encoder may: the item key is the decoded string, which
    // is what Gatekeeper's Go decoder compares with.
    const body = `{"request":{"keys":["ghcr.io\\/\\u0061cme\\/app:v1","nginx:1.27"," nginx:1.27","nginx:1.27","ghcr.io/acme/app:v1"]}}`
    const out = await handle(bytes(body))
    expect(calls).toEqual(['ghcr.io/acme/app:v1', 'nginx:1.27', ' nginx:1.27'])
    expect(out.body.response.items?.map((i) => i.key)).toEqual(['ghcr.io/acme/app:v1', 'nginx:1.27', ' nginx:1.27'])
    expect(out.keys).toBe(3)
    expect(out.body.response.items?.[2]).toEqual({ key: ' nginx:1.27', error: 'does not parse' })
    // The serialised answer carries the same strings back (JSON.stringify of a JS string round-trips in Go).
    const wire = JSON.parse(JSON.stringify(out.body)) as { response: { items: { key: string }[] } }
    expect(wire.response.items[0]!.key).toBe('ghcr.io/acme/app:v1')
  })

  it('no keys (empty, missing or null) is an empty item list, without checks; an empty key is an item error', async () => {
    const { handle, calls } = handler()
    for (const body of [request([]), '{"request":{}}', '{"request":{"keys":null}}']) {
      const out = await handle(body)
      expect(out.body).toEqual({ ...RESPONSE_HEAD, response: { idempotent: true, items: [] } })
      expect(out.decision).toBe('allowed')
    }
    const out = await handle(request(['', '  ', 'nginx:1']))
    expect(out.body.response.items).toEqual([
      { key: '', error: 'not an image reference: the key is empty' },
      { key: '  ', error: 'not an image reference: the key is empty' },
      { key: 'nginx:1', value: expect.objectContaining({ verified: true }) },
    ])
    expect(calls).toEqual(['nginx:1'])
  })
})

describe('createGatekeeperHandler: malformed or out-of-bounds requests are a systemError without items', () => {
  const cases: [string, string | Uint8Array, RegExp][] = [
    ['not JSON', '{"request":', /body is not JSON/],
    ['not UTF-8', new Uint8Array([0x7b, 0xff, 0x7d]), /not UTF-8/],
    ['a JSON array', '[]', /not a JSON object/],
    ['no request', '{"kind":"ProviderRequest"}', /request must be an object/],
    ['request not an object', '{"request":["nginx"]}', /request must be an object/],
    ['keys not an array', '{"request":{"keys":"nginx"}}', /request.keys must be an array of strings/],
    ['a key not a string', request(['nginx', 7]), /request.keys\[1\] is not a string/],
    ['a key null', request([null]), /request.keys\[0\] is not a string/],
    ['a key an object', request([{ image: 'nginx' }]), /request.keys\[0\] is not a string/],
    ['another kind', '{"kind":"ProviderResponse","request":{"keys":[]}}', /kind must be ProviderRequest/],
    ['another API group', '{"apiVersion":"v1","request":{"keys":[]}}', /apiVersion must be externaldata/],
    ['nested too deeply', `{"request":{"keys":[]},"x":${'['.repeat(40)}${']'.repeat(40)}}`, /nested too deeply/],
    ['an over-long key', request(['a'.repeat(4097)]), /request.keys\[0\] is 4097 characters long; at most 4096/],
    ['too many keys', request(Array.from({ length: 1025 }, (_, i) => `r.example/a:${i}`)), /1025 keys; at most 1024/],
    [
      'too many distinct keys',
      request(Array.from({ length: 257 }, (_, i) => `r.example/a:${i}`)),
      /257 distinct keys exceed the limit of 256/,
    ],
  ]
  it.each(cases)('%s', async (_, body, message) => {
    const { handle, calls } = handler()
    const out = await handle(body)
    expect(out.status).toBe(200)
    expect(out.decision).toBe('invalid')
    expect(out.body).toEqual({
      ...RESPONSE_HEAD,
      response: { idempotent: true, systemError: expect.stringMatching(message) },
    })
    expect(out.body.response.items).toBeUndefined()
    expect(out.message).toBe(out.body.response.systemError)
    expect(calls).toEqual([])
  })

  it('1024 duplicate keys are within bounds (one check); the body limit applies to the bytes', async () => {
    const { handle, calls } = handler()
    const out = await handle(request(Array.from({ length: 1024 }, () => 'nginx:1')))
    expect(out.body.response.items).toHaveLength(1)
    expect(calls).toEqual(['nginx:1'])
    const small = handler({ maxBodyBytes: 64 })
    const big = await small.handle(request(['registry.example.com/shop/web:v1', 'registry.example.com/shop/api:v1']))
    expect(big.body.response.systemError).toMatch(/ProviderRequest is too large \(more than 64 bytes\)/)
  })

  it('maxImages lowers the distinct-key limit', async () => {
    const { handle } = handler({ maxImages: 2 })
    const out = await handle(request(['a.example/x:1', 'a.example/x:2', 'a.example/x:3']))
    expect(out.body.response.systemError).toBe('3 distinct keys exceed the limit of 2')
  })
})

describe('createGatekeeperHandler: checks that cannot decide', () => {
  it('a check that throws: systemError naming the image and our reason, no items (nothing for Gatekeeper to cache)', async () => {
    const check: ImageCheck = async (image) => {
      if (image.includes('down')) throw new CountersignError('ERR_NETWORK', 'registry down.example unreachable')
      return { image, allowed: true, digest: D(1), warnings: [], reasons: [] }
    }
    const out = await createGatekeeperHandler({ check })(request(['ok.example/a:1', 'down.example/b:1']))
    expect(out.decision).toBe('error')
    expect(out.body).toEqual({
      ...RESPONSE_HEAD,
      response: {
        idempotent: true,
        systemError: 'could not verify 1 of 2 image(s): "down.example/b:1": registry down.example unreachable',
      },
    })
    // The completed verdicts still count (metrics), but are not answered.
    expect(out.results.map((r) => r.image)).toEqual(['ok.example/a:1'])
  })

  it("another error's message is not echoed", async () => {
    const check: ImageCheck = async () => {
      throw new Error('secret token abc123 in a stack')
    }
    const out = await createGatekeeperHandler({ check })(request(['x.example/a:1']))
    expect(out.body.response.systemError).toBe(
      'could not verify 1 of 1 image(s): "x.example/a:1": internal error in the image check',
    )
  })

  it('a check answering with a malformed digest or for another image: systemError', async () => {
    const bogus = await createGatekeeperHandler({
      check: async (image) => ({ image, allowed: true, digest: 'sha256:nothex', warnings: [], reasons: [] }),
    })(request(['x.example/a:1']))
    expect(bogus.decision).toBe('error')
    expect(bogus.body.response.systemError).toBe('could not answer the request: malformed digest from the image check')
    const other = await createGatekeeperHandler({
      check: async () => ({ image: 'y.example/b:1', allowed: true, warnings: [], reasons: [] }),
    })(request(['x.example/a:1']))
    expect(other.body.response.systemError).toMatch(/the image check answered another image/)
  })

  it('past the deadline: systemError "timed out", the slow checks aborted, the fast ones not answered', async () => {
    const aborted: string[] = []
    const check: ImageCheck = (image, { signal }) =>
      image.includes('slow')
        ? new Promise((_, reject) => {
            signal?.addEventListener('abort', () => {
              aborted.push(image)
              reject(signal.reason)
            })
          })
        : Promise.resolve({ image, allowed: true, digest: D(1), warnings: [], reasons: [] })
    const started = Date.now()
    const out = await createGatekeeperHandler({ check, timeoutMs: 80 })(
      request(['fast.example/a:1', 'slow.example/b:1']),
    )
    expect(Date.now() - started).toBeLessThan(2000)
    expect(out.decision).toBe('error')
    expect(out.body.response).toEqual({
      idempotent: true,
      systemError: 'could not verify 1 of 2 image(s): "slow.example/b:1": timed out after 80 ms',
    })
    expect(aborted).toEqual(['slow.example/b:1'])
    // A per-call budget tighter than the handler's applies.
    const tighter = await createGatekeeperHandler({ check, timeoutMs: 60_000 })(request(['slow.example/c:1']), {
      timeoutMs: 30,
    })
    expect(tighter.body.response.systemError).toMatch(/timed out after 30 ms/)
  })

  it("aborting the caller's signal: systemError, checks aborted", async () => {
    let seen: AbortSignal | undefined
    const check: ImageCheck = (_image, { signal }) =>
      new Promise((_, reject) => {
        seen = signal as AbortSignal
        signal?.addEventListener('abort', () => reject(signal.reason))
      })
    const controller = new AbortController()
    const pending = createGatekeeperHandler({ check })(request(['x.example/a:1']), { signal: controller.signal })
    await new Promise((r) => setTimeout(r, 10))
    controller.abort()
    const out = await pending
    expect(out.body.response.systemError).toBe(
      'could not verify 1 of 1 image(s): "x.example/a:1": the request was aborted',
    )
    expect(seen?.aborted).toBe(true)
  })

  it('runs at most `concurrency` checks at a time', async () => {
    let inFlight = 0
    let most = 0
    const check: ImageCheck = async (image) => {
      most = Math.max(most, ++inFlight)
      await new Promise((r) => setTimeout(r, 5))
      inFlight--
      return { image, allowed: true, digest: D(1), warnings: [], reasons: [] }
    }
    const keys = Array.from({ length: 30 }, (_, i) => `r.example/a:${i}`)
    const out = await createGatekeeperHandler({ check, concurrency: 3 })(request(keys))
    expect(out.body.response.items).toHaveLength(30)
    expect(most).toBe(3)
  })

  it('the systemError of many failures stays bounded', async () => {
    const check: ImageCheck = async () => {
      throw new CountersignError('ERR_NETWORK', `unreachable ${'x'.repeat(400)}`)
    }
    const keys = Array.from({ length: 200 }, (_, i) => `r.example/${'a'.repeat(3000)}:${i}`)
    const out = await createGatekeeperHandler({ check })(request(keys))
    expect(out.body.response.systemError!.length).toBeLessThanOrEqual(2048)
    expect(out.body.response.systemError).toMatch(/^could not verify 200 of 200 image\(s\): /)
  })
})

describe('metrics for the provider endpoints', () => {
  it('count under endpoint="gatekeeper-…", per key result, beside the unchanged admission series', async () => {
    const metrics = createAdmissionMetrics()
    const { handle } = handler()
    metrics.observeGatekeeper('validate', await handle(request(['a.example/x:1', 'a.example/bad:1'])), 0.02)
    metrics.observeGatekeeper('validate', await handle(request(['a.example/x:2'])), 0.01)
    metrics.observeGatekeeper('mutate', await handle('{'), 0.001)
    metrics.observeGatekeeper('mutate', undefined, 0.001)
    const text = metrics.render()
    expect(text).toContain('countersign_admission_requests_total{endpoint="validate"} 0')
    expect(text).toContain('countersign_admission_requests_total{endpoint="gatekeeper-validate"} 2')
    expect(text).toContain('countersign_admission_allowed_total{endpoint="gatekeeper-validate"} 1')
    expect(text).toContain('countersign_admission_denied_total{endpoint="gatekeeper-validate"} 1')
    expect(text).toContain('countersign_admission_errors_total{endpoint="gatekeeper-validate"} 0')
    expect(text).toContain('countersign_admission_requests_total{endpoint="gatekeeper-mutate"} 2')
    expect(text).toContain('countersign_admission_errors_total{endpoint="gatekeeper-mutate"} 2')
    expect(text).toContain(
      'countersign_admission_gatekeeper_keys_total{endpoint="gatekeeper-validate",result="verified"} 2',
    )
    expect(text).toContain(
      'countersign_admission_gatekeeper_keys_total{endpoint="gatekeeper-validate",result="denied"} 1',
    )
    expect(text).toContain('countersign_admission_image_checks_total 3')
    expect(text).toContain('countersign_admission_request_duration_seconds_count{endpoint="gatekeeper-validate"} 2')
    expect(text).toContain(
      'countersign_admission_request_duration_seconds_bucket{endpoint="gatekeeper-mutate",le="0.005"} 2',
    )
  })
})

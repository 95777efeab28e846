// Issue 14 over HTTPS: deeply nested reviews are answered 400 (no RangeError, no 500, never an allow), a body over
// the size limit is refused before it is parsed, and a grafted image volume is denied end to end.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImageCheck } from '../../src/admission/types.js'
import { type AdmissionServer, startAdmissionServer } from '../../src/node/admission-server.js'
import { loadReview } from './fixtures.js'
import { httpsRequest, makeLoopbackCert } from './https-client.js'

describe('admission webhook: review limits over HTTPS (loopback, no registry)', () => {
  let dir: string
  let tls: { cert: string; key: string }
  let server: AdmissionServer
  const checked: string[] = []
  const logs: Record<string, unknown>[] = []
  const MAX_BODY = 256 * 1024

  const check: ImageCheck = async (image) => {
    checked.push(image)
    const bad = image.includes('unsigned')
    return { image, allowed: !bad, warnings: [], reasons: bad ? ['no signatures found'] : [] }
  }
  const post = (path: string, body: string) =>
    httpsRequest(`${server.url}${path}`, { method: 'POST', body, caFiles: [tls.cert] })

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-review-limits-'))
    tls = makeLoopbackCert(dir)
    server = await startAdmissionServer({
      tlsCertFile: tls.cert,
      tlsKeyFile: tls.key,
      port: 0,
      host: '127.0.0.1',
      loadCheck: async () => check,
      maxBodyBytes: MAX_BODY,
      pollIntervalMs: 60_000,
      log: (e) => logs.push(e),
    })
  })

  afterAll(async () => {
    await server?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('deep nesting in metadata or in the pod spec is a 400 on both endpoints', async () => {
    const text = JSON.stringify(loadReview('pod-create'))
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`
    // 100,000 levels in 200 KB: far past what any recursive walk survives, within the body limit.
    const bodies = [
      text.replace('"metadata":{', `"metadata":{"x":${deep(100_000)},`),
      text.replace('"containers":[{', `"containers":[{"args":${deep(100_000)},`),
    ]
    for (const body of bodies) {
      expect(body.length).toBeLessThan(MAX_BODY)
      for (const path of ['/validate', '/mutate']) {
        const res = await post(path, body)
        expect(res.status).toBe(400)
        const review = res.json()
        expect(review.response).toMatchObject({
          uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
          allowed: false,
          status: {
            code: 400,
            reason: 'BadRequest',
            message: 'AdmissionReview is nested too deeply (more than 256 levels)',
          },
        })
      }
    }
    expect(checked).toEqual([])
    expect(logs.some((l) => l.msg === 'request failed')).toBe(false)
  })

  it('a body over the limit is refused (413) before it is parsed or checked', async () => {
    const review = loadReview('pod-create')
    review.request.object.spec.containers[0].image = 'registry.example.com/shop/unsigned:v1'
    review.request.object.metadata.annotations = { pad: 'x'.repeat(MAX_BODY) }
    const res = await post('/validate', JSON.stringify(review)).catch((e: Error) => e)
    // Either the 413 arrives, or the connection is cut while we are still sending; never an allow.
    if (!(res instanceof Error)) {
      expect(res.status).toBe(413)
      expect(res.json().response).toMatchObject({ allowed: false, status: { code: 413 } })
    }
    expect(checked).toEqual([])
  })

  it('a client that goes away in the middle of its body: nothing is checked, the next review is answered', async () => {
    const before = logs.length
    const socket = connect({ host: '127.0.0.1', port: server.port, ca: readFileSync(tls.cert) })
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve)
      socket.once('error', reject)
    })
    socket.write(
      'POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"apiVersion":',
    )
    await new Promise((r) => setTimeout(r, 50))
    socket.destroy()
    const deadline = Date.now() + 5000
    while (!logs.slice(before).some((l) => l.msg === 'request failed') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10))
    expect(logs.slice(before).find((l) => l.msg === 'request failed')?.error).toMatch(/ended early|aborted/)
    expect(checked).toEqual([])
    const res = await post('/validate', JSON.stringify(loadReview('pod-create')))
    expect(res.status).toBe(200)
  })

  it('an unsigned image grafted into an image volume is denied, naming the field', async () => {
    const review = loadReview('pod-create')
    review.request.object.spec.volumes.push({ name: 'g', image: { reference: 'registry.example.com/x/unsigned:v1' } })
    const res = await post('/validate', JSON.stringify(review))
    expect(res.status).toBe(200)
    expect(res.json().response).toMatchObject({ allowed: false, status: { code: 403 } })
    expect(res.json().response.status.message).toContain(
      '- spec.volumes[1].image.reference "registry.example.com/x/unsigned:v1": no signatures found',
    )
  })
})

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  generateKeyPair,
  type PrivateKey,
  parsePublicKey,
  privateKeyToPEM,
  publicKeyToPEM,
} from '../../src/keys/index.js'
import { type AdmissionServer, type PolicyFile, startAdmissionServer } from '../../src/node/admission-server.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { freePort, startRegistry, type TestRegistry } from '../support/registry.js'
import { pushSignedImage } from '../support/signed-image.js'
import { applyReplacePatch, loadReview, mapImages, type Review } from './fixtures.js'
import { httpsRequest, loopbackServerOptions, makeLoopbackCert, makeWebhookDir, metricValue } from './https-client.js'
import { createKeyImageCheck } from './key-check.js'

/**
 * The webhook end to end: HTTPS on loopback, real AdmissionReview JSON, images in a real registry (docker-registry),
 * signed with real keys, checked by verifyImage.
 */
describe('admission webhook over HTTPS against a real registry', () => {
  let reg: TestRegistry
  let dir: string
  let tls: { cert: string; key: string }
  let policyDir: string
  let keyA: PrivateKey
  let keyB: PrivateKey
  let server: AdmissionServer
  const logs: Record<string, unknown>[] = []
  const digests: Record<string, string> = {}
  const img = (name: string) => `${reg.host}/shop/${name}:v1`
  const store = createRegistryClient({ retry: { attempts: 0 } })
  const loadCheck = async (files: readonly PolicyFile[]) =>
    createKeyImageCheck({ store, keys: files.map((f) => parsePublicKey(f.content)) })

  const post = (path: string, body: unknown, s: AdmissionServer = server) =>
    httpsRequest(`${s.url}${path}`, {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      caFiles: [tls.cert],
    })
  const metrics = async (s: AdmissionServer = server) =>
    (await httpsRequest(`${s.url}/metrics`, { caFiles: [tls.cert] })).text

  /** The Pod fixture with every image pointing into the test registry. */
  const pod = (web: string, init = img('init')): Review =>
    mapImages(loadReview('pod-create'), (i) =>
      i.includes('/migrate') ? init : i.includes('/proxy@') ? `${reg.host}/shop/web@${digests.web}` : web,
    )

  beforeAll(async () => {
    reg = await startRegistry()
    ;({ dir, tls, policyDir } = makeWebhookDir('countersign-webhook-'))
    ;[keyA, keyB] = await Promise.all([generateKeyPair(), generateKeyPair()])
    writeFileSync(join(policyDir, 'key.pem'), publicKeyToPEM(keyA.publicKey))
    // A ConfigMap mount's machinery (`..data`) must be ignored.
    writeFileSync(join(policyDir, '..data'), 'not a policy')
    for (const [name, key] of [
      ['web', keyA],
      ['init', keyA],
      ['unsigned', undefined],
      ['other', keyB],
    ] as const) {
      digests[name] = await pushSignedImage(store, img(name), key && createKeySigner(key), `webhook ${name}`)
    }
    server = await startAdmissionServer({
      ...loopbackServerOptions(tls, policyDir),
      loadCheck,
      reloadDebounceMs: 50,
      pollIntervalMs: 200,
      log: (e) => logs.push(e),
    })
  })

  afterAll(async () => {
    await server?.close()
    await reg?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('is live and ready once the policy loaded; unknown paths and methods are refused', async () => {
    expect(server.isReady()).toBe(true)
    expect((await httpsRequest(`${server.url}/healthz`, { caFiles: [tls.cert] })).status).toBe(200)
    expect((await httpsRequest(`${server.url}/readyz`, { caFiles: [tls.cert] })).status).toBe(200)
    expect((await httpsRequest(`${server.url}/nope`, { caFiles: [tls.cert] })).status).toBe(404)
    expect((await httpsRequest(`${server.url}/validate`, { caFiles: [tls.cert] })).status).toBe(405)
  })

  it('allows a Pod whose images are all signed by the policy key', async () => {
    const res = await post('/validate?timeout=10s', pod(img('web')))
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('application/json')
    expect(res.json()).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true },
    })
  })

  it('denies an unsigned image in a Deployment, naming the image, its fields and the reason', async () => {
    const review = mapImages(loadReview('deployment-create'), (i) =>
      i.includes('/web') ? img('unsigned') : img('init'),
    )
    const body = (await post('/validate', review)).json()
    expect(body.response.uid).toBe('9a3c1e2b-7f4d-4b8a-9c0e-1d2f3a4b5c6d')
    expect(body.response.allowed).toBe(false)
    expect(body.response.status.code).toBe(403)
    expect(body.response.status.message).toBe(
      `countersign: admission denied: 1 of 2 image(s) failed verification\n- spec.template.spec.containers[0].image, spec.template.spec.containers[1].image "${img('unsigned')}": no signatures found`,
    )
  })

  it('denies a CronJob whose image is signed by another key (wrong key)', async () => {
    const review = mapImages(loadReview('cronjob-create'), (i) => (i.includes('report') ? img('other') : img('init')))
    const body = (await post('/validate', review)).json()
    expect(body.response.allowed).toBe(false)
    expect(body.response.status.message).toContain(
      `- spec.jobTemplate.spec.template.spec.containers[0].image "${img('other')}": no matching signatures`,
    )
  })

  it('denies kubectl debug with an unsigned ephemeral container', async () => {
    const review = mapImages(loadReview('pod-ephemeral'), (i) =>
      i.startsWith('busybox') ? img('unsigned') : img('web'),
    )
    const body = (await post('/validate', review)).json()
    expect(body.response.allowed).toBe(false)
    expect(body.response.status.message).toContain(`spec.ephemeralContainers[0].image "${img('unsigned')}"`)
  })

  it('the mutating endpoint pins tags to the verified digests; the patch applies', async () => {
    const review = pod(img('web'))
    const body = (await post('/mutate', review)).json()
    expect(body.response.allowed).toBe(true)
    expect(body.response.patchType).toBe('JSONPatch')
    const ops = JSON.parse(Buffer.from(body.response.patch, 'base64').toString('utf8'))
    expect(ops).toEqual([
      { op: 'replace', path: '/spec/initContainers/0/image', value: `${reg.host}/shop/init@${digests.init}` },
      { op: 'replace', path: '/spec/containers/0/image', value: `${reg.host}/shop/web@${digests.web}` },
    ])
    const patched = applyReplacePatch(review.request.object, ops) as Review
    expect(patched.spec.containers.map((c: { image: string }) => c.image)).toEqual([
      `${reg.host}/shop/web@${digests.web}`,
      `${reg.host}/shop/web@${digests.web}`,
    ])
    // The pinned Pod passes validation as well (what the API server does next).
    const again = (await post('/validate', { ...review, request: { ...review.request, object: patched } })).json()
    expect(again.response.allowed).toBe(true)
  })

  it('a malformed review is answered 400 and never allowed; an oversized body 413', async () => {
    for (const body of ['{"apiVersion":', '[]', JSON.stringify({ kind: 'AdmissionReview' })]) {
      const res = await post('/validate', body)
      expect(res.status).toBe(400)
      expect(res.json().response.allowed).toBe(false)
    }
    const huge = JSON.stringify({ ...pod(img('web')), padding: 'x'.repeat(5 * 1024 * 1024) })
    const res = await post('/validate', huge).catch((e: Error) => e)
    // Either the 413 arrives, or the connection is cut while we are still sending; never an allow.
    if (!(res instanceof Error)) {
      expect(res.status).toBe(413)
      expect(res.json().response.allowed).toBe(false)
    }
  })

  it('fails closed when verification errors (registry down) or hangs (registry never answers)', async () => {
    const closedPort = await freePort()
    const down = (await post('/validate', pod(`127.0.0.1:${closedPort}/shop/web:v1`))).json()
    expect(down.response.allowed).toBe(false)
    expect(down.response.status.code).toBe(500)
    expect(down.response.status.message).toMatch(/fail closed.*could not be verified/)
    expect(down.response.status.message).toContain(
      `"127.0.0.1:${closedPort}/shop/web:v1": verification could not complete`,
    )

    const sockets: Socket[] = []
    const blackHole: Server = createServer((s) => sockets.push(s))
    await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r))
    try {
      const port = (blackHole.address() as { port: number }).port
      const t0 = Date.now()
      // The API server appends ?timeout=; the webhook answers (deny) before it runs out.
      const hung = (await post('/validate?timeout=1500ms', pod(`127.0.0.1:${port}/shop/web:v1`))).json()
      expect(Date.now() - t0).toBeLessThan(5000)
      expect(hung.response.allowed).toBe(false)
      expect(hung.response.status.message).toContain('timed out after 1000 ms')
    } finally {
      for (const s of sockets) s.destroy()
      blackHole.close()
    }
  })

  it('metrics move with each review', async () => {
    const before = await metrics()
    await post('/validate', pod(img('web')))
    await post('/validate', pod(img('unsigned')))
    await post('/validate', 'garbage')
    const after = await metrics()
    const delta = (s: string) => metricValue(after, s) - metricValue(before, s)
    expect(delta('countersign_admission_requests_total{endpoint="validate"}')).toBe(3)
    expect(delta('countersign_admission_allowed_total{endpoint="validate"}')).toBe(1)
    expect(delta('countersign_admission_denied_total{endpoint="validate"}')).toBe(2)
    expect(delta('countersign_admission_errors_total{endpoint="validate"}')).toBe(1)
    expect(delta('countersign_admission_image_checks_total')).toBe(6)
    expect(delta('countersign_admission_request_duration_seconds_count{endpoint="validate"}')).toBe(3)
    expect(metricValue(after, 'countersign_admission_ready')).toBe(1)
    expect(
      metricValue(after, 'countersign_admission_reloads_total{what="policy",result="success"}'),
    ).toBeGreaterThanOrEqual(1)
  })

  it('warn mode allows a failing image with warnings', async () => {
    const warn = await startAdmissionServer({
      ...loopbackServerOptions(tls, policyDir),
      loadCheck,
      mode: 'warn',
    })
    try {
      const body = (await post('/validate', pod(img('unsigned')), warn)).json()
      expect(body.response.allowed).toBe(true)
      expect(body.response.warnings).toEqual([
        `countersign (warn mode): spec.containers[0].image "${img('unsigned')}": no signatures found`,
      ])
      expect(metricValue(await metrics(warn), 'countersign_admission_warned_total{endpoint="validate"}')).toBe(1)
    } finally {
      await warn.close()
    }
  })

  it('reloads when the policy file changes; a broken file keeps the previous policy', async () => {
    const eventually = async (fn: () => Promise<boolean>) => {
      const deadline = Date.now() + 10_000
      while (!(await fn())) {
        if (Date.now() > deadline) throw new Error('condition not reached')
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    // Every container of the (ephemeral-container) Pod runs `image`.
    const allowed = async (image: string) =>
      (
        await post(
          '/validate',
          mapImages(loadReview('pod-ephemeral'), () => image),
        )
      ).json().response.allowed as boolean
    expect(await allowed(img('other'))).toBe(false)
    writeFileSync(join(policyDir, 'key.pem'), publicKeyToPEM(keyB.publicKey))
    await eventually(async () => allowed(img('other')))
    expect(await allowed(img('web'))).toBe(false)

    const failuresBefore = metricValue(
      await metrics(),
      'countersign_admission_reloads_total{what="policy",result="failure"}',
    )
    writeFileSync(join(policyDir, 'key.pem'), 'not a key')
    await eventually(
      async () =>
        metricValue(await metrics(), 'countersign_admission_reloads_total{what="policy",result="failure"}') >
        failuresBefore,
    )
    expect(server.isReady()).toBe(true)
    expect(await allowed(img('other'))).toBe(true) // still B's key
    writeFileSync(join(policyDir, 'key.pem'), publicKeyToPEM(keyA.publicKey))
    await eventually(async () => allowed(img('web')))
  })

  it('reloads the TLS certificate when cert-manager rotates it', async () => {
    const first = await httpsRequest(`${server.url}/healthz`, { caFiles: [tls.cert] })
    const next = makeLoopbackCert(dir, 'rotated')
    const oldCert = readFileSync(tls.cert)
    const keep = join(dir, 'old.crt')
    writeFileSync(keep, oldCert)
    writeFileSync(tls.key, readFileSync(next.key))
    writeFileSync(tls.cert, readFileSync(next.cert))
    const deadline = Date.now() + 10_000
    let seen = first.peerFingerprint
    while (seen === first.peerFingerprint && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
      seen = (await httpsRequest(`${server.url}/healthz`, { caFiles: [keep, next.cert] })).peerFingerprint
    }
    expect(seen).not.toBe(first.peerFingerprint)
    expect(metricValue(await metrics(), 'countersign_admission_reloads_total{what="tls",result="success"}')).toBe(1)
  })

  it('logs one line per review, without key material', () => {
    const reviews = logs.filter((l) => l.msg === 'admission review')
    expect(reviews.length).toBeGreaterThan(5)
    expect(reviews.some((l) => l.decision === 'denied' && typeof l.message === 'string')).toBe(true)
    const text = JSON.stringify(logs)
    for (const k of [keyA, keyB]) {
      const pem = privateKeyToPEM(k)
      const body = (typeof pem === 'string' ? pem : '').split('\n').slice(1, -2).join('')
      if (body) expect(text).not.toContain(body.slice(0, 40))
    }
    expect(text).not.toContain('PRIVATE KEY')
  })
})

describe('graceful shutdown', () => {
  it('a review in flight at shutdown is answered with a denial, then the port is closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-webhook-'))
    const tls = makeLoopbackCert(dir)
    let started!: () => void
    const inCheck = new Promise<void>((r) => {
      started = r
    })
    const server = await startAdmissionServer({
      tlsCertFile: tls.cert,
      tlsKeyFile: tls.key,
      port: 0,
      host: '127.0.0.1',
      shutdownGraceMs: 200,
      loadCheck:
        async () =>
        (image, { signal }) => {
          started()
          return new Promise((_, reject) =>
            signal?.addEventListener('abort', () => reject(new Error(`aborted ${image}`))),
          )
        },
    })
    try {
      const pending = httpsRequest(`${server.url}/validate`, {
        method: 'POST',
        body: JSON.stringify(loadReview('pod-ephemeral')),
        caFiles: [tls.cert],
      })
      await inCheck
      await server.close()
      const res = await pending
      expect(res.status).toBe(200)
      expect(res.json().response.allowed).toBe(false)
      expect(res.json().response.status.message).toContain('the request was aborted')
      expect(server.isReady()).toBe(false)
      await expect(httpsRequest(`${server.url}/healthz`, { caFiles: [tls.cert] })).rejects.toThrow(/ECONNREFUSED/)
    } finally {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('is not ready, and denies, while the first policy load fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-webhook-'))
    const tls = makeLoopbackCert(dir)
    const server = await startAdmissionServer({
      tlsCertFile: tls.cert,
      tlsKeyFile: tls.key,
      port: 0,
      host: '127.0.0.1',
      policyPaths: [join(dir, 'missing.yaml')],
      loadCheck: async () => async (image) => ({ image, allowed: true, warnings: [], reasons: [] }),
      pollIntervalMs: 100,
    })
    try {
      expect(server.isReady()).toBe(false)
      expect((await httpsRequest(`${server.url}/readyz`, { caFiles: [tls.cert] })).status).toBe(503)
      const res = await httpsRequest(`${server.url}/validate`, {
        method: 'POST',
        body: JSON.stringify(loadReview('pod-create')),
        caFiles: [tls.cert],
      })
      expect(res.json().response.allowed).toBe(false)
      expect(res.json().response.status.message).toContain('policies are not loaded yet')
      writeFileSync(join(dir, 'missing.yaml'), 'now here')
      const deadline = Date.now() + 10_000
      while (!server.isReady() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      expect(server.isReady()).toBe(true)
    } finally {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

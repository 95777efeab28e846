// Gatekeeper's external-data protocol against the real stack: docker-registry on loopback, images signed with a
// cosign-style key, the shipped policy evaluator (a ClusterImagePolicy with a key authority) behind the admission
// server over HTTPS, and a Gatekeeper-like client: TLS 1.3, presenting a certificate from a test "gatekeeper-ca"
// with clientAuth and the DNS SAN Gatekeeper's own certificate carries.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent } from 'node:https'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mapLimit } from '../../src/internal/concurrency.js'
import { generateKeyPair, publicKeyToPEM } from '../../src/keys/index.js'
import { type AdmissionServer, type PolicyFile, startAdmissionServer } from '../../src/node/admission-server.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { createPolicyImageCheck, parsePolicies } from '../../src/policy/index.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { keyPolicyYAML } from '../support/cluster-image-policy.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'
import { pushSignedImage } from '../support/signed-image.js'
import { makeCA, type TestCA } from '../support/tls-cert.js'
import { loadReview, mapImages } from './fixtures.js'
import { GATEKEEPER_SAN, issueLeaf, mtlsRequest, providerRequest, providerResponse } from './gatekeeper-tls.js'
import { httpsRequest, loopbackServerOptions, makeWebhookDir, metricValue, type WebhookDir } from './https-client.js'

let reg: TestRegistry
/** The webhook's files ({@link makeWebhookDir}). */
let dir: string, tls: WebhookDir['tls'], policyDir: string
let gatekeeperCA: TestCA
let client: { cert: string; key: string }
/** Servers: Gatekeeper CA + SAN pin; Gatekeeper CA only; no client CA at all. */
let pinned: AdmissionServer, caOnly: AdmissionServer, open: AdmissionServer
const logs: Record<string, Record<string, unknown>[]> = { pinned: [], caOnly: [], open: [] }
const digests: Record<string, string> = {}
const store = createRegistryClient({ retry: { attempts: 0 } })
const img = (name: string, tag = 'v1') => `${reg.host}/shop/${name}:${tag}`

/** The mixed batch: 44 signed, 3 unsigned, 3 signed with another key. */
const BATCH = [
  ...Array.from({ length: 44 }, (_, i) => ({ name: `batch-${i}`, signed: 'A' as const })),
  ...Array.from({ length: 3 }, (_, i) => ({ name: `batch-unsigned-${i}`, signed: undefined })),
  ...Array.from({ length: 3 }, (_, i) => ({ name: `batch-other-${i}`, signed: 'B' as const })),
]

const loadCheck = async (files: readonly PolicyFile[]) =>
  createPolicyImageCheck(
    files.flatMap((f) => parsePolicies(f.content, { source: f.path }).policies),
    { store },
  )

const start = (log: Record<string, unknown>[], extra: Partial<Parameters<typeof startAdmissionServer>[0]> = {}) =>
  startAdmissionServer({
    ...loopbackServerOptions(tls, policyDir),
    loadCheck,
    // Generous for a loaded test machine; the deadline itself is covered by the unit tests.
    gatekeeperTimeoutMs: 30_000,
    reloadDebounceMs: 50,
    log: (e) => log.push(e),
    ...extra,
  })

beforeAll(async () => {
  reg = await startRegistry()
  ;({ dir, tls, policyDir } = makeWebhookDir('countersign-gatekeeper-'))
  gatekeeperCA = makeCA(dir, 'gatekeeper')
  client = issueLeaf(gatekeeperCA, 'gatekeeper-client')
  const [keyA, keyB] = await Promise.all([generateKeyPair(), generateKeyPair()])
  const publicKeyPEM = publicKeyToPEM(keyA.publicKey)
  const policy = keyPolicyYAML({
    name: 'gk-shop',
    glob: `${reg.host}/shop/**`,
    publicKeyPEM,
    authorityName: 'release-key',
  })
  writeFileSync(join(policyDir, 'policy.yaml'), policy)
  const images = [
    { name: 'signed', signed: 'A' as const },
    { name: 'unsigned', signed: undefined },
    { name: 'other', signed: 'B' as const },
    ...BATCH,
  ]
  await mapLimit(images, 8, async ({ name, signed }) => {
    const signer = signed && createKeySigner(signed === 'A' ? keyA : keyB)
    digests[name] = await pushSignedImage(store, img(name), signer, `gatekeeper ${name}`)
  })
  // A mounted copy of Gatekeeper's ca.crt (a ConfigMap in countersign's namespace), which one test rotates.
  mkdirSync(join(dir, 'client-ca'))
  copyFileSync(gatekeeperCA.cert, join(dir, 'client-ca', 'ca.crt'))
  ;[pinned, caOnly, open] = await Promise.all([
    start(logs.pinned!, { gatekeeperClientCAFile: gatekeeperCA.cert, gatekeeperClientNames: [GATEKEEPER_SAN] }),
    start(logs.caOnly!, { gatekeeperClientCAFile: join(dir, 'client-ca', 'ca.crt') }),
    start(logs.open!),
  ])
}, 120_000)

afterAll(async () => {
  await Promise.all([pinned?.close(), caOnly?.close(), open?.close()])
  await reg?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** POST a ProviderRequest to `path` of `server`, as Gatekeeper (with its client certificate unless told otherwise). */
const ask = (
  server: AdmissionServer,
  keys: readonly string[],
  options: { path?: string; as?: { cert: string; key: string } | null } = {},
) =>
  mtlsRequest(`${server.url}${options.path ?? '/gatekeeper/validate'}`, {
    caFile: tls.cert,
    ...(options.as === null ? {} : { client: options.as ?? client }),
    body: providerRequest(keys),
  })

describe('Gatekeeper external data: /gatekeeper/validate decides with the loaded policies', () => {
  it('a signed image: HTTP 200, value {verified, digest, reference pinned to the digest}', async () => {
    const res = await ask(pinned, [img('signed')])
    expect(res.status).toBe(200)
    expect(res.contentType).toBe('application/json')
    expect(res.json()).toEqual(
      providerResponse({
        idempotent: true,
        items: [
          {
            key: img('signed'),
            value: { verified: true, digest: digests.signed, reference: `${reg.host}/shop/signed@${digests.signed}` },
          },
        ],
      }),
    )
  })

  it('unsigned, signed with another key, and a tag that does not exist: an error item each, with the reason', async () => {
    const keys = [img('unsigned'), img('other'), img('signed', 'no-such-tag')]
    const res = (await ask(pinned, keys)).json()
    expect(res.response.systemError).toBeUndefined()
    const byKey = new Map(res.response.items.map((i: { key: string }) => [i.key, i]))
    expect([...byKey.keys()]).toEqual(keys)
    for (const key of keys) {
      expect(byKey.get(key)).not.toHaveProperty('value')
      expect((byKey.get(key) as { error: string }).error).toMatch(/gk-shop/)
    }
    expect((byKey.get(img('unsigned')) as { error: string }).error).toMatch(/no signatures/i)
    expect((byKey.get(img('other')) as { error: string }).error).toMatch(/no matching signatures/i)
    expect((byKey.get(img('signed', 'no-such-tag')) as { error: string }).error).toMatch(/not found|unknown/i)
  })

  it('50 images in one request, mixed: each answered by key, verified ones at their own digest', async () => {
    const keys = BATCH.map((b) => img(b.name))
    const res = await ask(pinned, keys)
    expect(res.status).toBe(200)
    const items = res.json().response.items as { key: string; value?: { digest: string }; error?: string }[]
    expect(items).toHaveLength(50)
    expect(items.map((i) => i.key)).toEqual(keys)
    for (const [i, b] of BATCH.entries()) {
      if (b.signed === 'A') expect(items[i]!.value?.digest, b.name).toBe(digests[b.name])
      else expect(items[i]!.error, b.name).toMatch(b.signed ? /no matching signatures/i : /no signatures/i)
    }
    const line = logs.pinned!.filter((l) => l.msg === 'gatekeeper request').at(-1)!
    expect(line).toMatchObject({ endpoint: 'gatekeeper-validate', decision: 'denied', keys: 50, denied: 6 })
    expect(line.deniedKeys).toHaveLength(6)
  })

  it('/gatekeeper/mutate: a tag becomes the verified digest, a digest stays itself, an unsigned image is an error', async () => {
    const byDigest = `${reg.host}/shop/signed@${digests.signed}`
    const res = (await ask(pinned, [img('signed'), byDigest, img('unsigned')], { path: '/gatekeeper/mutate' })).json()
    expect(res.response.idempotent).toBe(true)
    expect(res.response.items).toEqual([
      { key: img('signed'), value: byDigest },
      { key: byDigest, value: byDigest },
      { key: img('unsigned'), error: expect.stringMatching(/no signatures/i) },
    ])
  })

  it('a malformed request is HTTP 200 with a systemError and no items; wrong method 405, unknown path 404', async () => {
    const res = await mtlsRequest(`${pinned.url}/gatekeeper/validate`, {
      caFile: tls.cert,
      client,
      body: '{"request":{"keys":"nginx"}}',
    })
    expect(res.status).toBe(200)
    expect(res.json().response).toEqual({
      idempotent: true,
      systemError: 'malformed ProviderRequest: request.keys must be an array of strings',
    })
    // Over the server's body limit (4 MiB): 413, still a ProviderResponse Gatekeeper reads as a failure.
    const big = await mtlsRequest(`${pinned.url}/gatekeeper/validate`, {
      caFile: tls.cert,
      client,
      body: providerRequest(Array.from({ length: 1100 }, (_, i) => `${reg.host}/shop/${'x'.repeat(4000)}:${i}`)),
    })
    expect(big.status).toBe(413)
    expect(big.json().response).toEqual({ idempotent: true, systemError: 'request body exceeds 4194304 bytes' })
    const get = await mtlsRequest(`${pinned.url}/gatekeeper/validate`, { caFile: tls.cert, client, method: 'GET' })
    expect(get.status).toBe(405)
    expect((await ask(pinned, [], { path: '/gatekeeper/other' })).status).toBe(404)
  })
})

describe('Gatekeeper client certificates (mTLS)', () => {
  it('no client certificate: 403 with a systemError body Gatekeeper reads as a failure', async () => {
    const res = await ask(pinned, [img('signed')], { as: null })
    expect(res.status).toBe(403)
    expect(res.contentType).toBe('application/json')
    expect(res.json()).toEqual(
      providerResponse({
        idempotent: true,
        systemError: 'a client certificate signed by the Gatekeeper CA is required; none was presented',
      }),
    )
    expect(logs.pinned).toContainEqual(expect.objectContaining({ msg: 'gatekeeper request refused', status: 403 }))
  })

  it('a certificate from another CA is refused, even with the right name', async () => {
    const rogue = issueLeaf(makeCA(dir, 'rogue'), 'rogue-client')
    for (const server of [pinned, caOnly]) {
      const res = await ask(server, [img('signed')], { as: rogue })
      expect(res.status).toBe(403)
      expect(res.json().response.systemError).toBe(
        'the client certificate is not trusted: UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      )
      expect(res.json().response.items).toBeUndefined()
    }
  })

  it("the SAN pin: Gatekeeper's CA but another name is refused where names are pinned, accepted where not", async () => {
    const elsewhere = issueLeaf(gatekeeperCA, 'gatekeeper-elsewhere', {
      san: 'gatekeeper-webhook-service.policy-system.svc',
    })
    const refused = await ask(pinned, [img('signed')], { as: elsewhere })
    expect(refused.status).toBe(403)
    expect(refused.json().response.systemError).toBe(
      'the client certificate names none of the allowed Gatekeeper service names',
    )
    const accepted = await ask(caOnly, [img('signed')], { as: elsewhere })
    expect(accepted.status).toBe(200)
    expect(accepted.json().response.items[0].value.verified).toBe(true)
  })

  it('a certificate without the clientAuth extended key usage is refused', async () => {
    const serverOnly = issueLeaf(gatekeeperCA, 'gatekeeper-server-only', { eku: 'serverAuth' })
    const res = await ask(pinned, [img('signed')], { as: serverOnly })
    expect(res.status).toBe(403)
    // OpenSSL checks client certificates with the ssl-client purpose.
    expect(res.json().response.systemError).toBe('the client certificate is not trusted: INVALID_PURPOSE')
  })

  it('the API server still calls /validate without a client certificate on a server with the Gatekeeper CA', async () => {
    const review = mapImages(loadReview('deployment-create'), () => img('signed'))
    for (const server of [pinned, caOnly]) {
      const res = await httpsRequest(`${server.url}/validate`, {
        method: 'POST',
        body: JSON.stringify(review),
        caFiles: [tls.cert],
      })
      expect(res.status).toBe(200)
      expect(res.json().response.allowed, res.text).toBe(true)
    }
  })

  it('without a client CA anyone is served, and the server said so once at start', async () => {
    const res = await ask(open, [img('signed')], { as: null })
    expect(res.status).toBe(200)
    expect(res.json().response.items[0].value.digest).toBe(digests.signed)
    const warn = (l: Record<string, unknown>) => /not authenticated/.test(String(l.msg))
    expect(logs.open!.filter(warn)).toHaveLength(1)
    expect(logs.pinned!.filter(warn)).toHaveLength(0)
  })

  it('the client CA file is reloaded: a new Gatekeeper CA is trusted after the change, the old one no more', async () => {
    const next = makeCA(dir, 'gatekeeper-next')
    const nextClient = issueLeaf(next, 'gatekeeper-next-client')
    // A client that resumes TLS sessions, as keep-alive clients may: a resumed session keeps its handshake's verdict.
    const resuming = new Agent({
      keepAlive: false,
      ca: readFileSync(tls.cert),
      cert: readFileSync(client.cert),
      key: readFileSync(client.key),
    })
    const viaAgent = () =>
      mtlsRequest(`${caOnly.url}/gatekeeper/validate`, {
        caFile: tls.cert,
        agent: resuming,
        body: providerRequest([img('signed')]),
      })
    expect((await viaAgent()).status).toBe(200)
    const resumed = await viaAgent()
    expect([resumed.status, resumed.reused]).toEqual([200, true])
    expect((await ask(caOnly, [img('signed')], { as: nextClient })).status).toBe(403)

    copyFileSync(next.cert, join(dir, 'client-ca', 'ca.crt'))
    await caOnly.reload()
    expect((await ask(caOnly, [img('signed')], { as: nextClient })).status).toBe(200)
    expect((await ask(caOnly, [img('signed')], { as: client })).status).toBe(403)
    // A session from before the change does not resume into the new context.
    const afterChange = await viaAgent()
    expect([afterChange.status, afterChange.reused]).toEqual([403, false])
    resuming.destroy()
    expect(logs.caOnly).toContainEqual(expect.objectContaining({ msg: 'Gatekeeper client CA reloaded' }))

    // A CA file that stops holding a certificate keeps the current CA.
    writeFileSync(join(dir, 'client-ca', 'ca.crt'), 'not a certificate\n')
    await caOnly.reload()
    expect((await ask(caOnly, [img('signed')], { as: nextClient })).status).toBe(200)
    expect(logs.caOnly).toContainEqual(
      expect.objectContaining({
        msg: 'TLS reload failed; keeping the previous certificate',
        error: expect.stringMatching(/holds no PEM certificate/),
      }),
    )
    // Back to Gatekeeper's CA for the other tests.
    copyFileSync(gatekeeperCA.cert, join(dir, 'client-ca', 'ca.crt'))
    await caOnly.reload()
    expect((await ask(caOnly, [img('signed')])).status).toBe(200)
  })

  it('metrics count the provider endpoints under their own labels', async () => {
    const text = (await httpsRequest(`${pinned.url}/metrics`, { caFiles: [tls.cert] })).text
    expect(metricValue(text, 'countersign_admission_requests_total{endpoint="gatekeeper-validate"}')).toBeGreaterThan(5)
    expect(metricValue(text, 'countersign_admission_requests_total{endpoint="gatekeeper-mutate"}')).toBe(1)
    expect(
      metricValue(text, 'countersign_admission_gatekeeper_keys_total{endpoint="gatekeeper-validate",result="denied"}'),
    ).toBeGreaterThanOrEqual(9)
    // Refusals (no or untrusted certificate) are errors: a Gatekeeper whose CA changed shows up here.
    expect(
      metricValue(text, 'countersign_admission_errors_total{endpoint="gatekeeper-validate"}'),
    ).toBeGreaterThanOrEqual(4)
  })
})

describe('before policies load', () => {
  it('answers a systemError "policies are not loaded yet", with no items', async () => {
    const ca = join(dir, 'not-loaded-ca.crt')
    copyFileSync(gatekeeperCA.cert, ca)
    const server = await start([], {
      gatekeeperClientCAFile: ca,
      loadCheck: async () => {
        throw new Error('trusted root missing')
      },
    })
    try {
      const res = await ask(server, [img('signed')])
      expect(res.status).toBe(200)
      expect(res.json().response).toEqual({ idempotent: true, systemError: 'policies are not loaded yet' })
    } finally {
      await server.close()
    }
  })
})

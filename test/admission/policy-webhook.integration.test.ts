// The webhook as shipped: ClusterImagePolicy files evaluated by createPolicyImageCheck behind the HTTPS server.
// Keyless images (mock Fulcio, local Rekor, openssl TSA) in a real registry: the right identity is admitted (and
// pinned by /mutate), a wrong identity and an unsigned image are denied with their reasons.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signImage } from '../../src/image/sign.js'
import { type AdmissionServer, startAdmissionServer } from '../../src/node/admission-server.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { createPolicyImageCheck, parsePolicies } from '../../src/policy/index.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'
import { MOCK_IDENTITY, MOCK_OIDC_ISSUER } from '../support/sigstore-mock.js'
import { type LocalSigstore, startLocalSigstore } from '../support/sigstore-stack.js'
import { applyReplacePatch, loadReview, mapImages } from './fixtures.js'
import { httpsRequest, makeLoopbackCert } from './https-client.js'

let reg: TestRegistry
let sigstore: LocalSigstore
let server: AdmissionServer
let dir: string
let tls: { cert: string; key: string }
const store = createRegistryClient({ plainHTTP: true, retry: { attempts: 0 } })
const img = (name: string) => `${reg.host}/shop/${name}:v1`

const policy = (subject: string) => `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: shop-keyless
spec:
  images:
    - glob: "${reg.host}/shop/**"
  authorities:
    - name: release-identity
      keyless:
        identities:
          - issuer: ${MOCK_OIDC_ISSUER}
            subject: ${subject}
      ctlog: {}
`

beforeAll(async () => {
  ;[reg, sigstore] = await Promise.all([startRegistry(), startLocalSigstore()])
  for (const [name, claims] of [
    ['web', { email: MOCK_IDENTITY }],
    ['intruder', { email: 'mallory@example.com' }],
    ['unsigned', undefined],
  ] as const) {
    const ref = parseReference(img(name))
    await pushTinyImage(store, ref, `policy webhook ${name}`)
    if (claims) {
      await signImage(ref, sigstore.keylessSigner(claims), { store, witness: sigstore.witness(), onWarning: () => {} })
    }
  }
  dir = mkdtempSync(join(tmpdir(), 'policy-webhook-'))
  tls = makeLoopbackCert(dir)
  const policyDir = join(dir, 'policies')
  mkdirSync(policyDir)
  writeFileSync(join(policyDir, 'policy.yaml'), policy(MOCK_IDENTITY))
  server = await startAdmissionServer({
    tlsCertFile: tls.cert,
    tlsKeyFile: tls.key,
    port: 0,
    host: '127.0.0.1',
    policyPaths: [policyDir],
    loadCheck: async (files) =>
      createPolicyImageCheck(
        files.flatMap((f) => parsePolicies(f.content, { source: f.path }).policies),
        { store, trustedRoot: sigstore.trustedRoot },
      ),
    log: () => {},
  })
}, 90_000)

afterAll(async () => {
  await server?.close()
  await Promise.all([reg?.stop(), sigstore?.close()])
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const review = (image: string) => mapImages(loadReview('deployment-create'), () => image)
const post = async (path: string, body: unknown) =>
  (
    await httpsRequest(`${server.url}${path}`, { method: 'POST', body: JSON.stringify(body), caFiles: [tls.cert] })
  ).json()

describe('admission webhook with ClusterImagePolicy (keyless)', () => {
  it('admits an image signed by the policy identity, and /mutate pins its tag to the verified digest', async () => {
    const validated = await post('/validate', review(img('web')))
    expect(validated.response.allowed, JSON.stringify(validated.response.status)).toBe(true)
    const mutated = await post('/mutate', review(img('web')))
    expect(mutated.response.allowed).toBe(true)
    const patch = JSON.parse(Buffer.from(mutated.response.patch, 'base64').toString('utf8'))
    const pinned = applyReplacePatch(loadReview('deployment-create').request.object, patch) as {
      spec: { template: { spec: { containers: { image: string }[] } } }
    }
    expect(pinned.spec.template.spec.containers[0]!.image).toMatch(
      new RegExp(`^${reg.host}/shop/web@sha256:[0-9a-f]{64}$`),
    )
  })

  it('denies an image signed by another identity and an unsigned image, each with its reason', async () => {
    const intruder = await post('/validate', review(img('intruder')))
    expect(intruder.response.allowed).toBe(false)
    expect(intruder.response.status.message).toContain(img('intruder'))
    expect(intruder.response.status.message).toMatch(/shop-keyless/)
    const unsigned = await post('/validate', review(img('unsigned')))
    expect(unsigned.response.allowed).toBe(false)
    expect(unsigned.response.status.message).toContain(img('unsigned'))
  })

  it('a malformed review is a 400 and never an allow', async () => {
    const res = await httpsRequest(`${server.url}/validate`, {
      method: 'POST',
      body: '{"kind":"AdmissionReview"',
      caFiles: [tls.cert],
    })
    expect(res.status).toBe(400)
    expect(res.text).not.toMatch(/"allowed":\s*true/)
  })
})

// `countersign admission-webhook --policy DIR` as registered in the CLI, with Kyverno ClusterPolicies in the
// directory, over HTTPS, against images in a real registry (docker-registry) signed with a cosign-format key:
// match.any[].resources.namespaces and exclude decide which requests a rule sees, autogen carries the Pod rule to a
// Deployment (unless the policy's autogen-controllers annotation says none), /validate allows or denies, /mutate
// answers Kyverno's pin (registry/path:tag@digest) or no patch when mutateDigest is false, and an Audit rule allows
// with warnings.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { parseFlags } from '../../../src/cli/args.js'
import { createPolicyAdmissionWebhookCommand } from '../../../src/cli/commands/admission-policy.js'
import type { CliIO } from '../../../src/cli/context.js'
import { signImage } from '../../../src/image/sign.js'
import { generateKeyPair, publicKeyToPEM } from '../../../src/keys/index.js'
import { createRegistryClient } from '../../../src/oci/registry.js'
import type { Reference } from '../../../src/oci/types.js'
import { createKeySigner } from '../../../src/signers/key-signer.js'
import { httpsRequest, makeLoopbackCert } from '../../admission/https-client.js'
import { pushTinyImage } from '../../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../../support/registry.js'

let registry: TestRegistry
let dir: string
let tls: { cert: string; key: string }
let url: string
let stop: AbortController
let exited: Promise<number>
let stderr = ''
const store = createRegistryClient({ plainHTTP: true, retry: { attempts: 0 } })
const digests: Record<string, string> = {}

const image = (path: string) => `${registry.host}/${path}:v1`

/** The policy directory's Kyverno documents: an Enforce policy (two rules), one without autogen, an Audit one. */
function policies(pem: string): string {
  const keys = (indent: number) =>
    [
      'attestors:',
      '  - entries:',
      '      - keys:',
      '          publicKeys: |-',
      ...pem
        .trim()
        .split('\n')
        .map((l) => `            ${l}`),
      '          rekor:',
      '            ignoreTlog: true',
    ]
      .map((l) => `${' '.repeat(indent)}${l}`)
      .join('\n')
  return `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: verify-shop
spec:
  validationFailureAction: Enforce
  background: false
  rules:
    - name: shop-images
      match:
        any:
          - resources:
              kinds: [Pod]
              namespaces: [shop, "team-*"]
      exclude:
        any:
          - resources:
              namespaces: [team-sandbox]
      verifyImages:
        - imageReferences: ["${registry.host}/shop/*"]
${keys(10)}
    - name: by-tag
      match:
        any:
          - resources:
              kinds: [Pod]
      verifyImages:
        - imageReferences: ["${registry.host}/by-tag/*"]
          mutateDigest: false
          verifyDigest: false
${keys(10)}
---
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: pods-only
  annotations:
    pod-policies.kyverno.io/autogen-controllers: none
spec:
  validationFailureAction: Enforce
  rules:
    - name: no-autogen
      match:
        any:
          - resources:
              kinds: [Pod]
      verifyImages:
        - imageReferences: ["${registry.host}/pods-only/*"]
${keys(10)}
---
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: audit-only
spec:
  validationFailureAction: Audit
  rules:
    - name: audited
      match:
        any:
          - resources:
              kinds: [Pod]
      verifyImages:
        - imageReferences: ["${registry.host}/audited/*"]
          mutateDigest: false
${keys(10)}
`
}

beforeAll(async () => {
  registry = await startRegistry()
  const key = await generateKeyPair()
  for (const [path, sign] of [
    ['shop/web', true],
    ['shop/unsigned', false],
    ['by-tag/app', true],
    ['audited/app', false],
    ['pods-only/app', false],
  ] as const) {
    const ref: Reference = { registry: registry.host, repository: path, tag: 'v1' }
    digests[path] = await pushTinyImage(store, ref, `kyverno webhook ${path} ${Math.random()}`)
    if (sign) await signImage(ref, createKeySigner(key), { store, format: 'legacy', tlogUpload: false })
  }
  dir = mkdtempSync(join(tmpdir(), 'kyverno-webhook-'))
  tls = makeLoopbackCert(dir)
  mkdirSync(join(dir, 'policies'))
  writeFileSync(join(dir, 'policies', 'kyverno.yaml'), policies(publicKeyToPEM(key.publicKey)))

  const err = new PassThrough()
  err.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const io: CliIO = {
    stdout: new PassThrough(),
    stderr: err,
    stdin: Readable.from([]) as unknown as NodeJS.ReadStream,
    // The trusted root comes from the run's TUF cache (no network); these policies use keys without a log anyway.
    env: { HOME: dir, TUF_ROOT: inject('tufRoot') },
    cwd: dir,
  }
  stop = new AbortController()
  const command = createPolicyAdmissionWebhookCommand(stop.signal)
  const argv = ['--tls-cert', 'tls.crt', '--tls-key', 'tls.key', '--port', '0', '--host', '127.0.0.1']
  exited = command.run(parseFlags([...argv, '--policy', 'policies', '--allow-http-registry'], command.flags), io)
  const deadline = Date.now() + 20_000
  for (;;) {
    const m = /"msg":"admission webhook listening","port":(\d+)/.exec(stderr)
    if (m) {
      url = `https://127.0.0.1:${m[1]}`
      break
    }
    if (Date.now() > deadline) throw new Error(`server did not start: ${stderr}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  // Ready once the policies loaded.
  for (;;) {
    if ((await httpsRequest(`${url}/readyz`, { caFiles: [tls.cert] })).status === 200) break
    if (Date.now() > deadline) throw new Error(`server not ready: ${stderr}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}, 60_000)

afterAll(async () => {
  stop?.abort()
  if (exited) expect(await exited).toBe(0)
  await registry?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

let uid = 0
/** An AdmissionReview for a CREATE of `object` (a Pod or Deployment) in `namespace`. */
function review(kind: { group: string; version: string; kind: string }, namespace: string, object: unknown) {
  const resource = `${kind.kind.toLowerCase()}s`
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `00000000-0000-4000-8000-${String(++uid).padStart(12, '0')}`,
      kind,
      resource: { group: kind.group, version: kind.version, resource },
      requestKind: kind,
      requestResource: { group: kind.group, version: kind.version, resource },
      name: 'web',
      namespace,
      operation: 'CREATE',
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      object,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  }
}

const podSpec = (images: readonly string[]) => ({
  containers: images.map((img, i) => ({ name: `c${i}`, image: img })),
})
const podObject = (namespace: string, images: readonly string[]) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace, labels: { app: 'web' } },
  spec: podSpec(images),
})
const pod = (namespace: string, images: readonly string[]) =>
  review({ group: '', version: 'v1', kind: 'Pod' }, namespace, podObject(namespace, images))
const deployment = (namespace: string, images: readonly string[]) =>
  review({ group: 'apps', version: 'v1', kind: 'Deployment' }, namespace, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: podSpec(images) },
    },
  })

interface AdmissionResponse {
  uid: string
  allowed: boolean
  status?: { code?: number; message?: string }
  warnings?: string[]
  patch?: string
  patchType?: string
}

async function post(path: '/validate' | '/mutate', body: ReturnType<typeof review>): Promise<AdmissionResponse> {
  const res = await httpsRequest(`${url}${path}`, { method: 'POST', body: JSON.stringify(body), caFiles: [tls.cert] })
  expect(res.status).toBe(200)
  const out = res.json() as { response: AdmissionResponse }
  expect(out.response.uid).toBe(body.request.uid)
  return out.response
}

const patchOf = (r: AdmissionResponse) => JSON.parse(Buffer.from(r.patch!, 'base64').toString('utf8'))

describe('admission webhook with Kyverno ClusterPolicies (CLI, HTTPS, real registry)', () => {
  it('a Pod in a matched namespace: signed allowed, unsigned denied with the Kyverno reason', async () => {
    const ok = await post('/validate', pod('shop', [image('shop/web')]))
    expect(ok.allowed, JSON.stringify(ok.status)).toBe(true)
    const wildcardNs = await post('/validate', pod('team-blue', [image('shop/web')]))
    expect(wildcardNs.allowed).toBe(true)
    const denied = await post('/validate', pod('shop', [image('shop/unsigned')]))
    expect(denied.allowed).toBe(false)
    expect(denied.status?.message).toContain(image('shop/unsigned'))
    expect(denied.status?.message).toContain('verify-shop')
    expect(denied.status?.message).toContain(`failed to verify image ${image('shop/unsigned')}`)
    // team-* matches this namespace too.
    expect((await post('/validate', pod('team-blue', [image('shop/unsigned')]))).allowed).toBe(false)
  })

  it('a namespace the rule does not match, or one it excludes: the image is not checked and the Pod is allowed', async () => {
    const excluded = await post('/validate', pod('team-sandbox', [image('shop/unsigned')]))
    expect(excluded.allowed, JSON.stringify(excluded.status)).toBe(true)
    expect(excluded.warnings ?? []).toEqual([])
    const elsewhere = await post('/validate', pod('default', [image('shop/unsigned')]))
    expect(elsewhere.allowed, JSON.stringify(elsewhere.status)).toBe(true)
  })

  it('a Deployment: autogen applies the Pod rule to its template', async () => {
    const denied = await post('/validate', deployment('shop', [image('shop/unsigned')]))
    expect(denied.allowed).toBe(false)
    expect(denied.status?.message).toContain(`failed to verify image ${image('shop/unsigned')}`)
    const excluded = await post('/validate', deployment('team-sandbox', [image('shop/unsigned')]))
    expect(excluded.allowed).toBe(true)
    const mutated = await post('/mutate', deployment('shop', [image('shop/web')]))
    expect(mutated.allowed).toBe(true)
    expect(mutated.patchType).toBe('JSONPatch')
    expect(patchOf(mutated)).toEqual([
      {
        op: 'replace',
        path: '/spec/template/spec/containers/0/image',
        value: `${image('shop/web')}@${digests['shop/web']}`,
      },
    ])
  })

  it('autogen-controllers: none keeps a rule to Pods: the Deployment is not checked', async () => {
    const denied = await post('/validate', pod('default', [image('pods-only/app')]))
    expect(denied.allowed).toBe(false)
    expect(denied.status?.message).toContain('pods-only')
    const controller = await post('/validate', deployment('default', [image('pods-only/app')]))
    expect(controller.allowed, JSON.stringify(controller.status)).toBe(true)
  })

  it("/mutate pins with Kyverno's form registry/path:tag@digest (the tag kept)", async () => {
    const r = await post('/mutate', pod('shop', [image('shop/web'), image('shop/web')]))
    expect(r.allowed).toBe(true)
    expect(patchOf(r)).toEqual(
      [0, 1].map((i) => ({
        op: 'replace',
        path: `/spec/containers/${i}/image`,
        value: `${registry.host}/shop/web:v1@${digests['shop/web']}`,
      })),
    )
    // An image already pinned is left as it is.
    const pinned = `${registry.host}/shop/web:v1@${digests['shop/web']}`
    const unchanged = await post('/mutate', pod('shop', [pinned]))
    expect(unchanged.allowed).toBe(true)
    expect(unchanged.patch).toBeUndefined()
    // A denied image is denied by /mutate too, with no patch.
    const denied = await post('/mutate', pod('shop', [image('shop/unsigned')]))
    expect(denied.allowed).toBe(false)
    expect(denied.patch).toBeUndefined()
  })

  it('mutateDigest: false with verifyDigest: false: allowed by tag, and /mutate sends no patch', async () => {
    const validated = await post('/validate', pod('default', [image('by-tag/app')]))
    expect(validated.allowed, JSON.stringify(validated.status)).toBe(true)
    const mutated = await post('/mutate', pod('default', [image('by-tag/app')]))
    expect(mutated.allowed).toBe(true)
    expect(mutated.patch).toBeUndefined()
    // Next to an image that is pinned, only that one is patched.
    const mixed = await post('/mutate', pod('shop', [image('by-tag/app'), image('shop/web')]))
    expect(mixed.allowed).toBe(true)
    expect(patchOf(mixed)).toEqual([
      { op: 'replace', path: '/spec/containers/1/image', value: `${image('shop/web')}@${digests['shop/web']}` },
    ])
  })

  it('an Audit rule: an unsigned image is allowed, with the failure as a warning', async () => {
    const r = await post('/validate', pod('default', [image('audited/app')]))
    expect(r.allowed, JSON.stringify(r.status)).toBe(true)
    expect(r.warnings?.length).toBe(1)
    expect(r.warnings![0]).toContain(image('audited/app'))
    expect(r.warnings![0]).toContain('audit-only')
    expect(r.warnings![0]).toContain(`failed to verify image ${image('audited/app')}`)
    // mutateDigest: false: nothing to patch either.
    const m = await post('/mutate', pod('default', [image('audited/app')]))
    expect(m.allowed).toBe(true)
    expect(m.patch).toBeUndefined()
  })
})

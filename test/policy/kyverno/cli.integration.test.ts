// `countersign policy verify --policy kyverno.yaml IMAGE…` as a user runs it: the CLI as a separate Node process
// (src/cli/main.ts through tsx), images in a real registry (docker-registry), signed with cosign-format keys by the
// library (and, for the transparency-log and keyless cases, logged in the local Rekor / certified by the mock
// Fulcio). Covers Kyverno's verdicts and messages (signed, unsigned, wrong key, missing tag, unmatched), the JSON
// decision shape, a file mixing a ClusterImagePolicy and a Kyverno ClusterPolicy, and the two shapes users' guides
// show verbatim (keys with the default transparency-log requirement; keyless without `rekor.url`, which Kyverno refuses).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { signImage } from '../../../src/image/sign.js'
import { generateKeyPair, publicKeyToPEM } from '../../../src/keys/index.js'
import type { PrivateKey } from '../../../src/keys/types.js'
import { createRegistryClient } from '../../../src/oci/registry.js'
import type { Reference } from '../../../src/oci/types.js'
import { createKeySigner } from '../../../src/signers/key-signer.js'
import { pushTinyImage } from '../../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../../support/registry.js'
import { type LocalSigstore, startLocalSigstore } from '../../support/sigstore-stack.js'

const ROOT = new URL('../../../', import.meta.url).pathname
const TSX = pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('tsx')).href
const MAIN = join(ROOT, 'src/cli/main.ts')
const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com'

let registry: TestRegistry
let sigstore: LocalSigstore
let dir: string
let rootPath: string
let key: PrivateKey
let other: PrivateKey
const store = createRegistryClient({ plainHTTP: true, retry: { attempts: 0 } })
/** Digests of the images pushed in beforeAll, by repository under myorg/. */
const digests: Record<string, string> = {}

const image = (name: string, tag = 'v1') => `${registry.host}/myorg/${name}:${tag}`
const refOf = (name: string): Reference => ({ registry: registry.host, repository: `myorg/${name}`, tag: 'v1' })

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** `countersign <args>` as its own process, in `dir`, with a clean environment (no credentials, the shared TUF cache). */
function run(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        DOCKER_CONFIG: join(dir, '.docker'),
        TUF_ROOT: inject('tufRoot'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8')
    })
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8')
    })
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

const verify = (policy: string, images: readonly string[], extra: readonly string[] = []) =>
  run(['policy', 'verify', '--policy', policy, '--allow-http-registry', ...extra, ...images])

/** A PEM indented for a YAML block scalar at `indent` spaces. */
const indented = (pem: string, indent: number) =>
  pem
    .trim()
    .split('\n')
    .map((l) => `${' '.repeat(indent)}${l}`)
    .join('\n')

/** The field guide's keyed ClusterPolicy, with `rekor` inserted under `keys` when given. */
const keyedPolicy = (name: string, pem: string, rekor = '') => `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: ${name}
spec:
  validationFailureAction: Enforce
  background: false
  rules:
    - name: verify-signature
      match:
        any:
          - resources:
              kinds:
                - Pod
      verifyImages:
        - imageReferences:
            - "${registry.host}/myorg/*"
          attestors:
            - count: 1
              entries:
                - keys:
                    publicKeys: |-
${indented(pem, 22)}
${rekor}`

const IGNORE_TLOG = `                    rekor:
                      ignoreTlog: true
`

beforeAll(async () => {
  ;[registry, sigstore] = await Promise.all([startRegistry(), startLocalSigstore()])
  dir = mkdtempSync(join(tmpdir(), 'kyverno-cli-'))
  rootPath = join(dir, 'trusted_root.json')
  sigstore.writeTrustedRoot(rootPath)
  ;[key, other] = await Promise.all([generateKeyPair(), generateKeyPair()])
  for (const name of ['signed', 'unsigned', 'logged', 'keyless', 'other-key', 'bundle-only']) {
    digests[name] = await pushTinyImage(store, refOf(name), `kyverno cli ${name} ${Math.random()}`)
  }
  // `type: Cosign` (the default) reads cosign's `.sig` tags, as Kyverno does: the images are signed in that form.
  // signed: our key, no transparency log; logged: our key with a Rekor entry and a timestamp from the local stack;
  // keyless: a Fulcio certificate for a GitHub Actions workflow identity; other-key: someone else's key.
  const legacy = { store, format: 'legacy' } as const
  await signImage(refOf('signed'), createKeySigner(key), { ...legacy, tlogUpload: false })
  await signImage(refOf('other-key'), createKeySigner(other), { ...legacy, tlogUpload: false })
  await signImage(refOf('logged'), createKeySigner(key), { ...legacy, witness: sigstore.witness() })
  // bundle-only: our key, stored as a Sigstore bundle referrer (cosign v3's default form) and nothing else.
  await signImage(refOf('bundle-only'), createKeySigner(key), { store, format: 'bundle', tlogUpload: false })
  await signImage(
    refOf('keyless'),
    sigstore.keylessSigner({
      iss: GITHUB_ISSUER,
      email: 'https://github.com/your-repo/app/.github/workflows/release.yml@refs/heads/main',
    }),
    { ...legacy, witness: sigstore.witness(), onWarning: () => {} },
  )
  writeFileSync(join(dir, 'kyverno.yaml'), keyedPolicy('signed-images', publicKeyToPEM(key.publicKey), IGNORE_TLOG))
}, 90_000)

afterAll(async () => {
  await Promise.all([registry?.stop(), sigstore?.close()])
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('countersign policy verify with a Kyverno ClusterPolicy (separate process, real registry)', () => {
  it('signed: exit 0, ALLOWED at its digest, the policy named', async () => {
    const r = await verify('kyverno.yaml', [image('signed')])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe(`${image('signed')} (${digests.signed}): ALLOWED\n  policies: signed-images\n`)
  })

  it('unsigned, wrong key and a missing tag: exit 1 with the Kyverno-style reason for each', async () => {
    const r = await verify('kyverno.yaml', [image('unsigned'), image('other-key'), image('signed', 'nope')])
    expect(r.code).toBe(1)
    const lines = r.stdout.split('\n')
    // Kyverno's message: "failed to verify image <ref>: …", then the attestor path and what failed.
    const denied = (img: string) => lines.find((l) => l.startsWith(`  denied: ${img}:`))
    expect(r.stdout).toContain(`${image('unsigned')} (${digests.unsigned}): DENIED\n  policies: signed-images\n`)
    expect(denied(image('unsigned'))).toMatch(
      new RegExp(
        `^ {2}denied: ${esc(image('unsigned'))}: policy signed-images, authority verify-signature\\.verifyImages\\[0\\]: ` +
          `signature: failed to verify image ${esc(image('unsigned'))}: verified 0 of 1 required attestor\\(s\\): ` +
          '\\.attestors\\[0\\]\\.entries\\[0\\]\\.keys: .*no signatures found',
      ),
    )
    expect(r.stdout).toContain(`${image('other-key')} (${digests['other-key']}): DENIED`)
    expect(denied(image('other-key'))).toMatch(
      new RegExp(`failed to verify image ${esc(image('other-key'))}: verified 0 of 1 required attestor\\(s\\): `),
    )
    // Signed, but not by this key: cosign's "no matching signatures", not "no signatures found".
    expect(denied(image('other-key'))).toMatch(/\.attestors\[0\]\.entries\[0\]\.keys: no matching signatures: /)
    // A tag the registry does not have: no digest, denied with the lookup failure.
    expect(r.stdout).toContain(`${image('signed', 'nope')}: DENIED\n`)
    expect(denied(image('signed', 'nope'))).toBe(
      `  denied: ${image('signed', 'nope')}: policy signed-images, authority verify-signature.verifyImages[0]: error: ` +
        `failed to verify image ${image('signed', 'nope')}: image tag not found: ${image('signed', 'nope')}`,
    )
  })

  it('an image no rule matches is not checked and is allowed (Kyverno), unless --no-match-policy deny', async () => {
    const elsewhere = `${registry.host}/elsewhere/app:v1`
    const r = await verify('kyverno.yaml', [elsewhere])
    expect(r.code, r.stderr).toBe(0)
    // Never looked up: the image does not even exist.
    expect(r.stdout).toBe(`${elsewhere}: ALLOWED\n`)
    const denied = await verify('kyverno.yaml', [elsewhere], ['--no-match-policy', 'deny'])
    expect(denied.code).toBe(1)
    expect(denied.stdout).toContain('no matching policies')
  })

  it("type: Cosign reads cosign's .sig tags; type: SigstoreBundle reads Sigstore bundle referrers", async () => {
    const cosign = await verify('kyverno.yaml', [image('bundle-only')])
    expect(cosign.code).toBe(1)
    expect(cosign.stdout).toContain('.attestors[0].entries[0].keys: no signatures found')
    const bundles = keyedPolicy('bundles', publicKeyToPEM(key.publicKey), IGNORE_TLOG).replace(
      '        - imageReferences:',
      '        - type: SigstoreBundle\n          imageReferences:',
    )
    writeFileSync(join(dir, 'bundles.yaml'), bundles)
    const r = await verify('bundles.yaml', [image('bundle-only'), image('signed')])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(`${image('bundle-only')} (${digests['bundle-only']}): ALLOWED\n  policies: bundles\n`)
    expect(r.stdout).toContain(`${image('signed')} (${digests.signed}): DENIED\n`)
  })

  it('-o json: one decision per image, with the rule outcome, the verified digest and Kyverno pin', async () => {
    const r = await verify('kyverno.yaml', [image('signed'), image('unsigned')], ['-o', 'json'])
    expect(r.code).toBe(1)
    const [signed, unsigned] = JSON.parse(r.stdout)
    expect(signed).toEqual({
      image: image('signed'),
      digest: digests.signed,
      // mutateDigest (default true) keeps the tag: registry/path:tag@digest.
      pin: `${image('signed')}@${digests.signed}`,
      allowed: true,
      matched: ['signed-images'],
      policies: [
        {
          name: 'signed-images/verify-signature',
          mode: 'enforce',
          passed: true,
          authorities: [{ name: 'verify-signature.verifyImages[0]', passed: true, reasons: [] }],
          reasons: [],
        },
      ],
      reasons: [],
      warnings: [],
    })
    expect(unsigned).toMatchObject({
      image: image('unsigned'),
      digest: digests.unsigned,
      allowed: false,
      matched: ['signed-images'],
      policies: [{ name: 'signed-images/verify-signature', mode: 'enforce', passed: false }],
      reasons: [
        {
          image: image('unsigned'),
          policy: 'signed-images',
          authority: 'verify-signature.verifyImages[0]',
          check: 'signature',
        },
      ],
      warnings: [],
    })
    expect(unsigned.reasons).toHaveLength(1)
    expect(unsigned.reasons[0].message).toMatch(/^failed to verify image /)
  })

  it('a multi-document file mixing a ClusterImagePolicy and a Kyverno ClusterPolicy: each decides what it matches', async () => {
    const cip = `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: other-team
spec:
  images:
    - glob: "${registry.host}/otherteam/**"
  authorities:
    - name: other-key
      key:
        data: |
${indented(publicKeyToPEM(other.publicKey), 10)}
`
    writeFileSync(
      join(dir, 'mixed.yaml'),
      `${cip}---\n${keyedPolicy('myorg', publicKeyToPEM(key.publicKey), IGNORE_TLOG)}`,
    )
    // The other team's image, signed with its key: a ClusterImagePolicy image (its tlog requirement is off here).
    const theirs: Reference = { registry: registry.host, repository: 'otherteam/app', tag: 'v1' }
    const theirDigest = await pushTinyImage(store, theirs, `other team ${Math.random()}`)
    await signImage(theirs, createKeySigner(other), { store, tlogUpload: false, format: 'legacy' })
    const theirImage = `${registry.host}/otherteam/app:v1`
    const r = await verify('mixed.yaml', [image('signed'), theirImage], ['--insecure-ignore-tlog', '-o', 'json'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const [mine, their] = JSON.parse(r.stdout)
    expect(mine).toMatchObject({ allowed: true, matched: ['myorg'], digest: digests.signed })
    expect(their).toMatchObject({ allowed: true, matched: ['other-team'], digest: theirDigest })
    // Each kind keeps its own semantics: Kyverno's unsigned image is denied by the Kyverno rule; an image neither
    // matches is denied, the ClusterImagePolicy default once one is loaded.
    const denied = await verify('mixed.yaml', [image('unsigned'), `${registry.host}/nobody/app:v1`], ['-o', 'json'])
    expect(denied.code).toBe(1)
    const [unsigned, nobody] = JSON.parse(denied.stdout)
    expect(unsigned).toMatchObject({ allowed: false, matched: ['myorg'], reasons: [{ policy: 'myorg' }] })
    expect(nobody).toMatchObject({ allowed: false, matched: [], reasons: [{ message: 'no matching policies' }] })
  })
})

describe("the users' guide shapes, verbatim", () => {
  it('(a) keys without a rekor block: Kyverno requires a transparency log entry, so a key-only signature is denied', async () => {
    writeFileSync(join(dir, 'guide-keys.yaml'), keyedPolicy('verify-image-signatures', publicKeyToPEM(key.publicKey)))
    const denied = await verify('guide-keys.yaml', [image('signed')], ['--trusted-root', rootPath])
    expect(denied.code).toBe(1)
    const reason = denied.stdout.split('\n').find((l) => l.startsWith('  denied: '))
    expect(reason).toMatch(/failed to verify image .*\.attestors\[0\]\.entries\[0\]\.keys: no matching signatures: /)
    // It says what is missing (the Rekor entry) and how to do without it.
    expect(reason).toMatch(/no dev\.sigstore\.cosign\/bundle annotation \(Rekor SET\)/)
    expect(reason).toMatch(/--insecure-ignore-tlog skips the log/)

    // The same signature with a Rekor entry (the local log, named by the trusted root) passes…
    const logged = await verify('guide-keys.yaml', [image('logged')], ['--trusted-root', rootPath])
    expect(logged.code, logged.stdout + logged.stderr).toBe(0)
    expect(logged.stdout).toContain(`${image('logged')} (${digests.logged}): ALLOWED`)
    // …as does the key-only signature when the caller turns the log off…
    const ignored = await verify('guide-keys.yaml', [image('signed')], ['--insecure-ignore-tlog'])
    expect(ignored.code, ignored.stdout + ignored.stderr).toBe(0)
    // …or when the policy says `rekor: {ignoreTlog: true}`.
    writeFileSync(
      join(dir, 'guide-keys-notlog.yaml'),
      keyedPolicy('verify-image-signatures', publicKeyToPEM(key.publicKey), IGNORE_TLOG),
    )
    const notlog = await verify('guide-keys-notlog.yaml', [image('signed')])
    expect(notlog.code, notlog.stdout + notlog.stderr).toBe(0)
    expect(notlog.stdout).toContain('ALLOWED')
  })

  it('(b) keyless without rekor.url or roots is refused as Kyverno refuses it; with rekor.url it loads and decides', async () => {
    const guide = (rekor: string) => `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: verify-keyless
spec:
  validationFailureAction: Enforce
  rules:
    - name: verify-github-actions
      match:
        any:
          - resources:
              kinds: [Pod]
      verifyImages:
        - imageReferences: ["${registry.host}/myorg/*"]
          attestors:
            - entries:
                - keyless:
                    subject: "https://github.com/your-repo/*"
                    issuer: "https://token.actions.githubusercontent.com"
${rekor}`
    writeFileSync(join(dir, 'guide-keyless.yaml'), guide(''))
    const refused = await verify('guide-keyless.yaml', [image('keyless')], ['--trusted-root', rootPath])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toBe('')
    // The field path names the rule's entry, and the message is Kyverno's own validation message.
    expect(refused.stderr).toContain(
      'invalid Kyverno policy in guide-keyless.yaml: policy "verify-keyless": ' +
        'spec.rules[0].verifyImages[0].attestors[0].entries[0].keyless: Either Rekor URL or roots are required',
    )

    writeFileSync(
      join(dir, 'guide-keyless-rekor.yaml'),
      guide('                    rekor:\n                      url: https://rekor.sigstore.dev\n'),
    )
    // Verification is offline: the trusted root names the local Fulcio CA and Rekor log the image was signed with.
    const r = await verify(
      'guide-keyless-rekor.yaml',
      [image('keyless'), image('signed')],
      ['--trusted-root', rootPath, '-o', 'json'],
    )
    expect(r.code).toBe(1)
    const [keyless, keyed] = JSON.parse(r.stdout)
    expect(keyless).toMatchObject({ allowed: true, matched: ['verify-keyless'], digest: digests.keyless })
    // A key signature has no certificate, so no keyless identity to match.
    expect(keyed).toMatchObject({ allowed: false, matched: ['verify-keyless'], reasons: [{ check: 'signature' }] })
  })
})

describe('countersign policy verify --resource: workloads as the cluster sees them', () => {
  it('each workload image is decided with its workload, so match/exclude and autogen apply', async () => {
    // The rule applies to Pods (autogen: Deployments too) outside the `sandbox` namespace.
    const policy = keyedPolicy('signed-images', publicKeyToPEM(key.publicKey), IGNORE_TLOG).replace(
      '      verifyImages:',
      '      exclude:\n        any:\n          - resources:\n              namespaces:\n                - sandbox\n      verifyImages:',
    )
    writeFileSync(join(dir, 'kyverno-excl.yaml'), policy)
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers: [{name: init, image: "${image('signed')}"}]
      containers: [{name: web, image: "${image('unsigned')}"}]
---
apiVersion: v1
kind: Pod
metadata:
  name: play
  namespace: sandbox
spec:
  containers: [{name: c, image: "${image('unsigned')}"}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{port: 80}]}
`
    writeFileSync(join(dir, 'workloads.yaml'), manifest)
    const r = await verify('kyverno-excl.yaml', [], ['--resource', 'workloads.yaml'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('skipped (no images): Service shop/web')
    expect(r.stdout).toContain(`Deployment shop/web:\n  ${image('signed')} (${digests.signed}): ALLOWED\n`)
    expect(r.stdout).toContain(`  ${image('unsigned')} (${digests.unsigned}): DENIED\n`)
    // Excluded namespace: the rule does not apply, the image is not checked (and so allowed).
    expect(r.stdout).toContain(`Pod sandbox/play:\n  ${image('unsigned')}: ALLOWED\n`)
    const json = await verify('kyverno-excl.yaml', [], ['--resource', 'workloads.yaml', '-o', 'json'])
    const decisions = JSON.parse(json.stdout)
    expect(decisions.map((d: { resource: unknown; allowed: boolean }) => [d.resource, d.allowed])).toEqual([
      [{ kind: 'Deployment', namespace: 'shop', name: 'web' }, true],
      [{ kind: 'Deployment', namespace: 'shop', name: 'web' }, false],
      [{ kind: 'Pod', namespace: 'sandbox', name: 'play' }, true],
    ])
    const none = await run(['policy', 'verify', '--policy', 'kyverno-excl.yaml'])
    expect(none.code).not.toBe(0)
    expect(none.stderr).toContain('at least one image or --resource manifest is required')
  })
})

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

// The CLI keyless flow as a cosign user drives it: `sign` without --key takes an identity token (flag, environment
// or GitHub Actions' ambient endpoint), gets a Fulcio certificate, logs to Rekor, timestamps, pushes to a real
// registry; `verify --certificate-identity … --certificate-oidc-issuer …` accepts it. Without --yes and without a
// terminal the privacy confirmation refuses before any service is contacted.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRegistryClient } from '../../src/oci/registry.js'
import { cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'
import { type OIDCServer, startOIDCServer } from '../support/oidc-server.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'
import { MOCK_IDENTITY, MOCK_OIDC_ISSUER } from '../support/sigstore-mock.js'
import { type LocalSigstore, startLocalSigstore } from '../support/sigstore-stack.js'

let registry: TestRegistry
let sigstore: LocalSigstore
let dir: string
let rootPath: string

beforeAll(async () => {
  ;[registry, sigstore] = await Promise.all([startRegistry(), startLocalSigstore()])
  dir = mkdtempSync(join(tmpdir(), 'keyless-cli-'))
  rootPath = join(dir, 'trusted_root.json')
  sigstore.writeTrustedRoot(rootPath)
}, 60_000)

afterAll(async () => {
  await Promise.all([registry?.stop(), sigstore?.close()])
})

async function image(name: string): Promise<string> {
  const store = createRegistryClient({ plainHTTP: true })
  const repo = { registry: registry.host, repository: `cli-keyless/${name}` }
  const digest = await pushTinyImage(store, { ...repo, tag: 'v1' }, `cli ${name} ${Math.random()}`)
  return `${registry.host}/cli-keyless/${name}@${digest}`
}

/** Flags naming `stack`'s Fulcio, Rekor and TSA and a trusted root that names them. */
const blobServices = (stack = sigstore, root = rootPath) => stack.serviceFlags(root)
const services = (stack?: LocalSigstore, root?: string) => [...blobServices(stack, root), '--allow-http-registry']
const verifyFlags = () => [
  '--certificate-identity',
  MOCK_IDENTITY,
  '--certificate-oidc-issuer',
  MOCK_OIDC_ISSUER,
  '--trusted-root',
  rootPath,
  '--allow-http-registry',
]

describe('countersign sign/verify keyless (CLI)', () => {
  it('signs with --identity-token (bundle and legacy forms) and verifies by identity; a wrong identity exits 12', async () => {
    for (const legacy of [false, true]) {
      const ref = await image(legacy ? 'legacy' : 'bundle')
      const sign = await cli(
        [
          'sign',
          '--yes',
          '--identity-token',
          sigstore.fulcio.identityToken(),
          ...services(),
          ...(legacy ? ['--new-bundle-format=false'] : []),
          ref,
        ],
        { cwd: dir },
      )
      expect(sign.stderr).toMatch(/tlog entry created with index: \d+/)
      expect(sign.code, sign.stderr).toBe(0)
      const ok = await cli(['verify', ...verifyFlags(), ref], { cwd: dir })
      expect(ok.code, ok.stderr).toBe(0)
      const wrong = await cli(
        ['verify', ...verifyFlags().map((v) => (v === MOCK_IDENTITY ? 'mallory@example.com' : v)), ref],
        { cwd: dir },
      )
      expect(wrong.code).toBe(12)
    }
  })

  it('takes the token from SIGSTORE_ID_TOKEN and from a GitHub Actions ambient endpoint', async () => {
    const ref = await image('env')
    const env = await cli(['sign', '-y', ...services(), ref], {
      cwd: dir,
      env: { SIGSTORE_ID_TOKEN: sigstore.fulcio.identityToken() },
    })
    expect(env.code, env.stderr).toBe(0)

    // A GitHub Actions job: the token (no email) comes from the runner's endpoint; this Fulcio certifies its `sub`,
    // and its issuer lands in the certificate.
    const oidc: OIDCServer = await startOIDCServer()
    const subStack = await startLocalSigstore({ fulcioSubjectClaim: 'sub' })
    try {
      const root2 = join(dir, 'trusted_root_sub.json')
      subStack.writeTrustedRoot(root2)
      const ref2 = await image('gha')
      const gha = await cli(['sign', '-y', ...services(subStack, root2), ref2], {
        cwd: dir,
        env: { ...oidc.githubEnv },
      })
      expect(gha.code, gha.stderr).toBe(0)
      expect(oidc.issued).toHaveLength(1)
      const verified = await cli(
        [
          'verify',
          '--certificate-identity',
          'repo:acme/app:ref:refs/heads/main',
          '--certificate-oidc-issuer',
          oidc.url,
          '--trusted-root',
          root2,
          '--allow-http-registry',
          ref2,
        ],
        { cwd: dir },
      )
      expect(verified.code, verified.stderr).toBe(0)
    } finally {
      await Promise.all([oidc.close(), subStack.close()])
    }
  })

  it('without --yes and without a terminal, refuses before contacting any service, and never prints the token', async () => {
    const ref = await image('prompt')
    const token = sigstore.fulcio.identityToken()
    const before = sigstore.rekor.requests.length
    const run = await cli(['sign', '--identity-token', token, ...services(), ref], { cwd: dir })
    expect(run.code).not.toBe(0)
    expect(run.stderr).toMatch(/pass --yes/)
    expect(run.stderr).toMatch(/immutable record/)
    expect(run.stderr).not.toContain(token)
    expect(sigstore.rekor.requests.length).toBe(before)
  })

  it('sign-blob and attest-blob keyless write bundles that verify-blob / verify-bundle accept by identity', async () => {
    const blob = join(dir, 'artifact.txt')
    writeFileSync(blob, `artifact ${Math.random()}`)
    const predicate = join(dir, 'predicate.json')
    writeFileSync(predicate, '{"hello":"world"}')
    const token = sigstore.fulcio.identityToken()
    const sb = await cli(
      ['sign-blob', '-y', '--identity-token', token, ...blobServices(), '--bundle', 'blob.sigstore.json', blob],
      { cwd: dir },
    )
    expect(sb.code, sb.stderr).toBe(0)
    const vb = await cli(
      [
        'verify-blob',
        ...verifyFlags().filter((v) => v !== '--allow-http-registry'),
        '--bundle',
        'blob.sigstore.json',
        blob,
      ],
      { cwd: dir },
    )
    expect(vb.code, vb.stderr).toBe(0)
    const ab = await cli(
      [
        'attest-blob',
        '-y',
        '--identity-token',
        token,
        ...blobServices(),
        '--predicate',
        predicate,
        '--type',
        'https://example.com/p',
        '--bundle',
        'att.sigstore.json',
        blob,
      ],
      { cwd: dir },
    )
    expect(ab.code, ab.stderr).toBe(0)
    const att = JSON.parse(readFileSync(join(dir, 'att.sigstore.json'), 'utf8'))
    expect(att.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json')
    const vbundle = await cli(
      [
        'verify-bundle',
        '--bundle',
        'att.sigstore.json',
        '--certificate-identity',
        MOCK_IDENTITY,
        '--certificate-oidc-issuer',
        MOCK_OIDC_ISSUER,
        '--trusted-root',
        rootPath,
        blob,
      ],
      { cwd: dir },
    )
    expect(vbundle.code, vbundle.stderr).toBe(0)
    const identityFlags = verifyFlags().filter((v) => v !== '--allow-http-registry')
    const vba = await cli(
      [
        'verify-blob-attestation',
        ...identityFlags,
        '--bundle',
        'att.sigstore.json',
        '--type',
        'https://example.com/p',
        blob,
      ],
      { cwd: dir },
    )
    expect(vba.code, vba.stderr).toBe(0)
    const wrongType = await cli(
      ['verify-blob-attestation', ...identityFlags, '--bundle', 'att.sigstore.json', '--type', 'slsaprovenance1', blob],
      { cwd: dir },
    )
    expect(wrongType.code).toBe(1)
    expect(wrongType.stderr).toMatch(/predicate type/)
    writeFileSync(join(dir, 'other.txt'), 'another blob')
    const otherBlob = await cli(
      [
        'verify-blob-attestation',
        ...identityFlags,
        '--bundle',
        'att.sigstore.json',
        '--type',
        'https://example.com/p',
        'other.txt',
      ],
      { cwd: dir },
    )
    expect(otherBlob.code).toBe(1)
  })

  it('key-based sign uploads to Rekor by default and verify --key requires the log entry', async () => {
    const ref = await image('key')
    const keys = await cli(['generate-key-pair'], { cwd: dir, env: { COSIGN_PASSWORD: 'pw' } })
    expect(keys.code, keys.stderr).toBe(0)
    const sign = await cli(
      [
        'sign',
        '--key',
        'cosign.key',
        '--rekor-url',
        sigstore.rekor.url,
        '--trusted-root',
        rootPath,
        '--allow-http-registry',
        ref,
      ],
      {
        cwd: dir,
        env: { COSIGN_PASSWORD: 'pw' },
      },
    )
    expect(sign.code, sign.stderr).toBe(0)
    expect(sign.stderr).not.toMatch(/immutable record/) // no identity, no privacy prompt
    const verify = await cli(
      ['verify', '--key', 'cosign.pub', '--trusted-root', rootPath, '--allow-http-registry', ref],
      { cwd: dir },
    )
    expect(verify.code, verify.stderr).toBe(0)
  })
})

describe('countersign rekor (CLI)', () => {
  it('search finds a signed blob by artifact and by key; get verifies the entry against the trusted root', async () => {
    const blob = join(dir, 'searched.txt')
    writeFileSync(blob, `searched ${Math.random()}`)
    expect(
      (await cli(['generate-key-pair', '--output-key-prefix', 'rk'], { cwd: dir, env: { COSIGN_PASSWORD: 'pw' } }))
        .code,
    ).toBe(0)
    const sign = await cli(
      [
        'sign-blob',
        '--key',
        'rk.key',
        '--rekor-url',
        sigstore.rekor.url,
        '--trusted-root',
        rootPath,
        '--bundle',
        'rk.json',
        blob,
      ],
      { cwd: dir, env: { COSIGN_PASSWORD: 'pw' } },
    )
    expect(sign.code, sign.stderr).toBe(0)
    const logIndex = JSON.parse(readFileSync(join(dir, 'rk.json'), 'utf8')).verificationMaterial.tlogEntries[0].logIndex
    const byArtifact = await cli(['rekor', 'search', '--rekor-url', sigstore.rekor.url, '--artifact', blob], {
      cwd: dir,
    })
    expect(byArtifact.code, byArtifact.stderr).toBe(0)
    const uuids = byArtifact.stdout.trim().split('\n')
    expect(uuids).toHaveLength(1)
    const byKey = await cli(['rekor', 'search', '--rekor-url', sigstore.rekor.url, '--public-key', 'rk.pub'], {
      cwd: dir,
    })
    expect(byKey.stdout.trim().split('\n')).toEqual(uuids)
    const get = await cli(
      [
        'rekor',
        'get',
        '--rekor-url',
        sigstore.rekor.url,
        '--uuid',
        uuids[0]!,
        '--trusted-root',
        rootPath,
        '-o',
        'json',
      ],
      {
        cwd: dir,
      },
    )
    expect(get.code, get.stderr).toBe(0)
    expect(JSON.parse(get.stdout)).toMatchObject({ LogIndex: Number(logIndex), Kind: 'hashedrekord' })
    // The embedded public-good root does not know this log: the entry is refused, not shown.
    const untrusted = await cli(['rekor', 'get', '--rekor-url', sigstore.rekor.url, '--log-index', String(logIndex)], {
      cwd: dir,
    })
    expect(untrusted.code).toBe(1)
    expect(untrusted.stdout).toBe('')
  })
})

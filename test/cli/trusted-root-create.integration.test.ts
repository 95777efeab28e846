// `trusted-root create` against a real private Sigstore deployment: the local stack's Fulcio chain, Rekor v1 and v2
// keys (v2 with its checkpoint origin), CT key and TSA chain go in as files, and the root it writes must verify the
// bundles that stack makes (keyless, v1 through the CLI, v2 through the SDK) exactly as the stack's own root does.
// Without the Rekor key, or with the v2 key but not its origin, the same bundles must fail.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signBlob } from '../../src/blob/sign-blob.js'
import { fromBase64 } from '../../src/internal/bytes.js'
import { encodePEM } from '../../src/internal/pem.js'
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js'
import { parseCertificate } from '../../src/x509/certificate.js'
import { cli } from '../support/cli.js'
import { MOCK_IDENTITY, MOCK_OIDC_ISSUER } from '../support/sigstore-mock.js'
import { type LocalSigstore, startLocalSigstore } from '../support/sigstore-stack.js'

let sigstore: LocalSigstore
let dir: string
const blob = `artifact ${Math.random()}`

beforeAll(async () => {
  sigstore = await startLocalSigstore({ rekorV2: true })
  dir = mkdtempSync(join(tmpdir(), 'trusted-root-create-'))
  const mock = JSON.parse(sigstore.fulcio.trustedRootJSON)
  const pem = (label: string, ders: readonly Uint8Array[]) => ders.map((d) => encodePEM(label, d)).join('')
  const b64 = (s: string) => fromBase64(s)
  const files: Record<string, string> = {
    'fulcio-chain.pem': pem(
      'CERTIFICATE',
      mock.certificateAuthorities[0].certChain.certificates.map((c: { rawBytes: string }) => b64(c.rawBytes)),
    ),
    'ctfe.pub': pem('PUBLIC KEY', [b64(mock.ctlogs[0].publicKey.rawBytes)]),
    'rekor.pub': pem('PUBLIC KEY', [new Uint8Array(sigstore.rekor.publicKeySPKI)]),
    'rekor-v2.pub': pem('PUBLIC KEY', [
      b64((sigstore.rekorV2!.trustedRootTlog.publicKey as { rawBytes: string }).rawBytes),
    ]),
    'tsa-chain.pem': pem('CERTIFICATE', [sigstore.tsa.leaf, sigstore.tsa.root]),
    'blob.txt': blob,
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  sigstore.writeTrustedRoot(join(dir, 'stack-root.json'))
  // A Rekor v1 bundle through the CLI, a Rekor v2 one through the SDK (both keyless, both with a TSA timestamp).
  const sign = await cli(
    [
      'sign-blob',
      '-y',
      '--identity-token',
      sigstore.fulcio.identityToken(),
      ...sigstore.serviceFlags('stack-root.json'),
      '--bundle',
      'v1.sigstore.json',
      'blob.txt',
    ],
    { cwd: dir },
  )
  expect(sign.code, sign.stderr).toBe(0)
  const v2 = await signBlob(new TextEncoder().encode(blob), sigstore.keylessSigner(), {
    witness: sigstore.witnessV2(),
  })
  writeFileSync(join(dir, 'v2.sigstore.json'), v2.bundle)
}, 60_000)

afterAll(async () => {
  await sigstore?.close()
})

const iso = (d: Date) => d.toISOString()
const tlogStart = (i: number) => iso(sigstore.trustedRoot.tlogs[i]!.publicKey.validFor.start)

/** The spec flags for the stack; `rekor` picks which Rekor flags to give. */
function specs(rekor: 'both' | 'none' | 'v2-without-origin'): string[] {
  const ct = sigstore.trustedRoot.ctlogs[0]!
  const rekorFlags = {
    both: [
      '--rekor',
      `url=${sigstore.rekor.url},public-key=rekor.pub,start-time=${tlogStart(0)}`,
      '--rekor',
      `url=${sigstore.rekorV2!.url},public-key=rekor-v2.pub,start-time=${tlogStart(1)},origin=${sigstore.rekorV2!.origin}`,
    ],
    none: [],
    'v2-without-origin': [
      '--rekor',
      `url=${sigstore.rekor.url},public-key=rekor.pub,start-time=${tlogStart(0)}`,
      '--rekor',
      `url=${sigstore.rekorV2!.url},public-key=rekor-v2.pub,start-time=${tlogStart(1)}`,
    ],
  }[rekor]
  return [
    // Fulcio and TSA start times are left to their defaults (root / leaf notBefore).
    '--fulcio',
    `url=${sigstore.fulcio.url},certificate-chain=fulcio-chain.pem`,
    ...rekorFlags,
    '--ctfe',
    `url=${ct.baseUrl},public-key=ctfe.pub,start-time=${iso(ct.publicKey.validFor.start)}`,
    '--tsa',
    `url=${sigstore.tsa.url},certificate-chain=tsa-chain.pem`,
  ]
}

async function create(name: string, rekor: Parameters<typeof specs>[0]): Promise<TrustedRoot> {
  const r = await cli(['trusted-root', 'create', ...specs(rekor), '--out', name], { cwd: dir })
  expect(r.code, r.stderr).toBe(0)
  return parseTrustedRoot(readFileSync(join(dir, name)))
}

const verifyBlob = (root: string, bundle: string) =>
  cli(
    [
      'verify-blob',
      '--certificate-identity',
      MOCK_IDENTITY,
      '--certificate-oidc-issuer',
      MOCK_OIDC_ISSUER,
      '--trusted-root',
      root,
      '--bundle',
      bundle,
      'blob.txt',
    ],
    { cwd: dir },
  )

describe('countersign trusted-root create (local Sigstore stack)', () => {
  it('writes the stack’s services: the same logs as its own root, CAs and TSAs from the certificates', async () => {
    const created = await create('created.json', 'both')
    const own = sigstore.trustedRoot
    const log = (l: TrustedRoot['tlogs'][number]) => ({
      baseUrl: l.baseUrl,
      hashAlgorithm: l.hashAlgorithm,
      publicKey: l.publicKey,
      logId: l.logId,
    })
    expect(created.tlogs.map(log)).toEqual(own.tlogs.map(log))
    // The Rekor v2 log ID is the C2SP key ID of its origin, not the SPKI hash.
    expect(created.tlogs[1]!.logId).not.toEqual(created.tlogs[0]!.logId)
    expect(created.ctlogs.map(log)).toEqual(own.ctlogs.map(log))
    const authority = (ca: TrustedRoot['certificateAuthorities'][number]) => ({ uri: ca.uri, certChain: ca.certChain })
    expect(created.certificateAuthorities.map(authority)).toEqual(own.certificateAuthorities.map(authority))
    expect(created.timestampAuthorities.map(authority)).toEqual(own.timestampAuthorities.map(authority))
    const fulcioRoot = parseCertificate(own.certificateAuthorities[0]!.certChain.at(-1)!)
    const tsaLeaf = parseCertificate(sigstore.tsa.leaf)
    expect(created.certificateAuthorities[0]!.validFor).toEqual({ start: fulcioRoot.notBefore })
    expect(created.timestampAuthorities[0]!.validFor).toEqual({ start: tsaLeaf.notBefore })
    expect(created.timestampAuthorities[0]!.subject.commonName).toBe(
      parseCertificate(sigstore.tsa.root).subject.attributes.find((a) => a.oid === '2.5.4.3')?.value,
    )
  })

  it('verifies the stack’s Rekor v1 and v2 bundles (verify-blob, verify-bundle)', async () => {
    await create('ok.json', 'both')
    for (const bundle of ['v1.sigstore.json', 'v2.sigstore.json']) {
      const r = await verifyBlob('ok.json', bundle)
      expect(r.code, `${bundle}: ${r.stderr}`).toBe(0)
    }
    const vb = await cli(
      [
        'verify-bundle',
        '--bundle',
        'v2.sigstore.json',
        '--certificate-identity',
        MOCK_IDENTITY,
        '--certificate-oidc-issuer',
        MOCK_OIDC_ISSUER,
        '--trusted-root',
        'ok.json',
        'blob.txt',
      ],
      { cwd: dir },
    )
    expect(vb.code, vb.stderr).toBe(0)
  })

  it('without the Rekor keys both bundles fail; without the v2 origin the v2 bundle fails', async () => {
    await create('no-rekor.json', 'none')
    for (const bundle of ['v1.sigstore.json', 'v2.sigstore.json']) {
      const r = await verifyBlob('no-rekor.json', bundle)
      expect(r.code, bundle).not.toBe(0)
      expect(r.stderr).toMatch(/no trusted transparency log has this log ID/)
    }
    await create('no-origin.json', 'v2-without-origin')
    expect((await verifyBlob('no-origin.json', 'v1.sigstore.json')).code).toBe(0)
    const v2 = await verifyBlob('no-origin.json', 'v2.sigstore.json')
    expect(v2.code).not.toBe(0)
    expect(v2.stderr).toMatch(/no trusted transparency log has this log ID/)
  })
})

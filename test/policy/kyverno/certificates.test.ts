// Kyverno `certificates` attestors and the trust material an attestor names for itself (`rekor.pubkey`,
// `ctlog.pubkey`, `ctlog.tsaCertChain`), with certificates made by openssl: a CA and a code-signing leaf whose key
// signs an image in an in-memory layout.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signImage } from '../../../src/image/sign.js'
import { generateKeyPair, publicKeyToPEM } from '../../../src/keys/index.js'
import { parsePrivateKey } from '../../../src/keys/parse-private.js'
import { createLayoutStore } from '../../../src/oci/layout.js'
import { createMemoryFileSystem } from '../../../src/oci/memory-fs.js'
import type { Reference } from '../../../src/oci/types.js'
import { kyvernoTrustMaterial } from '../../../src/policy/kyverno/trust-material.js'
import { parsePolicies } from '../../../src/policy/parse.js'
import { verifyImageAgainstPolicies } from '../../../src/policy/verify-policies.js'
import { createKeySigner } from '../../../src/signers/key-signer.js'
import { publicGoodTrustedRoot } from '../../../src/trust/public-good.js'
import { pushTinyImage } from '../../support/oci-image.js'

const IMAGE = 'localhost/demo/app:v1'
let dir: string
const pem = (name: string) => readFileSync(join(dir, name), 'utf8')

function openssl(...args: string[]) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
}

/** A CA, a code-signing leaf it issued, and a second CA that issued nothing. */
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kyverno-certs-'))
  for (const ca of ['ca', 'other-ca']) {
    openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${ca}.key`)
    openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      `${ca}.key`,
      '-subj',
      `/CN=${ca}`,
      '-days',
      '30',
      '-out',
      `${ca}.pem`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    )
  }
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'leaf.ec')
  openssl('pkcs8', '-topk8', '-nocrypt', '-in', 'leaf.ec', '-out', 'leaf.key')
  openssl('req', '-new', '-key', 'leaf.key', '-subj', '/CN=release', '-out', 'leaf.csr')
  writeFileSync(join(dir, 'leaf.ext'), 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n')
  openssl(
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '10',
    '-extfile',
    'leaf.ext',
    '-out',
    'leaf.pem',
  )
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function policy(certificates: Record<string, unknown>) {
  return parsePolicies({
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: 'certs' },
    spec: {
      validationFailureAction: 'Enforce',
      rules: [
        {
          name: 'r',
          verifyImages: [
            {
              imageReferences: ['localhost/demo/*'],
              attestors: [{ entries: [{ certificates: { ...certificates, rekor: { ignoreTlog: true } } }] }],
            },
          ],
        },
      ],
    },
  }).kyverno
}

describe('Kyverno certificates attestors', () => {
  it('cert (PEM or base64 of PEM): its key verifies; with certChain it must also chain to it', async () => {
    const store = createLayoutStore(createMemoryFileSystem())
    const ref: Reference = { registry: 'localhost', repository: 'demo/app', tag: 'v1' }
    await pushTinyImage(store, ref, 'certs')
    await signImage(ref, createKeySigner(parsePrivateKey(pem('leaf.key'))), {
      store,
      tlogUpload: false,
      format: 'legacy',
    })
    const check = async (c: Record<string, unknown>) => verifyImageAgainstPolicies(IMAGE, policy(c), { store })
    expect((await check({ cert: pem('leaf.pem') })).allowed).toBe(true)
    expect((await check({ cert: Buffer.from(pem('leaf.pem')).toString('base64') })).allowed).toBe(true)
    expect((await check({ cert: pem('leaf.pem'), certChain: pem('ca.pem') })).allowed).toBe(true)
    const foreign = await check({ cert: pem('leaf.pem'), certChain: pem('other-ca.pem') })
    expect(foreign.allowed).toBe(false)
    expect(foreign.reasons[0]!.message).toMatch(/certificates\.cert: /)
    // A certificate of another key does not verify the signature.
    expect((await check({ cert: pem('ca.pem') })).allowed).toBe(false)
  })
})

describe('trust material named by an attestor', () => {
  it('rekor.pubkey and ctlog.pubkey replace the logs (log ID from the key), tsaCertChain the TSAs', async () => {
    const rekorKey = await generateKeyPair()
    const ctKey = await generateKeyPair()
    const base = publicGoodTrustedRoot()
    const { root, useSignedTimestamps } = kyvernoTrustMaterial(base, {
      rekor: { url: 'https://rekor.example.com', pubkey: publicKeyToPEM(rekorKey.publicKey) },
      ctlog: { pubkey: publicKeyToPEM(ctKey.publicKey) },
    })
    expect(useSignedTimestamps).toBe(false)
    expect(root.tlogs).toHaveLength(1)
    expect(root.tlogs[0]!.baseUrl).toBe('https://rekor.example.com')
    const spkiHash = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(rekorKey.publicKey.spki)))
    expect(root.tlogs[0]!.logId).toEqual(spkiHash)
    expect(root.ctlogs).toHaveLength(1)
    expect(root.certificateAuthorities).toBe(base.certificateAuthorities)
    const tsa = kyvernoTrustMaterial(base, { ctlog: { tsaCertChain: pem('leaf.pem') + pem('ca.pem') } })
    expect(tsa.useSignedTimestamps).toBe(true)
    expect(tsa.root.timestampAuthorities[0]!.certChain).toHaveLength(2)
    expect(() => kyvernoTrustMaterial(base, { rekor: { pubkey: 'not a key' } })).toThrow(/^rekor\.pubkey: /)
  })
})

// `countersign policy verify` through the in-process CLI runner, on OCI layouts on disk.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { signImage } from '../../src/image/sign.js'
import { generateKeyPair, publicKeyToPEM } from '../../src/keys/index.js'
import { openLayout } from '../../src/node/layout-fs.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'

async function fixture() {
  const cwd = await mkdtemp(join(tmpdir(), 'cs-policy-'))
  const key = await generateKeyPair()
  const ref = (name: string) => ({ registry: 'localhost', repository: name, tag: 'latest' })
  const signedStore = openLayout(join(cwd, 'signed-demo'), { create: true })
  await pushTinyImage(signedStore, ref('signed-demo'), 'signed')
  await signImage(ref('signed-demo'), createKeySigner(key), { store: signedStore, tlogUpload: false })
  await pushTinyImage(openLayout(join(cwd, 'unsigned-demo'), { create: true }), ref('unsigned-demo'), 'unsigned')
  const policy = `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: demo-signed
spec:
  images:
  - glob: "**demo**"
  authorities:
  - name: release
    key:
      data: |
${publicKeyToPEM(key.publicKey)
  .trim()
  .split('\n')
  .map((l) => `        ${l}`)
  .join('\n')}
`
  await writeFile(join(cwd, 'policy.yaml'), policy)
  return { cwd }
}

describe('countersign policy verify', () => {
  it('allows a signed image (exit 0) and denies an unsigned one (exit 1) with its reason', async () => {
    const { cwd } = await fixture()
    const ok = await cli(['policy', 'verify', '--policy', 'policy.yaml', 'oci:signed-demo'], { cwd })
    expect(ok.code).toBe(0)
    expect(ok.stdout.toString()).toMatch(
      /^localhost\/signed-demo:latest \(sha256:[0-9a-f]{64}\): ALLOWED\n {2}policies: demo-signed\n$/,
    )
    const both = await cli(['policy', 'verify', '--policy', 'policy.yaml', 'oci:signed-demo', 'oci:unsigned-demo'], {
      cwd,
    })
    expect(both.code).toBe(1)
    expect(both.stdout.toString()).toContain(
      'localhost/unsigned-demo:latest: policy demo-signed, authority release: signature: no signatures found',
    )
  })

  it('-o json prints every decision in full', async () => {
    const { cwd } = await fixture()
    const r = await cli(
      ['policy', 'verify', '--policy', 'policy.yaml', '-o', 'json', 'oci:unsigned-demo', 'oci:signed-demo'],
      { cwd },
    )
    expect(r.code).toBe(1)
    const decisions = JSON.parse(r.stdout.toString())
    expect(decisions.map((d: { allowed: boolean }) => d.allowed)).toEqual([false, true])
    expect(decisions[0]).toMatchObject({
      image: 'localhost/unsigned-demo:latest',
      matched: ['demo-signed'],
      reasons: [{ policy: 'demo-signed', authority: 'release', check: 'signature' }],
      policies: [{ name: 'demo-signed', mode: 'enforce', passed: false }],
    })
  })

  it('no-match policy is configurable; bad policies and flags fail with clear errors', async () => {
    const { cwd } = await fixture()
    await writeFile(
      join(cwd, 'other.yaml'),
      'apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: other}\nspec:\n  images: [{glob: "ghcr.io/**"}]\n  authorities: [{static: {action: pass}}]\n',
    )
    const deny = await cli(['policy', 'verify', '--policy', 'other.yaml', 'oci:signed-demo'], { cwd })
    expect(deny.code).toBe(1)
    expect(deny.stdout.toString()).toContain('match: no matching policies')
    const warn = await cli(
      ['policy', 'verify', '--policy', 'other.yaml', '--no-match-policy', 'warn', 'oci:signed-demo'],
      { cwd },
    )
    expect(warn.code).toBe(0)
    expect(warn.stdout.toString()).toContain('warning: localhost/signed-demo:latest: match: no matching policies')

    await writeFile(
      join(cwd, 'bad.yaml'),
      'apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: bad}\nspec:\n  images: [{glob: "[x"}]\n',
    )
    const bad = await cli(['policy', 'verify', '--policy', 'bad.yaml', 'oci:signed-demo'], { cwd })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('policy "bad": spec.images[0].glob')
    expect(bad.stderr).toContain('policy "bad": spec.authorities: missing field(s)')
    const noSub = await cli(['policy', '--policy', 'policy.yaml'], { cwd })
    expect(noSub.stderr).toContain('use verify')
    const missing = await cli(['policy', 'verify', '--policy', 'nope.yaml', 'oci:signed-demo'], { cwd })
    expect(missing.stderr).toContain('reading policy nope.yaml')
    const badRoot = await cli(
      ['policy', 'verify', '--policy', 'policy.yaml', '--trust-root', 'noequals', 'oci:signed-demo'],
      { cwd },
    )
    expect(badRoot.stderr).toContain('--trust-root expects NAME=FILE')
  })
})

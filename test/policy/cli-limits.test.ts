// `policy verify` reads its policy and trusted-root files within their size limits (issue 18): an oversized file is
// refused before it is parsed, with ERR_INVALID_INPUT naming the file and the limit.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'

const POLICY =
  'apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: p}\nspec:\n  images: [{glob: "**"}]\n  authorities: [{static: {action: pass}}]\n'

describe('countersign policy verify: input size limits', () => {
  it('refuses a policy file over 4 MiB, and a --trust-root or --trusted-root file over 4 MiB', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'cs-policy-limits-'))
    const huge = `# ${'x'.repeat(4 * 1024 * 1024)}\n`
    await writeFile(join(cwd, 'big.yaml'), `${POLICY}${huge}`)
    await writeFile(join(cwd, 'policy.yaml'), POLICY)
    await writeFile(join(cwd, 'root.json'), `{"mediaType": "x", "pad": "${'x'.repeat(4 * 1024 * 1024)}"}`)

    const big = await cli(['policy', 'verify', '--policy', 'big.yaml', 'oci:nothing'], { cwd })
    expect(big.code).not.toBe(0)
    expect(big.stderr).toContain('big.yaml: policy file is larger than 4194304 bytes')

    const named = await cli(['policy', 'verify', '--policy', 'policy.yaml', '--trust-root', 'r=root.json', 'oci:x'], {
      cwd,
    })
    expect(named.code).not.toBe(0)
    expect(named.stderr).toContain('root.json: trusted root is larger than 4194304 bytes')

    const root = await cli(['policy', 'verify', '--policy', 'policy.yaml', '--trusted-root', 'root.json', 'oci:x'], {
      cwd,
    })
    expect(root.stderr).toContain('root.json: trusted root is larger than 4194304 bytes')

    const missing = await cli(['policy', 'verify', '--policy', 'policy.yaml', '--trust-root', 'r=nope.json', 'oci:x'], {
      cwd,
    })
    expect(missing.stderr).toContain('reading trusted root nope.json: ENOENT')
  })
})

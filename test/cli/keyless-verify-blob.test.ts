/**
 * CLI `verify-blob --bundle` keyless, on the sigstore-conformance happy-path v0.3 bundle (test/vectors/bundles, with
 * its artifact, identity and issuer from case.json, and its trusted_root.json through --trusted-root).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'

const dir = join(import.meta.dirname, '../vectors/bundles/conformance-happy-path-v0.3')
const IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main'
const ISSUER = 'https://token.actions.githubusercontent.com'
const cwd = mkdtempSync(join(tmpdir(), 'cs-keyless-blob-'))
const base = [
  'verify-blob',
  '--bundle',
  join(dir, 'bundle.sigstore.json'),
  '--trusted-root',
  join(dir, 'trusted_root.json'),
]
const artifact = join(dir, 'artifact')

describe('verify-blob keyless (--bundle with a certificate)', () => {
  it('passes with the right identity and issuer, exact or regexp', async () => {
    const ok = await cli([...base, '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, artifact], {
      cwd,
    })
    expect(ok).toMatchObject({ code: 0, stderr: 'Verified OK\n' })
    const re = await cli(
      [
        ...base,
        '--certificate-identity-regexp',
        '^https://github\\.com/sigstore-conformance/',
        '--certificate-oidc-issuer-regexp',
        'githubusercontent',
        '--certificate-github-workflow-repository',
        'sigstore-conformance/extremely-dangerous-public-oidc-beacon',
        artifact,
      ],
      { cwd },
    )
    expect(re).toMatchObject({ code: 0, stderr: 'Verified OK\n' })
  })

  it('uses the embedded public-good root without --trusted-root', async () => {
    const ok = await cli(
      [
        'verify-blob',
        '--bundle',
        join(dir, 'bundle.sigstore.json'),
        '--certificate-identity',
        IDENTITY,
        '--certificate-oidc-issuer',
        ISSUER,
        artifact,
      ],
      { cwd },
    )
    expect(ok).toMatchObject({ code: 0, stderr: 'Verified OK\n' })
  })

  it('fails (exit 1, clear message) with a wrong identity, issuer, workflow claim or artifact', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--certificate-identity', 'https://example.com/x', '--certificate-oidc-issuer', ISSUER],
        /certificate identity .* does not match/,
      ],
      [
        ['--certificate-identity', IDENTITY, '--certificate-oidc-issuer', 'https://accounts.google.com'],
        /certificate issuer .* does not match/,
      ],
      [
        [
          '--certificate-identity',
          IDENTITY,
          '--certificate-oidc-issuer',
          ISSUER,
          '--certificate-github-workflow-sha',
          'abc',
        ],
        /githubWorkflowSha/,
      ],
    ]
    for (const [flags, message] of cases) {
      const r = await cli([...base, ...flags, artifact], { cwd })
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/^Error: /)
      expect(r.stderr).toMatch(message)
    }
    const other = await cli(
      [...base, '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER, join(dir, 'case.json')],
      { cwd },
    )
    expect(other.code).toBe(1)
  })

  it("refuses cosign's invalid flag combinations with cosign's texts", async () => {
    const noIssuer = await cli([...base, '--certificate-identity', IDENTITY, artifact], { cwd })
    expect(noIssuer.code).toBe(1)
    expect(noIssuer.stderr).toContain(
      '--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode',
    )
    const noIdentity = await cli([...base, '--certificate-oidc-issuer', ISSUER, artifact], { cwd })
    expect(noIdentity.stderr).toContain(
      '--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode',
    )
    const badRoot = await cli(
      [
        'verify-blob',
        '--bundle',
        join(dir, 'bundle.sigstore.json'),
        '--trusted-root',
        join(dir, 'README'),
        '--certificate-identity',
        IDENTITY,
        '--certificate-oidc-issuer',
        ISSUER,
        artifact,
      ],
      { cwd },
    )
    expect(badRoot.code).toBe(1)
    expect(badRoot.stderr).toMatch(/trusted root/)
  })
})

/**
 * `--key` help names every key reference form the loaders accept: a file, `env://NAME`, and each KMS scheme the KMS
 * dispatch knows (taken from the same list, so a new scheme cannot be left out of the help).
 */
import { describe, expect, it } from 'vitest'
import { VERBS } from '../../src/cli/registry.js'
import { KMS_SCHEMES } from '../../src/kms/uri.js'
import { cli } from '../support/cli.js'

const FORMS = ['env://NAME', ...KMS_SCHEMES.map((s) => `${s}://`)]

describe('--key help', () => {
  it('names a file, env://NAME and every KMS scheme on every verb whose --key takes them', async () => {
    expect(KMS_SCHEMES).toEqual(expect.arrayContaining(['awskms', 'gcpkms', 'azurekms', 'hashivault']))
    const verbs = ['sign', 'attest', 'sign-blob', 'attest-blob', 'public-key', 'verify', 'verify-attestation']
    for (const verb of [...verbs, 'verify-blob', 'verify-blob-attestation']) {
      const r = await cli([verb, '--help'], { cwd: '/tmp' })
      expect(r.code).toBe(0)
      const line = r.stdout.split('\n').find((l) => /^\s+--key /.test(l))
      expect(line, verb).toBeDefined()
      expect(line).toMatch(/path to (the|a) (private|public) key file/)
      for (const form of FORMS) expect(line, `${verb} --key: ${form}`).toContain(form)
      // Kubernetes secrets (cosign's k8s://) are not supported, so not offered.
      expect(line).not.toContain('k8s://')
    }
  })

  it('says where a verb takes files only (verify-bundle reads the key itself)', async () => {
    const r = await cli(['verify-bundle', '--help'], { cwd: '/tmp' })
    const line = r.stdout.split('\n').find((l) => /^\s+--key /.test(l))!
    expect(line).toContain('files only')
    expect(line).not.toContain('env://')
  })

  it('every verb loads (the help of each renders)', async () => {
    for (const entry of VERBS) {
      const r = await cli([entry.name, '--help'], { cwd: '/tmp' })
      expect(r.code, entry.name).toBe(0)
      expect(r.stdout).toContain('Usage:')
    }
  })
})

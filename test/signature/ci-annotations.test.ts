import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openLayout } from '../../src/node/layout-fs.js'
import { ciAnnotations } from '../../src/signature/ci-annotations.js'
import { cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'

const github = {
  GITHUB_ACTIONS: 'true',
  GITHUB_REPOSITORY: 'acme/app',
  GITHUB_SHA: 'a'.repeat(40),
  GITHUB_REF: 'refs/heads/main',
  GITHUB_WORKFLOW_REF: 'acme/app/.github/workflows/release.yml@refs/heads/main',
  GITHUB_WORKFLOW: 'release',
  GITHUB_RUN_ID: '42',
  GITHUB_RUN_ATTEMPT: '1',
}

describe('ciAnnotations', () => {
  it('reads GitHub Actions and GitLab CI provenance, nothing elsewhere', () => {
    expect(ciAnnotations(github)).toEqual({
      ci: 'github-actions',
      repo: 'acme/app',
      sha: 'a'.repeat(40),
      ref: 'refs/heads/main',
      workflow: 'acme/app/.github/workflows/release.yml@refs/heads/main',
      run_id: '42',
      run_attempt: '1',
    })
    expect(
      ciAnnotations({
        GITLAB_CI: 'true',
        CI_PROJECT_PATH: 'g/p',
        CI_COMMIT_SHA: 'b'.repeat(40),
        CI_PIPELINE_ID: '7',
        CI_JOB_ID: '',
      }),
    ).toEqual({ ci: 'gitlab-ci', repo: 'g/p', sha: 'b'.repeat(40), pipeline_id: '7' })
    expect(ciAnnotations({ PATH: '/usr/bin' })).toEqual({})
  })

  it('sign --ci-annotations signs them (verify -a requires them); -a overrides a CI value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ci-ann-'))
    const env = { COSIGN_PASSWORD: 'pw', ...github }
    await pushTinyImage(
      openLayout(join(dir, 'img'), { create: true }),
      { registry: 'localhost', repository: 'img', tag: 'v1' },
      'ci',
    )
    expect((await cli(['generate-key-pair'], { cwd: dir, env })).code).toBe(0)
    const sign = await cli(
      ['sign', '--key', 'cosign.key', '--tlog-upload=false', '--ci-annotations', '-a', 'ref=override', 'oci:img:v1'],
      { cwd: dir, env },
    )
    expect(sign.code, sign.stderr).toBe(0)
    const verify = (a: string) =>
      cli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', '-a', a, 'oci:img:v1'], { cwd: dir, env })
    expect((await verify('run_id=42')).code).toBe(0)
    expect((await verify('ref=override')).code).toBe(0)
    expect((await verify('run_id=43')).code).toBe(12)
  })
})

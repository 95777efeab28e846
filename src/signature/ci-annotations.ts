/**
 * Provenance annotations from the CI environment a signature is made in (GitHub Actions, GitLab CI): which
 * repository, commit, workflow and run produced it. They go into the signed payload like `-a key=value` annotations,
 * so `verify -a sha=…` can require them.
 * @module
 */

/**
 * Environment variables as read (`process.env` in Node).
 *
 * Exported from `countersign/signature`.
 */
export type CIEnvironment = Readonly<Record<string, string | undefined>>

function pick(entries: readonly (readonly [string, string | undefined])[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of entries) if (v !== undefined && v !== '') out[k] = v
  return out
}

/**
 * The CI provenance of the current job: `ci`, `repo`, `sha`, `ref`, `workflow`, `run_id`, `run_attempt` (GitHub
 * Actions, from `GITHUB_*`) or `ci`, `repo`, `sha`, `ref`, `pipeline_id`, `job_id`, `job_url` (GitLab CI, from
 * `CI_*`). Empty outside those. Values are the variables' own; nothing is fetched.
 *
 * @param env - The environment.
 * @returns Annotation key/value pairs.
 * @example
 * ```ts
 * import { ciAnnotations } from 'countersign/signature'
 * await signImage(ref, signer, { store, witness, annotations: { ...ciAnnotations(process.env), env: 'prod' } })
 * ```
 *
 * Exported from `countersign/signature`.
 */
export function ciAnnotations(env: CIEnvironment): Record<string, string> {
  if (env.GITHUB_ACTIONS === 'true') {
    return pick([
      ['ci', 'github-actions'],
      ['repo', env.GITHUB_REPOSITORY],
      ['sha', env.GITHUB_SHA],
      ['ref', env.GITHUB_REF],
      // GITHUB_WORKFLOW_REF names the file and ref (owner/repo/.github/workflows/x.yml@refs/…); the name is a fallback.
      ['workflow', env.GITHUB_WORKFLOW_REF || env.GITHUB_WORKFLOW],
      ['run_id', env.GITHUB_RUN_ID],
      ['run_attempt', env.GITHUB_RUN_ATTEMPT],
    ])
  }
  if (env.GITLAB_CI === 'true') {
    return pick([
      ['ci', 'gitlab-ci'],
      ['repo', env.CI_PROJECT_PATH],
      ['sha', env.CI_COMMIT_SHA],
      ['ref', env.CI_COMMIT_REF_NAME],
      ['pipeline_id', env.CI_PIPELINE_ID],
      ['job_id', env.CI_JOB_ID],
      ['job_url', env.CI_JOB_URL],
    ])
  }
  return {}
}

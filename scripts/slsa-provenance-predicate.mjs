// Prints a SLSA provenance v1 predicate (https://slsa.dev/spec/v1.0/provenance) for the GitHub Actions run it is
// started from, for `countersign attest-blob --type slsaprovenance1 --predicate FILE`. It follows GitHub's build type
// for a top-level workflow (https://actions.github.io/buildtypes/workflow/v1, README of github.com/actions/buildtypes):
// every value comes from the default environment variables of a run, nothing from the network or the event payload.
//
//   node scripts/slsa-provenance-predicate.mjs > provenance.json
//
// A missing variable, or a workflow reference that does not name this repository and ref, is an error (exit 1):
// a predicate with a guessed field would be signed as if it were true.
const BUILD_TYPE = 'https://actions.github.io/buildtypes/workflow/v1'

const REQUIRED = [
  'GITHUB_SERVER_URL',
  'GITHUB_REPOSITORY',
  'GITHUB_REPOSITORY_ID',
  'GITHUB_REPOSITORY_OWNER_ID',
  'GITHUB_REF',
  'GITHUB_SHA',
  'GITHUB_WORKFLOW_REF',
  'GITHUB_EVENT_NAME',
  'GITHUB_RUN_ID',
  'GITHUB_RUN_ATTEMPT',
  'RUNNER_ENVIRONMENT',
]

/** The predicate for the run described by `env`; throws an Error naming what is missing or inconsistent. */
function provenancePredicate(env) {
  const missing = REQUIRED.filter((name) => !env[name])
  if (missing.length > 0) throw new Error(`not in a GitHub Actions run: ${missing.join(', ')} not set`)
  const server = env.GITHUB_SERVER_URL.replace(/\/+$/, '')
  const repository = `${server}/${env.GITHUB_REPOSITORY}`
  // GITHUB_WORKFLOW_REF is "<owner>/<repo>/<path>@<ref>"; the path and the ref may both contain "@", so the path is
  // what lies between the known prefix and suffix (the build type's rule), not what a split on "@" gives.
  const prefix = `${env.GITHUB_REPOSITORY}/`
  const suffix = `@${env.GITHUB_REF}`
  const workflowRef = env.GITHUB_WORKFLOW_REF
  if (
    !workflowRef.startsWith(prefix) ||
    !workflowRef.endsWith(suffix) ||
    workflowRef.length <= prefix.length + suffix.length
  ) {
    throw new Error(
      `GITHUB_WORKFLOW_REF ${workflowRef} is not a workflow of ${env.GITHUB_REPOSITORY} at ${env.GITHUB_REF}`,
    )
  }
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(env.GITHUB_SHA))
    throw new Error(`GITHUB_SHA ${env.GITHUB_SHA} is not a commit id`)
  return {
    buildDefinition: {
      buildType: BUILD_TYPE,
      externalParameters: {
        runner_environment: env.RUNNER_ENVIRONMENT,
        workflow: {
          ref: env.GITHUB_REF,
          repository,
          path: workflowRef.slice(prefix.length, workflowRef.length - suffix.length),
        },
      },
      internalParameters: {
        github: {
          event_name: env.GITHUB_EVENT_NAME,
          repository_id: env.GITHUB_REPOSITORY_ID,
          repository_owner_id: env.GITHUB_REPOSITORY_OWNER_ID,
        },
      },
      resolvedDependencies: [{ uri: `git+${repository}@${env.GITHUB_REF}`, digest: { gitCommit: env.GITHUB_SHA } }],
    },
    runDetails: {
      // The workflow that signs the provenance is the builder (a top-level workflow: job_workflow_ref = workflow_ref).
      builder: { id: `${server}/${workflowRef}` },
      metadata: {
        invocationId: `${repository}/actions/runs/${env.GITHUB_RUN_ID}/attempts/${env.GITHUB_RUN_ATTEMPT}`,
      },
    },
  }
}

try {
  process.stdout.write(`${JSON.stringify(provenancePredicate(process.env), null, 2)}\n`)
} catch (error) {
  process.stderr.write(`slsa-provenance-predicate: ${error.message}\n`)
  process.exitCode = 1
}

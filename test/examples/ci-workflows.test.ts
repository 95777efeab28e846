// The CI examples (examples/github-actions/*.yml, examples/gitlab-ci/.gitlab-ci.yml) run as written: every `run:`
// step and `script:` line is executed by bash, in order, against a real docker-registry (with credentials, as ghcr.io
// and GitLab's registry have), the local Sigstore stack (mock Fulcio, our Rekor, openssl TSA) and the built CLI.
//
// What is not the workflow's own text, and why:
// - The services come from a local TUF repository, named through the environment a private Sigstore deployment's
//   users set (TUF_MIRROR, TUF_ROOT_JSON): its trusted_root.json and signing_config.v0.2.json name the local Fulcio,
//   Rekor and TSA. The workflow text keeps the public-good defaults; no flag is added to any countersign call.
// - The registry: the GitHub workflows' `REGISTRY: ghcr.io` is replaced by the local registry (the one env value a
//   user adapts); GitLab's CI_REGISTRY* are predefined variables and name the local registry here.
// - Tools that cannot run here are stand-ins on PATH (test/support/ci-stand-ins.ts): `countersign` is this
//   checkout's dist/cli/main.js; `npm install -g countersign` does nothing (no network, and the checkout is what is
//   tested); `docker login/build/push/inspect` writes the Docker config and pushes a prepared tiny image with skopeo
//   (no Docker daemon); `trivy` writes a small CycloneDX SBOM after reading the image with the job's credentials.
// - `uses:` actions are carried out by the implementations in SUBSTITUTED_ACTIONS below (each says why).
// - Identity tokens: GitHub's come from a loopback token endpoint for jobs with `id-token: write`
//   (test/support/github-token-endpoint.ts), GitLab's from the `id_tokens:` the runner mints with GitLab's claims.
//   Fulcio derives the SAN from the token (GitHub: https://github.com/ + job_workflow_ref; GitLab: https:// +
//   ci_config_ref_uri); the mock Fulcio copies one claim, so tokens also carry that derived value (FULCIO_SAN_CLAIM).
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStaticCredentials } from '../../src/node/docker-config.js'
import { SIGNING_CONFIG_MEDIA_TYPE_V02 } from '../../src/oci/media-types.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { ensureDist, ROOT } from '../runtime/ensure-dist.js'
import { type CIStandIns, createCIStandIns } from '../support/ci-stand-ins.js'
import {
  type ActionImplementation,
  copyCheckout,
  type GitHubRunContext,
  runWorkflow,
  type WorkflowResult,
} from '../support/github-actions-runner.js'
import {
  FULCIO_SAN_CLAIM,
  type GitHubTokenEndpoint,
  startGitHubTokenEndpoint,
} from '../support/github-token-endpoint.js'
import { runPipeline } from '../support/gitlab-ci-runner.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'
import { type LocalSigstore, startLocalSigstore } from '../support/sigstore-stack.js'
import { startTUFRepository, type TestTUFRepository } from '../support/tuf-repo.js'

const EXAMPLES = join(ROOT, 'examples')
const KEYLESS = join(EXAMPLES, 'github-actions', 'keyless.yml')
const KEY_FROM_SECRETS = join(EXAMPLES, 'github-actions', 'key-from-secrets.yml')
const GITLAB = join(EXAMPLES, 'gitlab-ci', '.gitlab-ci.yml')
const CLI_MAIN = join(ROOT, 'dist', 'cli', 'main.js')

const GH_USER = 'acme-bot'
const GH_TOKEN = `ghs_${randomBytes(18).toString('hex')}`
const GL_USER = 'gitlab-ci-token'
const GL_TOKEN = `glcbt-${randomBytes(18).toString('hex')}`
const KEY_PASSWORD = `pw-${randomBytes(8).toString('hex')}`
/** A test runs whole workflows: several CLI processes, each signing or verifying against the local services. */
const RUN_TIMEOUT_MS = 180_000

let dir: string
let ghRegistry: TestRegistry
let glRegistry: TestRegistry
let sigstore: LocalSigstore
let tuf: TestTUFRepository
let tokens: GitHubTokenEndpoint
let tools: CIStandIns
let runnerEnv: Record<string, string>
/** The repository checkout: a Dockerfile, and the committed cosign.pub GitLab's key-based verify reads. */
let repoDir: string
let key: { privatePEM: string; publicPEM: string }
let otherKey: { privatePEM: string; publicPEM: string }

const sha = () => randomBytes(20).toString('hex')

/** A key pair as `countersign generate-key-pair` makes it (the examples' README set-up step). */
function generateKeyPair(name: string): { privatePEM: string; publicPEM: string } {
  const keyDir = join(dir, `keys-${name}`)
  mkdirSync(keyDir, { recursive: true })
  execFileSync(join(tools.binDir, 'countersign'), ['generate-key-pair'], {
    cwd: keyDir,
    env: { ...runnerEnv, HOME: keyDir, COSIGN_PASSWORD: KEY_PASSWORD },
    stdio: 'pipe',
  })
  return {
    privatePEM: readFileSync(join(keyDir, 'cosign.key'), 'utf8'),
    publicPEM: readFileSync(join(keyDir, 'cosign.pub'), 'utf8'),
  }
}

beforeAll(async () => {
  await ensureDist()
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run npm run build`)
  dir = mkdtempSync(join(tmpdir(), 'ci-workflows-'))
  ;[ghRegistry, glRegistry, sigstore, tuf, tokens] = await Promise.all([
    startRegistry({ auth: { username: GH_USER, password: GH_TOKEN } }),
    startRegistry({ auth: { username: GL_USER, password: GL_TOKEN } }),
    startLocalSigstore({ fulcioSubjectClaim: FULCIO_SAN_CLAIM }),
    startTUFRepository(),
    startGitHubTokenEndpoint(),
  ])
  // The private deployment's TUF repository: the local services' trusted root and signing config.
  const start = { start: new Date(Date.now() - 3_600_000).toISOString() }
  const service = (url: string) => ({ url, majorApiVersion: 1, validFor: start, operator: 'local-test' })
  tuf.setTarget('trusted_root.json', sigstore.trustedRootJSON)
  tuf.setTarget(
    'signing_config.v0.2.json',
    JSON.stringify({
      mediaType: SIGNING_CONFIG_MEDIA_TYPE_V02,
      caUrls: [service(sigstore.fulcio.url)],
      oidcUrls: [],
      rekorTlogUrls: [service(sigstore.rekor.url)],
      tsaUrls: [service(sigstore.tsa.url)],
      rekorTlogConfig: { selector: 'ANY' },
      tsaConfig: { selector: 'ANY' },
    }),
  )
  tuf.publish()
  const tufRootJSON = join(dir, 'tuf-root.json')
  writeFileSync(tufRootJSON, tuf.rootBytes(1))
  tools = createCIStandIns(join(dir, 'tools'), CLI_MAIN)
  runnerEnv = {
    PATH: `${tools.binDir}:${process.env.PATH}`,
    LANG: 'C.UTF-8',
    TUF_MIRROR: tuf.url,
    TUF_ROOT_JSON: tufRootJSON,
  }
  key = generateKeyPair('release')
  otherKey = generateKeyPair('other')
  repoDir = join(dir, 'repo')
  mkdirSync(repoDir)
  writeFileSync(join(repoDir, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /\n')
  writeFileSync(join(repoDir, 'cosign.pub'), key.publicPEM)
}, 120_000)

afterAll(async () => {
  await Promise.all([ghRegistry?.stop(), glRegistry?.stop(), sigstore?.close(), tuf?.stop(), tokens?.close()])
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** Push an image nobody signed; returns `repository@digest`. */
async function pushUnsigned(registry: TestRegistry, user: string, password: string): Promise<string> {
  const store = createRegistryClient({
    credentials: createStaticCredentials({ [registry.host]: { username: user, password } }),
  })
  const digest = await pushTinyImage(store, { registry: registry.host, repository: 'acme/app', tag: 'unsigned' }, sha())
  return `${registry.host}/acme/app@${digest}`
}

// ---------------------------------------------------------------------------------------------------------------
// GitHub Actions
// ---------------------------------------------------------------------------------------------------------------

/** How each `uses:` action of the workflows is carried out here, and why it is substituted. */
const SUBSTITUTED_ACTIONS: Record<string, ActionImplementation> = {
  // Cloning needs GitHub; the repository (a Dockerfile) is copied into the workspace instead.
  'actions/checkout': async ({ workspace }) => {
    copyCheckout(repoDir, workspace)
    return {}
  },
  // Nothing to set up: there is no Docker daemon, the docker stand-in pushes a prepared image.
  'docker/setup-buildx-action': async () => ({}),
  // The runner's own Node runs the CLI; it must be at least the version the workflow asks for.
  'actions/setup-node': async ({ inputs }) => {
    if (Number(process.versions.node.split('.')[0]) < Number(inputs['node-version'])) {
      throw new Error(`node ${process.versions.node} is older than the workflow's ${inputs['node-version']}`)
    }
    return {}
  },
  // What the action does: `docker login`, which writes ~/.docker/config.json (read by countersign).
  'docker/login-action': async ({ inputs, bash }) => {
    await bash('printf %s "$PASSWORD" | docker login -u "$USERNAME" --password-stdin "$REGISTRY_HOST"', {
      PASSWORD: inputs.password ?? '',
      USERNAME: inputs.username ?? '',
      REGISTRY_HOST: inputs.registry ?? '',
    })
    return {}
  },
  // `docker build` + `docker push` through the stand-in, and the action's `digest` output.
  'docker/build-push-action': async ({ inputs, bash }) => {
    if (inputs.push !== 'true') throw new Error('the examples push the image they build')
    const r = await bash(
      `mapfile -t tags < <(printf '%s\\n' "$TAGS" | tr ',' '\\n' | sed '/^ *$/d')
args=(); for t in "\${tags[@]}"; do args+=(-t "$t"); done
docker build "\${args[@]}" "$CONTEXT" >&2
for t in "\${tags[@]}"; do docker push "$t" >&2; done
docker inspect --format='{{index .RepoDigests 0}}' "\${tags[0]}"`,
      { TAGS: inputs.tags ?? '', CONTEXT: inputs.context ?? '.' },
    )
    const digest = r.stdout.trim().split('@')[1] ?? ''
    return { digest, imageid: digest }
  },
  // Syft needs the image's filesystem; the stand-in reads the image with the job's credentials and writes a small
  // SPDX 2.3 document naming it.
  'anchore/sbom-action': async ({ inputs, bash, workspace }) => {
    if (inputs.format !== 'spdx-json') throw new Error(`unexpected SBOM format ${inputs.format}`)
    const r = await bash(
      `skopeo inspect --tls-verify=false --authfile "$HOME/.docker/config.json" --format '{{.Digest}}' "docker://$IMAGE"`,
      { IMAGE: inputs.image ?? '' },
    )
    const image = inputs.image ?? ''
    writeFileSync(
      join(workspace, inputs['output-file'] ?? 'sbom.spdx.json'),
      JSON.stringify({
        spdxVersion: 'SPDX-2.3',
        dataLicense: 'CC0-1.0',
        SPDXID: 'SPDXRef-DOCUMENT',
        name: image,
        documentNamespace: `https://countersign.test/spdx/${r.stdout.trim()}`,
        creationInfo: { created: new Date().toISOString(), creators: ['Tool: ci-workflows-test'] },
        packages: [
          { SPDXID: 'SPDXRef-image', name: image, versionInfo: r.stdout.trim(), downloadLocation: 'NOASSERTION' },
        ],
      }),
    )
    return {}
  },
}

interface GitHubRun {
  readonly result: WorkflowResult
  readonly context: GitHubRunContext
  /** The digest the build pushed (the prepared image's). */
  readonly digest: string
}

async function runGitHub(
  workflow: string,
  options: {
    readonly ref?: string
    readonly sha?: string
    readonly vars?: Record<string, string>
    readonly jobs?: string[]
    readonly needs?: Record<string, Record<string, string>>
  } = {},
): Promise<GitHubRun> {
  const context: GitHubRunContext = {
    repository: 'acme/app',
    sha: options.sha ?? sha(),
    ref: options.ref ?? 'refs/heads/main',
    actor: GH_USER,
    eventName: 'push',
    runId: String(Math.floor(Math.random() * 1e10)),
    runAttempt: '1',
    workflowPath: `.github/workflows/${workflow.split('/').pop()}`,
  }
  const name = String(readFileSync(workflow, 'utf8').match(/^name: (.+)$/m)?.[1])
  tokens.setRun({
    repository: context.repository,
    sha: context.sha,
    ref: context.ref,
    workflowRef: `${context.repository}/${context.workflowPath}@${context.ref}`,
    workflowName: name,
    eventName: context.eventName,
    runId: context.runId,
    runAttempt: context.runAttempt,
    actor: context.actor,
  })
  const digest = await tools.prepareImage(`github ${workflow} ${context.sha}`)
  const result = await runWorkflow(workflow, {
    github: context,
    secrets: { GITHUB_TOKEN: GH_TOKEN, COSIGN_PRIVATE_KEY: key.privatePEM, COSIGN_PASSWORD: KEY_PASSWORD },
    vars: { COSIGN_PUBLIC_KEY: key.publicPEM, ...options.vars },
    envOverrides: { REGISTRY: ghRegistry.host },
    runnerEnv,
    idTokenEnv: tokens.env,
    actions: SUBSTITUTED_ACTIONS,
    workDir: join(dir, 'github'),
    ...(options.jobs ? { jobs: options.jobs } : {}),
    ...(options.needs ? { needs: options.needs } : {}),
  })
  return { result, context, digest }
}

/** Every step's name and status, with the failing step's output (for assertion messages). */
function describeRun(result: WorkflowResult): string {
  return Object.entries(result.jobs)
    .flatMap(([job, r]) =>
      r.steps.map(
        (s) =>
          `${job} / ${s.name}: ${s.status}${s.exitCode !== undefined ? ` (${s.exitCode})` : ''}${
            s.status === 'failure' ? `\n${s.stdout}\n${s.stderr}` : ''
          }`,
      ),
    )
    .join('\n')
}

const step = (result: WorkflowResult, job: string, name: string) => {
  const s = result.jobs[job]?.steps.find((x) => x.name === name)
  if (!s) throw new Error(`no step "${name}" in job ${job}:\n${describeRun(result)}`)
  return s
}

describe('examples/github-actions/keyless.yml', () => {
  it(
    'builds, signs keyless with the job identity, attests SBOM and provenance; the deploy job verifies all three',
    async () => {
      const issuedBefore = tokens.issued.length
      const { result, context, digest } = await runGitHub(KEYLESS)
      const report = describeRun(result)
      expect(result.jobs.build?.status, report).toBe('success')
      expect(result.jobs.deploy?.status, report).toBe('success')
      expect(result.jobs.build?.outputs).toEqual({ image: `${ghRegistry.host}/acme/app`, digest })

      // Only the job granted id-token: write got the ambient token variables; each countersign call asked once.
      expect(result.jobs.build?.idToken).toBe(true)
      expect(result.jobs.deploy?.idToken).toBe(false)
      const issued = tokens.issued.slice(issuedBefore)
      expect(issued).toHaveLength(3)
      for (const claims of issued) {
        expect(claims).toMatchObject({
          aud: 'sigstore',
          sha: context.sha,
          job_workflow_ref: `acme/app/.github/workflows/keyless.yml@refs/heads/main`,
        })
      }

      // The deploy step ran, after every verification passed.
      expect(step(result, 'deploy', 'Deploy').stdout).toContain(`${ghRegistry.host}/acme/app@${digest}`)
      for (const name of ['Verify the signature', 'Verify the SBOM attestation', 'Verify the provenance attestation']) {
        expect(step(result, 'deploy', name).exitCode, report).toBe(0)
      }
      // The install steps ran the npm stand-in (and nothing else from npm).
      expect(tools.calls().filter((c) => c === 'npm install -g countersign@0.1').length).toBeGreaterThanOrEqual(2)
    },
    RUN_TIMEOUT_MS,
  )

  it(
    'the deploy job refuses an unsigned image (exit 10) and an image signed on another branch (exit 12)',
    async () => {
      // Unsigned: the deploy job alone, handed an image nobody signed as the build's output.
      const unsigned = await pushUnsigned(ghRegistry, GH_USER, GH_TOKEN)
      const [image, digest] = unsigned.split('@') as [string, string]
      const alone = await runGitHub(KEYLESS, { jobs: ['deploy'], needs: { build: { image, digest } } })
      expect(alone.result.jobs.deploy?.status).toBe('failure')
      expect(step(alone.result, 'deploy', 'Verify the signature').exitCode, describeRun(alone.result)).toBe(10)
      expect(step(alone.result, 'deploy', 'Deploy').status).toBe('skipped')

      // The same workflow run from a feature branch: signing works, but the identity names refs/heads/feature,
      // and the deploy job accepts only main's.
      const feature = await runGitHub(KEYLESS, { ref: 'refs/heads/feature' })
      expect(feature.result.jobs.build?.status, describeRun(feature.result)).toBe('success')
      expect(feature.result.jobs.deploy?.status).toBe('failure')
      const verify = step(feature.result, 'deploy', 'Verify the signature')
      expect(verify.exitCode, describeRun(feature.result)).toBe(12)
      expect(step(feature.result, 'deploy', 'Deploy').status).toBe('skipped')
    },
    RUN_TIMEOUT_MS,
  )
})

describe('examples/github-actions/key-from-secrets.yml', () => {
  it(
    'signs with the key from secrets and the CI annotations; the deploy job verifies key and annotations',
    async () => {
      const issuedBefore = tokens.issued.length
      const { result, digest } = await runGitHub(KEY_FROM_SECRETS)
      const report = describeRun(result)
      expect(result.jobs.build?.status, report).toBe('success')
      expect(result.jobs.deploy?.status, report).toBe('success')
      expect(result.jobs.build?.outputs.digest).toBe(digest)
      // No job asked for id-token: write, and no token was requested.
      expect(result.jobs.build?.idToken).toBe(false)
      expect(tokens.issued.length).toBe(issuedBefore)
      // The signature was logged (key signatures go to Rekor too) and the deploy step ran.
      expect(step(result, 'build', 'Sign with the key from secrets').stderr).toMatch(
        /tlog entry created with index: \d+/,
      )
      expect(step(result, 'deploy', 'Deploy').stdout).toContain(digest)
    },
    RUN_TIMEOUT_MS,
  )

  it(
    'refuses an image signed for another commit (exit 12), with another key (12), or unsigned (10)',
    async () => {
      const first = await runGitHub(KEY_FROM_SECRETS)
      expect(first.result.jobs.deploy?.status, describeRun(first.result)).toBe('success')
      const built = first.result.jobs.build!.outputs as Record<string, string>

      // A deploy for a later commit handed this build's image: the git-sha annotation does not match.
      const later = await runGitHub(KEY_FROM_SECRETS, { jobs: ['deploy'], needs: { build: built } })
      expect(step(later.result, 'deploy', 'Verify the signature and its annotations').exitCode).toBe(12)
      expect(step(later.result, 'deploy', 'Deploy').status).toBe('skipped')

      // Same commit, but the repository variable holds another public key.
      const otherKeyRun = await runGitHub(KEY_FROM_SECRETS, {
        sha: first.context.sha,
        jobs: ['deploy'],
        needs: { build: built },
        vars: { COSIGN_PUBLIC_KEY: otherKey.publicPEM },
      })
      expect(step(otherKeyRun.result, 'deploy', 'Verify the signature and its annotations').exitCode).toBe(12)

      // The control: same commit and the right key pass.
      const same = await runGitHub(KEY_FROM_SECRETS, {
        sha: first.context.sha,
        jobs: ['deploy'],
        needs: { build: built },
      })
      expect(same.result.jobs.deploy?.status, describeRun(same.result)).toBe('success')

      const unsigned = await pushUnsigned(ghRegistry, GH_USER, GH_TOKEN)
      const [image, digest] = unsigned.split('@') as [string, string]
      const none = await runGitHub(KEY_FROM_SECRETS, { jobs: ['deploy'], needs: { build: { image, digest } } })
      expect(step(none.result, 'deploy', 'Verify the signature and its annotations').exitCode).toBe(10)
    },
    RUN_TIMEOUT_MS,
  )
})

// ---------------------------------------------------------------------------------------------------------------
// GitLab CI
// ---------------------------------------------------------------------------------------------------------------

interface GitLabRunOptions {
  readonly branch?: string
  readonly sha?: string
  readonly jobs?: string[]
  readonly inherited?: { dotenv?: Record<string, string>; files?: string[] }
}

async function runGitLab(options: GitLabRunOptions = {}) {
  const branch = options.branch ?? 'main'
  const commit = options.sha ?? sha()
  const digest = await tools.prepareImage(`gitlab ${commit}`)
  const minted: Record<string, unknown>[] = []
  const result = await runPipeline(GITLAB, {
    predefined: {
      CI: 'true',
      GITLAB_CI: 'true',
      CI_SERVER_HOST: 'gitlab.com',
      CI_SERVER_URL: 'https://gitlab.com',
      CI_PROJECT_PATH: 'acme/app',
      CI_PROJECT_NAMESPACE: 'acme',
      CI_DEFAULT_BRANCH: 'main',
      CI_CONFIG_PATH: '.gitlab-ci.yml',
      CI_COMMIT_SHA: commit,
      CI_COMMIT_BRANCH: branch,
      CI_COMMIT_REF_NAME: branch,
      CI_PIPELINE_ID: String(Math.floor(Math.random() * 1e9)),
      CI_PIPELINE_SOURCE: 'push',
      CI_REGISTRY: glRegistry.host,
      CI_REGISTRY_IMAGE: `${glRegistry.host}/acme/app`,
      CI_REGISTRY_USER: GL_USER,
      CI_REGISTRY_PASSWORD: GL_TOKEN,
    },
    // Masked, protected project variables, as the README asks for.
    projectVariables: { COSIGN_PRIVATE_KEY: key.privatePEM, COSIGN_PASSWORD: KEY_PASSWORD },
    runnerEnv,
    // GitLab's ID token claims (docs: "ID token authentication"), for the branch and job at hand.
    idToken(aud, job, v) {
      const ref = v.CI_COMMIT_REF_NAME!
      const ciConfigRefURI = `${v.CI_SERVER_HOST}/${v.CI_PROJECT_PATH}//${v.CI_CONFIG_PATH}@refs/heads/${ref}`
      const claims = {
        iss: v.CI_SERVER_URL,
        aud,
        sub: `project_path:${v.CI_PROJECT_PATH}:ref_type:branch:ref:${ref}`,
        email: undefined,
        email_verified: undefined,
        namespace_path: v.CI_PROJECT_NAMESPACE,
        project_path: v.CI_PROJECT_PATH,
        pipeline_id: v.CI_PIPELINE_ID,
        pipeline_source: v.CI_PIPELINE_SOURCE,
        job_id: v.CI_JOB_ID,
        ref,
        ref_type: 'branch',
        ref_path: `refs/heads/${ref}`,
        sha: v.CI_COMMIT_SHA,
        ci_config_ref_uri: ciConfigRefURI,
        ci_config_sha: v.CI_COMMIT_SHA,
        runner_environment: 'gitlab-hosted',
        [FULCIO_SAN_CLAIM]: `https://${ciConfigRefURI}`,
      }
      minted.push({ job, ...claims })
      return sigstore.fulcio.identityToken(claims)
    },
    repoDir,
    workDir: join(dir, 'gitlab'),
    ...(options.jobs ? { jobs: options.jobs } : {}),
    ...(options.inherited ? { inherited: options.inherited } : {}),
  })
  const report = Object.entries(result.jobs)
    .map(([job, r]) => `${job}: ${r.status}${r.exitCode !== undefined ? ` (${r.exitCode})` : ''}\n${r.stderr}`)
    .join('\n')
  return { result, digest, commit, minted, report }
}

describe('examples/gitlab-ci/.gitlab-ci.yml', () => {
  it(
    'builds, signs keyless (id_tokens) and with a key from CI/CD variables, attests the SBOM, verifies, deploys',
    async () => {
      const { result, digest, commit, minted, report } = await runGitLab()
      for (const job of ['build', 'sbom', 'sign-keyless', 'sign-with-key', 'verify', 'deploy']) {
        expect(result.jobs[job]?.status, `${job}\n${report}`).toBe('success')
      }
      expect(result.jobs.build?.dotenv).toEqual({ IMAGE_DIGEST: digest })
      // Only the keyless job declared id_tokens, and its token is GitLab's for the main branch.
      expect(result.jobs['sign-keyless']?.idTokens).toEqual(['SIGSTORE_ID_TOKEN'])
      expect(minted).toEqual([
        expect.objectContaining({
          job: 'sign-keyless',
          aud: 'sigstore',
          ci_config_ref_uri: 'gitlab.com/acme/app//.gitlab-ci.yml@refs/heads/main',
        }),
      ])
      expect(result.jobs['sign-keyless']?.stderr).toMatch(/tlog entry created with index: \d+/)
      expect(result.jobs.deploy?.stdout).toContain(`${glRegistry.host}/acme/app@${digest}`)
      // The build pushed through the docker stand-in, and the SBOM came from the trivy stand-in.
      const calls = tools.calls()
      expect(calls).toContain(`docker push ${glRegistry.host}/acme/app:${commit}`)
      expect(calls).toContainEqual(
        `trivy image --format cyclonedx --output sbom.cdx.json ${glRegistry.host}/acme/app@${digest}`,
      )
    },
    RUN_TIMEOUT_MS,
  )

  it(
    'a feature-branch pipeline signs, but verify (main only) fails with 12 and deploy is skipped',
    async () => {
      const { result, report } = await runGitLab({ branch: 'feature' })
      expect(result.jobs['sign-keyless']?.status, report).toBe('success')
      expect(result.jobs.verify?.status).toBe('failed')
      expect(result.jobs.verify?.exitCode, report).toBe(12)
      // The first command (the keyless signature) is the one refused: nothing was reported verified.
      expect(result.jobs.verify?.stderr).not.toContain('Verification for')
      expect(result.jobs.deploy?.status).toBe('skipped')
    },
    RUN_TIMEOUT_MS,
  )

  it(
    'verify refuses a digest signed for another commit (annotations, 12) and an unsigned image (10)',
    async () => {
      const first = await runGitLab()
      expect(first.result.jobs.verify?.status, first.report).toBe('success')

      // A later pipeline's verify job handed the first pipeline's digest: the keyless signature and SBOM (same branch
      // identity) pass, the key-based check of git-sha fails.
      const later = await runGitLab({
        jobs: ['verify', 'deploy'],
        inherited: { dotenv: first.result.jobs.build!.dotenv },
      })
      expect(later.result.jobs.verify?.exitCode, later.report).toBe(12)
      expect(later.result.jobs.verify?.stderr.match(/Verification for /g)).toHaveLength(2)
      expect(later.result.jobs.deploy?.status).toBe('skipped')

      const unsigned = await pushUnsigned(glRegistry, GL_USER, GL_TOKEN)
      const none = await runGitLab({
        jobs: ['verify', 'deploy'],
        inherited: { dotenv: { IMAGE_DIGEST: unsigned.split('@')[1]! } },
      })
      expect(none.result.jobs.verify?.exitCode, none.report).toBe(10)
      expect(none.result.jobs.deploy?.status).toBe('skipped')
    },
    RUN_TIMEOUT_MS,
  )
})

describe('the examples as users copy them', () => {
  it('name no test endpoints and set no service or trust flags: the public-good defaults apply', () => {
    for (const file of [KEYLESS, KEY_FROM_SECRETS, GITLAB]) {
      const text = readFileSync(file, 'utf8')
      expect(text).not.toMatch(/127\.0\.0\.1|localhost/)
      expect(text).not.toMatch(/--(fulcio-url|rekor-url|timestamp-server-url|trusted-root|signing-config)\b/)
      expect(text).not.toMatch(/--allow-(http|insecure)-registry|--insecure-ignore/)
    }
  })
})

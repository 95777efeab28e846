/**
 * A small GitHub Actions runner for the example workflows' tests: it runs a workflow file's jobs in `needs` order,
 * each in a fresh HOME and workspace, with GitHub's default environment (`GITHUB_SHA`, `GITHUB_OUTPUT`…), the
 * `${{ }}` contexts `github`, `env`, `secrets`, `vars`, `steps`, `needs`, and the ambient OIDC variables only for
 * jobs granted `id-token: write`. `run:` steps are executed by bash as GitHub's runner does (`shell: bash` means
 * `bash --noprofile --norc -eo pipefail`, no shell means `bash -e`); `uses:` steps are carried out by the
 * implementations the test supplies (an action without one fails the run).
 *
 * Deliberately narrow: expressions are plain context paths (no operators or functions), and workflow features the
 * examples do not use (`if:`, matrices, services, containers…) are refused rather than ignored, so a workflow that
 * starts using them fails here instead of being half-run.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse } from 'yaml'
import { runBash, type ShellResult } from './ci-shell.js'

/** The repository, commit and run a workflow runs for. */
export interface GitHubRunContext {
  readonly repository: string
  readonly sha: string
  /** e.g. `refs/heads/main`. */
  readonly ref: string
  readonly actor: string
  readonly eventName: string
  readonly runId: string
  readonly runAttempt: string
  /** Where the workflow file sits in the repository, e.g. `.github/workflows/keyless.yml`. */
  readonly workflowPath: string
  readonly serverUrl?: string
}

/** What an action implementation gets. */
export interface ActionContext {
  /** The step's `with:` inputs, expressions evaluated. */
  readonly inputs: Readonly<Record<string, string>>
  /** The step's environment (as a `run:` step would have it). */
  readonly env: Readonly<Record<string, string>>
  readonly workspace: string
  /** Run a bash script in the step's environment plus `extraEnv`; a non-zero exit throws. */
  bash(script: string, extraEnv?: Record<string, string>): Promise<ShellResult>
}

/** Carries out one `uses:` action; resolves to its outputs. Throwing fails the step. */
export type ActionImplementation = (context: ActionContext) => Promise<Record<string, string> | undefined>

/** How to run a workflow. */
export interface RunWorkflowOptions {
  readonly github: GitHubRunContext
  readonly secrets?: Readonly<Record<string, string>>
  readonly vars?: Readonly<Record<string, string>>
  /** Workflow-level `env:` values to replace (e.g. the registry), as a user adapting the file would. */
  readonly envOverrides?: Readonly<Record<string, string>>
  /** The runner machine's environment (PATH and the like); nothing else from the test process is passed. */
  readonly runnerEnv: Readonly<Record<string, string>>
  /** `ACTIONS_ID_TOKEN_REQUEST_URL` and `_TOKEN`, given only to jobs with `id-token: write`. */
  readonly idTokenEnv?: Readonly<Record<string, string>>
  /** Implementations of the `uses:` actions, keyed `owner/name` (the version is ignored). */
  readonly actions: Readonly<Record<string, ActionImplementation>>
  /** Run only these jobs (default: all); the outputs of needed jobs that are not run come from `needs`. */
  readonly jobs?: readonly string[]
  readonly needs?: Readonly<Record<string, Readonly<Record<string, string>>>>
  /** A scratch directory for the jobs' HOME, workspace and temp folders. */
  readonly workDir: string
}

export interface StepResult {
  readonly name: string
  readonly id?: string
  /** `uses` name or `run`. */
  readonly kind: string
  readonly status: 'success' | 'failure' | 'skipped'
  /** For `run:` steps. */
  readonly exitCode?: number
  readonly stdout: string
  readonly stderr: string
  readonly outputs: Readonly<Record<string, string>>
}

export interface JobResult {
  readonly status: 'success' | 'failure' | 'skipped'
  readonly steps: readonly StepResult[]
  readonly outputs: Readonly<Record<string, string>>
  /** Whether the job was given the ambient OIDC variables. */
  readonly idToken: boolean
}

export interface WorkflowResult {
  readonly jobs: Readonly<Record<string, JobResult>>
}

type Doc = Record<string, unknown>

const WORKFLOW_KEYS = new Set(['name', 'on', 'permissions', 'env', 'defaults', 'jobs'])
const JOB_KEYS = new Set(['runs-on', 'needs', 'permissions', 'outputs', 'steps', 'env', 'environment', 'defaults'])
const STEP_KEYS = new Set(['name', 'id', 'uses', 'with', 'run', 'env', 'shell', 'working-directory'])

function refuseUnknown(what: string, doc: Doc, allowed: Set<string>): void {
  for (const key of Object.keys(doc)) {
    if (!allowed.has(key)) throw new Error(`github-actions-runner: ${what}: "${key}" is not supported`)
  }
}

const asDoc = (v: unknown): Doc => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Doc) : {})
const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)])

/** Replace each `${{ path }}` with the value the contexts give it ('' when absent, as GitHub does). */
export function evaluateExpressions(text: string, contexts: Readonly<Record<string, unknown>>): string {
  return text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expr: string) => {
    if (!/^[A-Za-z_][\w-]*(\.[\w-]+)+$/.test(expr)) {
      throw new Error(`github-actions-runner: only context paths are supported, not \${{ ${expr} }}`)
    }
    const [head, ...path] = expr.split('.')
    if (!Object.hasOwn(contexts, head!)) throw new Error(`github-actions-runner: unknown context "${head}"`)
    let value: unknown = contexts[head!]
    for (const p of path) value = typeof value === 'object' && value !== null ? (value as Doc)[p] : undefined
    return value === undefined || value === null ? '' : String(value)
  })
}

const evaluateMap = (m: unknown, contexts: Readonly<Record<string, unknown>>): Record<string, string> =>
  Object.fromEntries(Object.entries(asDoc(m)).map(([k, v]) => [k, evaluateExpressions(String(v), contexts)]))

/** Parse `$GITHUB_OUTPUT` / `$GITHUB_ENV`: `name=value` lines and `name<<DELIMITER` blocks. */
export function parseCommandFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line === '') continue
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const body: string[] = []
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) body.push(lines[i]!)
      out[heredoc[1]!] = body.join('\n')
      continue
    }
    const eq = line.indexOf('=')
    if (eq <= 0) throw new Error(`github-actions-runner: malformed command file line: ${line}`)
    out[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return out
}

function hasIdTokenWrite(permissions: unknown): boolean {
  if (permissions === 'write-all') return true
  return asDoc(permissions)['id-token'] === 'write'
}

function bashArgs(shell: unknown): string[] {
  // GitHub's runner: `shell: bash` → `bash --noprofile --norc -eo pipefail {0}`; no shell on Linux → `bash -e {0}`.
  if (shell === undefined) return ['-e']
  if (shell === 'bash') return ['--noprofile', '--norc', '-eo', 'pipefail']
  throw new Error(`github-actions-runner: shell "${String(shell)}" is not supported`)
}

/** Jobs in an order where each comes after the jobs it needs (file order otherwise). */
function jobOrder(jobs: Doc): string[] {
  const order: string[] = []
  const visit = (id: string, path: string[]) => {
    if (order.includes(id)) return
    if (path.includes(id)) throw new Error(`github-actions-runner: needs cycle at ${id}`)
    if (!Object.hasOwn(jobs, id)) throw new Error(`github-actions-runner: unknown job ${id}`)
    for (const n of asList(asDoc(jobs[id]).needs)) visit(n, [...path, id])
    order.push(id)
  }
  for (const id of Object.keys(jobs)) visit(id, [])
  return order
}

/**
 * Run the workflow in `path` (or YAML text) and report every job and step.
 *
 * @example
 * const result = await runWorkflow('examples/github-actions/keyless.yml', options)
 * expect(result.jobs.deploy!.status).toBe('success')
 */
export async function runWorkflow(pathOrText: string, options: RunWorkflowOptions): Promise<WorkflowResult> {
  const text = existsSync(pathOrText) ? readFileSync(pathOrText, 'utf8') : pathOrText
  const workflow = asDoc(parse(text))
  refuseUnknown('workflow', workflow, WORKFLOW_KEYS)
  const jobs = asDoc(workflow.jobs)
  const g = options.github
  const serverUrl = g.serverUrl ?? 'https://github.com'
  const workflowName = String(workflow.name ?? g.workflowPath)
  const workflowRef = `${g.repository}/${g.workflowPath}@${g.ref}`
  const refName = g.ref.replace(/^refs\/(heads|tags)\//, '')
  const githubContext = {
    sha: g.sha,
    ref: g.ref,
    ref_name: refName,
    repository: g.repository,
    repository_owner: g.repository.split('/')[0],
    actor: g.actor,
    event_name: g.eventName,
    run_id: g.runId,
    run_attempt: g.runAttempt,
    server_url: serverUrl,
    workflow: workflowName,
    workflow_ref: workflowRef,
  }
  const base = { github: githubContext, secrets: options.secrets ?? {}, vars: options.vars ?? {} }
  const workflowEnv = { ...evaluateMap(workflow.env, { ...base, env: {} }), ...options.envOverrides }

  const results: Record<string, JobResult> = {}
  const needsContext: Record<string, { result: string; outputs: Record<string, string> }> = {}
  for (const [job, outputs] of Object.entries(options.needs ?? {})) needsContext[job] = { result: 'success', outputs }
  const selected = options.jobs ?? Object.keys(jobs)

  for (const jobId of jobOrder(jobs)) {
    if (!selected.includes(jobId)) continue
    const job = asDoc(jobs[jobId])
    refuseUnknown(`job ${jobId}`, job, JOB_KEYS)
    const needs = asList(job.needs)
    const missing = needs.filter((n) => needsContext[n]?.result !== 'success')
    if (missing.length > 0) {
      results[jobId] = { status: 'skipped', steps: [], outputs: {}, idToken: false }
      needsContext[jobId] = { result: 'skipped', outputs: {} }
      continue
    }
    const result = await runJob(jobId, job)
    results[jobId] = result
    needsContext[jobId] = { result: result.status, outputs: { ...result.outputs } }
  }
  return { jobs: results }

  async function runJob(jobId: string, job: Doc): Promise<JobResult> {
    const dir = join(options.workDir, `${jobId}-${g.runId}-${Date.now()}`)
    const home = join(dir, 'home')
    const workspace = join(dir, 'workspace')
    const temp = join(dir, 'temp')
    for (const d of [home, workspace, temp]) mkdirSync(d, { recursive: true })
    const needsCtx = Object.fromEntries(
      asList(job.needs).map((n) => [n, { result: needsContext[n]!.result, outputs: needsContext[n]!.outputs }]),
    )
    const jobContexts = { ...base, needs: needsCtx, env: workflowEnv }
    const jobEnv = { ...workflowEnv, ...evaluateMap(job.env, jobContexts) }
    const idToken = hasIdTokenWrite(job.permissions ?? workflow.permissions)
    const shell = asDoc(asDoc(job.defaults).run).shell ?? asDoc(asDoc(workflow.defaults).run).shell
    const githubEnvFile = join(temp, 'github-env')
    const fromGithubEnv: Record<string, string> = {}
    const stepOutputs: Record<string, { outputs: Record<string, string> }> = {}
    const steps: StepResult[] = []
    let failed = false

    const rawSteps = Array.isArray(job.steps) ? job.steps.map(asDoc) : []
    for (const [index, step] of rawSteps.entries()) {
      refuseUnknown(`job ${jobId} step ${index + 1}`, step, STEP_KEYS)
      const kind = step.uses !== undefined ? String(step.uses).replace(/@.*$/, '') : 'run'
      const name = String(step.name ?? (step.uses !== undefined ? `Run ${step.uses}` : String(step.run)))
      const id = step.id === undefined ? undefined : String(step.id)
      if (failed) {
        steps.push({ name, ...(id ? { id } : {}), kind, status: 'skipped', stdout: '', stderr: '', outputs: {} })
        continue
      }
      const envContext = { ...jobEnv, ...fromGithubEnv }
      const contexts = { ...base, needs: needsCtx, steps: stepOutputs, env: envContext }
      const outputFile = join(temp, `output-${index}`)
      writeFileSync(outputFile, '')
      writeFileSync(githubEnvFile, '')
      const env: Record<string, string> = {
        ...options.runnerEnv,
        HOME: home,
        CI: 'true',
        GITHUB_ACTIONS: 'true',
        GITHUB_SHA: g.sha,
        GITHUB_REF: g.ref,
        GITHUB_REF_NAME: refName,
        GITHUB_REF_TYPE: g.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
        GITHUB_REPOSITORY: g.repository,
        GITHUB_REPOSITORY_OWNER: githubContext.repository_owner!,
        GITHUB_ACTOR: g.actor,
        GITHUB_EVENT_NAME: g.eventName,
        GITHUB_RUN_ID: g.runId,
        GITHUB_RUN_ATTEMPT: g.runAttempt,
        GITHUB_SERVER_URL: serverUrl,
        GITHUB_WORKFLOW: workflowName,
        GITHUB_WORKFLOW_REF: workflowRef,
        GITHUB_JOB: jobId,
        GITHUB_WORKSPACE: workspace,
        GITHUB_OUTPUT: outputFile,
        GITHUB_ENV: githubEnvFile,
        GITHUB_STEP_SUMMARY: join(temp, 'summary.md'),
        RUNNER_OS: 'Linux',
        RUNNER_TEMP: temp,
        ...(idToken ? options.idTokenEnv : {}),
        ...envContext,
        ...evaluateMap(step.env, contexts),
      }
      const cwd = step['working-directory'] ? resolve(workspace, String(step['working-directory'])) : workspace
      let status: StepResult['status'] = 'success'
      let exitCode: number | undefined
      let stdout = ''
      let stderr = ''
      let outputs: Record<string, string> = {}
      if (step.uses !== undefined) {
        const impl = options.actions[kind]
        if (!impl) throw new Error(`github-actions-runner: no implementation for action ${kind}`)
        try {
          outputs =
            (await impl({
              inputs: evaluateMap(step.with, contexts),
              env,
              workspace,
              async bash(script, extraEnv = {}) {
                const r = await runBash(script, {
                  bashArgs: bashArgs('bash'),
                  env: { ...env, ...extraEnv },
                  cwd,
                  scriptDir: temp,
                })
                stdout += r.stdout
                stderr += r.stderr
                if (r.exitCode !== 0) throw new Error(`exit code ${r.exitCode}: ${r.stderr}`)
                return r
              },
            })) ?? {}
        } catch (e) {
          status = 'failure'
          stderr += `${(e as Error).message}\n`
        }
      } else {
        const script = evaluateExpressions(String(step.run), contexts)
        const r = await runBash(script, { bashArgs: bashArgs(step.shell ?? shell), env, cwd, scriptDir: temp })
        ;({ exitCode, stdout, stderr } = r)
        if (r.exitCode !== 0) status = 'failure'
        outputs = parseCommandFile(readFileSync(outputFile, 'utf8'))
      }
      Object.assign(fromGithubEnv, parseCommandFile(readFileSync(githubEnvFile, 'utf8')))
      if (id) stepOutputs[id] = { outputs }
      steps.push({
        name,
        ...(id ? { id } : {}),
        kind,
        status,
        ...(exitCode !== undefined ? { exitCode } : {}),
        stdout,
        stderr,
        outputs,
      })
      if (status === 'failure') failed = true
    }
    const outputs = failed
      ? {}
      : evaluateMap(job.outputs, { ...base, needs: needsCtx, steps: stepOutputs, env: jobEnv })
    return { status: failed ? 'failure' : 'success', steps, outputs, idToken }
  }
}

/**
 * Copy a directory's files into a job's workspace (what `actions/checkout` does with the repository).
 *
 * @example
 * actions: { 'actions/checkout': async ({ workspace }) => { copyCheckout(repoDir, workspace); return {} } }
 */
export function copyCheckout(from: string, workspace: string): void {
  cpSync(from, workspace, { recursive: true })
}

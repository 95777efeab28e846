/**
 * A small GitLab CI runner for the example pipeline's tests: jobs run stage by stage in file order, each in a fresh
 * HOME and a fresh copy of the repository, with `extends:` merged (hashes deep, everything else replaced, as GitLab
 * does), variables in GitLab's precedence (predefined < top-level `variables:` < job `variables:` < dotenv reports
 * of needed jobs < project CI/CD variables) and `$VAR` expansion in variable values, `id_tokens:` minted by the
 * test, `before_script` + `script` run in one bash session with `set -eo pipefail` (GitLab's bash shell), and
 * `artifacts: paths` / `artifacts: reports: dotenv` handed to later jobs (those in `needs:`, else all earlier ones).
 * A job whose needs (or, without `needs:`, any earlier job) failed is skipped.
 *
 * `image:`, `services:` and `environment:` are accepted and not acted on (the job runs on this machine); keywords the
 * example does not use (`rules:`, `include:`, `cache:`…) are refused rather than ignored.
 */
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { runBash } from './ci-shell.js'

/** How to run a pipeline. */
export interface RunPipelineOptions {
  /** Predefined variables (`CI_COMMIT_SHA`, `CI_REGISTRY`…), lowest precedence. */
  readonly predefined: Readonly<Record<string, string>>
  /** Project CI/CD variables (settings), highest precedence. */
  readonly projectVariables?: Readonly<Record<string, string>>
  /** The runner machine's environment (PATH and the like). */
  readonly runnerEnv: Readonly<Record<string, string>>
  /** The ID token GitLab would put in an `id_tokens:` variable. */
  idToken(audience: string, job: string, variables: Readonly<Record<string, string>>): string
  /** The repository checkout each job starts from. */
  readonly repoDir: string
  readonly workDir: string
  /** Run only these jobs (default all); what their needs would have produced comes from `inherited`. */
  readonly jobs?: readonly string[]
  readonly inherited?: { readonly dotenv?: Readonly<Record<string, string>>; readonly files?: readonly string[] }
}

export interface GitLabJobResult {
  readonly status: 'success' | 'failed' | 'skipped'
  readonly exitCode?: number
  readonly stdout: string
  readonly stderr: string
  /** Variables from its dotenv report. */
  readonly dotenv: Readonly<Record<string, string>>
  /** The names of the `id_tokens:` variables it was given. */
  readonly idTokens: readonly string[]
}

export interface PipelineResult {
  readonly jobs: Readonly<Record<string, GitLabJobResult>>
}

type Doc = Record<string, unknown>
const asDoc = (v: unknown): Doc => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Doc) : {})
const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)])

const TOP_LEVEL_KEYWORDS = new Set(['stages', 'variables'])
const REFUSED_TOP_LEVEL = new Set(['include', 'workflow', 'default', 'image', 'services', 'before_script', 'cache'])
const JOB_KEYS = new Set([
  'stage',
  'image',
  'services',
  'needs',
  'variables',
  'id_tokens',
  'before_script',
  'script',
  'artifacts',
  'environment',
  'extends',
])

/** Expand `$NAME` and `${NAME}` from `vars` (unknown names become empty, as in GitLab). */
export function expandVariables(value: string, vars: Readonly<Record<string, string>>): string {
  return value.replace(/\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))/g, (_, a, b) => vars[(a ?? b) as string] ?? '')
}

function deepMerge(base: Doc, over: Doc): Doc {
  const out: Doc = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const b = out[k]
    out[k] =
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      typeof b === 'object' &&
      b !== null &&
      !Array.isArray(b)
        ? deepMerge(b as Doc, v as Doc)
        : v
  }
  return out
}

/** Parse a dotenv report (`KEY=VALUE` lines). */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue
    const eq = line.indexOf('=')
    if (eq <= 0) throw new Error(`gitlab-ci-runner: malformed dotenv line: ${line}`)
    out[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return out
}

/**
 * Run the pipeline in `path` (or YAML text) and report every job.
 *
 * @example
 * const result = await runPipeline('examples/gitlab-ci/.gitlab-ci.yml', options)
 * expect(result.jobs.verify!.status).toBe('success')
 */
export async function runPipeline(pathOrText: string, options: RunPipelineOptions): Promise<PipelineResult> {
  const text = existsSync(pathOrText) ? readFileSync(pathOrText, 'utf8') : pathOrText
  const doc = asDoc(parse(text))
  for (const key of Object.keys(doc)) {
    if (REFUSED_TOP_LEVEL.has(key)) throw new Error(`gitlab-ci-runner: top-level "${key}" is not supported`)
  }
  const stages = asList(doc.stages ?? ['build', 'test', 'deploy'])
  const resolveJob = (name: string, seen: string[] = []): Doc => {
    if (seen.includes(name)) throw new Error(`gitlab-ci-runner: extends cycle at ${name}`)
    const own = asDoc(doc[name])
    let merged: Doc = {}
    for (const parent of asList(own.extends)) merged = deepMerge(merged, resolveJob(parent, [...seen, name]))
    const { extends: _, ...rest } = own
    return deepMerge(merged, rest)
  }
  const jobNames = Object.keys(doc).filter((k) => !TOP_LEVEL_KEYWORDS.has(k) && !k.startsWith('.'))
  const jobs = jobNames.map((name) => {
    const job = resolveJob(name)
    for (const key of Object.keys(job)) {
      if (!JOB_KEYS.has(key)) throw new Error(`gitlab-ci-runner: job ${name}: "${key}" is not supported`)
    }
    const stage = String(job.stage ?? 'test')
    if (!stages.includes(stage)) throw new Error(`gitlab-ci-runner: job ${name}: unknown stage ${stage}`)
    return { name, job, stage }
  })
  const ordered = stages.flatMap((s) => jobs.filter((j) => j.stage === s))
  const stageOf = (n: string) => jobs.find((j) => j.name === n)!.stage
  const selected = options.jobs ?? jobNames
  const globalVars = Object.fromEntries(Object.entries(asDoc(doc.variables)).map(([k, v]) => [k, String(v)]))

  const results: Record<string, GitLabJobResult> = {}
  const artifacts: Record<string, { files: string[]; dir: string; dotenv: Record<string, string> }> = {}
  const finished: string[] = []
  let jobCounter = 0

  for (const { name, job, stage } of ordered) {
    if (!selected.includes(name)) continue
    // With `needs:`, those jobs; without, every job of the earlier stages.
    const upstream =
      job.needs === undefined
        ? finished.filter((n) => stages.indexOf(stageOf(n)) < stages.indexOf(stage))
        : asList(job.needs)
    if (upstream.some((n) => results[n] !== undefined && results[n]!.status !== 'success')) {
      results[name] = { status: 'skipped', stdout: '', stderr: '', dotenv: {}, idTokens: [] }
      finished.push(name)
      continue
    }

    jobCounter++
    const dir = join(options.workDir, `${name}-${Date.now()}-${jobCounter}`)
    const home = join(dir, 'home')
    const workspace = join(dir, 'build')
    mkdirSync(home, { recursive: true })
    cpSync(options.repoDir, workspace, { recursive: true })
    let inheritedDotenv: Record<string, string> = { ...options.inherited?.dotenv }
    for (const f of options.inherited?.files ?? []) cpSync(f, join(workspace, f.split('/').pop()!))
    for (const n of upstream) {
      const a = artifacts[n]
      if (!a) continue
      for (const f of a.files) cpSync(join(a.dir, f), join(workspace, f), { recursive: true })
      inheritedDotenv = { ...inheritedDotenv, ...a.dotenv }
    }

    const jobId = String(1000 + jobCounter)
    const predefined = {
      ...options.predefined,
      CI_JOB_NAME: name,
      CI_JOB_STAGE: stage,
      CI_JOB_ID: jobId,
      CI_PROJECT_DIR: workspace,
    }
    const yamlVars = {
      ...globalVars,
      ...Object.fromEntries(Object.entries(asDoc(job.variables)).map(([k, v]) => [k, String(v)])),
    }
    // Expansion sees every variable the job has; two passes resolve a value that names another yaml variable.
    let vars: Record<string, string> = {
      ...predefined,
      ...yamlVars,
      ...inheritedDotenv,
      ...options.projectVariables,
    }
    for (let pass = 0; pass < 2; pass++) {
      const expanded = Object.fromEntries(Object.entries(yamlVars).map(([k, v]) => [k, expandVariables(v, vars)]))
      vars = { ...predefined, ...expanded, ...inheritedDotenv, ...options.projectVariables }
    }
    const idTokens = Object.entries(asDoc(job.id_tokens))
    for (const [variable, spec] of idTokens) {
      const aud = asDoc(spec).aud
      if (typeof aud !== 'string') throw new Error(`gitlab-ci-runner: job ${name}: id_tokens.${variable} needs aud`)
      vars[variable] = options.idToken(aud, name, vars)
    }

    const script = [...asList(job.before_script), ...asList(job.script)].join('\n')
    const r = await runBash(`set +o noclobber\n${script}`, {
      bashArgs: ['--noprofile', '--norc', '-eo', 'pipefail'],
      env: { ...options.runnerEnv, HOME: home, ...vars },
      cwd: workspace,
      scriptDir: dir,
    })
    const art = asDoc(job.artifacts)
    const dotenvFile = asDoc(art.reports).dotenv
    const dotenv =
      r.exitCode === 0 && typeof dotenvFile === 'string' && existsSync(join(workspace, dotenvFile))
        ? parseDotenv(readFileSync(join(workspace, dotenvFile), 'utf8'))
        : {}
    // Artifacts are uploaded when the job succeeds (GitLab's default `when: on_success`).
    const files = r.exitCode === 0 ? asList(art.paths).filter((f) => existsSync(join(workspace, f))) : []
    artifacts[name] = { files, dir: workspace, dotenv }
    results[name] = {
      status: r.exitCode === 0 ? 'success' : 'failed',
      exitCode: r.exitCode,
      stdout: r.stdout,
      stderr: r.stderr,
      dotenv,
      idTokens: idTokens.map(([v]) => v),
    }
    finished.push(name)
  }
  return { jobs: results }
}

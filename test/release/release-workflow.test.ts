/**
 * The release workflow (.github/workflows/release.yml) as GitHub would read it: its triggers and permissions, npm
 * provenance, and every countersign command line in its `run:` blocks parsed with the real verb's flag table, so a
 * renamed or removed flag fails here instead of in the middle of a release. Also runs the SLSA provenance generator
 * (scripts/slsa-provenance-predicate.mjs) with a fake GitHub environment and checks what it prints.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolvePredicateType } from '../../src/attestation/predicates.js'
import { normalizeSLSAProvenanceV1, SLSA_PROVENANCE_V1_PREDICATE_TYPE } from '../../src/attestation/slsa-provenance.js'
import { type ParsedFlags, parseFlags } from '../../src/cli/args.js'
import { attestBlobCommand } from '../../src/cli/commands/attest-blob.js'
import type { Command } from '../../src/cli/commands/command.js'
import { signBlobCommand } from '../../src/cli/commands/sign-blob.js'
import { verifyBlobCommand } from '../../src/cli/commands/verify-blob.js'
import { verifyBlobAttestationCommand } from '../../src/cli/commands/verify-blob-attestation.js'
import { verifyBundleCommand } from '../../src/cli/commands/verify-bundle.js'
import { countersignCommandLines, ROOT, readReleaseWorkflow, shellCommands } from './workflow-reader.js'

const workflow = readReleaseWorkflow()

/** The verbs a release may run, by name: their `Command` objects carry the flag tables the CLI parses with. */
const VERBS: ReadonlyMap<string, Command> = new Map(
  [signBlobCommand, attestBlobCommand, verifyBlobCommand, verifyBlobAttestationCommand, verifyBundleCommand].map(
    (c) => [c.name, c],
  ),
)

const ISSUER = 'https://token.actions.githubusercontent.com'
/** A GitHub Actions expression as the workflow spells it (`${{ … }}`). */
const githubExpression = (expression: string) => '$' + `{{ ${expression} }}`
/** Fulcio's SAN for a GitHub Actions token: the server URL and the (top-level) workflow's ref. */
const WORKFLOW_IDENTITY = '$GITHUB_SERVER_URL/$GITHUB_WORKFLOW_REF'

interface Invocation {
  readonly step: string
  readonly stepIndex: number
  readonly verb: string
  readonly flags: ParsedFlags
  readonly args: string[]
}

const publish = workflow.jobs.publish!
const publishSteps = publish.steps

/** Every countersign command line of the publish job, parsed with its verb's flag table (which throws on a bad flag). */
function invocations(): Invocation[] {
  return countersignCommandLines(publishSteps).map((line) => {
    const command = VERBS.get(line.verb)
    if (!command) throw new Error(`step "${line.step}": countersign ${line.verb} is not a verb this test knows`)
    const { flags, args } = parseFlags(line.argv, command.flags)
    return { step: line.step, stepIndex: line.stepIndex, verb: line.verb, flags, args }
  })
}

function only(all: readonly Invocation[], verb: string): Invocation {
  const matching = all.filter((i) => i.verb === verb)
  expect(matching, `countersign ${verb} runs once`).toHaveLength(1)
  return matching[0]!
}

function stepIndex(predicate: (run: string) => boolean): number {
  const index = publishSteps.findIndex((s) => predicate(s.run ?? ''))
  expect(index, 'step found').toBeGreaterThanOrEqual(0)
  return index
}

describe('release workflow', () => {
  it('runs on version tags only, read-only by default', () => {
    expect(Object.keys(workflow.on)).toEqual(['push'])
    expect(workflow.on.push).toEqual({ tags: ['v*'] })
    expect(workflow.permissions).toEqual({ contents: 'read' })
  })

  it('tests with .ci/run, then publishes with id-token and contents write only in the publish job', () => {
    const test = workflow.jobs.test!
    expect(test.steps.some((s) => s.run?.trim() === 'bash .ci/run')).toBe(true)
    expect(test.permissions).toBeUndefined()
    expect(publish.needs === 'test' || (Array.isArray(publish.needs) && publish.needs.includes('test'))).toBe(true)
    expect(publish.permissions).toEqual({ contents: 'write', 'id-token': 'write' })
  })

  it('pins every action by major version', () => {
    const uses = Object.values(workflow.jobs).flatMap((j) => j.steps.flatMap((s) => (s.uses ? [s.uses] : [])))
    expect(uses).toContain('actions/checkout@v4')
    expect(uses).toContain('actions/setup-node@v4')
    for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w.-]+@v\d+$/)
  })

  it('publishes the packed tarball to npm with provenance and the NPM_TOKEN secret', () => {
    const setup = publishSteps.find((s) => s.uses?.startsWith('actions/setup-node@'))
    expect(setup?.with?.['registry-url']).toBe('https://registry.npmjs.org')
    const steps = publishSteps.filter((s) => /\bnpm publish\b/.test(s.run ?? ''))
    expect(steps).toHaveLength(1)
    const [words] = shellCommands(steps[0]!.run!).filter((w) => w[0] === 'npm' && w[1] === 'publish')
    expect(words).toBeDefined()
    expect(words).toContain('--provenance')
    expect(words!.join(' ')).toContain('--access public')
    expect(words![2]).toBe('$TGZ')
    expect(steps[0]!.env).toEqual({ NODE_AUTH_TOKEN: githubExpression('secrets.NPM_TOKEN') })
    const pack = publishSteps.find((s) => /\bnpm pack\b/.test(s.run ?? ''))
    expect(pack?.run).toMatch(/TGZ=\$\(npm pack/)
  })

  it("names the repository in package.json, which the registry matches against npm's provenance", () => {
    // Without it (or with another repository) npm publish --provenance is refused with E422 after signing.
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8'))
    const url: unknown = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url
    expect(typeof url === 'string' ? url.replace(/^git\+/, '').replace(/\.git$/, '') : url).toBe(
      'https://github.com/countersign-dev/countersign',
    )
  })

  it('runs every countersign command line with flags its verb defines (built from this checkout)', () => {
    const all = invocations()
    expect(new Set(all.map((i) => i.verb))).toEqual(
      new Set(['sign-blob', 'attest-blob', 'verify-blob', 'verify-blob-attestation']),
    )
    // Every mention of the CLI was seen as a command line: none hides where the tokenizer does not look.
    const mentions = publishSteps.reduce((n, s) => n + (s.run?.match(/dist\/cli\/main\.js/g)?.length ?? 0), 0)
    expect(mentions).toBe(all.length)
    // The CLI is the build of this checkout, not a countersign installed from somewhere else.
    expect(publishSteps.some((s) => /(^|\s)countersign\s/m.test(s.run ?? ''))).toBe(false)
    const build = stepIndex((run) => run.trim() === 'npm run build')
    for (const i of all) expect(i.stepIndex, i.step).toBeGreaterThan(build)
  })

  it('signs and attests the tarball keyless, with the ambient GitHub token', () => {
    const all = invocations()
    const sign = only(all, 'sign-blob')
    const attest = only(all, 'attest-blob')
    for (const i of [sign, attest]) {
      expect(i.flags.yes, `${i.verb}: --yes (no terminal for the privacy prompt)`).toBe(true)
      expect(i.flags.key, `${i.verb}: keyless`).toBeUndefined()
      expect(i.flags['identity-token'], `${i.verb}: the token comes from GitHub`).toBeUndefined()
      expect(i.flags['oidc-disable-ambient-providers']).not.toBe(true)
      expect(i.flags['tlog-upload']).not.toBe(false)
      expect(i.args).toEqual(['$TGZ'])
    }
    expect(sign.flags.bundle).toBe('$TGZ.sigstore.json')
    expect(attest.flags.bundle).toBe('$TGZ.provenance.sigstore.json')
    expect(resolvePredicateType(String(attest.flags.type))).toBe(SLSA_PROVENANCE_V1_PREDICATE_TYPE)
    // The predicate file is the generator's output.
    const generator = publishSteps.find((s) => s.run?.includes('scripts/slsa-provenance-predicate.mjs'))
    expect(generator?.run?.trim()).toBe(`node scripts/slsa-provenance-predicate.mjs > ${attest.flags.predicate}`)
  })

  it('verifies both bundles against this workflow identity before publishing, and attaches them', () => {
    const all = invocations()
    const sign = only(all, 'sign-blob')
    const attest = only(all, 'attest-blob')
    const verify = only(all, 'verify-blob')
    const verifyAttestation = only(all, 'verify-blob-attestation')
    expect(verify.flags.bundle).toBe(sign.flags.bundle)
    expect(verifyAttestation.flags.bundle).toBe(attest.flags.bundle)
    expect(resolvePredicateType(String(verifyAttestation.flags.type))).toBe(SLSA_PROVENANCE_V1_PREDICATE_TYPE)
    for (const v of [verify, verifyAttestation]) {
      expect(v.flags['certificate-identity']).toBe(WORKFLOW_IDENTITY)
      expect(v.flags['certificate-oidc-issuer']).toBe(ISSUER)
      expect(v.flags['certificate-github-workflow-sha']).toBe('$GITHUB_SHA')
      expect(v.flags['certificate-github-workflow-repository']).toBe('$GITHUB_REPOSITORY')
      expect(v.flags['insecure-ignore-tlog']).not.toBe(true)
      expect(v.flags.key).toSatisfy((k) => k === undefined || (Array.isArray(k) && k.length === 0))
      expect(v.args).toEqual(['$TGZ'])
      expect(v.stepIndex).toBeGreaterThan(Math.max(sign.stepIndex, attest.stepIndex))
    }
    const published = stepIndex((run) => /\bnpm publish\b/.test(run))
    const uploaded = stepIndex((run) => /\bgh release upload\b/.test(run))
    expect(Math.max(verify.stepIndex, verifyAttestation.stepIndex)).toBeLessThan(published)
    expect(published).toBeLessThan(uploaded)
    const upload = shellCommands(publishSteps[uploaded]!.run!).find((w) => w[0] === 'gh' && w[2] === 'upload')!
    for (const file of ['$TGZ', sign.flags.bundle, attest.flags.bundle]) expect(upload).toContain(file)
    expect(publishSteps[uploaded]!.env?.GH_TOKEN).toBe(githubExpression('github.token'))
  })

  it('parses a bad flag as an error (the check above has teeth)', () => {
    expect(() => parseFlags(['--bundel', 'x', 'y'], signBlobCommand.flags)).toThrow(/unknown flag: --bundel/)
    expect(shellCommands('a "b c" \'$D\' x\\\n  y 2>/dev/null && e > f; g # h')).toEqual([
      ['a', 'b c', '$D', 'x', 'y'],
      ['e'],
      ['g'],
    ])
  })
})

describe('scripts/slsa-provenance-predicate.mjs', () => {
  const github = {
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'countersign-dev/countersign',
    GITHUB_REPOSITORY_ID: '812345678',
    GITHUB_REPOSITORY_OWNER_ID: '198765432',
    GITHUB_REF: 'refs/tags/v0.1.0',
    GITHUB_SHA: '4f1c1b0a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a',
    GITHUB_WORKFLOW_REF: 'countersign-dev/countersign/.github/workflows/release.yml@refs/tags/v0.1.0',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_RUN_ID: '10203040506',
    GITHUB_RUN_ATTEMPT: '2',
    RUNNER_ENVIRONMENT: 'github-hosted',
  }
  // Only these variables: a run of this test inside GitHub Actions must not read the real ones.
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['scripts/slsa-provenance-predicate.mjs'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
    })

  it('prints a SLSA v1 predicate of GitHub’s workflow build type from the run’s variables', () => {
    const r = run(github)
    expect(r.status, r.stderr).toBe(0)
    const predicate = JSON.parse(r.stdout)
    expect(predicate).toEqual({
      buildDefinition: {
        buildType: 'https://actions.github.io/buildtypes/workflow/v1',
        externalParameters: {
          runner_environment: 'github-hosted',
          workflow: {
            ref: 'refs/tags/v0.1.0',
            repository: 'https://github.com/countersign-dev/countersign',
            path: '.github/workflows/release.yml',
          },
        },
        internalParameters: {
          github: { event_name: 'push', repository_id: '812345678', repository_owner_id: '198765432' },
        },
        resolvedDependencies: [
          {
            uri: 'git+https://github.com/countersign-dev/countersign@refs/tags/v0.1.0',
            digest: { gitCommit: '4f1c1b0a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a' },
          },
        ],
      },
      runDetails: {
        builder: {
          id: 'https://github.com/countersign-dev/countersign/.github/workflows/release.yml@refs/tags/v0.1.0',
        },
        metadata: {
          invocationId: 'https://github.com/countersign-dev/countersign/actions/runs/10203040506/attempts/2',
        },
      },
    })
    // `attest-blob --type slsaprovenance1` reads the predicate as the in-toto provenance v1 proto and writes it back:
    // nothing may be dropped or renamed on the way, so what is signed is exactly what was generated.
    expect(normalizeSLSAProvenanceV1(predicate)).toEqual(predicate)
  })

  it('takes the workflow path between repository and ref, even when both contain "@"', () => {
    const r = run({
      ...github,
      GITHUB_REF: 'refs/heads/fix@2',
      GITHUB_WORKFLOW_REF: 'countersign-dev/countersign/.github/workflows/re@lease.yml@refs/heads/fix@2',
    })
    expect(r.status, r.stderr).toBe(0)
    const predicate = JSON.parse(r.stdout)
    expect(predicate.buildDefinition.externalParameters.workflow.path).toBe('.github/workflows/re@lease.yml')
    expect(predicate.buildDefinition.resolvedDependencies[0].uri).toBe(
      'git+https://github.com/countersign-dev/countersign@refs/heads/fix@2',
    )
  })

  it('refuses to guess: a missing variable or a workflow of another repository or ref fails', () => {
    const { GITHUB_SHA: _, ...noSha } = github
    const cases: [Record<string, string>, RegExp][] = [
      [noSha, /GITHUB_SHA not set/],
      [{}, /not in a GitHub Actions run: GITHUB_SERVER_URL, /],
      [
        { ...github, GITHUB_WORKFLOW_REF: 'someone/else/.github/workflows/release.yml@refs/tags/v0.1.0' },
        /is not a workflow of/,
      ],
      [
        { ...github, GITHUB_WORKFLOW_REF: 'countersign-dev/countersign/.github/workflows/release.yml@refs/heads/main' },
        /is not a workflow of/,
      ],
      [{ ...github, GITHUB_SHA: 'main' }, /is not a commit id/],
    ]
    for (const [env, message] of cases) {
      const r = run(env)
      expect(r.status).toBe(1)
      expect(r.stdout).toBe('')
      expect(r.stderr).toMatch(message)
    }
  })
})

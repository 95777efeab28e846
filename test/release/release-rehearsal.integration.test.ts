/**
 * A rehearsal of the release workflow's signing steps: the provenance generator and the countersign command lines of
 * .github/workflows/release.yml, taken from the YAML and run in order through the CLI with a fake GitHub Actions job
 * around them: the ambient OIDC token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL` / `_TOKEN`) and the GitHub
 * variables. The Sigstore services are the local stack (Fulcio mock, Rekor, an openssl TSA) instead of the public-good
 * ones, so service flags are added; the mock Fulcio certifies the token's `sub` claim and writes none of GitHub's
 * workflow extensions, so the verification steps check the mock's identity instead of the workflow's (the flags
 * themselves are checked against the verbs' tables in release-workflow.test.ts). Everything else runs as written.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'
import { type OIDCServer, startOIDCServer } from '../support/oidc-server.js'
import { type LocalSigstore, startLocalSigstore } from '../support/sigstore-stack.js'
import { countersignCommandLines, ROOT, readReleaseWorkflow, shellCommands } from './workflow-reader.js'

const GITHUB_SUBJECT = 'repo:acme/app:ref:refs/heads/main' // the `sub` of the OIDC server's GitHub Actions token

let oidc: OIDCServer
let sigstore: LocalSigstore
let dir: string
let rootPath: string

beforeAll(async () => {
  ;[oidc, sigstore] = await Promise.all([startOIDCServer(), startLocalSigstore({ fulcioSubjectClaim: 'sub' })])
  dir = mkdtempSync(join(tmpdir(), 'release-rehearsal-'))
  rootPath = join(dir, 'trusted_root.json')
  sigstore.writeTrustedRoot(rootPath)
}, 60_000)

afterAll(async () => {
  await Promise.all([oidc?.close(), sigstore?.close()])
})

/** `$NAME` and `${NAME}` replaced from `env`, as bash would expand them in double quotes. */
function expand(word: string, env: Readonly<Record<string, string>>): string {
  return word.replace(/\$(?:\{(\w+)\}|(\w+))/g, (_, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!
    const value = env[name]
    if (value === undefined) throw new Error(`the workflow uses $${name}, which the rehearsal does not set`)
    return value
  })
}

/** The value after `--name` (or in `--name=value`) in `argv`. */
function flagValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (i < 0) return undefined
  return argv[i]!.includes('=') ? argv[i]!.slice(argv[i]!.indexOf('=') + 1) : argv[i + 1]
}

/** `argv` with the flag `--name` (and its value, unless boolean) left out. */
function withoutFlag(argv: readonly string[], name: string, takesValue = true): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) i += takesValue ? 1 : 0
    else if (!argv[i]!.startsWith(`--${name}=`)) out.push(argv[i]!)
  }
  return out
}

const GITHUB_WORKFLOW_FLAGS = [
  'certificate-github-workflow-trigger',
  'certificate-github-workflow-sha',
  'certificate-github-workflow-name',
  'certificate-github-workflow-repository',
  'certificate-github-workflow-ref',
]

describe('release workflow rehearsal', () => {
  it('generates the provenance, signs and attests the tarball with the ambient token, and verifies both', async () => {
    const steps = readReleaseWorkflow().jobs.publish!.steps
    const tgz = 'countersign-0.1.0.tgz'
    const tarball = new Uint8Array(createHash('sha256').update(`tarball ${Math.random()}`).digest())
    writeFileSync(join(dir, tgz), tarball)
    const env: Record<string, string> = {
      ...oidc.githubEnv,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'countersign-dev/countersign',
      GITHUB_REPOSITORY_ID: '812345678',
      GITHUB_REPOSITORY_OWNER_ID: '198765432',
      GITHUB_REF: 'refs/tags/v0.1.0',
      GITHUB_REF_NAME: 'v0.1.0',
      GITHUB_SHA: '4f1c1b0a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a',
      GITHUB_WORKFLOW_REF: 'countersign-dev/countersign/.github/workflows/release.yml@refs/tags/v0.1.0',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_RUN_ID: '10203040506',
      GITHUB_RUN_ATTEMPT: '1',
      RUNNER_ENVIRONMENT: 'github-hosted',
      TGZ: tgz,
    }

    // The generator step, as written: its command, its output to the file the step redirects to.
    const generatorStep = steps.find((s) => s.run?.includes('scripts/slsa-provenance-predicate.mjs'))!
    const [generator] = shellCommands(generatorStep.run!)
    const predicateFile = generatorStep.run!.trim().split('>')[1]!.trim()
    const generated = spawnSync(process.execPath, generator!.slice(1), {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
    })
    expect(generated.status, generated.stderr).toBe(0)
    writeFileSync(join(dir, predicateFile), generated.stdout)

    const lines = countersignCommandLines(steps)
    expect(lines.map((l) => l.verb)).toEqual(['sign-blob', 'attest-blob', 'verify-blob', 'verify-blob-attestation'])
    for (const line of lines) {
      let argv = line.argv.map((w) => expand(w, env))
      if (line.verb === 'sign-blob' || line.verb === 'attest-blob') {
        argv = [...argv, ...sigstore.serviceFlags(rootPath)]
      } else {
        // The workflow's identity is what real Fulcio certifies for this job; the mock certifies the token's `sub`.
        expect(flagValue(argv, 'certificate-identity')).toBe(
          'https://github.com/countersign-dev/countersign/.github/workflows/release.yml@refs/tags/v0.1.0',
        )
        for (const name of GITHUB_WORKFLOW_FLAGS) argv = withoutFlag(argv, name)
        argv = withoutFlag(withoutFlag(argv, 'certificate-identity'), 'certificate-oidc-issuer')
        argv = [...argv, '--certificate-identity', GITHUB_SUBJECT, '--certificate-oidc-issuer', oidc.url]
        argv = [...argv, '--trusted-root', rootPath]
      }
      const r = await cli([line.verb, ...argv], { cwd: dir, env })
      expect(r.code, `${line.step}: ${r.stderr}`).toBe(0)
      for (const token of oidc.issued) expect(r.stderr, line.step).not.toContain(token)
    }
    // Each signing verb asked GitHub's endpoint for its own token: nothing came from elsewhere.
    expect(oidc.issued).toHaveLength(2)

    // The attestation signs the generator's predicate, unchanged, about this tarball.
    const attestation = JSON.parse(readFileSync(join(dir, `${tgz}.provenance.sigstore.json`), 'utf8'))
    const statement = JSON.parse(Buffer.from(attestation.dsseEnvelope.payload, 'base64').toString('utf8'))
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1')
    expect(statement.predicate).toEqual(JSON.parse(generated.stdout))
    expect(statement.subject).toEqual([
      { name: tgz, digest: { sha256: createHash('sha256').update(tarball).digest('hex') } },
    ])
    const signature = JSON.parse(readFileSync(join(dir, `${tgz}.sigstore.json`), 'utf8'))
    expect(signature.messageSignature.messageDigest.digest).toBe(createHash('sha256').update(tarball).digest('base64'))

    // And a tarball that is not the signed one fails both verifications.
    writeFileSync(join(dir, tgz), new Uint8Array([...tarball, 0]))
    for (const line of lines.filter((l) => l.verb.startsWith('verify-'))) {
      const argv = [
        '--bundle',
        expand(flagValue(line.argv, 'bundle')!, env),
        ...(line.verb === 'verify-blob-attestation' ? ['--type', flagValue(line.argv, 'type')!] : []),
        '--certificate-identity',
        GITHUB_SUBJECT,
        '--certificate-oidc-issuer',
        oidc.url,
        '--trusted-root',
        rootPath,
        tgz,
      ]
      const r = await cli([line.verb, ...argv], { cwd: dir, env })
      expect(r.code, `${line.verb} of another tarball`).not.toBe(0)
    }
  }, 120_000)
})

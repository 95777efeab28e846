// Issue 18: --registry-username/--registry-password/--registry-token go only to the registry of the image on the
// command line, or to the --registry-host registries when any are named; never to another registry the verb
// happens to contact (COSIGN_REPOSITORY elsewhere, a second image in `policy verify`). Two local registries ask for
// Basic auth and record the Authorization headers they receive.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { parseFlags } from '../../src/cli/args.js'
import { boundRegistryCredentials, REGISTRY_FLAGS } from '../../src/cli/flags/registry.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'
import { type RecordingRegistry, startRecordingRegistry } from '../support/recording-registry.js'

const CI = { username: 'ci-pusher', password: 'ci-registry-pw-91c2' }
const OTHER = { username: 'attacker', password: 'attacker-knows-nothing' }
const basic = (c: { username: string; password: string }) =>
  `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`
const flagCreds = ['--registry-username', CI.username, '--registry-password', CI.password]

let bound: RecordingRegistry
let other: RecordingRegistry
let dir: string

beforeAll(async () => {
  ;[bound, other] = await Promise.all([startRecordingRegistry(CI), startRecordingRegistry(OTHER)])
  for (const [reg, creds] of [
    [bound, CI],
    [other, OTHER],
  ] as const) {
    const store = createRegistryClient({ credentials: async () => creds, retry: { attempts: 0 } })
    await pushTinyImage(store, parseReference(`${reg.host}/team/app:v1`), `image on ${reg.host}`)
  }
  dir = mkdtempSync(join(tmpdir(), 'cs-cli-cred-binding-'))
  writeFileSync(
    join(dir, 'policy.yaml'),
    `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: local-registries
spec:
  images:
    - glob: "${bound.host}/**"
    - glob: "${other.host}/**"
  authorities:
    - static:
        action: pass
`,
  )
})
afterAll(async () => {
  await Promise.all([bound?.stop(), other?.stop()])
  if (dir) rmSync(dir, { recursive: true, force: true })
})
beforeEach(() => {
  bound.requests.length = 0
  other.requests.length = 0
})

describe('CLI: explicit registry credentials are bound to their registry', () => {
  it("default binding is the image's registry: COSIGN_REPOSITORY on another registry gets nothing", async () => {
    const r = await cli(['tree', ...flagCreds, `${bound.host}/team/app:v1`], {
      cwd: dir,
      env: { COSIGN_REPOSITORY: `${other.host}/signatures` },
    })
    expect(bound.authorizations()).toContain(basic(CI))
    expect(other.requests.length, r.stderr).toBeGreaterThan(0)
    expect(other.authorizations()).toEqual([])
    expect(r.stderr).not.toContain(CI.password)
  })

  it('--registry-host replaces the default: the image on another registry gets nothing', async () => {
    const r = await cli(['tree', '--registry-host', bound.host, ...flagCreds, `${other.host}/team/app:v1`], {
      cwd: dir,
    })
    expect(r.code).not.toBe(0)
    expect(other.requests.length).toBeGreaterThan(0)
    expect(other.authorizations()).toEqual([])
    expect(r.stderr).not.toContain(CI.password)
  })

  it('policy verify: the bound registry admits with the credentials, the second registry never sees them', async () => {
    const r = await cli(
      [
        'policy',
        'verify',
        '--policy',
        'policy.yaml',
        '--registry-host',
        bound.host,
        ...flagCreds,
        `${bound.host}/team/app:v1`,
        `${other.host}/team/app:v1`,
      ],
      { cwd: dir },
    )
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(new RegExp(`^${bound.host}/team/app:v1 \\(sha256:[0-9a-f]{64}\\): ALLOWED$`, 'm'))
    expect(r.stdout + r.stderr).not.toContain(CI.password)
    expect(bound.authorizations()).toContain(basic(CI))
    expect(other.requests.length).toBeGreaterThan(0)
    expect(other.authorizations()).toEqual([])
  })

  it('the Docker config gives each registry its own entry, and only that one', async () => {
    const cfg = mkdtempSync(join(tmpdir(), 'cs-cli-cred-docker-'))
    writeFileSync(
      join(cfg, 'config.json'),
      JSON.stringify({
        auths: { [bound.host]: { auth: Buffer.from(`${CI.username}:${CI.password}`).toString('base64') } },
      }),
    )
    await cli(['tree', `${bound.host}/team/app:v1`], {
      cwd: dir,
      env: { DOCKER_CONFIG: cfg, COSIGN_REPOSITORY: `${other.host}/signatures` },
    })
    expect(bound.authorizations()).toContain(basic(CI))
    expect(other.requests.length).toBeGreaterThan(0)
    expect(other.authorizations()).toEqual([])
    rmSync(cfg, { recursive: true, force: true })
  })

  it('bad --registry-host values and --registry-host without credentials are refused before any request', async () => {
    for (const host of ['https://ghcr.io', 'ghcr.io/org', 'ghcr.io:port', '-ghcr.io']) {
      const r = await cli(['tree', `--registry-host=${host}`, ...flagCreds, `${bound.host}/team/app:v1`], {
        cwd: dir,
      })
      expect(r.code, host).toBe(1)
      expect(r.stderr).toContain('--registry-host must be a registry host[:port]')
      expect(r.stderr).not.toContain(CI.password)
    }
    const r = await cli(['tree', '--registry-host', bound.host, `${bound.host}/team/app:v1`], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('--registry-host names the registries for --registry-username')
    expect(bound.requests).toEqual([])
    expect(other.requests).toEqual([])
  })
})

describe('boundRegistryCredentials', () => {
  const flags = (argv: string[]) => parseFlags(argv, REGISTRY_FLAGS).flags

  it('answers for the bound hosts only, compared as Docker compares them', async () => {
    const creds = boundRegistryCredentials(
      flags(['--registry-host', 'docker.io,Reg.Example:5000', ...flagCreds]),
      undefined,
    )!
    const want = { username: CI.username, password: CI.password }
    for (const host of ['index.docker.io', 'docker.io', 'registry-1.docker.io', 'reg.example:5000']) {
      expect(await creds(host), host).toEqual(want)
    }
    for (const host of ['reg.example', 'reg.example:5001', 'evil-reg.example:5000', 'docker.io.evil.com', 'ghcr.io']) {
      expect(await creds(host), host).toBeUndefined()
    }
  })

  it("binds to the image's registry by default, and to nothing else", async () => {
    const creds = boundRegistryCredentials(flags(['--registry-token', 'tok']), 'ghcr.io')!
    expect(await creds('ghcr.io')).toEqual({ registryToken: 'tok' })
    expect(await creds('ghcr.io:443')).toBeUndefined()
    expect(await creds('quay.io')).toBeUndefined()
  })

  it('refuses credentials with nowhere to bind them, and a user name without a password', () => {
    expect(() => boundRegistryCredentials(flags(flagCreds), undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT', message: expect.stringContaining('--registry-host HOST') }),
    )
    expect(() => boundRegistryCredentials(flags(['--registry-username', 'u']), 'ghcr.io')).toThrow(
      '--registry-username and --registry-password go together',
    )
    expect(boundRegistryCredentials(flags([]), undefined)).toBeUndefined()
  })
})

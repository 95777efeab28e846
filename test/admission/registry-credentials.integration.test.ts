// Issue 18 reproduction: the webhook started with --registry-username/--registry-password sent them to every
// registry it contacted, so a Pod naming an attacker's registry received the cluster's registry password. Two local
// registries ask for Basic auth and record what they get: the bound one receives the credentials, the other (the
// Pod's image on "another" registry) never does, whether the credentials come from flags bound with
// --registry-host or from a mounted Docker config. Flag credentials without --registry-host are refused at start.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { parseFlags } from '../../src/cli/args.js'
import { createPolicyAdmissionWebhookCommand } from '../../src/cli/commands/admission-policy.js'
import type { CliIO } from '../../src/cli/context.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { pushTinyImage } from '../support/oci-image.js'
import { type RecordingRegistry, startRecordingRegistry } from '../support/recording-registry.js'
import { loadReview, mapImages } from './fixtures.js'
import { httpsRequest, makeLoopbackCert } from './https-client.js'

const CLUSTER = { username: 'cluster-puller', password: 'cluster-registry-pw-7f3a' }
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`

let bound: RecordingRegistry
let other: RecordingRegistry
const OTHER = { username: 'attacker', password: 'attacker-knows-nothing' }

beforeAll(async () => {
  ;[bound, other] = await Promise.all([startRecordingRegistry(CLUSTER), startRecordingRegistry(OTHER)])
  for (const [reg, creds] of [
    [bound, CLUSTER],
    [other, OTHER],
  ] as const) {
    const store = createRegistryClient({ credentials: async () => creds, retry: { attempts: 0 } })
    await pushTinyImage(store, parseReference(`${reg.host}/shop/web:v1`), `image on ${reg.host}`)
  }
})
afterAll(async () => {
  await Promise.all([bound?.stop(), other?.stop()])
})

const policy = () => `apiVersion: policy.sigstore.dev/v1beta1
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
`

describe('admission-webhook: registry credentials reach only the registry they are for', () => {
  let dir: string
  let tls: { cert: string; key: string }
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-webhook-creds-'))
    tls = makeLoopbackCert(dir)
    mkdirSync(join(dir, 'policies'))
    writeFileSync(join(dir, 'policies', 'policy.yaml'), policy())
    bound.requests.length = 0
    other.requests.length = 0
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  function io(env: Record<string, string>): { io: CliIO; stderr: () => string } {
    const stderr = new PassThrough()
    let err = ''
    stderr.on('data', (c: Buffer) => {
      err += c.toString()
    })
    // HOME and DOCKER_CONFIG inside the test directory: no credentials of the machine leak in.
    const cliIO: CliIO = {
      stdout: new PassThrough(),
      stderr,
      stdin: Readable.from([]) as unknown as NodeJS.ReadStream,
      env: { HOME: dir, DOCKER_CONFIG: join(dir, '.docker'), ...env },
      cwd: dir,
    }
    return { io: cliIO, stderr: () => err }
  }

  async function start(extra: string[], env: Record<string, string> = {}) {
    const stop = new AbortController()
    const { io: cliIO, stderr } = io(env)
    const command = createPolicyAdmissionWebhookCommand(stop.signal)
    const argv = ['--tls-cert', 'tls.crt', '--tls-key', 'tls.key', '--port', '0', '--host', '127.0.0.1']
    const code = command.run(parseFlags([...argv, '--policy', 'policies', ...extra], command.flags), cliIO)
    const deadline = Date.now() + 10_000
    for (;;) {
      const m = /"msg":"admission webhook listening","port":(\d+)/.exec(stderr())
      if (m) return { code, stop, url: `https://127.0.0.1:${m[1]}`, stderr }
      if (Date.now() > deadline) throw new Error(`server did not start: ${stderr()}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  const review = async (url: string, image: string) =>
    (
      await httpsRequest(`${url}/validate`, {
        method: 'POST',
        body: JSON.stringify(mapImages(loadReview('deployment-create'), () => image)),
        caFiles: [tls.cert],
      })
    ).json().response

  async function expectOnlyBoundGetsCredentials(url: string) {
    const admitted = await review(url, `${bound.host}/shop/web:v1`)
    expect(admitted.allowed, JSON.stringify(admitted.status)).toBe(true)
    expect(bound.authorizations()).toContain(basic(CLUSTER.username, CLUSTER.password))

    // The Pod names another registry, which asks for credentials: it gets none, and the Pod is denied.
    const denied = await review(url, `${other.host}/shop/web:v1`)
    expect(denied.allowed).toBe(false)
    expect(other.requests.length).toBeGreaterThan(0)
    expect(other.authorizations()).toEqual([])
    expect(JSON.stringify(denied)).not.toContain(CLUSTER.password)
  }

  it('flag credentials without --registry-host are refused at start (ERR_INVALID_INPUT), naming no secret', async () => {
    const { io: cliIO } = io({})
    const command = createPolicyAdmissionWebhookCommand(AbortSignal.abort())
    const argv = ['--tls-cert', 'tls.crt', '--tls-key', 'tls.key', '--port', '0', '--policy', 'policies']
    for (const creds of [
      ['--registry-username', CLUSTER.username, '--registry-password', CLUSTER.password],
      ['--registry-token', CLUSTER.password],
    ]) {
      const err = await command.run(parseFlags([...argv, ...creds], command.flags), cliIO).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'ERR_INVALID_INPUT', message: expect.stringContaining('--registry-host') })
      expect((err as Error).message).not.toContain(CLUSTER.password)
    }
    expect(bound.requests).toEqual([])
    expect(other.requests).toEqual([])
  })

  it('flag credentials bound with --registry-host go to that registry only', async () => {
    const { code, stop, url } = await start([
      '--registry-host',
      bound.host,
      '--registry-username',
      CLUSTER.username,
      '--registry-password',
      CLUSTER.password,
    ])
    await expectOnlyBoundGetsCredentials(url)
    stop.abort()
    expect(await code).toBe(0)
  })

  it('credentials from a mounted Docker config (a dockerconfigjson Secret) go per registry', async () => {
    // As docs/admission.md mounts it: the Secret's .dockerconfigjson as config.json in DOCKER_CONFIG.
    const secret = join(dir, 'registry-auth')
    mkdirSync(secret)
    writeFileSync(
      join(secret, 'config.json'),
      JSON.stringify({ auths: { [`https://${bound.host}/v1/`]: { auth: basicValue(CLUSTER) } } }),
    )
    const { code, stop, url } = await start([], { DOCKER_CONFIG: secret })
    await expectOnlyBoundGetsCredentials(url)
    stop.abort()
    expect(await code).toBe(0)
  })

  it("credentials from podman's auth.json (REGISTRY_AUTH_FILE), keyed by namespace, go per registry", async () => {
    const file = join(dir, 'auth.json')
    writeFileSync(file, JSON.stringify({ auths: { [`${bound.host}/shop`]: { auth: basicValue(CLUSTER) } } }))
    const { code, stop, url } = await start([], { REGISTRY_AUTH_FILE: file })
    await expectOnlyBoundGetsCredentials(url)
    stop.abort()
    expect(await code).toBe(0)
  })
})

function basicValue(c: { username: string; password: string }): string {
  return Buffer.from(`${c.username}:${c.password}`).toString('base64')
}

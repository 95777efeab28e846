// The admission webhook as shipped (ClusterImagePolicy evaluator) in front of a registry that echoes every request
// into its error bodies (test/support/echo-server.ts): the registry password (from --registry-host credentials or
// a Docker config) and a registry token never reach the AdmissionReview response (denial message) or the log,
// which docs/admission.md promises. The regression: an echoing registry got `Basic <base64 of user:password>` into
// both.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseFlags } from '../../src/cli/args.js'
import { createPolicyAdmissionWebhookCommand } from '../../src/cli/commands/admission-policy.js'
import type { CliIO } from '../../src/cli/context.js'
import { createSecretSet } from '../../src/http/redact.js'
import { generateKeyPair, publicKeyToPEM } from '../../src/keys/index.js'
import { ECHO_ENCODINGS, type EchoServer, startEchoServer } from '../support/echo-server.js'
import { fakeSecret, leakedSecrets } from '../support/secret-leaks.js'
import { loadReview, mapImages } from './fixtures.js'
import { httpsRequest, makeLoopbackCert } from './https-client.js'

let echo: EchoServer
let root: string
let policy: string

beforeAll(async () => {
  echo = await startEchoServer()
  root = mkdtempSync(join(tmpdir(), 'cs-admission-redaction-'))
  const pem = publicKeyToPEM((await generateKeyPair()).publicKey)
    .trim()
    .split('\n')
    .map((l) => `        ${l}`)
    .join('\n')
  policy = `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: echo
spec:
  images:
  - glob: "${echo.host}/**"
  authorities:
  - name: release
    key:
      data: |
${pem}
`
})
afterAll(async () => {
  await echo?.stop()
  if (root) rmSync(root, { recursive: true, force: true })
})

/** Run the webhook with `flags` (and `dockerConfig` in its home), send reviews for every echo encoding, stop it. */
async function reviewsAndLog(flags: string[], dockerConfig?: unknown): Promise<{ responses: string; log: string }> {
  const dir = mkdtempSync(join(root, 'hook-'))
  const tls = makeLoopbackCert(dir)
  mkdirSync(join(dir, 'policies'))
  writeFileSync(join(dir, 'policies', 'policy.yaml'), policy)
  if (dockerConfig !== undefined) {
    mkdirSync(join(dir, '.docker'))
    writeFileSync(join(dir, '.docker', 'config.json'), JSON.stringify(dockerConfig))
  }
  let log = ''
  const stderr = new PassThrough()
  stderr.on('data', (c: Buffer) => {
    log += c.toString()
  })
  const io: CliIO = {
    stdout: new PassThrough(),
    stderr,
    stdin: Readable.from([]) as unknown as NodeJS.ReadStream,
    env: { HOME: dir, DOCKER_CONFIG: join(dir, '.docker') },
    cwd: dir,
    secrets: createSecretSet(),
  }
  const stop = new AbortController()
  const command = createPolicyAdmissionWebhookCommand(stop.signal)
  const argv = ['--tls-cert', tls.cert, '--tls-key', tls.key, '--port', '0', '--host', '127.0.0.1']
  const code = command.run(parseFlags([...argv, '--policy', 'policies', ...flags], command.flags), io)
  let port: number | undefined
  for (let i = 0; i < 500 && port === undefined; i++) {
    const m = /"msg":"admission webhook listening","port":(\d+)/.exec(log)
    if (m) port = Number(m[1])
    else await new Promise((r) => setTimeout(r, 20))
  }
  if (port === undefined) throw new Error(`webhook did not start: ${log}`)
  const responses: string[] = []
  for (const encoding of ECHO_ENCODINGS) {
    for (const pad of [0, 100, 290]) {
      echo.encoding = encoding
      echo.pad = pad
      const review = mapImages(loadReview('deployment-create'), () => `${echo.host}/app:v${responses.length}`)
      const res = await httpsRequest(`https://127.0.0.1:${port}/validate`, {
        method: 'POST',
        body: JSON.stringify(review),
        caFiles: [tls.cert],
      })
      const body = res.json()
      expect(body.response.allowed).toBe(false)
      responses.push(JSON.stringify(body))
    }
  }
  stop.abort()
  expect(await code).toBe(0)
  return { responses: responses.join('\n'), log }
}

describe('admission answers and logs carry no registry credential', () => {
  it('--registry-host credentials (password, then token)', async () => {
    echo.challenge = 'basic'
    const password = fakeSecret('hook-pw-')
    const before = echo.requests.length
    const { responses, log } = await reviewsAndLog([
      '--registry-host',
      echo.host,
      '--registry-username',
      'u9',
      '--registry-password',
      password,
    ])
    const secrets = { password, pair: `u9:${password}` }
    // The registry did get the credential and echo it; the denial explains the failure without it.
    expect(Object.keys(leakedSecrets(JSON.stringify(echo.requests.slice(before)), secrets))).not.toEqual([])
    expect(responses).toContain('authorization: Basic [REDACTED]')
    expect(leakedSecrets(responses, secrets)).toEqual({})
    expect(leakedSecrets(log, secrets)).toEqual({})

    echo.challenge = 'bearer'
    const token = fakeSecret('hook-tok-', 60)
    const t = await reviewsAndLog(['--registry-host', echo.host, '--registry-token', token])
    expect(leakedSecrets(t.responses, { token })).toEqual({})
    expect(leakedSecrets(t.log, { token })).toEqual({})
  })

  it('a Docker config password, with Basic auth and through the token server', async () => {
    const password = fakeSecret('hook-docker-')
    const pair = `ci:${password}`
    const config = { auths: { [echo.host]: { auth: Buffer.from(pair).toString('base64') } } }
    for (const challenge of ['basic', 'bearer'] as const) {
      echo.challenge = challenge
      const { responses, log } = await reviewsAndLog([], config)
      expect(responses).toMatch(/DENIED/)
      expect(leakedSecrets(responses, { password, pair })).toEqual({})
      expect(leakedSecrets(log, { password, pair })).toEqual({})
    }
  })
})

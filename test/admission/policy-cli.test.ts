// `countersign admission-webhook` as registered: ClusterImagePolicy files from --policy decide (static authorities
// here, so no registry is needed), a second file defining the same policy name is refused and leaves the webhook
// unready, and a review is answered per policy.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseFlags } from '../../src/cli/args.js'
import { createPolicyAdmissionWebhookCommand } from '../../src/cli/commands/admission-policy.js'
import type { CliIO } from '../../src/cli/context.js'
import { loadReview, mapImages } from './fixtures.js'
import { httpsRequest, makeLoopbackCert } from './https-client.js'

const DIGEST = `sha256:${'a'.repeat(64)}`
const policy = (name: string, glob: string, action: 'pass' | 'fail') => `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: ${name}
spec:
  images:
    - glob: "${glob}"
  authorities:
    - static:
        action: ${action}
`

describe('countersign admission-webhook with ClusterImagePolicy files', () => {
  let dir: string
  let tls: { cert: string; key: string }
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-policy-webhook-cli-'))
    tls = makeLoopbackCert(dir)
    mkdirSync(join(dir, 'policies'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  async function start(stop: AbortSignal) {
    const stderr = new PassThrough()
    let err = ''
    stderr.on('data', (c: Buffer) => {
      err += c.toString()
    })
    const io: CliIO = {
      stdout: new PassThrough(),
      stderr,
      stdin: Readable.from([]) as unknown as NodeJS.ReadStream,
      env: {},
      cwd: dir,
    }
    const command = createPolicyAdmissionWebhookCommand(stop)
    const argv = ['--tls-cert', 'tls.crt', '--tls-key', 'tls.key', '--port', '0', '--host', '127.0.0.1']
    const code = command.run(parseFlags([...argv, '--policy', 'policies'], command.flags), io)
    const deadline = Date.now() + 10_000
    for (;;) {
      const m = /"msg":"admission webhook listening","port":(\d+)/.exec(err)
      if (m) return { code, url: `https://127.0.0.1:${m[1]}`, stderr: () => err }
      if (Date.now() > deadline) throw new Error(`server did not start: ${err}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  it('admits what a passing policy matches and denies what a failing one matches', async () => {
    writeFileSync(join(dir, 'policies', 'trusted.yaml'), policy('trusted', 'registry.example.com/trusted/**', 'pass'))
    writeFileSync(join(dir, 'policies', 'blocked.yaml'), policy('blocked', 'registry.example.com/blocked/**', 'fail'))
    const stop = new AbortController()
    const { code, url } = await start(stop.signal)
    const review = (image: string) =>
      httpsRequest(`${url}/validate`, {
        method: 'POST',
        body: JSON.stringify(mapImages(loadReview('deployment-create'), () => image)),
        caFiles: [tls.cert],
      })
    expect((await httpsRequest(`${url}/readyz`, { caFiles: [tls.cert] })).status).toBe(200)
    expect((await review(`registry.example.com/trusted/app@${DIGEST}`)).json().response.allowed).toBe(true)
    const denied = (await review(`registry.example.com/blocked/app@${DIGEST}`)).json().response
    expect(denied.allowed).toBe(false)
    expect(denied.status.message).toContain('blocked')
    // No policy matches: denied, as policy-controller's default no-match-policy.
    expect((await review(`registry.example.com/other/app@${DIGEST}`)).json().response.allowed).toBe(false)
    stop.abort()
    expect(await code).toBe(0)
  })

  it('refuses two files defining the same policy: unready, every review denied', async () => {
    writeFileSync(join(dir, 'policies', 'a.yaml'), policy('same', 'registry.example.com/**', 'pass'))
    writeFileSync(join(dir, 'policies', 'b.yaml'), policy('same', 'registry.example.com/**', 'pass'))
    const stop = new AbortController()
    const { code, url, stderr } = await start(stop.signal)
    expect((await httpsRequest(`${url}/readyz`, { caFiles: [tls.cert] })).status).toBe(503)
    const res = await httpsRequest(`${url}/validate`, {
      method: 'POST',
      body: JSON.stringify(loadReview('deployment-create')),
      caFiles: [tls.cert],
    })
    expect(res.json().response.allowed).toBe(false)
    expect(stderr()).toContain('defined twice')
    stop.abort()
    expect(await code).toBe(0)
  })
})

// `countersign admission-webhook` as registered, with the Gatekeeper flags: --gatekeeper-client-ca and
// --gatekeeper-client-name put /gatekeeper/* behind Gatekeeper's client certificate, --gatekeeper-timeout bounds a
// request; flags that cannot work are refused at start. ClusterImagePolicies with static authorities and images by
// digest, so no registry is needed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseFlags } from '../../src/cli/args.js'
import { createPolicyAdmissionWebhookCommand } from '../../src/cli/commands/admission-policy.js'
import type { CliIO } from '../../src/cli/context.js'
import { GATEKEEPER_SAN, issueLeaf, makeCA, mtlsRequest, providerRequest } from './gatekeeper-tls.js'
import { makeLoopbackCert } from './https-client.js'

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

describe('countersign admission-webhook --gatekeeper-*', () => {
  let dir: string
  let tls: { cert: string; key: string }
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-gatekeeper-cli-'))
    tls = makeLoopbackCert(dir)
    mkdirSync(join(dir, 'policies'))
    writeFileSync(join(dir, 'policies', 'trusted.yaml'), policy('trusted', 'registry.example.com/trusted/**', 'pass'))
    writeFileSync(join(dir, 'policies', 'blocked.yaml'), policy('blocked', 'registry.example.com/blocked/**', 'fail'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  function run(extra: string[], stop: AbortSignal) {
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
    const code = command.run(parseFlags([...argv, '--policy', 'policies', ...extra], command.flags), io)
    return { code, stderr: () => err }
  }

  async function listening(stderr: () => string): Promise<string> {
    const deadline = Date.now() + 10_000
    for (;;) {
      const m = /"msg":"admission webhook listening","port":(\d+)/.exec(stderr())
      if (m) return `https://127.0.0.1:${m[1]}`
      if (Date.now() > deadline) throw new Error(`server did not start: ${stderr()}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  it('serves /gatekeeper/validate and /gatekeeper/mutate to a client certificate from the CA with the pinned name only', async () => {
    const ca = makeCA(dir, 'gatekeeper')
    const client = issueLeaf(ca, 'client')
    const misnamed = issueLeaf(ca, 'misnamed', { san: 'someone-else.gatekeeper-system.svc' })
    const stop = new AbortController()
    const { code, stderr } = run(
      ['--gatekeeper-client-ca', 'gatekeeper-ca.crt', '--gatekeeper-client-name', GATEKEEPER_SAN],
      stop.signal,
    )
    const url = await listening(stderr)
    const trusted = `registry.example.com/trusted/app@${DIGEST}`
    const blocked = `registry.example.com/blocked/app@${DIGEST}`
    const body = providerRequest([trusted, blocked])

    const validated = await mtlsRequest(`${url}/gatekeeper/validate`, { caFile: tls.cert, client, body })
    expect(validated.status).toBe(200)
    const items = validated.json().response.items
    expect(items[0]).toEqual({ key: trusted, value: { verified: true, digest: DIGEST, reference: trusted } })
    expect(items[1].key).toBe(blocked)
    expect(items[1].error).toMatch(/blocked/)

    const mutated = await mtlsRequest(`${url}/gatekeeper/mutate`, { caFile: tls.cert, client, body })
    expect(mutated.json().response.items[0]).toEqual({ key: trusted, value: trusted })

    for (const who of [undefined, misnamed]) {
      const refused = await mtlsRequest(`${url}/gatekeeper/validate`, {
        caFile: tls.cert,
        ...(who ? { client: who } : {}),
        body,
      })
      expect(refused.status).toBe(403)
      expect(refused.json().response.systemError).toBeTruthy()
    }
    // Log lines name counts and at most a few denied keys, never the request.
    const line = stderr()
      .split('\n')
      .filter((l) => l.includes('"msg":"gatekeeper request"'))[0]!
    expect(JSON.parse(line)).toMatchObject({
      endpoint: 'gatekeeper-validate',
      keys: 2,
      denied: 1,
      deniedKeys: [blocked],
    })
    expect(stderr()).not.toMatch(/not authenticated/)
    stop.abort()
    expect(await code).toBe(0)
  })

  it('without --gatekeeper-client-ca serves anyone and says so once', async () => {
    const stop = new AbortController()
    const { code, stderr } = run([], stop.signal)
    const url = await listening(stderr)
    const res = await mtlsRequest(`${url}/gatekeeper/validate`, {
      caFile: tls.cert,
      body: providerRequest([`registry.example.com/trusted/app@${DIGEST}`]),
    })
    expect(res.json().response.items[0].value.verified).toBe(true)
    expect(stderr().match(/Gatekeeper provider requests are not authenticated/g)).toHaveLength(1)
    stop.abort()
    expect(await code).toBe(0)
  })

  it.each([
    [['--gatekeeper-client-name', GATEKEEPER_SAN], /--gatekeeper-client-name needs --gatekeeper-client-ca/],
    [['--gatekeeper-timeout', 'soon'], /invalid duration for --gatekeeper-timeout/],
    [['--gatekeeper-timeout', '0'], /--gatekeeper-timeout must be at least 1ms/],
    [['--gatekeeper-client-ca', 'missing.crt'], /cannot read the Gatekeeper client CA/],
    [['--gatekeeper-client-ca', 'tls.key'], /holds no PEM certificate/],
  ])('refuses %j at start', async (extra, message) => {
    const { code } = run(extra, new AbortController().signal)
    await expect(code).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT', message: expect.stringMatching(message) })
  })
})

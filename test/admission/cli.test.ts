import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseFlags } from '../../src/cli/args.js'
import {
  admissionWebhookCommand,
  type CreateImageCheck,
  createAdmissionWebhookCommand,
} from '../../src/cli/commands/admission-webhook.js'
import { captureIO, webhookURL } from '../support/webhook-cli.js'
import { loadReview } from './fixtures.js'
import { httpsRequest, makeWebhookDir } from './https-client.js'

describe('countersign admission-webhook', () => {
  let dir: string
  let tls: { cert: string; key: string }
  beforeEach(() => {
    ;({ dir, tls } = makeWebhookDir('countersign-webhook-cli-'))
    writeFileSync(join(dir, 'policies', 'allow.yaml'), 'allow: registry.example.com/\n')
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const run = async (argv: string[], createCheck: CreateImageCheck, signal?: AbortSignal) => {
    const command = createAdmissionWebhookCommand({
      createCheck,
      extraFlags: [{ name: 'no-match-policy', type: 'string', default: 'deny', help: 'for the hook' }],
      ...(signal ? { shutdownSignal: signal } : {}),
    })
    const { io, stderr } = captureIO(dir)
    const code = command.run(parseFlags(argv, command.flags), io)
    return { code, stderr }
  }

  it.each([
    [['--policy', 'policies'], /--tls-cert and --tls-key are required/],
    [['--tls-cert', 'tls.crt', '--tls-key', 'tls.key'], /at least one --policy is required/],
    [
      ['--tls-cert', 'tls.crt', '--tls-key', 'tls.key', '--policy', 'p', '--mode', 'audit'],
      /--mode must be enforce or warn/,
    ],
    [['--tls-cert', 'tls.crt', '--tls-key', 'tls.key', '--policy', 'p', '--port', '99999'], /invalid --port/],
    [['--tls-cert', 'tls.crt', '--tls-key', 'tls.key', '--policy', 'p', '--timeout', 'soon'], /invalid duration/],
  ])('rejects %j', async (argv, message) => {
    const { code } = await run(argv, async () => async () => ({ image: '', allowed: true, warnings: [], reasons: [] }))
    await expect(code).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT', message: expect.stringMatching(message) })
  })

  it('serves reviews with the check the hook builds from the policy files, and stops on the shutdown signal', async () => {
    const stop = new AbortController()
    const seen: { files: string[]; flags: unknown }[] = []
    const createCheck: CreateImageCheck = async (files, _io, flags) => {
      seen.push({
        files: files.map((f) => `${f.path.slice(dir.length)}=${f.content.trim()}`),
        flags: [flags.mode, flags['no-match-policy']],
      })
      const prefix = files[0]!.content.split(' ')[1]!.trim()
      return async (image) => ({
        image,
        allowed: image.startsWith(prefix),
        warnings: [],
        reasons: image.startsWith(prefix) ? [] : [`not under ${prefix}`],
      })
    }
    const { code, stderr } = await run(
      [
        '--tls-cert',
        'tls.crt',
        '--tls-key',
        'tls.key',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--policy',
        'policies',
        '--timeout',
        '2s',
        '--no-match-policy',
        'warn',
      ],
      createCheck,
      stop.signal,
    )
    const url = await webhookURL(stderr)
    expect(seen).toEqual([{ files: ['/policies/allow.yaml=allow: registry.example.com/'], flags: ['enforce', 'warn'] }])
    expect((await httpsRequest(`${url}/readyz`, { caFiles: [tls.cert] })).status).toBe(200)
    const allowed = await httpsRequest(`${url}/validate`, {
      method: 'POST',
      body: JSON.stringify(loadReview('deployment-create')),
      caFiles: [tls.cert],
    })
    expect(allowed.json().response.allowed).toBe(true)
    const denied = await httpsRequest(`${url}/validate`, {
      method: 'POST',
      body: JSON.stringify(loadReview('pod-ephemeral')),
      caFiles: [tls.cert],
    })
    expect(denied.json().response.status.message).toContain('"busybox:1.36": not under registry.example.com/')
    stop.abort()
    expect(await code).toBe(0)
    expect(stderr()).toContain('"msg":"admission webhook stopped"')
    // One JSON object per log line.
    for (const line of stderr().trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow()
  })

  it('the verb as shipped (no policy evaluator wired in yet) stays unready, and stops on SIGTERM', async () => {
    const { io, stderr } = captureIO(dir)
    const argv = [
      '--tls-cert',
      'tls.crt',
      '--tls-key',
      'tls.key',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--policy',
      'policies',
    ]
    const listeners = process.listenerCount('SIGTERM')
    const code = admissionWebhookCommand.run(parseFlags(argv, admissionWebhookCommand.flags), io)
    const url = await webhookURL(stderr)
    expect((await httpsRequest(`${url}/readyz`, { caFiles: [tls.cert] })).status).toBe(503)
    expect(stderr()).toContain('this build has no policy evaluator for the admission webhook')
    expect(stderr()).toContain('admission webhook is not ready: policies did not load')
    // Only the listener the verb registered runs (emit does not deliver a real signal).
    process.emit('SIGTERM')
    expect(await code).toBe(0)
    expect(process.listenerCount('SIGTERM')).toBe(listeners)
  })
})

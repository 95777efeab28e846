// `countersign admission-webhook` as registered, with the Gatekeeper flags: --gatekeeper-client-ca and
// --gatekeeper-client-name put /gatekeeper/* behind Gatekeeper's client certificate, --gatekeeper-timeout bounds a
// request; flags that cannot work are refused at start. ClusterImagePolicies with static authorities and images by
// digest, so no registry is needed.
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { staticPolicyYAML as policy } from '../support/cluster-image-policy.js'
import { makeCA } from '../support/tls-cert.js'
import { runPolicyWebhook, webhookURL } from '../support/webhook-cli.js'
import { GATEKEEPER_SAN, issueLeaf, mtlsRequest, providerRequest } from './gatekeeper-tls.js'
import { makeWebhookDir, type WebhookDir } from './https-client.js'

const DIGEST = `sha256:${'a'.repeat(64)}`

describe('countersign admission-webhook --gatekeeper-*', () => {
  /** The webhook's files ({@link makeWebhookDir}), new for each test. */
  let dir: string, tls: WebhookDir['tls']
  beforeEach(() => {
    ;({ dir, tls } = makeWebhookDir('countersign-gatekeeper-cli-'))
    writeFileSync(join(dir, 'policies', 'trusted.yaml'), policy('trusted', 'registry.example.com/trusted/**', 'pass'))
    writeFileSync(join(dir, 'policies', 'blocked.yaml'), policy('blocked', 'registry.example.com/blocked/**', 'fail'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  const run = (extra: string[], stop: AbortSignal) => runPolicyWebhook(dir, extra, stop)

  it('serves /gatekeeper/validate and /gatekeeper/mutate to a client certificate from the CA with the pinned name only', async () => {
    const ca = makeCA(dir, 'gatekeeper')
    const client = issueLeaf(ca, 'client')
    const misnamed = issueLeaf(ca, 'misnamed', { san: 'someone-else.gatekeeper-system.svc' })
    const stop = new AbortController()
    const { code, stderr } = run(
      ['--gatekeeper-client-ca', 'gatekeeper-ca.crt', '--gatekeeper-client-name', GATEKEEPER_SAN],
      stop.signal,
    )
    const url = await webhookURL(stderr)
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
    const url = await webhookURL(stderr)
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

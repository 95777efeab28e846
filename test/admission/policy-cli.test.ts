// `countersign admission-webhook` as registered: ClusterImagePolicy files from --policy decide (static authorities
// here, so no registry is needed), a second file defining the same policy name is refused and leaves the webhook
// unready, and a review is answered per policy.
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { staticPolicyYAML as policy } from '../support/cluster-image-policy.js'
import { runPolicyWebhook, webhookURL } from '../support/webhook-cli.js'
import { loadReview, mapImages } from './fixtures.js'
import { httpsRequest, makeWebhookDir } from './https-client.js'

const DIGEST = `sha256:${'a'.repeat(64)}`

describe('countersign admission-webhook with ClusterImagePolicy files', () => {
  let dir: string
  let tls: { cert: string; key: string }
  beforeEach(() => {
    ;({ dir, tls } = makeWebhookDir('countersign-policy-webhook-cli-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  async function start(stop: AbortSignal) {
    const { code, stderr } = runPolicyWebhook(dir, [], stop)
    return { code, url: await webhookURL(stderr), stderr }
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

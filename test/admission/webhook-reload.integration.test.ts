// Issue 18: the webhook recorded a policy fingerprint only on success, so a bad file was parsed again on every poll
// (over 40 s of /readyz timeouts, 2.4 GB RSS, 1.5 GB of log). Now a failing set is remembered and reported once, the
// last good set keeps deciding and /readyz keeps answering; oversized files are refused before they are parsed.
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:https'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createAdmissionHandler } from '../../src/admission/handler.js'
import { createAdmissionMetrics } from '../../src/admission/metrics.js'
import type { ImageCheck } from '../../src/admission/types.js'
import { type AdmissionServer, type PolicyFile, startAdmissionServer } from '../../src/node/admission-server.js'
import { createReloader, readTLS } from '../../src/node/admission-server-reload.js'
import type { WebhookState } from '../../src/node/admission-server-state.js'
import { MAX_POLICY_FILE_BYTES } from '../../src/node/policy-files.js'
import { matchImageGlob } from '../../src/policy/glob.js'
import { parsePolicies } from '../../src/policy/parse.js'
import { staticPolicyYAML } from '../support/cluster-image-policy.js'
import { loadReview, mapImages } from './fixtures.js'
import { httpsRequest, loopbackServerOptions, makeLoopbackCert, makeWebhookDir, metricValue } from './https-client.js'

const DIGEST = `sha256:${'a'.repeat(64)}`
const GOOD = `127.0.0.1:5000/good/app@${DIGEST}`
const NEWER = `127.0.0.1:5000/newer/app@${DIGEST}`
const policy = (name: string, glob: string) => staticPolicyYAML(name, glob, 'pass')
/** The 70 KB reproduction: a 50,000-character name and 10,000 images that are not objects. */
const BAD = JSON.stringify({
  apiVersion: 'policy.sigstore.dev/v1beta1',
  kind: 'ClusterImagePolicy',
  metadata: { name: 'n'.repeat(50_000) },
  spec: { images: new Array(10_000).fill(1), authorities: [{ static: { action: 'pass' } }] },
})

/** A loader that counts its parses: static-pass ClusterImagePolicies allow the images their globs match. */
function countingLoader() {
  const loads: string[][] = []
  const loadCheck = async (files: readonly PolicyFile[]): Promise<ImageCheck> => {
    loads.push(files.map((f) => f.path))
    const policies = files.flatMap((f) => parsePolicies(f.content, { source: f.path }).policies)
    return async (image) => {
      const allowed = policies.some((p) => p.images.some((g) => matchImageGlob(g.glob, image)))
      return { image, allowed, warnings: [], reasons: allowed ? [] : ['no policy allows it'] }
    }
  }
  return { loads, loadCheck }
}

async function eventually(fn: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`condition not reached: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Write `path` at once (as kubelet swaps a ConfigMap), so no poll reads a half-written file. */
function put(path: string, content: string): void {
  const tmp = join(dirname(path), `.tmp-${basename(path)}`)
  writeFileSync(tmp, content)
  renameSync(tmp, path)
}

describe('webhook policy reload with a bad file', () => {
  let dir: string
  let policyDir: string
  let tls: { cert: string; key: string }
  let server: AdmissionServer | undefined
  let logs: Record<string, unknown>[]
  beforeEach(() => {
    ;({ dir, tls, policyDir } = makeWebhookDir('countersign-webhook-reload-'))
    logs = []
  })
  afterEach(async () => {
    await server?.close()
    server = undefined
    rmSync(dir, { recursive: true, force: true })
  })

  const start = async (loadCheck: (files: readonly PolicyFile[]) => Promise<ImageCheck>) => {
    server = await startAdmissionServer({
      ...loopbackServerOptions(tls, policyDir),
      loadCheck,
      reloadDebounceMs: 10,
      pollIntervalMs: 25,
      log: (e) => logs.push(e),
    })
    return server
  }
  const get = (s: AdmissionServer, path: string) =>
    httpsRequest(`${s.url}${path}`, { caFiles: [tls.cert], timeoutMs: 5000 })
  const metric = async (s: AdmissionServer, sample: string) => metricValue((await get(s, '/metrics')).text, sample)
  const allowed = async (s: AdmissionServer, image: string) =>
    (
      await httpsRequest(`${s.url}/validate`, {
        method: 'POST',
        body: JSON.stringify(mapImages(loadReview('deployment-create'), () => image)),
        caFiles: [tls.cert],
      })
    ).json().response.allowed as boolean
  const failures = () => logs.filter((l) => l.msg === 'policy load failed; keeping the previous policies')
  const FAILED = 'countersign_admission_reloads_total{what="policy",result="failure"}'

  it('parses a bad file once over many polls; the last good set decides and /readyz answers', async () => {
    put(join(policyDir, 'good.yaml'), policy('good', '127.0.0.1:5000/good/**'))
    const { loads, loadCheck } = countingLoader()
    const s = await start(loadCheck)
    expect(s.isReady()).toBe(true)
    expect(loads).toHaveLength(1)

    put(join(policyDir, 'bad.json'), BAD)
    await eventually(() => failures().length > 0, 'the bad file was loaded')
    // Many polls (25 ms apart) and explicit reloads later, the bad file was still parsed only once.
    await pause(500)
    for (let i = 0; i < 5; i++) await s.reload()
    expect(loads).toHaveLength(2)
    expect(failures(), JSON.stringify(failures()).slice(0, 2000)).toHaveLength(1)
    const error = failures()[0]!.error as string
    expect(error).toContain('invalid ClusterImagePolicy')
    expect(error.length).toBeLessThan(24 * 1024)
    expect(JSON.stringify(logs).length).toBeLessThan(64 * 1024)

    // Ready, deciding with the last good set; the failure shows in /metrics.
    expect((await get(s, '/readyz')).status).toBe(200)
    expect(s.isReady()).toBe(true)
    expect(await allowed(s, GOOD)).toBe(true)
    expect(await allowed(s, NEWER)).toBe(false)
    expect(await metric(s, FAILED)).toBe(1)
    expect(await metric(s, 'countersign_admission_policy_load_failing')).toBe(1)
    expect(await metric(s, 'countersign_admission_ready')).toBe(1)

    // The bad file removed: the files are the loaded ones again, nothing to parse, nothing failing.
    unlinkSync(join(policyDir, 'bad.json'))
    await eventually(
      () => logs.some((l) => l.msg === 'policy files are the loaded ones again'),
      'the failure was cleared',
    )
    expect(loads).toHaveLength(2)
    expect(await metric(s, 'countersign_admission_policy_load_failing')).toBe(0)

    // A good newer file is loaded as before.
    put(join(policyDir, 'newer.yaml'), policy('newer', '127.0.0.1:5000/newer/**'))
    await eventually(() => allowed(s, NEWER), 'the newer policy decides')
    expect(loads).toHaveLength(3)
    expect(failures(), JSON.stringify(failures()).slice(0, 2000)).toHaveLength(1)
  })

  it('refuses an oversized file before parsing it, once', async () => {
    put(join(policyDir, 'good.yaml'), policy('good', '127.0.0.1:5000/good/**'))
    const { loads, loadCheck } = countingLoader()
    const s = await start(loadCheck)
    const big = join(policyDir, 'big.yaml')
    put(big, `# ${'x'.repeat(MAX_POLICY_FILE_BYTES)}\n`)
    await eventually(() => failures().length > 0, 'the big file was refused')
    await pause(300)
    await s.reload()
    expect(failures(), JSON.stringify(failures()).slice(0, 2000)).toHaveLength(1)
    expect(failures()[0]!.error).toBe(`${big}: policy file is larger than 4194304 bytes`)
    expect(loads).toHaveLength(1)
    expect((await get(s, '/readyz')).status).toBe(200)
    expect(await allowed(s, GOOD)).toBe(true)
  })

  it('is not ready while there has never been a good set; the bad file is still parsed once', async () => {
    put(join(policyDir, 'bad.json'), BAD)
    const { loads, loadCheck } = countingLoader()
    const s = await start(loadCheck)
    await pause(300)
    await s.reload()
    expect(loads).toHaveLength(1)
    expect(failures(), JSON.stringify(failures()).slice(0, 2000)).toHaveLength(1)
    expect(s.isReady()).toBe(false)
    const readyz = await get(s, '/readyz')
    expect(readyz.status).toBe(503)
    expect(await metric(s, 'countersign_admission_policy_load_failing')).toBe(1)
    expect(await allowed(s, GOOD)).toBe(false)

    put(join(policyDir, 'bad.json'), policy('good', '127.0.0.1:5000/good/**'))
    await eventually(() => s.isReady(), 'the fixed file was loaded')
    expect(await allowed(s, GOOD)).toBe(true)
    expect(await metric(s, 'countersign_admission_policy_load_failing')).toBe(0)
    expect(loads).toHaveLength(2)
  })
})

describe('createReloader: a remembered failure', () => {
  it('is tried again only after failedRetryMs, and a repeat of the same failure is not logged again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-reloader-'))
    try {
      const tls = makeLoopbackCert(dir)
      writeFileSync(join(dir, 'policy.yaml'), 'anything')
      const logs: Record<string, unknown>[] = []
      const metrics = createAdmissionMetrics()
      const state: WebhookState = {
        handler: createAdmissionHandler({ check: async () => Promise.reject(new Error('not loaded')) }),
        ready: false,
        closing: false,
        inFlight: new Set(),
        metrics,
        log: (e) => logs.push(e),
      }
      let attempts = 0
      let clock = 0
      const reloader = createReloader({
        state,
        // TLS material never changes here, so the server is never touched.
        server: {} as Server,
        options: {
          tlsCertFile: tls.cert,
          tlsKeyFile: tls.key,
          policyPaths: [join(dir, 'policy.yaml')],
          loadCheck: async () => {
            attempts++
            throw new Error('trusted root missing')
          },
        },
        handlerOptions: {},
        tlsFingerprint: (await readTLS(tls.cert, tls.key)).fingerprint,
        failedRetryMs: 60_000,
        now: () => clock,
      })
      await reloader.reload()
      expect(attempts).toBe(1)
      clock = 59_999
      await reloader.reload()
      expect(attempts).toBe(1)
      clock = 60_000
      await reloader.reload()
      expect(attempts).toBe(2)
      expect(logs.filter((l) => l.msg === 'policy load failed; keeping the previous policies')).toHaveLength(1)
      expect(metricValue(metrics.render(), 'countersign_admission_reloads_total{what="policy",result="failure"}')).toBe(
        2,
      )
      expect(state.ready).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('webhook follows trust material besides the policy files (trustVersion: TUF targets)', () => {
  it('rebuilds the check when the version changes, keeps the last one while reading it fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-webhook-trust-'))
    const tls = makeLoopbackCert(dir)
    const policyDir = join(dir, 'policies')
    mkdirSync(policyDir)
    put(join(policyDir, 'p.yaml'), policy('p', '127.0.0.1:5000/**'))
    // The "trust material": which repository the check admits; its version is what the server polls.
    let trusted = 'good'
    let version: string | Error = 'v1'
    const builds: string[] = []
    const server = await startAdmissionServer({
      tlsCertFile: tls.cert,
      tlsKeyFile: tls.key,
      port: 0,
      host: '127.0.0.1',
      policyPaths: [policyDir],
      trustVersion: async () => {
        if (version instanceof Error) throw version
        return version
      },
      loadCheck: async () => {
        const admits = trusted
        builds.push(admits)
        return async (image) => {
          const allowed = image.includes(`/${admits}/`)
          return { image, allowed, warnings: [], reasons: allowed ? [] : ['not trusted'] }
        }
      },
      reloadDebounceMs: 10,
      pollIntervalMs: 25,
      log: () => {},
    })
    try {
      const allowed = async (image: string) =>
        (
          await httpsRequest(`${server.url}/validate`, {
            method: 'POST',
            body: JSON.stringify(mapImages(loadReview('deployment-create'), () => image)),
            caFiles: [tls.cert],
          })
        ).json().response.allowed as boolean
      expect(await allowed(GOOD)).toBe(true)
      expect(await allowed(NEWER)).toBe(false)

      // New material, same version: nothing is rebuilt.
      trusted = 'newer'
      await pause(200)
      expect(builds).toEqual(['good'])
      // The version moves (new TUF targets): the next poll rebuilds the check with the new material.
      version = 'v2'
      await eventually(() => builds.length === 2, 'the check was rebuilt')
      expect(await allowed(NEWER)).toBe(true)
      expect(await allowed(GOOD)).toBe(false)

      // Reading the version fails (mirror down, expired cache): the last check keeps deciding.
      trusted = 'good'
      version = new Error('TUF repository unreachable')
      await pause(200)
      expect(builds).toHaveLength(2)
      expect(await allowed(NEWER)).toBe(true)
      expect(server.isReady()).toBe(true)
    } finally {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

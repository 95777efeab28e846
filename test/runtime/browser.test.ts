/**
 * The built `countersign/verify` in a browser: esbuild bundles it for `platform: 'browser'` with nothing from
 * Node, and Debian's Chromium (driven by playwright-core) verifies fixture bundles in a page served on loopback.
 */
import type { Metafile } from 'esbuild'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, watchPage } from '../support/chromium.js'
import { type BrowserBundle, bundleForBrowser, nodeDependencies } from './browser/browser-bundle.js'
import { type PageServer, servePage } from './browser/page-server.js'
import { RUNTIME_CASES, type Verdict, verdictProblem } from './cases.js'
import { ensureDist } from './ensure-dist.js'

describe('countersign/verify in the browser', () => {
  let bundle: BrowserBundle
  let server: PageServer | undefined
  let browser: Browser | undefined

  beforeAll(async () => {
    await ensureDist()
    bundle = await bundleForBrowser()
  }, 240_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('esbuild bundles it for the browser with no node: imports, Node builtins or undici', () => {
    expect(nodeDependencies(bundle.metafile)).toEqual([])
    const inputs = Object.keys(bundle.metafile.inputs)
    expect(inputs).toContain('dist/verify.js')
    // The verifier's own dependencies are in the bundle (not left external), so the check above covered them.
    // (The SET payload is now written by hand, so `canonicalize` is no longer among them.)
    for (const dep of ['@noble/curves', '@noble/hashes']) {
      expect(inputs.some((i) => i.startsWith(`node_modules/${dep}/`))).toBe(true)
    }
  })

  it('the metafile check reports Node imports when there are some', () => {
    const metafile = {
      inputs: {
        'a.js': { bytes: 1, imports: [{ path: 'node:crypto', kind: 'import-statement', external: true }] },
        'b.js': { bytes: 1, imports: [{ path: 'node_modules/x/fs.js', kind: 'require-call', original: 'fs' }] },
        'node_modules/undici/index.js': { bytes: 1, imports: [] },
      },
      outputs: {},
    } as unknown as Metafile
    expect(nodeDependencies(metafile)).toEqual([
      'a.js imports node:crypto (external)',
      'b.js imports fs',
      'node_modules/undici/index.js (undici bundled)',
    ])
  })

  it(`headless Chromium verifies ${RUNTIME_CASES.length} fixture bundles in a page, with the expected verdicts`, async () => {
    server = await servePage(bundle.files)
    browser = await launchChromium()
    const page = await browser.newPage()
    const { errors, foreign } = watchPage(page, server.origin)
    await page.goto(`${server.origin}/`)
    await page.waitForFunction(() => (globalThis as { ready?: boolean }).ready === true, undefined, { timeout: 30_000 })

    // The page has no Node globals to lean on: whatever passes below ran on browser APIs.
    expect(await page.evaluate(() => [typeof globalThis.process, typeof globalThis.Buffer])).toEqual([
      'undefined',
      'undefined',
    ])
    const verdicts: Verdict[] = await page.evaluate(() =>
      (globalThis as unknown as { runAll(): Promise<Verdict[]> }).runAll(),
    )

    expect(errors).toEqual([])
    expect(foreign).toEqual([])
    expect(verdicts.map((v) => v.label)).toEqual(RUNTIME_CASES.map((c) => c.label))
    for (const [i, c] of RUNTIME_CASES.entries()) {
      expect(verdictProblem(c, verdicts[i]!), JSON.stringify(verdicts[i])).toBeUndefined()
    }
    // Spelled out: a keyless and a managed-key case pass, a broken proof fails with its code.
    const byLabel = new Map(verdicts.map((v) => [v.label, v]))
    expect(byLabel.get('conformance-happy-path-v0.3')).toMatchObject({ outcome: 'pass', signer: 'certificate' })
    expect(byLabel.get('conformance-managed-key-happy-path')).toMatchObject({ outcome: 'pass', signer: 'key' })
    expect(byLabel.get('conformance-inclusion-proof-corrupted-hash_fail')).toMatchObject({
      outcome: 'fail',
      code: 'ERR_TLOG_INCLUSION_PROOF',
    })
    // Every fixture came over HTTP from the test's server.
    for (const c of RUNTIME_CASES) expect(server.requests).toContain(`/vectors/${c.dir}/bundle.sigstore.json`)
  }, 120_000)
})

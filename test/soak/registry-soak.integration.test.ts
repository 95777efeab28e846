/**
 * Issue 14: a fault-injection soak against a real docker-registry. A proxy in front of it faults 20% of requests
 * (429 with Retry-After, 503, resets before/while/after the body, truncated and corrupted bodies, lost answers,
 * delays); through it, images are signed in both storage forms and verified again and again, and many signers sign
 * one image at once. Every operation must succeed or fail with a coded CountersignError within its deadline, and
 * after every one the registry, read directly, must hold no manifest naming a missing blob, every signature it held
 * before, and every signature whose signing was reported a success (verifiable without the proxy).
 *
 * Size: COUNTERSIGN_SOAK_CYCLES (16), COUNTERSIGN_SOAK_SIGNERS (6), COUNTERSIGN_SOAK_ROUNDS (1); the fault
 * decisions replay from COUNTERSIGN_SOAK_SEED (printed). `npm run soak` runs the long form. Counts are printed and
 * appended to .tmp/soak-report.jsonl.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type SignImageResult, signImage } from '../../src/image/sign.js'
import { type VerifyImageResult, verifyImage } from '../../src/image/verify.js'
import { generateKeyPair, type PrivateKey } from '../../src/keys/index.js'
import { sha256Digest } from '../../src/oci/digest.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import type { Reference, Repository } from '../../src/oci/types.js'
import { SIGNATURE_ANNOTATION } from '../../src/signature/annotations.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startProxy, type TestProxy } from '../support/proxy.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'
import { createFaultPlan, type FaultKind, type FaultPlan, type InjectedFault, stablePath } from './fault-plan.js'
import { type Outcome, settle } from './outcome.js'
import { soakSeed } from './prng.js'
import { ImageTracker, legacyKey } from './registry-state.js'
import { appendReport, formatReport, opCounts, type SoakReport, tally } from './report.js'

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not ${raw}`)
  return n
}

const SEED = soakSeed(process.env.COUNTERSIGN_SOAK_SEED)
const CYCLES = intEnv('COUNTERSIGN_SOAK_CYCLES', 16)
const SIGNERS = intEnv('COUNTERSIGN_SOAK_SIGNERS', 6)
const ROUNDS = intEnv('COUNTERSIGN_SOAK_ROUNDS', 1)
/** Cycles signing the same image, so signatures accumulate and "no earlier signature lost" has something to lose. */
const REUSE = Math.max(1, intEnv('COUNTERSIGN_SOAK_REUSE', 4))
/** An operation not settled by then is a hang. */
const DEADLINE_MS = intEnv('COUNTERSIGN_SOAK_DEADLINE_MS', 60_000)
/** vitest's timeout per test; 0 (the long form) means none. */
const TEST_TIMEOUT_MS = intEnv('COUNTERSIGN_SOAK_TEST_TIMEOUT_MS', 240_000)
const FAULT_RATE = 0.2
/** Every this many cycles an unsigned image is verified too: it must never verify. */
const UNSIGNED_EVERY = 4
const CYCLE_KEYS = 4
/**
 * A shared-tag write held in flight at least this long can land after another writer's last re-read when that writer
 * saw no contention (its settle pause is 4–8× its own read-to-write time): the window docs/formats.md documents.
 */
const HELD_WRITE_MS = 250

type Format = 'legacy' | 'bundle'

interface SoakImage {
  readonly name: string
  readonly digest: string
  /** Straight at the registry. */
  readonly repo: Repository
  /** Through the proxy. */
  readonly proxied: Repository
  readonly tracker: ImageTracker
}

console.log(`registry soak: COUNTERSIGN_SOAK_SEED=${SEED}`)

describe(`registry soak (seed ${SEED}, ${CYCLES} cycles, ${SIGNERS} concurrent signers)`, () => {
  let reg: TestRegistry
  let proxy: TestProxy
  let plan: FaultPlan
  let setupKey: PrivateKey
  let cycleKeys: PrivateKey[]
  let signerKeys: PrivateKey[]
  let started = 0
  const report: SoakReport = {
    at: new Date().toISOString(),
    seed: SEED,
    faultRate: FAULT_RATE,
    cycles: CYCLES,
    signers: SIGNERS,
    rounds: ROUNDS,
    reuse: REUSE,
    wallMs: 0,
    requests: 0,
    faults: {},
    sign: { legacy: opCounts(), bundle: opCounts() },
    verify: opCounts(),
    unsignedVerify: opCounts(),
    concurrent: { legacy: opCounts(), bundle: opCounts() },
    stateChecks: 0,
    violations: [],
    windowLosses: [],
    incidents: [],
    faultLog: [],
  }

  /** A client straight at the registry, for setup and for checking what it holds. */
  const direct = () => createRegistryClient()
  /** A client through the faulty proxy; its User-Agent names the operation in the fault log. */
  const viaProxy = (op: string) => createRegistryClient({ userAgent: op })

  beforeAll(async () => {
    started = Date.now()
    reg = await startRegistry()
    plan = createFaultPlan(SEED, FAULT_RATE)
    proxy = await startProxy({ target: reg.url, fault: (r) => plan.fault(r) })
    setupKey = await generateKeyPair()
    cycleKeys = await Promise.all(Array.from({ length: CYCLE_KEYS }, () => generateKeyPair()))
    signerKeys = await Promise.all(Array.from({ length: SIGNERS }, () => generateKeyPair()))
  })

  afterAll(async () => {
    // Nothing to report when the registry or the proxy never came up.
    if (proxy !== undefined) {
      report.wallMs = Date.now() - started
      report.requests = proxy.requests.length
      for (const f of plan.log) report.faults[f.kind] = (report.faults[f.kind] ?? 0) + 1
      report.faultLog = plan.log.map((f) => `${f.op} ${f.method} ${stablePath(f.path)} ${describeFault(f)}`)
      console.log(formatReport(report))
      console.log(`appended to ${appendReport(process.cwd(), report)}`)
    }
    await proxy?.stop()
    await reg?.stop()
  })

  const faultList = (faults: readonly InjectedFault[]) =>
    faults.length === 0
      ? 'none'
      : faults.map((f) => `${f.method} ${f.path.replace(/^\/v2\//, '')} ${describeFault(f)}`).join(' | ')

  /** Push an image straight to the registry; `signed` adds one signature of each form first (by the setup key). */
  async function setupImage(name: string, signed: boolean): Promise<SoakImage> {
    const repo: Repository = { registry: reg.host, repository: `soak/${name}` }
    const digest = await pushTinyImage(direct(), { ...repo, tag: 'v1' }, `soak image ${name}`)
    if (signed) {
      for (const format of ['legacy', 'bundle'] as const) {
        await signImage({ ...repo, digest }, createKeySigner(setupKey), {
          store: direct(),
          format,
          tlogUpload: false,
          annotations: { 'soak/setup': name },
        })
      }
    }
    const image: SoakImage = {
      name,
      digest,
      repo,
      proxied: { registry: proxy.host, repository: `soak/${name}` },
      tracker: new ImageTracker(direct(), repo, digest),
    }
    const { violations, state } = await image.tracker.check(`setup ${name}`)
    expect(violations).toEqual([])
    expect([state.legacy.size, state.referrers.size]).toEqual(signed ? [1, 1] : [0, 0])
    return image
  }

  /** Count an operation's hang or non-CountersignError throw, then check the registry state of `image`. */
  async function afterOp(op: string, image: SoakImage, outcome: Outcome<unknown>): Promise<void> {
    const faults = plan.faultsOf(op)
    if (outcome.kind === 'hang') {
      report.incidents.push(
        `${op}: HANG (no result after ${outcome.ms} ms; ${outcome.settledAfterAbort ? 'settled' : 'still running'} after abort); faults: ${faultList(faults)}`,
      )
    } else if (outcome.kind === 'unexpected') {
      const e = outcome.error
      report.incidents.push(
        `${op}: not a CountersignError: ${e instanceof Error ? e.stack : String(e)}; faults: ${faultList(faults)}`,
      )
    }
    const { violations } = await image.tracker.check(op)
    report.stateChecks++
    for (const v of violations) report.violations.push(`${v}; faults: ${faultList(faults)}`)
  }

  /** The signatures of `format` that verify straight from the registry (keys as {@link legacyKey}, or referrer digests). */
  async function verifiedDirectly(image: SoakImage, format: Format, keys: readonly PrivateKey[]): Promise<Set<string>> {
    let result: VerifyImageResult
    try {
      result = await verifyImage(
        { ...image.repo, digest: image.digest },
        { store: direct(), keys: keys.map((k) => k.publicKey), insecureIgnoreTlog: true, signatureFormat: format },
      )
    } catch {
      return new Set()
    }
    return new Set(result.verified.map((c) => signatureId(format, c.layer, c.referrer)))
  }

  function signatureId(
    format: Format,
    layer: { digest: string; annotations?: Readonly<Record<string, string>> },
    referrer?: { digest: string },
  ): string {
    return format === 'legacy'
      ? `${layer.digest} ${layer.annotations?.[SIGNATURE_ANNOTATION]}`
      : String(referrer?.digest)
  }

  /** The id a successful sign's signature must be found under. */
  async function signedId(result: SignImageResult): Promise<string> {
    return result.format === 'legacy'
      ? legacyKey(await sha256Digest(result.payload), result.signature)
      : result.signatureManifestDigest
  }

  /**
   * A reported success must be in the registry and verify without the proxy. `heldWrite` names a concurrent
   * writer's shared-tag write that the proxy held in flight: a loss then falls in the window docs/formats.md
   * ("Concurrent writers") documents for registries without conditional writes, and is counted apart.
   */
  async function confirmSigned(
    op: string,
    image: SoakImage,
    result: SignImageResult,
    verified: ReadonlySet<string>,
    heldWrite?: (format: Format) => string | undefined,
  ): Promise<void> {
    const id = await signedId(result)
    const present = result.format === 'legacy' ? image.tracker.legacy.has(id) : image.tracker.referrers.has(id)
    const faults = faultList(plan.faultsOf(op))
    if (result.digest !== image.digest) report.violations.push(`${op}: signed ${result.digest}, not ${image.digest}`)
    if (present && verified.has(id)) return
    const held = heldWrite?.(result.format)
    if (held !== undefined) {
      report.windowLosses.push(`${op}: ${id} lost; ${held}`)
      return
    }
    if (!present)
      report.violations.push(`${op}: sign reported success but ${id} is not in the registry; faults: ${faults}`)
    if (!verified.has(id)) {
      report.violations.push(`${op}: sign reported success but ${id} does not verify (unproxied); faults: ${faults}`)
    }
  }

  /** The shared tag a format's writers all rewrite: the `.sig` tag, or the referrers fallback index tag. */
  function sharedTagWrite(format: Format, f: InjectedFault): boolean {
    if (f.method !== 'PUT' || !f.path.includes('/manifests/sha256-')) return false
    return format === 'legacy' ? f.path.endsWith('.sig') : /\/manifests\/sha256-[0-9a-f]{64}$/.test(f.path)
  }

  test('control: the state check notices a lost signature and a manifest naming a missing blob', async () => {
    const image = await setupImage('control', true)
    const sigTag = `sha256-${image.digest.slice('sha256:'.length)}.sig`
    const sig = await direct().resolve({ ...image.repo, tag: sigTag })
    await direct().deleteManifest({ ...image.repo, digest: sig.digest })
    const [referrer] = [...image.tracker.referrers]
    const bundleLayer = (await direct().fetchManifest({ ...image.repo, digest: referrer! })).manifest
    const layer = 'layers' in bundleLayer ? bundleLayer.layers[0]!.digest : ''
    const res = await fetch(`${reg.url}/v2/${image.repo.repository}/blobs/${layer}`, { method: 'DELETE' })
    expect(res.status).toBe(202)
    const { violations } = await image.tracker.check('control')
    expect(violations).toEqual([
      expect.stringMatching(/^control: referrer sha256:[0-9a-f]{64} references missing blob sha256:/),
      expect.stringMatching(/^control: legacy signature lost: sha256:[0-9a-f]{64} \S+$/),
    ])
  })

  test(
    'sign (both forms) and verify cycles through a proxy faulting 20% of requests',
    async () => {
      const allKeys = [setupKey, ...cycleKeys]
      let image: SoakImage | undefined
      for (let c = 0; c < CYCLES; c++) {
        if (c % REUSE === 0 || image === undefined) image = await setupImage(`img${c / REUSE}`, true)
        const format: Format = c % 2 === 0 ? 'legacy' : 'bundle'
        // Mostly by digest; every third cycle by tag, so resolving the tag goes through the faults as well.
        const target: Reference =
          c % 3 === 2 ? { ...image.proxied, tag: 'v1' } : { ...image.proxied, digest: image.digest }

        const signOp = `c${c}-sign-${format}`
        const signed = await settle(
          (signal) =>
            signImage(target, createKeySigner(cycleKeys[c % CYCLE_KEYS]!), {
              store: viaProxy(signOp),
              format,
              tlogUpload: false,
              annotations: { 'soak/cycle': String(c) },
              signal,
            }),
          DEADLINE_MS,
        )
        tally(report.sign[format], signOp, signed, plan.faultsOf(signOp))
        await afterOp(signOp, image, signed)
        if (signed.kind === 'ok') {
          await confirmSigned(signOp, image, signed.value, await verifiedDirectly(image, format, allKeys))
        }

        const verifyOp = `c${c}-verify`
        const verified = await settle(
          (signal) =>
            verifyImage(c % 2 === 0 ? { ...image!.proxied, tag: 'v1' } : { ...image!.proxied, digest: image!.digest }, {
              store: viaProxy(verifyOp),
              keys: allKeys.map((k) => k.publicKey),
              insecureIgnoreTlog: true,
              signal,
            }),
          DEADLINE_MS,
        )
        tally(report.verify, verifyOp, verified, plan.faultsOf(verifyOp))
        if (verified.kind === 'ok') {
          // What verified through the proxy must be a signature the registry holds.
          for (const check of verified.value.verified) {
            const id = signatureId(check.format, check.layer, check.referrer)
            const held = check.format === 'legacy' ? image.tracker.legacy.has(id) : image.tracker.referrers.has(id)
            if (!held)
              report.violations.push(`${verifyOp}: verified ${check.format} ${id}, which the registry does not hold`)
          }
        }
        await afterOp(verifyOp, image, verified)

        if (c % UNSIGNED_EVERY === UNSIGNED_EVERY - 1) {
          const unsigned = await setupImage(`unsigned${c}`, false)
          const op = `c${c}-verify-unsigned`
          const outcome = await settle(
            (signal) =>
              verifyImage(
                { ...unsigned.proxied, tag: 'v1' },
                { store: viaProxy(op), keys: allKeys.map((k) => k.publicKey), insecureIgnoreTlog: true, signal },
              ),
            DEADLINE_MS,
          )
          tally(report.unsignedVerify, op, outcome, plan.faultsOf(op))
          if (outcome.kind === 'ok') {
            report.violations.push(`${op}: an unsigned image verified; faults: ${faultList(plan.faultsOf(op))}`)
          }
          await afterOp(op, unsigned, outcome)
          const clean = await settle(
            () =>
              verifyImage(
                { ...unsigned.repo, tag: 'v1' },
                { store: direct(), keys: allKeys.map((k) => k.publicKey), insecureIgnoreTlog: true },
              ),
            DEADLINE_MS,
          )
          if (clean.kind !== 'clean' || clean.code !== 'ERR_NO_SIGNATURES') {
            report.violations.push(`${op}: unproxied verify of an unsigned image gave ${describeOutcome(clean)}`)
          }
        }
      }

      // The fault plan really ran, and signing in both forms got through it.
      expect(plan.log.length).toBeGreaterThan(0)
      if (CYCLES >= 8) {
        expect(report.sign.legacy.ok).toBeGreaterThan(0)
        expect(report.sign.bundle.ok).toBeGreaterThan(0)
        expect(report.verify.ok).toBeGreaterThan(0)
      }
      const hangs = report.sign.legacy.hang + report.sign.bundle.hang + report.verify.hang + report.unsignedVerify.hang
      expect(hangs).toBe(0)
      expect(report.incidents).toEqual([])
      expect(report.violations).toEqual([])
    },
    TEST_TIMEOUT_MS,
  )

  test(
    'concurrent signers (both forms) on one image through the same faults',
    async () => {
      const keys = [setupKey, ...signerKeys]
      for (let r = 0; r < ROUNDS; r++) {
        const image = await setupImage(`concurrent${r}`, true)
        const runs = await Promise.all(
          signerKeys.map(async (key, i) => {
            const format: Format = i % 2 === 0 ? 'legacy' : 'bundle'
            const op = `r${r}-signer${i}-${format}`
            const outcome = await settle(
              (signal) =>
                signImage({ ...image.proxied, digest: image.digest }, createKeySigner(key), {
                  // Each signer has its own client (own connections and auth cache), as separate processes would.
                  store: viaProxy(op),
                  format,
                  tlogUpload: false,
                  annotations: { 'soak/signer': String(i) },
                  signal,
                }),
              DEADLINE_MS,
            )
            return { op, format, outcome }
          }),
        )
        for (const { op, format, outcome } of runs) {
          tally(report.concurrent[format], op, outcome, plan.faultsOf(op))
          if (outcome.kind === 'hang' || outcome.kind === 'unexpected') await afterOp(op, image, outcome)
        }
        // One state check for the round: the setup signatures survive, no manifest names a missing blob.
        await afterOp(`round ${r}`, image, { kind: 'ok', value: undefined, ms: 0 })
        const verified = {
          legacy: await verifiedDirectly(image, 'legacy', keys),
          bundle: await verifiedDirectly(image, 'bundle', keys),
        }
        // A write of another signer of this round held in flight by a `delay` fault (the documented window).
        const heldWrite = (victim: string) => (format: Format) => {
          const held = runs
            .filter((w) => w.op !== victim)
            .flatMap((w) => plan.faultsOf(w.op))
            .find((f) => f.fault.kind === 'delay' && f.fault.ms >= HELD_WRITE_MS && sharedTagWrite(format, f))
          return held && `${held.op}'s ${held.method} ${held.path} was held ${describeFault(held)}`
        }
        for (const { op, format, outcome } of runs) {
          if (outcome.kind === 'ok') await confirmSigned(op, image, outcome.value, verified[format], heldWrite(op))
        }
      }
      const c = report.concurrent
      expect(c.legacy.hang + c.bundle.hang).toBe(0)
      expect(report.incidents).toEqual([])
      expect(report.violations).toEqual([])
    },
    TEST_TIMEOUT_MS,
  )
})

function describeFault(f: InjectedFault): string {
  const x = f.fault
  const kind: FaultKind = f.kind
  if (x.kind === 'delay') return `delay ${x.ms} ms`
  if (x.kind === 'reset-request' || x.kind === 'reset-response' || x.kind === 'truncate-response') {
    return `${kind} after ${x.afterBytes} B`
  }
  return kind
}

function describeOutcome(o: Outcome<unknown>): string {
  if (o.kind === 'ok') return 'success'
  if (o.kind === 'clean') return `${o.code} (${o.message})`
  if (o.kind === 'hang') return 'a hang'
  return `a non-CountersignError: ${String(o.error)}`
}

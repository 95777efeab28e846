/**
 * sigstore-js (`@sigstore/verify`, the reference TypeScript verifier) and countersign give the same verdict on every
 * bundle case in test/vectors/bundles that sigstore-js can read. The cases where the fixtures document a real
 * cross-client difference are listed below with the reason: there countersign must follow `expect` and sigstore-js
 * must give the verdict its `crossCheck` recorded.
 */
import { createRequire } from 'node:module'
import { afterAll, describe, expect, it } from 'vitest'
import { verifyBundle } from '../../src/verifier/verify-bundle.js'
import {
  type Case,
  caseNames,
  countersignInputs,
  countersignRoot,
  HarnessPolicyError,
  loadCase,
  sigstoreJsCase,
} from '../support/bundle-cases.js'

const sigstoreJsVersion: string = createRequire(import.meta.url)('@sigstore/verify/package.json').version

/**
 * Cases whose case.json says the clients differ (`crossCheck.agreesWithExpect === false`, `disputed`, `optional`),
 * each with why. Kept as an explicit list and checked against the case files, so a new disagreement cannot slip in
 * unnoticed.
 */
const DOCUMENTED_DISAGREEMENTS = new Map<string, string>([
  [
    'conformance-trust-root-tlog-missing-validity-start_fail',
    'the trusted root has a tlog key without validFor.start; the conformance suite requires rejecting such a root, ' +
      'sigstore-js treats a missing start as "beginning of time" and accepts',
  ],
  [
    'sigstore-go-othername-san',
    'disputed: the checkpoint signature name (a scaffolding pod hostname) differs from the log host; sigstore-go ' +
      'matches Rekor v1 checkpoint signatures by key hint and passes, sigstore-js requires the name in the baseUrl ' +
      'and rejects (TLOG_INCLUSION_PROOF_ERROR)',
  ],
  [
    'sigstore-python-tsa-timestamp-local-tsa',
    'disputed: one RFC 3161 timestamp comes from a TSA the root does not hold; sigstore-python (and countersign, ' +
      'like sigstore-go) drop unverifiable timestamps and count the rest, sigstore-js rejects on any of them',
  ],
  [
    'sigstore-js-client-v0.4-media-type-accepted',
    'optional: a v0.4 media type with the v0.3 shape; sigstore-js is lenient and accepts, strict clients may reject',
  ],
])

/**
 * Cases the installed sigstore-js gets wrong although the fixtures record agreement: `@sigstore/verify` before 4.x
 * compares a Rekor v2 `hashedrekord/0.0.2` entry of a DSSE bundle with Hash(payload), while rekor-v2-spec §6.1.4
 * (sigstore-conformance v0.0.29) logs Hash(PAE(payloadType, payload)); fixed in sigstore/sigstore-js#1677
 * (`compareSignedDigest`). The fixtures' crossCheck ran 4.1.3; 3.x (the last major for Node 20) rejects with
 * `TLOG_BODY_ERROR: digest mismatch`. From 4.x on these must agree like every other case.
 */
const sigstoreJsMajor = Number(sigstoreJsVersion.split('.')[0])
const INSTALLED_VERSION_GAPS = new Map<string, string>(
  sigstoreJsMajor < 4
    ? [
        ['conformance-rekor2-dsse-happy-path', 'DSSE logged as hashedrekord/0.0.2 over PAE (sigstore-js#1677)'],
        ['sigstore-python-dsse-staging-rekor-v2', 'DSSE logged as hashedrekord/0.0.2 over PAE (sigstore-js#1677)'],
      ]
    : [],
)

type Outcome = 'pass' | 'fail'
interface Verdict {
  readonly outcome: Outcome | 'unreadable'
  readonly reason: string
}

function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code
    return `${typeof code === 'string' ? `${code}: ` : ''}${e.message}`.slice(0, 160)
  }
  return String(e)
}

async function countersignVerdict(name: string): Promise<Verdict> {
  try {
    const inputs = countersignInputs(loadCase(name))
    await verifyBundle(inputs.bundle, inputs.artifact, {
      ...inputs.options,
      trustedRoot: countersignRoot(inputs),
      policy: inputs.policy,
    })
    return { outcome: 'pass', reason: '' }
  } catch (e) {
    return { outcome: 'fail', reason: describeError(e) }
  }
}

function sigstoreJsVerdict(name: string): Verdict {
  const loaded = loadCase(name)
  let prepared: ReturnType<typeof sigstoreJsCase> | undefined
  try {
    prepared = sigstoreJsCase(loaded)
    prepared.check()
    return { outcome: 'pass', reason: '' }
  } catch (e) {
    // The low-level Verifier takes artifact bytes, never a digest, for a message signature. When a case supplies
    // only a digest, sigstore-js can still reject the bundle before it reaches the signature (a genuine "fail"),
    // but reaching the signature check means it cannot decide: that case is unreadable for it.
    const messageDigestOnly =
      prepared !== undefined &&
      prepared.artifact === undefined &&
      (prepared.json as Case)?.messageSignature !== undefined
    if (
      messageDigestOnly &&
      !(e instanceof HarnessPolicyError) &&
      (e as { code?: string }).code === 'ERR_INVALID_ARG_TYPE'
    ) {
      return {
        outcome: 'unreadable',
        reason: 'message signature with only a digest: Verifier needs the artifact bytes',
      }
    }
    return {
      outcome: 'fail',
      reason: `${e instanceof HarnessPolicyError ? 'harness policy: ' : ''}${describeError(e)}`,
    }
  }
}

const rows: { name: string; countersign: Verdict; sigstoreJs: Verdict; listed: boolean; gap: boolean }[] = []

describe(`sigstore-js (@sigstore/verify ${sigstoreJsVersion}) agrees with countersign on the bundle cases`, () => {
  const names = caseNames()

  it('the listed disagreements are exactly the cases the fixtures flag', () => {
    const flagged = names.filter((n) => {
      const c = loadCase(n).c
      return c.crossCheck?.agreesWithExpect === false || Boolean(c.disputed) || Boolean(c.optional)
    })
    expect(flagged.sort()).toEqual([...DOCUMENTED_DISAGREEMENTS.keys()].sort())
  })

  for (const name of names) {
    const listed = DOCUMENTED_DISAGREEMENTS.has(name)
    it(`${name}${listed ? ' (documented disagreement)' : ''}`, async () => {
      const { c } = loadCase(name)
      const countersign = await countersignVerdict(name)
      const sigstoreJs = sigstoreJsVerdict(name)
      rows.push({ name, countersign, sigstoreJs, listed, gap: INSTALLED_VERSION_GAPS.has(name) })
      const detail = `countersign: ${countersign.outcome} ${countersign.reason}\nsigstore-js: ${sigstoreJs.outcome} ${sigstoreJs.reason}`
      if (listed) {
        // `optional`: the shared verdict policy lets a client decide either way (countersign is strict and rejects
        // the unknown v0.4 media type; test/verifier/conformance.test.ts accepts either).
        if (!c.optional) expect(countersign.outcome, `${DOCUMENTED_DISAGREEMENTS.get(name)}\n${detail}`).toBe(c.expect)
        expect(sigstoreJs.outcome, `${DOCUMENTED_DISAGREEMENTS.get(name)}\n${detail}`).toBe(c.crossCheck.result)
        return
      }
      if (sigstoreJs.outcome === 'unreadable') return
      const gap = INSTALLED_VERSION_GAPS.get(name)
      if (gap) {
        expect(countersign.outcome, `${gap}\n${detail}`).toBe(c.expect)
        expect(sigstoreJs.outcome, `${gap}\n${detail}`).toBe('fail')
        expect(sigstoreJs.reason, gap).toBe('TLOG_BODY_ERROR: digest mismatch')
        return
      }
      expect(sigstoreJs.outcome, `${c.why}\n${detail}`).toBe(countersign.outcome)
    })
  }

  afterAll(() => {
    const readable = rows.filter((r) => r.sigstoreJs.outcome !== 'unreadable')
    const agree = readable.filter((r) => r.sigstoreJs.outcome === r.countersign.outcome)
    const lines = [
      `cases: ${rows.length}; sigstore-js could read ${readable.length}; same verdict on ${agree.length}`,
      ...rows
        .filter((r) => r.listed || r.sigstoreJs.outcome !== r.countersign.outcome)
        .map(
          (r) =>
            `  ${r.listed ? 'documented' : r.gap ? `sigstore-js ${sigstoreJsVersion} gap` : 'unreadable'} ${r.name}: countersign ${r.countersign.outcome}, sigstore-js ${r.sigstoreJs.outcome}` +
            (r.sigstoreJs.reason ? ` (${r.sigstoreJs.reason})` : ''),
        ),
    ]
    console.log(lines.join('\n'))
  })
})

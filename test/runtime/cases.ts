/**
 * The fixture cases every non-Node runtime (Deno, Bun, Chromium) verifies against the built `countersign/verify`,
 * and the runner they share. This file imports nothing, so each runtime can load it as it is: the library and
 * a file reader are passed in (Deno.readFile, Bun.file, fetch in the page).
 */

/** The identity every conformance certificate case was signed with (their case.json `identity`/`issuer`). */
const BEACON = {
  subject:
    'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
  issuer: 'https://token.actions.githubusercontent.com',
}

/** One verification a runtime performs: a folder of test/vectors/bundles and the verdict it must give. */
export interface RuntimeCase {
  /** Unique name (the folder, plus a suffix when the same folder is verified with another policy). */
  readonly label: string
  /** The folder under test/vectors/bundles holding bundle.sigstore.json, trusted_root.json and artifact. */
  readonly dir: string
  /** A managed key's PEM file in that folder (policy.key); otherwise the identity below is required. */
  readonly key?: string
  readonly identity?: {
    readonly subject?: string
    readonly subjectRegExp?: string
    readonly issuer?: string
    readonly issuerRegExp?: string
  }
  readonly expect: 'pass' | 'fail'
  /** The signer kind a passing case reports. */
  readonly signer?: 'key' | 'certificate'
  /** The error code a failing case must fail with (the same as test/verifier/conformance.test.ts expects). */
  readonly code?: string
}

/**
 * Message signatures and DSSE, managed key and Fulcio certificates, Rekor v1 (SET, inclusion proof, checkpoint)
 * and v2 (RFC 3161 time), and fail cases from the proof, the log body, the key import and the identity policy.
 */
export const RUNTIME_CASES: readonly RuntimeCase[] = [
  {
    label: 'conformance-managed-key-happy-path',
    dir: 'conformance-managed-key-happy-path',
    key: 'key.pub',
    expect: 'pass',
    signer: 'key',
  },
  {
    label: 'conformance-happy-path-v0.3',
    dir: 'conformance-happy-path-v0.3',
    identity: BEACON,
    expect: 'pass',
    signer: 'certificate',
  },
  {
    label: 'conformance-happy-path-intoto-in-dsse-v3',
    dir: 'conformance-happy-path-intoto-in-dsse-v3',
    identity: BEACON,
    expect: 'pass',
    signer: 'certificate',
  },
  {
    label: 'conformance-rekor2-happy-path',
    dir: 'conformance-rekor2-happy-path',
    identity: BEACON,
    expect: 'pass',
    signer: 'certificate',
  },
  {
    label: 'conformance-inclusion-proof-corrupted-hash_fail',
    dir: 'conformance-inclusion-proof-corrupted-hash_fail',
    identity: BEACON,
    expect: 'fail',
    code: 'ERR_TLOG_INCLUSION_PROOF',
  },
  {
    label: 'conformance-dsse-invalid-sig_fail',
    dir: 'conformance-dsse-invalid-sig_fail',
    identity: BEACON,
    expect: 'fail',
    code: 'ERR_TLOG_ENTRY_MISMATCH',
  },
  // key.pub's point is not on the curve: each runtime's Web Crypto must refuse it, not accept a bogus key.
  {
    label: 'conformance-managed-key-wrong-key_fail',
    dir: 'conformance-managed-key-wrong-key_fail',
    key: 'key.pub',
    expect: 'fail',
    code: 'ERR_KEY_INVALID',
  },
  {
    label: 'conformance-happy-path-v0.3 (another identity)',
    dir: 'conformance-happy-path-v0.3',
    identity: { subject: 'someone-else@example.com', issuer: BEACON.issuer },
    expect: 'fail',
    code: 'ERR_POLICY_DENIED',
  },
  // Identity regexps run on the RE2 engine, loaded on first use: `\pL` is RE2 syntax a JavaScript RegExp refuses.
  {
    label: 'conformance-happy-path-v0.3 (RE2 identity regexp)',
    dir: 'conformance-happy-path-v0.3',
    identity: {
      subjectRegExp: '^https://github\\.com/\\pL+-conformance/',
      issuerRegExp: '^https://token\\.actions\\.',
    },
    expect: 'pass',
    signer: 'certificate',
  },
  {
    label: 'conformance-happy-path-v0.3 (RE2 regexp, another identity)',
    dir: 'conformance-happy-path-v0.3',
    identity: { subjectRegExp: '^https://gitlab\\.com/', issuer: BEACON.issuer },
    expect: 'fail',
    code: 'ERR_POLICY_DENIED',
  },
]

/** The slice of `countersign/verify`, `countersign/trust` and `countersign/keys` the runner calls. */
export interface VerifyLibrary {
  verifyBundle(
    bundle: Uint8Array,
    artifact: Uint8Array,
    options: { trustedRoot: unknown; policy: Record<string, unknown> },
  ): Promise<{ signer: { type: string }; tlogEntries: readonly unknown[]; timestamps: readonly unknown[] }>
  parseTrustedRoot(json: Uint8Array): unknown
  parsePublicKey(pem: Uint8Array): unknown
}

/** Reads a file of test/vectors/bundles by its path below that folder (`<dir>/<file>`). */
export type ReadFixture = (path: string) => Promise<Uint8Array>

/** What one runtime concluded for one case: plain data, so a page can hand it back to the test. */
export interface Verdict {
  readonly label: string
  readonly outcome: 'pass' | 'fail'
  readonly signer?: string
  readonly tlogEntries?: number
  readonly timestamps?: number
  readonly code?: string
  readonly message?: string
}

/** Verify one case; never throws (a failure becomes a `fail` verdict with the error's code). */
export async function runCase(lib: VerifyLibrary, read: ReadFixture, c: RuntimeCase): Promise<Verdict> {
  try {
    const [bundle, root, artifact] = await Promise.all([
      read(`${c.dir}/bundle.sigstore.json`),
      read(`${c.dir}/trusted_root.json`),
      read(`${c.dir}/artifact`),
    ])
    const policy = c.key ? { key: lib.parsePublicKey(await read(`${c.dir}/${c.key}`)) } : { identity: c.identity }
    const result = await lib.verifyBundle(bundle, artifact, { trustedRoot: lib.parseTrustedRoot(root), policy })
    return {
      label: c.label,
      outcome: 'pass',
      signer: result.signer.type,
      tlogEntries: result.tlogEntries.length,
      timestamps: result.timestamps.length,
    }
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code
    return {
      label: c.label,
      outcome: 'fail',
      ...(typeof code === 'string' ? { code } : {}),
      message: e instanceof Error ? e.message : String(e),
    }
  }
}

/** Verify every case in order. */
export async function runCases(lib: VerifyLibrary, read: ReadFixture): Promise<Verdict[]> {
  const verdicts: Verdict[] = []
  for (const c of RUNTIME_CASES) verdicts.push(await runCase(lib, read, c))
  return verdicts
}

/** Why a verdict is wrong for its case, or undefined when it is right. */
export function verdictProblem(c: RuntimeCase, v: Verdict): string | undefined {
  if (v.label !== c.label) return `verdict for ${v.label}, expected ${c.label}`
  if (v.outcome !== c.expect)
    return `${c.label}: ${v.outcome} (${v.code ?? ''} ${v.message ?? ''}), expected ${c.expect}`
  if (c.expect === 'fail' && v.code !== c.code)
    return `${c.label}: failed with ${v.code} (${v.message}), expected ${c.code}`
  if (c.expect === 'pass' && v.signer !== c.signer) return `${c.label}: signer ${v.signer}, expected ${c.signer}`
  if (c.expect === 'pass' && !v.tlogEntries) return `${c.label}: passed without a verified log entry`
  return undefined
}

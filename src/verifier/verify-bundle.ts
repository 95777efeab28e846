/**
 * Offline Sigstore bundle verification: transparency-log entries, RFC 3161 timestamps, the certificate chain at every
 * verified time, SCTs, the identity policy (or a managed key), and the signature over the artifact. No network.
 * @module
 */
import { type Bundle, parseBundle } from '../bundle/bundle.js'
import { CountersignError } from '../errors.js'
import { equalBytes, fromBase64, fromHex } from '../internal/bytes.js'
import { isJSONObject } from '../internal/json.js'
import { keyHint } from '../keys/key-info.js'
import { parsePublicKey } from '../keys/parse-public.js'
import type { PublicKey } from '../keys/types.js'
import type { SignatureBackend } from '../keys/verify.js'
import { isRekorV2Entry, parseTransparencyLogEntry } from '../rekor/entry.js'
import { type VerifiedTransparencyLogEntry, verifyTransparencyLogEntry } from '../rekor/verify-entry.js'
import type { VerifiedTimestamp } from '../timestamp/verify.js'
import { isValidAt, type TrustedRoot } from '../trust/trusted-root.js'
import { type Certificate, isCertificateValidAt, parseCertificate } from '../x509/certificate.js'
import { prefetchLeafSignature, verifyCertificateChain } from '../x509/chain.js'
import { type CertificateIdentity, checkIdentity, type IdentityPolicy, loadIdentityRegExps } from '../x509/identity.js'
import { verifyEmbeddedSCTs } from '../x509/sct.js'
import { type ArtifactInput, checkArtifactSignature } from './signature.js'

type TimestampThresholds = typeof import('../timestamp/thresholds.js')
let timestampModule: Promise<TimestampThresholds> | undefined
let timestampLoaded: TimestampThresholds | undefined

/**
 * The RFC 3161 verifier, loaded on first use (most bundles carry no timestamp, and a CLI run pays for what it loads)
 * and kept: a dynamic `import()` of a loaded module still costs a few hundred microseconds under loader hooks.
 */
function timestampVerifier(): Promise<TimestampThresholds> {
  timestampModule ??= import('../timestamp/thresholds.js').then((m) => {
    timestampLoaded = m
    return m
  })
  return timestampModule
}

/**
 * Start verifying the RFC 3161 tokens. Once the module is loaded this starts synchronously, so the token's P-384
 * check is on its way (to Web Crypto's or libuv's threads) before the P-256 checks that follow run on this thread.
 */
function startTimestampCheck(
  run: (m: TimestampThresholds) => ReturnType<TimestampThresholds['verifyTimestamps']>,
): ReturnType<TimestampThresholds['verifyTimestamps']> {
  if (timestampLoaded !== undefined) return run(timestampLoaded)
  return timestampVerifier().then(run)
}

/**
 * Who must have signed: a certificate identity (keyless) or a managed public key.
 *
 * Exported from `countersign/verify`.
 */
export interface BundlePolicy {
  /** Certificate identity policy (SAN / issuer, exact or RE2-style regexp, GitHub claims). */
  readonly identity?: IdentityPolicy
  /** A managed key, or a lookup by the bundle's key hint. */
  readonly key?: PublicKey | ((hint: string) => PublicKey | undefined)
  /** When the managed key was valid (each verified time must fall inside, ends inclusive). */
  readonly keyValidFor?: { readonly start?: Date; readonly end?: Date }
}

/**
 * Thresholds and clock for {@link verifyBundle} (sigstore-go's verifier options).
 *
 * Exported from `countersign/verify`.
 */
export interface BundleVerifierOptions {
  /** Verified transparency-log entries required (default 1; 0 with `insecureIgnoreTlog` semantics). */
  readonly tlogThreshold?: number
  /** Verified SCTs required for certificates (default 1). */
  readonly ctlogThreshold?: number
  /** Verified RFC 3161 timestamps required (default 0). */
  readonly signedTimestampThreshold?: number
  /** Verified integrated times (SET-backed) required (default 0). */
  readonly integratedTimestampThreshold?: number
  /** Verified times of either kind required (default 1). */
  readonly observerTimestampThreshold?: number
  /** The clock for "integrated time in the future" and for `useCurrentTime` (default now). */
  readonly now?: Date
  /**
   * Count the current time as a verified time (sigstore-go `WithCurrentTime`): certificates are then also checked
   * at `now`. For callers that skip the log and timestamps on purpose (cosign `--insecure-ignore-tlog`).
   */
  readonly useCurrentTime?: boolean
  /**
   * Signature primitives for every check (default: Web Crypto, which runs everywhere). In Node,
   * `nodeSignatureBackend` from `countersign/node` verifies synchronously and is several times faster per bundle;
   * both accept exactly the same bundles.
   */
  readonly signatureBackend?: SignatureBackend | undefined
}

/**
 * Options for {@link verifyBundle}.
 *
 * Exported from `countersign/verify`.
 */
export interface VerifyBundleOptions extends BundleVerifierOptions {
  readonly trustedRoot: TrustedRoot
  readonly policy: BundlePolicy
}

/**
 * What a verified bundle proved.
 *
 * Exported from `countersign/verify`.
 */
export interface BundleVerificationResult {
  readonly bundle: Bundle
  /** The signer: certificate identity (keyless) or key hint (managed key). */
  readonly signer:
    | { readonly type: 'certificate'; readonly identity: CertificateIdentity; readonly certificate: Certificate }
    | {
        readonly type: 'key'
        readonly hint: string
      }
  readonly tlogEntries: readonly VerifiedTransparencyLogEntry[]
  readonly timestamps: readonly VerifiedTimestamp[]
  /** Every verified time (integrated times and RFC 3161 times). */
  readonly verifiedTimes: readonly Date[]
}

/**
 * Verify a Sigstore bundle (v0.1–v0.3) offline against a trusted root, in sigstore-go's order: log entries and
 * timestamps, the certificate chain at every verified time with SCTs and identity (or a managed key and its
 * validity), then the signature over the artifact (message signature, or DSSE with the in-toto subject). RFC 3161
 * timestamps that do not verify are dropped and the rest counted; every log entry must verify.
 *
 * @param input - Bundle JSON bytes, a parsed JSON object, or a parsed {@link Bundle}.
 * @param artifact - The artifact bytes, `{ digest: 'sha256:…' }`, or `undefined` to skip the artifact check
 *   (DSSE only; unsafe — the caller checks the statement).
 * @throws {CountersignError} with the failing check's code: ERR_BUNDLE_INVALID, ERR_TLOG_INCLUSION_PROOF,
 *   ERR_TLOG_ENTRY_MISMATCH, ERR_TIMESTAMP_INVALID, ERR_CERT_CHAIN_INVALID, ERR_CERT_EXPIRED, ERR_POLICY_DENIED,
 *   ERR_SIGNATURE_INVALID, ERR_CLAIMS_INVALID, ERR_UNSUPPORTED_ALGORITHM (a messageDigest algorithm other than SHA-2).
 * @example
 * ```ts
 * import { verifyBundle } from 'countersign/verify'
 * import { publicGoodTrustedRoot } from 'countersign/trust'
 * await verifyBundle(bundleBytes, artifactBytes, {
 *   trustedRoot: publicGoodTrustedRoot(),
 *   policy: { identity: { subject: 'me@example.com', issuer: 'https://github.com/login/oauth' } },
 * })
 * ```
 *
 * Exported from `countersign/verify`.
 */
export async function verifyBundle(
  input: Uint8Array | unknown,
  artifact: ArtifactInput | undefined,
  options: VerifyBundleOptions,
): Promise<BundleVerificationResult> {
  const bundle = isParsedBundle(input) ? input : parseBundle(input)
  const root = options.trustedRoot
  const vm = bundle.verificationMaterial
  const signatureBytes =
    bundle.content.type === 'dsseEnvelope' ? bundle.content.envelope.signatures[0]!.sig : bundle.content.signature

  // Signer material.
  let leaf: Certificate | undefined
  let intermediates: Certificate[] = []
  let key: PublicKey
  let hint = ''
  if (vm.type === 'publicKey') {
    hint = vm.hint
    const k = typeof options.policy.key === 'function' ? options.policy.key(vm.hint) : options.policy.key
    if (!k)
      throw new CountersignError('ERR_POLICY_DENIED', 'bundle is signed by a key and no key was provided', {
        details: { check: 'key' },
      })
    key = k
  } else {
    // A key policy must not turn into "any certificate will do", and neither may a missing identity policy.
    if (!options.policy.identity) {
      throw new CountersignError(
        'ERR_POLICY_DENIED',
        options.policy.key
          ? 'bundle is signed with a certificate, not the given key'
          : 'an identity policy is required to verify a certificate-signed bundle',
        { details: { check: 'identity' } },
      )
    }
    const ders = vm.type === 'certificate' ? [vm.certificate] : vm.certificates
    try {
      leaf = parseCertificate(ders[0]!)
      intermediates = ders.slice(1).map((d) => parseCertificate(d))
    } catch (cause) {
      throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle certificate does not parse', { cause })
    }
    key = parsePublicKey(leaf.spki)
    // A bundle may carry its CA chain, but a self-signed certificate in it must be one of the trusted roots: a
    // foreign root in the bundle is refused before anything else (conformance bundle-with-root-cert).
    const anchors = root.certificateAuthorities.flatMap((ca) => ca.certChain)
    for (const c of intermediates) {
      if (equalBytes(c.subject.raw, c.issuer.raw) && !anchors.some((a) => equalBytes(a, c.raw))) {
        throw new CountersignError('ERR_CERT_CHAIN_INVALID', 'bundle certificate chain contains an untrusted root', {
          details: { check: 'chain', reason: 'untrusted-root-in-bundle' },
        })
      }
    }
  }

  // Independent checks start together (each Web Crypto call is a thread-pool round trip, so running them side by
  // side cuts the wall time); their failures are still reported in the fixed order below, so a bundle with
  // several faults always gives the same error.
  const backend = options.signatureBackend
  // The leaf's signature (P-384 for Fulcio) is the slowest check and needs no verified time: start it first, and
  // the SCTs with it when only one certificate can have issued the leaf (they depend on the issuer's key alone).
  const sctOptions = { threshold: options.ctlogThreshold ?? 1, signatureBackend: backend }
  const issuers = leaf ? prefetchLeafSignature(leaf, root.certificateAuthorities, backend) : []
  const earlySCTs =
    leaf && issuers.length === 1 ? settle(verifyEmbeddedSCTs(leaf, issuers[0]!, root.ctlogs, sctOptions)) : undefined

  // Transparency log: every entry must verify; duplicates count once (and are refused).
  if (bundle.tlogEntries.length > MAX_BUNDLE_TLOG_ENTRIES) throw tooMany('transparency log entries')
  const seen = new Set<string>()
  const entries = bundle.tlogEntries.map((raw) => {
    const entry = parseTransparencyLogEntry(raw)
    const id = `${Array.from(entry.logId).join(',')}#${entry.logIndex}`
    if (seen.has(id)) throw new CountersignError('ERR_BUNDLE_INVALID', 'duplicate transparency log entry')
    seen.add(id)
    return entry
  })
  // RFC 3161 tokens are signed with P-384 by Sigstore TSAs: also slow, also independent, so started before the
  // log entries and the artifact signature, whose P-256 checks may run synchronously.
  const tokens = rfc3161Tokens(bundle)
  const timestampCheck =
    tokens.length > 0 && root.timestampAuthorities.length > 0
      ? settle(
          startTimestampCheck(({ verifyTimestamps }) =>
            verifyTimestamps(tokens, signatureBytes, { trustedRoot: root, threshold: 0, signatureBackend: backend }),
          ),
        )
      : undefined
  const signatureCheck = settle(checkArtifactSignature(bundle, key, artifact, backend))
  const entryChecks = entries.map((entry) =>
    settle(
      verifyTransparencyLogEntry(entry, {
        tlogs: root.tlogs,
        bundleVersion: bundle.version,
        content: bundle.content,
        verifier: leaf ? { certificate: leaf.raw } : { publicKey: key },
        ...(artifact !== undefined
          ? { artifact: artifact instanceof Uint8Array ? artifact : digestOf(artifact.digest) }
          : {}),
        ...(options.now ? { now: options.now } : {}),
        signatureBackend: backend,
      }),
    ),
  )
  const tlogEntries: VerifiedTransparencyLogEntry[] = []
  for (const check of entryChecks) tlogEntries.push(unwrap(await check))
  const tlogThreshold = options.tlogThreshold ?? 1
  if (tlogEntries.length < tlogThreshold) {
    throw new CountersignError(
      'ERR_TLOG_INCLUSION_PROOF',
      `${tlogEntries.length} transparency log entries, ${tlogThreshold} required`,
      {
        details: { check: 'tlog-threshold' },
      },
    )
  }

  // sigstore-go (pkg/verify/tlog.go VerifyTlogEntry) holds every non-zero integrated time to the signer's validity,
  // signed or not: one no SET signs is never counted as a verified time, but a bundle claiming a time the
  // certificate or key was not valid at is refused as sigstore-go refuses it.
  const validity = options.policy.keyValidFor
  for (const e of tlogEntries) {
    if (e.integratedTime !== undefined || e.entry.integratedTime === 0n) continue
    const t = new Date(Number(e.entry.integratedTime) * 1000)
    const valid = leaf
      ? isCertificateValidAt(leaf, t)
      : !validity || ((!validity.start || t >= validity.start) && (!validity.end || t <= validity.end))
    if (!valid) {
      throw new CountersignError(
        'ERR_CERT_EXPIRED',
        leaf ? 'integrated time outside certificate validity' : 'the key was not valid at the integrated time',
        { details: { check: leaf ? 'chain' : 'key' } },
      )
    }
  }

  // RFC 3161: unverifiable tokens are dropped (docs/formats.md §Where Sigstore clients disagree) but a root without
  // TSAs fails them all.
  let timestamps: readonly VerifiedTimestamp[] = []
  if (tokens.length > 0) {
    if (!timestampCheck) {
      throw new CountersignError(
        'ERR_TIMESTAMP_INVALID',
        'bundle has RFC 3161 timestamps but the trusted root has no TSA',
        {
          details: { check: 'timestamp', reason: 'no-tsa' },
        },
      )
    }
    timestamps = unwrap(await timestampCheck).verified
  }
  const integrated = tlogEntries.flatMap((e) => (e.integratedTime ? [e.integratedTime] : []))
  const tsaTimes = timestamps.map((t) => t.time)
  const verifiedTimes = [...integrated, ...tsaTimes, ...(options.useCurrentTime ? [options.now ?? new Date()] : [])]
  threshold('signedTimestampThreshold', tsaTimes.length, options.signedTimestampThreshold ?? 0)
  threshold('integratedTimestampThreshold', integrated.length, options.integratedTimestampThreshold ?? 0)
  threshold('observerTimestampThreshold', verifiedTimes.length, options.observerTimestampThreshold ?? 1)
  // Rekor v2 entries carry no integrated time: their log key must have been valid at a TSA time.
  for (const e of tlogEntries) {
    if (isRekorV2Entry(e.entry) && !tsaTimes.some((t) => isValidAt(e.log.publicKey.validFor, t))) {
      throw new CountersignError(
        'ERR_TLOG_INCLUSION_PROOF',
        'no verified timestamp falls within the log key validity',
        {
          details: { check: 'log', reason: 'key-validity' },
        },
      )
    }
  }

  // Signer at every verified time.
  let signer: BundleVerificationResult['signer']
  if (leaf) {
    let issuer: Certificate | undefined
    const chains = verifiedTimes.map((time) =>
      settle(
        verifyCertificateChain(leaf!, root.certificateAuthorities, { time, intermediates, signatureBackend: backend }),
      ),
    )
    for (const chain of chains) issuer = unwrap(await chain).path[1]
    if (!issuer)
      throw new CountersignError('ERR_CERT_CHAIN_INVALID', 'no verified time to check the certificate at', {
        details: { check: 'chain' },
      })
    const sameIssuer = earlySCTs !== undefined && equalBytes(issuers[0]!.raw, issuer.raw)
    unwrap(await (sameIssuer ? earlySCTs : settle(verifyEmbeddedSCTs(leaf, issuer, root.ctlogs, sctOptions))))
    await loadIdentityRegExps(options.policy.identity)
    signer = { type: 'certificate', certificate: leaf, identity: checkIdentity(leaf, options.policy.identity!) }
  } else {
    if (validity) {
      for (const t of verifiedTimes) {
        if ((validity.start && t < validity.start) || (validity.end && t > validity.end)) {
          throw new CountersignError('ERR_CERT_EXPIRED', 'the key was not valid at a verified time', {
            details: { check: 'key' },
          })
        }
      }
    }
    signer = { type: 'key', hint: hint || keyHint(key) }
  }

  unwrap(await signatureCheck)
  return { bundle, signer, tlogEntries, timestamps, verifiedTimes }
}

type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown }

/** Start a check now and observe its outcome later (no unhandled rejection if an earlier check throws first). */
function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true, value }),
    (error) => ({ ok: false, error }),
  )
}

function unwrap<T>(s: Settled<T>): T {
  if (!s.ok) throw s.error
  return s.value
}

function threshold(name: string, have: number, need: number): void {
  if (have < need) {
    throw new CountersignError('ERR_TIMESTAMP_INVALID', `${have} verified timestamps, ${need} required (${name})`, {
      details: { check: 'timestamp', reason: 'threshold', threshold: name },
    })
  }
}

/**
 * Most transparency-log entries one bundle may carry, as sigstore-go (`pkg/limits`: `MaxAllowedTlogEntries`, 32): each
 * is verified, so without a bound a bundle of thousands of entries (still under the 128 MiB size limit) costs seconds
 * (issue 14). Real bundles carry one or two. RFC 3161 timestamps have the same bound in `verifyTimestamps`
 * (`MAX_TIMESTAMPS`, ERR_TIMESTAMP_INVALID 'too-many', as the conformance case expects).
 */
const MAX_BUNDLE_TLOG_ENTRIES = 32

function tooMany(what: string): CountersignError {
  return new CountersignError('ERR_BUNDLE_INVALID', `bundle carries more than ${MAX_BUNDLE_TLOG_ENTRIES} ${what}`, {
    details: { reason: 'too-many-entries' },
  })
}

function rfc3161Tokens(bundle: Bundle): Uint8Array[] {
  const tvd = bundle.timestampVerificationData
  const list = isJSONObject(tvd) ? tvd.rfc3161Timestamps : undefined
  if (list === undefined) return []
  if (!Array.isArray(list)) throw new CountersignError('ERR_BUNDLE_INVALID', 'rfc3161Timestamps is not a list')
  return list.map((t) => {
    if (!isJSONObject(t) || typeof t.signedTimestamp !== 'string') {
      throw new CountersignError('ERR_BUNDLE_INVALID', 'RFC 3161 timestamp without signedTimestamp')
    }
    // Go's base64 decoder skips line breaks; some clients wrap the token at 76 columns.
    return fromBase64(t.signedTimestamp, { allowWhitespace: true })
  })
}

function digestOf(d: string): { algorithm: 'sha256' | 'sha384' | 'sha512'; digest: Uint8Array } {
  const m = /^(sha256|sha384|sha512):([0-9a-f]+)$/.exec(d)
  if (!m) throw new CountersignError('ERR_INVALID_INPUT', `invalid artifact digest: ${d}`)
  return { algorithm: m[1] as 'sha256', digest: fromHex(m[2]!) }
}

function isParsedBundle(v: unknown): v is Bundle {
  return (
    isJSONObject(v) &&
    typeof v.version === 'string' &&
    isJSONObject(v.content) &&
    isJSONObject(v.verificationMaterial) &&
    'type' in (v.verificationMaterial as object)
  )
}

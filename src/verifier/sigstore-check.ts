/**
 * Sigstore verification for image signatures and attestations: which mode the options select (docs/formats.md
 * §Verification modes), the verifier thresholds cosign's flags map to, and a bundle checked with {@link verifyBundle}
 * (keyless, or a key with the transparency log).
 * @module
 */
import type { Bundle } from '../bundle/bundle.js'
import { CountersignError } from '../errors.js'
import { isJSONObject } from '../internal/json.js'
import { keyHint } from '../keys/key-info.js'
import type { PublicKey } from '../keys/types.js'
import type { SignatureBackend } from '../keys/verify.js'
import type { TrustedRoot } from '../trust/trusted-root.js'
import { type Certificate, parseCertificate } from '../x509/certificate.js'
import { verifyCertificateChain } from '../x509/chain.js'
import { type CertificateIdentity, checkIdentity, type IdentityPolicy, loadIdentityRegExps } from '../x509/identity.js'
import { verifyEmbeddedSCTs } from '../x509/sct.js'
import { certificatePublicKey } from '../x509/signature.js'
import type { ArtifactInput } from './signature.js'
import { checkArtifactSignature } from './signature.js'
import { type BundleVerificationResult, type BundleVerifierOptions, verifyBundle } from './verify-bundle.js'

/**
 * Keyless (certificate identity) and transparency-log options shared by image signature and attestation
 * verification. cosign's flags map onto them: `--certificate-identity[-regexp]`, `--certificate-oidc-issuer[-regexp]`
 * and `--certificate-github-workflow-*` → `identity`; `--trusted-root` → `trustedRoot`; `--insecure-ignore-sct` →
 * `insecureIgnoreSct`; `--use-signed-timestamps` → `useSignedTimestamps`.
 *
 * Exported from `countersign/verify`.
 */
export interface SigstoreVerificationOptions {
  /**
   * Keyless verification: the certificate identity every signature must carry. Exactly one of `keys` (non-empty)
   * and `identity` may be given; keyless needs a subject (exact or regexp) and an issuer (exact or regexp).
   */
  readonly identity?: IdentityPolicy
  /**
   * Fulcio CAs, Rekor and CT log keys and TSAs. Required for keyless verification, and for key verification with the
   * transparency log (`insecureIgnoreTlog` false).
   */
  readonly trustedRoot?: TrustedRoot
  /** Skip transparency-log checks (cosign's `--insecure-ignore-tlog`; tlog threshold 0). */
  readonly insecureIgnoreTlog?: boolean
  /** Do not require an embedded SCT in keyless certificates (cosign's `--insecure-ignore-sct`). */
  readonly insecureIgnoreSct?: boolean
  /** Require a verified RFC 3161 timestamp (cosign's `--use-signed-timestamps`). */
  readonly useSignedTimestamps?: boolean
  /** The clock: integrated times after it fail; certificates are checked at it when nothing else dates them. */
  readonly now?: Date
  /**
   * Signature primitives for the Sigstore checks (default Web Crypto); `nodeSignatureBackend` from
   * `countersign/node` is faster in Node and accepts exactly the same bundles.
   */
  readonly signatureBackend?: SignatureBackend
}

/** How signatures are checked: by key without a log (as before), by key with the log, or keyless. */
export type VerificationMode = 'key-offline' | 'key-tlog' | 'keyless'

const EXACTLY_ONE =
  'exactly one of: key reference (--key) or certificate identity (--certificate-identity or --certificate-identity-regexp), must be provided'

/**
 * The mode `options` select, with cosign's errors for invalid combinations.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT (key and identity, neither, keyless without subject/issuer or
 *   trusted root); ERR_TLOG_REQUIRED (a key with the log but no trusted root).
 */
export function verificationMode(
  options: SigstoreVerificationOptions & { readonly keys: readonly PublicKey[] },
): VerificationMode {
  const id = options.identity
  if (id !== undefined) {
    if (options.keys.length > 0) throw new CountersignError('ERR_INVALID_INPUT', EXACTLY_ONE)
    if (id.subject === undefined && id.subjectRegExp === undefined && id.allowAnySubject !== true) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        '--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode',
      )
    }
    if (id.issuer === undefined && id.issuerRegExp === undefined && id.allowAnyIssuer !== true) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        '--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode',
      )
    }
    if (!options.trustedRoot) {
      throw new CountersignError('ERR_INVALID_INPUT', 'a trusted root is required for keyless verification')
    }
    return 'keyless'
  }
  if (options.keys.length === 0) {
    throw new CountersignError('ERR_INVALID_INPUT', 'at least one public key or a certificate identity is required')
  }
  if (options.insecureIgnoreTlog === true) return 'key-offline'
  if (!options.trustedRoot) {
    throw new CountersignError(
      'ERR_TLOG_REQUIRED',
      'transparency log verification needs a trusted root: pass trustedRoot (--trusted-root), or insecureIgnoreTlog (--insecure-ignore-tlog)',
    )
  }
  return 'key-tlog'
}

/**
 * cosign v3's verifier options (`pkg/cosign/verify.go verificationOptions`): one tlog entry unless the log is
 * ignored; one SCT for certificates unless ignored; one RFC 3161 timestamp with `--use-signed-timestamps`; keyless
 * needs an observer time (integrated or signed), a key needs none.
 */
export function bundleThresholds(options: SigstoreVerificationOptions, mode: VerificationMode): BundleVerifierOptions {
  const ignoreTlog = options.insecureIgnoreTlog === true
  const signed = options.useSignedTimestamps === true
  return {
    tlogThreshold: ignoreTlog ? 0 : 1,
    ctlogThreshold: mode === 'keyless' && options.insecureIgnoreSct !== true ? 1 : 0,
    signedTimestampThreshold: signed ? 1 : 0,
    observerTimestampThreshold: mode === 'keyless' && (!ignoreTlog || signed) ? 1 : 0,
    ...(options.now ? { now: options.now } : {}),
    ...(options.signatureBackend ? { signatureBackend: options.signatureBackend } : {}),
  }
}

/**
 * What a Sigstore check of one bundle proved.
 */
export interface SigstoreBundleCheck {
  /** Index into `keys` of the key that verified (key mode). */
  readonly keyIndex?: number
  /** The signing certificate and its identity (keyless). */
  readonly certificate?: Certificate
  readonly identity?: CertificateIdentity
  readonly result?: BundleVerificationResult
}

function hasSignedMaterial(bundle: Bundle): boolean {
  const tvd = bundle.timestampVerificationData
  const tsa = isJSONObject(tvd) && Array.isArray(tvd.rfc3161Timestamps) && tvd.rfc3161Timestamps.length > 0
  return tsa || bundle.tlogEntries.length > 0
}

/**
 * Verify a bundle against `artifact` in `mode` (not `key-offline`). Key mode refuses certificate bundles (an
 * unconstrained certificate would accept any Fulcio signer) and tries every key; keyless applies `identity`.
 *
 * @throws {CountersignError} the failing check's error from {@link verifyBundle}.
 */
export async function verifySigstoreBundle(
  bundle: Bundle,
  artifact: ArtifactInput,
  options: SigstoreVerificationOptions & { readonly keys: readonly PublicKey[] },
  mode: Exclude<VerificationMode, 'key-offline'>,
): Promise<SigstoreBundleCheck> {
  const trustedRoot = options.trustedRoot!
  const thresholds = bundleThresholds(options, mode)
  const vm = bundle.verificationMaterial
  // Clearer than the verifier's threshold error for the common case of a bundle signed without a log.
  if ((thresholds.tlogThreshold ?? 1) > 0 && bundle.tlogEntries.length === 0) {
    throw new CountersignError(
      'ERR_TLOG_REQUIRED',
      'the bundle has no transparency log entry and one is required (--insecure-ignore-tlog skips the log)',
      { details: { check: 'tlog-threshold' } },
    )
  }
  if (mode === 'keyless') {
    if (vm.type === 'publicKey') {
      throw new CountersignError(
        'ERR_POLICY_DENIED',
        'bundle is signed by a key, not a certificate; verify it with a key',
        {
          details: { check: 'key' },
        },
      )
    }
    // --insecure-ignore-tlog with nothing that dates the signature: cosign (sigstore-go WithCurrentTime) checks the
    // certificate at the current time; verifyBundle has no such mode, so that case is checked here.
    if (options.insecureIgnoreTlog === true && options.useSignedTimestamps !== true && !hasSignedMaterial(bundle)) {
      return verifyCertificateBundleAtNow(bundle, artifact, options, thresholds)
    }
    const result = await verifyBundle(bundle, artifact, {
      trustedRoot,
      policy: { identity: options.identity! },
      ...thresholds,
    })
    const signer = result.signer
    return {
      result,
      ...(signer.type === 'certificate'
        ? { certificate: signer.certificate, ...(signer.identity ? { identity: signer.identity } : {}) }
        : {}),
    }
  }
  if (vm.type !== 'publicKey') {
    throw new CountersignError(
      'ERR_POLICY_DENIED',
      'bundle carries a certificate; verify it with a certificate identity, not a key',
      { details: { check: 'key' } },
    )
  }
  // The hint is unauthenticated; it only decides which key is tried first.
  const order = options.keys.map((_, i) => i)
  order.sort((a, b) => Number(keyHint(options.keys[b]!) === vm.hint) - Number(keyHint(options.keys[a]!) === vm.hint))
  let last: unknown
  for (const i of order) {
    try {
      const result = await verifyBundle(bundle, artifact, {
        trustedRoot,
        policy: { key: options.keys[i]! },
        ...thresholds,
      })
      return { keyIndex: i, result }
    } catch (e) {
      last = e
    }
  }
  throw last
}

async function verifyCertificateBundleAtNow(
  bundle: Bundle,
  artifact: ArtifactInput,
  options: SigstoreVerificationOptions,
  thresholds: BundleVerifierOptions,
): Promise<SigstoreBundleCheck> {
  const vm = bundle.verificationMaterial
  if (vm.type === 'publicKey') throw new TypeError('certificate bundle expected')
  const ders = vm.type === 'certificate' ? [vm.certificate] : vm.certificates
  let leaf: Certificate
  let intermediates: Certificate[]
  try {
    leaf = parseCertificate(ders[0]!)
    intermediates = ders.slice(1).map((d) => parseCertificate(d))
  } catch (cause) {
    throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle certificate does not parse', { cause })
  }
  const certificate = await checkCertificate(leaf, intermediates, [], options, thresholds.ctlogThreshold ?? 1)
  await checkArtifactSignature(bundle, certificatePublicKey(leaf), artifact)
  return certificate
}

/**
 * The certificate checks of keyless verification: the chain at every verified time (or at `now` when there is
 * none: cosign's `--insecure-ignore-tlog` without timestamps, where an expired certificate fails with cosign's
 * words), SCTs, then the identity policy.
 */
export async function checkCertificate(
  leaf: Certificate,
  intermediates: readonly Certificate[],
  times: readonly Date[],
  options: SigstoreVerificationOptions,
  ctlogThreshold: number,
  identityCheck: (leaf: Certificate) => CertificateIdentity = (c) => checkIdentity(c, options.identity!),
): Promise<{ certificate: Certificate; identity: CertificateIdentity }> {
  const root = options.trustedRoot!
  let issuer: Certificate | undefined
  if (times.length === 0) {
    const now = options.now ?? new Date()
    if (now > leaf.notAfter) {
      throw new CountersignError('ERR_CERT_EXPIRED', 'expected a signed timestamp to verify an expired certificate', {
        details: { check: 'chain' },
      })
    }
    issuer = (await verifyCertificateChain(leaf, root.certificateAuthorities, { time: now, intermediates })).path[1]
  }
  for (const time of times) {
    issuer = (await verifyCertificateChain(leaf, root.certificateAuthorities, { time, intermediates })).path[1]
  }
  if (!issuer) throw new CountersignError('ERR_CERT_CHAIN_INVALID', 'certificate has no issuer in the trusted root')
  await verifyEmbeddedSCTs(leaf, issuer, root.ctlogs, { threshold: ctlogThreshold })
  // The identity check is synchronous; its regexps (if any) need the RE2 engine, loaded on demand.
  await loadIdentityRegExps(options.identity)
  return { certificate: leaf, identity: identityCheck(leaf) }
}

/**
 * The parts the `-o json` reports of several verbs share: what the transparency logs and timestamp authorities
 * vouched for, and who a verified signature is from. One shape for each, so a script reads them the same way
 * whichever verb printed them (`docs/cli-output.md`).
 * @module
 */
import { createHash } from 'node:crypto'
import type { WitnessResult } from '../contracts/witness-result.js'
import { keyHint } from '../keys/key-info.js'
import type { KeyAlgorithm, PublicKey } from '../keys/types.js'
import type { VerifiedTransparencyLogEntry } from '../rekor/verify-entry.js'
import type { VerifiedTimestamp } from '../timestamp/verify.js'
import type { BundleVerificationResult } from '../verifier/verify-bundle.js'
import type { CertificateIdentity } from '../x509/identity.js'

/** One transparency-log entry: its index, the log's URL, and the integrated time when a verified SET dates it. */
export interface TlogEntryReport {
  readonly logIndex: number
  readonly logURL: string
  readonly integratedTime?: string
}

/** One RFC 3161 timestamp: the authority's URI and the time it vouches for. */
export interface TimestampReport {
  readonly authority: string
  readonly time: string
}

/** What the logs and timestamp authorities vouched for, as the JSON reports print it. */
export interface WitnessReport {
  readonly tlogEntries: readonly TlogEntryReport[]
  readonly timestamps: readonly TimestampReport[]
}

/** Who a verified signature is from: a certificate identity (keyless) or a key. */
export type SignerReport =
  | {
      readonly type: 'certificate'
      readonly subject: string
      readonly subjectType: CertificateIdentity['subjectType']
      readonly issuer: string | null
    }
  | { readonly type: 'key'; readonly key?: string; readonly hint?: string }

function tlogEntry(e: VerifiedTransparencyLogEntry): TlogEntryReport {
  // Log indices stay below 2^53 for any real log; a JSON number is what scripts compare.
  return {
    logIndex: Number(e.entry.logIndex),
    logURL: e.log.baseUrl,
    ...(e.integratedTime ? { integratedTime: e.integratedTime.toISOString() } : {}),
  }
}

function timestamp(t: VerifiedTimestamp): TimestampReport {
  return { authority: t.authority.uri, time: t.time.toISOString() }
}

/**
 * The witness part of a signing report (empty lists when nothing was logged or timestamped).
 *
 * @example
 * report.push({ image, digest: result.digest, ...witnessReport(result.witnessed) })
 */
export function witnessReport(witnessed: WitnessResult | undefined): WitnessReport {
  return {
    tlogEntries: (witnessed?.verifiedEntries ?? []).map(tlogEntry),
    timestamps: (witnessed?.verifiedTimestamps ?? []).map(timestamp),
  }
}

/**
 * The signer of a certificate identity.
 *
 * @example
 * const signer = identityReport(result.identity) // { type: 'certificate', subject, subjectType, issuer }
 */
export function identityReport(identity: CertificateIdentity): SignerReport {
  return {
    type: 'certificate',
    subject: identity.subject,
    subjectType: identity.subjectType,
    issuer: identity.issuer ?? null,
  }
}

/**
 * What the Sigstore verifier proved about a bundle: signer, log entries, timestamps and the verified times.
 *
 * @example
 * writeReport(io.stdout, { verified: true, ...bundleVerificationReport(await verifyBundle(bytes, artifact, options)) })
 */
export function bundleVerificationReport(
  result: BundleVerificationResult,
  key?: string,
): WitnessReport & { readonly signer: SignerReport; readonly verifiedTimes: readonly string[] } {
  const signer: SignerReport =
    result.signer.type === 'certificate'
      ? identityReport(result.signer.identity)
      : {
          type: 'key',
          ...(key !== undefined ? { key } : {}),
          ...(result.signer.hint ? { hint: result.signer.hint } : {}),
        }
  return {
    signer,
    tlogEntries: result.tlogEntries.map(tlogEntry),
    timestamps: result.timestamps.map(timestamp),
    verifiedTimes: result.verifiedTimes.map((t) => t.toISOString()),
  }
}

/**
 * `sha256:<hex>` of some bytes: the digest the blob reports name their blob by.
 *
 * @example
 * sha256Digest(new Uint8Array()) // 'sha256:e3b0c442…'
 */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

/** A key as the key verbs' reports print it: its family and its Sigstore hint. */
export interface KeyReport {
  /** `ecdsa-p256`, `ecdsa-p384`, `ecdsa-p521`, `ed25519` or `rsa`. */
  readonly algorithm: KeyAlgorithm
  /** Base64 SHA-256 of the DER public key: the `hint` of Sigstore bundles and of the verify reports' `signer`. */
  readonly hint: string
}

/**
 * The key part of the `generate-key-pair`, `import-key-pair` and `public-key` reports.
 *
 * @example
 * writeReport(io.stdout, { publicKey: publicKeyToPEM(key), ...keyReport(key) })
 */
export function keyReport(publicKey: PublicKey): KeyReport {
  return { algorithm: publicKey.algorithm, hint: keyHint(publicKey) }
}

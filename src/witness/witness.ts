/**
 * Witnessing a signature: log it in the transparency logs and timestamp it, then verify every answer against the
 * trusted root before it can reach a bundle or an annotation. A log or TSA that returns something unverifiable
 * fails the signing; nothing has been written to a registry at that point.
 *
 * @module
 */
import type { BundleContent } from '../bundle/bundle.js'
import type { TimestampAuthorityClient } from '../contracts/timestamp-authority.js'
import type { LogSigner, TransparencyLogWriter } from '../contracts/transparency-log.js'
import type { WitnessResult } from '../contracts/witness-result.js'
import { CountersignError, isCountersignError } from '../errors.js'
import { toBase64 } from '../internal/bytes.js'
import type { AbortSignalLike } from '../internal/host-types.js'
import type { RekorDigest } from '../rekor/body.js'
import { verifyTransparencyLogEntry } from '../rekor/verify-entry.js'
import { verifyTimestamp } from '../timestamp/verify.js'
import type { TrustedRoot } from '../trust/trusted-root.js'

/**
 * Options of {@link witnessSignature}.
 *
 * Exported from `countersign/witness`.
 */
export interface WitnessOptions {
  /** Logs to write to (cosign writes to one; an empty list writes none). */
  readonly transparencyLogs?: readonly TransparencyLogWriter[]
  /** Timestamp authorities to ask (each answer becomes one `rfc3161Timestamps` item). */
  readonly timestampAuthorities?: readonly TimestampAuthorityClient[]
  /** Verifies what the services return: log keys, TSA chains. */
  readonly trustedRoot: TrustedRoot
  /** Rekor v1 kind for DSSE envelopes: `dsse` (cosign v3, default) or `intoto` (cosign v1/v2 `attest`). */
  readonly dsseEntryKind?: 'dsse' | 'intoto'
  /** The current time for the integrated-time check (default now). */
  readonly now?: Date
  readonly signal?: AbortSignalLike
}

const DIGEST_NAMES: Readonly<Record<string, RekorDigest['algorithm']>> = {
  SHA2_256: 'sha256',
  SHA2_384: 'sha384',
  SHA2_512: 'sha512',
}

/** The signature bytes a TSA timestamps: the message signature, or the DSSE envelope's one signature. */
export function signatureBytes(content: BundleContent): Uint8Array {
  if (content.type === 'messageSignature') return content.signature
  const [first, ...rest] = content.envelope.signatures
  if (first === undefined || rest.length > 0) {
    throw new CountersignError('ERR_DSSE_INVALID', 'a witnessed DSSE envelope must carry exactly one signature')
  }
  return first.sig
}

function artifactDigest(content: BundleContent): RekorDigest | undefined {
  if (content.type !== 'messageSignature') return undefined
  const md = content.messageDigest
  const algorithm = md ? DIGEST_NAMES[md.algorithm] : undefined
  if (!md || !algorithm) {
    throw new CountersignError('ERR_INVALID_INPUT', 'a logged message signature needs its SHA-2 message digest')
  }
  return { algorithm, digest: md.digest }
}

/** Keep the code of a verification failure, and say which service produced what failed. */
function untrusted(what: string, url: string, error: unknown): CountersignError {
  if (!(error instanceof CountersignError))
    return new CountersignError('ERR_INVALID_INPUT', `${what} from ${url} failed`, { cause: error })
  return new CountersignError(error.code, `${what} from ${url} does not verify: ${error.message}`, {
    cause: error,
    details: { ...error.details, service: url },
  })
}

/**
 * Log and timestamp a signature, verifying each answer: an entry must verify against the trusted root's logs
 * (checkpoint + inclusion proof, SET for Rekor v1) and its body must name exactly this signature, key and artifact;
 * a timestamp must verify against the trusted root's TSAs over these signature bytes. Logs and TSAs are asked in
 * parallel. A certificate signer logged only on Rekor v2 needs a timestamp (v2 gives no signed time), so that
 * combination without TSAs is refused before anything is sent.
 *
 * @param content - The signed content as the bundle will carry it (message signature with its digest, or DSSE).
 * @param signer - The leaf certificate or public key, and the signing scheme.
 * @param options - Services, trusted root, DSSE kind.
 * @returns Bundle-ready entries and timestamps, and what verified.
 * @throws {CountersignError} the service's HTTP code (ERR_REKOR_HTTP, ERR_TIMESTAMP_HTTP, ERR_NETWORK) or the
 *   verification code of an answer that does not verify (ERR_TLOG_INCLUSION_PROOF, ERR_TLOG_ENTRY_MISMATCH,
 *   ERR_TIMESTAMP_INVALID); ERR_TLOG_REQUIRED for a certificate on Rekor v2 without a TSA.
 * @example
 * ```ts
 * import { witnessSignature } from 'countersign/witness'
 * import { createRekorClient } from 'countersign/rekor'
 * const { tlogEntries } = await witnessSignature(content, { type: 'publicKey', spki, algorithm: 'ecdsa-p256-sha256' }, {
 *   transparencyLogs: [createRekorClient({ url: 'https://rekor.sigstore.dev' })],
 *   trustedRoot: publicGoodTrustedRoot(),
 * })
 * ```
 *
 * Exported from `countersign/witness`.
 */
export async function witnessSignature(
  content: BundleContent,
  signer: LogSigner,
  options: WitnessOptions,
): Promise<WitnessResult> {
  const logs = options.transparencyLogs ?? []
  const tsas = options.timestampAuthorities ?? []
  const sig = signatureBytes(content)
  const artifact = artifactDigest(content)
  if (signer.type === 'certificate' && tsas.length === 0 && logs.length > 0 && logs.every((l) => l.apiVersion === 2)) {
    throw new CountersignError(
      'ERR_TLOG_REQUIRED',
      'Rekor v2 entries carry no signed time, so a certificate needs an RFC 3161 timestamp: configure a timestamp authority',
    )
  }
  const call = options.signal ? { signal: options.signal } : {}
  const verifier = signer.type === 'certificate' ? { certificate: signer.certificate } : { publicKey: signer.spki }

  const logged = logs.map(async (log) => {
    const kind = content.type === 'messageSignature' ? 'hashedrekord' : (options.dsseEntryKind ?? 'dsse')
    const json = await log.createEntry(content, signer, { kind, ...call })
    try {
      const verified = await verifyTransparencyLogEntry(json, {
        tlogs: options.trustedRoot.tlogs,
        bundleVersion: '0.3',
        content,
        verifier,
        ...(artifact ? { artifact } : {}),
        ...(options.now ? { now: options.now } : {}),
      })
      return { json, verified }
    } catch (error) {
      throw untrusted('the transparency log entry', log.url, error)
    }
  })
  const stamped = tsas.map(async (tsa) => {
    const der = await tsa.timestamp(sig, call)
    try {
      return { der, verified: await verifyTimestamp(der, sig, { trustedRoot: options.trustedRoot }) }
    } catch (error) {
      throw untrusted('the timestamp', tsa.url, error)
    }
  })
  // allSettled first: a failing service must not leave another's request running unobserved.
  const [logResults, tsaResults] = await Promise.all([Promise.allSettled(logged), Promise.allSettled(stamped)])
  for (const r of [...tsaResults, ...logResults]) if (r.status === 'rejected') throw rethrow(r.reason)
  const entries = logResults.map((r) => (r as PromiseFulfilledResult<Awaited<(typeof logged)[number]>>).value)
  const stamps = tsaResults.map((r) => (r as PromiseFulfilledResult<Awaited<(typeof stamped)[number]>>).value)
  const rfc3161Timestamps = stamps.map((s) => s.der)
  return {
    tlogEntries: entries.map((e) => e.json),
    rfc3161Timestamps,
    ...(rfc3161Timestamps.length > 0
      ? {
          timestampVerificationData: {
            rfc3161Timestamps: rfc3161Timestamps.map((t) => ({ signedTimestamp: toBase64(t) })),
          },
        }
      : {}),
    verifiedEntries: entries.map((e) => e.verified),
    verifiedTimestamps: stamps.map((s) => s.verified),
  }
}

function rethrow(reason: unknown): unknown {
  if (isCountersignError(reason)) return reason
  return new CountersignError('ERR_NETWORK', 'a Sigstore service request failed', { cause: reason })
}

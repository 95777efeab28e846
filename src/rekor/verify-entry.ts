/**
 * Verify one transparency-log entry of a bundle: the log is trusted, the entry is in it (signed entry timestamp and/or
 * inclusion proof under a signed checkpoint), and its body logs this bundle.
 *
 * @module
 */
import type { BundleVersion } from '../bundle/bundle.js'
import { CountersignError, isCountersignError } from '../errors.js'
import { concat } from '../internal/bytes.js'
import { merged } from '../internal/merged.js'
import type { SignatureBackend } from '../keys/verify.js'
import { sha2Digest } from '../keys/webcrypto.js'
import { selectTransparencyLogs, type TransparencyLog } from '../trust/trusted-root.js'
import { type EntryBodyExpectation, type RekorEntryBody, readEntryBody, verifyEntryBody } from './body.js'
import { type Checkpoint, checkpointVerifierForLog, verifyCheckpoint } from './checkpoint.js'
import {
  isParsedTransparencyLogEntry,
  isRekorV2Entry,
  parseTransparencyLogEntry,
  type TransparencyLogEntry,
} from './entry.js'
import { merkleLeafHash, verifyInclusionProof } from './merkle.js'
import { verifySignedEntryTimestamp } from './set.js'

const LEAF_PREFIX = /* @__PURE__ */ Uint8Array.of(0)

/** Default tolerance for a verifier clock behind the log's: a minute. */
const DEFAULT_CLOCK_SKEW_SECONDS = 60

/**
 * What an entry was proven with: `set` (Rekor v1 inclusion promise), `proof` (inclusion proof under a signed
 * checkpoint).
 *
 * Exported from `countersign/rekor`.
 */
export type TransparencyLogEvidence = 'set' | 'proof'

/**
 * Options of {@link verifyTransparencyLogInclusion}: the trusted logs, the bundle's version, the clock.
 *
 * Exported from `countersign/rekor`.
 */
export interface VerifyTransparencyLogInclusionOptions {
  /** `trustedRoot.tlogs`. */
  readonly tlogs: readonly TransparencyLog[]
  /** `bundle.version`: v0.1 entries need an inclusion promise; later versions an inclusion proof with checkpoint. */
  readonly bundleVersion: BundleVersion
  /** The current time, for the integrated-time check (default: now). */
  readonly now?: Date
  /** How far an integrated time may lie ahead of `now` (default 60 s, for clock skew). */
  readonly clockSkewSeconds?: number
  /** Signature primitives (default Web Crypto; `nodeSignatureBackend` from `countersign/node` in Node). */
  readonly signatureBackend?: SignatureBackend | undefined
}

/**
 * Options of {@link verifyTransparencyLogEntry}: the inclusion options and what the body must match.
 *
 * Exported from `countersign/rekor`.
 */
export interface VerifyTransparencyLogEntryOptions
  extends VerifyTransparencyLogInclusionOptions,
    EntryBodyExpectation {}

/**
 * An entry whose log inclusion verified (SET and/or inclusion proof under a signed checkpoint); its body unchecked.
 *
 * Exported from `countersign/rekor`.
 */
export type VerifiedTransparencyLogInclusion = Omit<VerifiedTransparencyLogEntry, 'body'>

/**
 * A verified entry.
 *
 * Exported from `countersign/rekor`.
 */
export interface VerifiedTransparencyLogEntry {
  readonly entry: TransparencyLogEntry
  /** The trusted-root log that vouched for the entry. */
  readonly log: TransparencyLog
  /** The integrated time, only when a verified SET signs it (without one it is unauthenticated; Rekor v2 has none). */
  readonly integratedTime?: Date
  readonly verifiedBy: readonly TransparencyLogEvidence[]
  /** The verified checkpoint, when the entry had an inclusion proof. */
  readonly checkpoint?: Checkpoint
  readonly body: RekorEntryBody
}

function tlogError(check: string, reason: string, cause?: unknown): never {
  throw new CountersignError('ERR_TLOG_INCLUSION_PROOF', `transparency log entry: ${reason}`, {
    details: { check, reason },
    ...(cause === undefined ? {} : { cause }),
  })
}

/** Bundle version rules (sigstore-js validate.ts; sigstore-go rejects a proof without checkpoint in any version). */
function checkShape(entry: TransparencyLogEntry, version: BundleVersion): void {
  const { inclusionPromise, inclusionProof } = entry
  if (inclusionProof !== undefined && inclusionProof.checkpoint === undefined) {
    tlogError('checkpoint', 'the inclusion proof has no checkpoint')
  }
  if (version === '0.1' && inclusionPromise === undefined) {
    tlogError('set', 'a v0.1 bundle entry needs an inclusion promise')
  }
  if (version !== '0.1' && inclusionProof === undefined) {
    tlogError('proof', `a v${version} bundle entry needs an inclusion proof`)
  }
  if (isRekorV2Entry(entry) && inclusionProof === undefined)
    tlogError('proof', 'a Rekor v2 entry needs an inclusion proof')
  // Rekor v2 has one tree per log (no shards), so the entry's index is the proven one; a different top-level logIndex
  // is unauthenticated and would be reported as where the entry is (sigstore-go compares them too).
  if (isRekorV2Entry(entry) && inclusionProof !== undefined && entry.logIndex !== inclusionProof.logIndex) {
    tlogError('proof', 'the entry logIndex differs from the inclusion proof logIndex')
  }
  if (inclusionPromise === undefined && inclusionProof === undefined) {
    tlogError('proof', 'the entry has neither an inclusion promise nor an inclusion proof')
  }
}

async function verifyProof(
  entry: TransparencyLogEntry,
  logs: readonly TransparencyLog[],
  backend: SignatureBackend | undefined,
): Promise<{ log: TransparencyLog; checkpoint: Checkpoint }> {
  const proof = entry.inclusionProof!
  // Started now, alongside the checkpoint signature: bodies of a few KiB go to Web Crypto's native SHA-256 (via
  // sha2Digest), which in a fresh process beats JS hashing that has not been compiled yet. Never rejects: without
  // Web Crypto the JS hash gives the same bytes.
  const leafHash = sha2Digest('sha256', concat(LEAF_PREFIX, entry.canonicalizedBody)).catch(() =>
    merkleLeafHash(entry.canonicalizedBody),
  )
  let firstError: unknown
  for (const log of logs) {
    let checkpoint: Checkpoint
    try {
      const verifier = checkpointVerifierForLog(log)
      // Rekor v2 (C2SP) checkpoints name their log in the origin line; Rekor v1 origins carry a tree ID instead.
      checkpoint = await verifyCheckpoint(proof.checkpoint!, [verifier], {
        ...(verifier.name === undefined ? {} : { origin: verifier.name }),
        rootHash: proof.rootHash,
        treeSize: proof.treeSize,
        signatureBackend: backend,
      })
    } catch (cause) {
      firstError ??= cause
      continue
    }
    try {
      // Root and size come from the verified checkpoint (equal to the proof's, which verifyCheckpoint checked).
      verifyInclusionProof({
        index: proof.logIndex,
        treeSize: checkpoint.treeSize,
        leafHash: await leafHash,
        proof: proof.hashes,
        rootHash: checkpoint.rootHash,
      })
    } catch (cause) {
      const reason = isCountersignError(cause) ? String(cause.details?.reason ?? cause.message) : 'invalid proof'
      tlogError('proof', `inclusion proof: ${reason}`, cause)
    }
    return { log, checkpoint }
  }
  if (isCountersignError(firstError, 'ERR_TLOG_INCLUSION_PROOF')) throw firstError
  tlogError('checkpoint', 'no usable checkpoint key for this log', firstError)
}

/**
 * Verify one entry of `bundle.tlogEntries` for a bundle, offline:
 *
 * 1. shape and bundle-version rules: v0.1 needs an inclusion promise, v0.2+ an inclusion proof; a proof always needs
 *    its checkpoint; Rekor v2 entries need a proof;
 * 2. the log: a trusted-root tlog with the entry's log ID;
 * 3. the body logs this bundle ({@link verifyEntryBody});
 * 4. the inclusion promise (SET) with a log key valid at the integrated time, when present;
 * 5. the inclusion proof against a checkpoint signed by that log (Rekor v1: key hint; Rekor v2: name and key, origin =
 *    log host), when present;
 * 6. the integrated time is not after `now` (plus `clockSkewSeconds`; checked before 4 and 5).
 *
 * Thresholds, duplicate entries and checking the certificate against the integrated time are the caller's.
 *
 * @param entry - A raw `tlogEntries` element or a {@link parseTransparencyLogEntry} result.
 * @param options - Trusted logs, bundle version, content, verifier and artifact.
 * @returns The entry, its log, the evidence that verified and the SET-backed integrated time.
 * @throws {CountersignError} ERR_BUNDLE_INVALID for a malformed entry; ERR_TLOG_ENTRY_MISMATCH when the body logs
 *   something else; ERR_TLOG_INCLUSION_PROOF with `details.check` `log` (no trusted log), `set`, `proof`,
 *   `checkpoint` or `integratedTime` (in the future).
 * @example
 * ```ts
 * import { parseBundle } from 'countersign/bundle'
 * import { verifyTransparencyLogEntry } from 'countersign/rekor'
 * import { parseTrustedRoot } from 'countersign/trust'
 * const bundle = parseBundle(bundleBytes)
 * const result = await verifyTransparencyLogEntry(bundle.tlogEntries[0], {
 *   tlogs: parseTrustedRoot(rootBytes).tlogs,
 *   bundleVersion: bundle.version,
 *   content: bundle.content,
 *   verifier: { certificate: leafDER },
 *   artifact: artifactBytes,
 * })
 * console.log(result.verifiedBy, result.integratedTime)
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export async function verifyTransparencyLogEntry(
  entry: unknown,
  options: VerifyTransparencyLogEntryOptions,
): Promise<VerifiedTransparencyLogEntry> {
  const { entry: e, candidates } = trustedEntry(entry, options)
  const body = verifyEntryBody(e, await withArtifactDigest(e, options))
  return Object.freeze(merged(await verifyInclusion(e, candidates, options), { body }))
}

/**
 * The artifact of a message signature given as bytes, replaced by its digest under the algorithm the entry logged,
 * computed here with {@link sha2Digest} (Web Crypto beyond 8 KiB): the body check hashes synchronously in
 * JavaScript, about a tenth of native speed on a large file. Anything the body check would refuse anyway is left
 * to it, so the verdict and the error are the same either way.
 */
async function withArtifactDigest<T extends EntryBodyExpectation>(e: TransparencyLogEntry, options: T): Promise<T> {
  const { artifact } = options
  // Small artifacts stay with the body check, which hashes them as fast and without parsing the body twice.
  if (!(artifact instanceof Uint8Array) || artifact.length <= 8192 || options.content.type !== 'messageSignature') {
    return options
  }
  let logged: RekorEntryBody
  try {
    logged = readEntryBody(e)
  } catch {
    return options
  }
  if (logged.digestOf !== 'artifact') return options
  const { algorithm } = logged.digest
  return merged(options, { artifact: { algorithm, digest: await sha2Digest(algorithm, artifact) } }) as T
}

/**
 * Verify that an entry is in a trusted log, without any expectation of what it logs: steps 1, 2, 4, 5 and 6 of
 * {@link verifyTransparencyLogEntry} (for reading a log, as `rekor-cli get` does; a bundle's entries need the body
 * check too).
 *
 * @param entry - A protobuf-JSON `TransparencyLogEntry` or a {@link parseTransparencyLogEntry} result.
 * @param options - Trusted logs, the version rules to apply, the clock.
 * @returns The entry, its log, the evidence that verified and the SET-backed integrated time.
 * @throws {CountersignError} ERR_BUNDLE_INVALID for a malformed entry; ERR_TLOG_INCLUSION_PROOF as
 *   {@link verifyTransparencyLogEntry}.
 * @example
 * ```ts
 * import { toBundleLogEntry, verifyTransparencyLogInclusion } from 'countersign/rekor'
 * const { verifiedBy } = await verifyTransparencyLogInclusion(toBundleLogEntry(entry), {
 *   tlogs: root.tlogs,
 *   bundleVersion: '0.3',
 * })
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export async function verifyTransparencyLogInclusion(
  entry: unknown,
  options: VerifyTransparencyLogInclusionOptions,
): Promise<VerifiedTransparencyLogInclusion> {
  const { entry: e, candidates } = trustedEntry(entry, options)
  return Object.freeze(await verifyInclusion(e, candidates, options))
}

/** Steps 1 and 2: a well-formed entry of a log the trusted root knows. */
function trustedEntry(
  entry: unknown,
  options: VerifyTransparencyLogInclusionOptions,
): { entry: TransparencyLogEntry; candidates: TransparencyLog[] } {
  const e = isParsedTransparencyLogEntry(entry) ? entry : parseTransparencyLogEntry(entry)
  checkShape(e, options.bundleVersion)
  const candidates = selectTransparencyLogs(options.tlogs, e.logId)
  if (candidates.length === 0) tlogError('log', 'no trusted transparency log has this log ID')
  return { entry: e, candidates }
}

/** Steps 6, 4 and 5: the integrated time, the SET and the inclusion proof. */
async function verifyInclusion(
  e: TransparencyLogEntry,
  candidates: readonly TransparencyLog[],
  options: VerifyTransparencyLogInclusionOptions,
): Promise<VerifiedTransparencyLogInclusion> {
  // Checked before any signature work: a future time fails whether or not a SET signs it.
  if (e.integratedTime > 0n) {
    const now = (options.now ?? new Date()).getTime()
    const skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS
    if (Number.isNaN(now) || Number(e.integratedTime) * 1000 > now + skew * 1000) {
      tlogError('integratedTime', 'the integrated time is in the future')
    }
  }

  const verifiedBy: TransparencyLogEvidence[] = []
  let log: TransparencyLog | undefined
  let integratedTime: Date | undefined
  // With one candidate log the proof's log is known before the SET verifies, so both checks start now (each may be
  // a thread-pool round trip); a SET failure is still the one reported.
  const earlyProof =
    e.inclusionPromise !== undefined && e.inclusionProof !== undefined && candidates.length === 1
      ? verifyProof(e, candidates, options.signatureBackend)
      : undefined
  earlyProof?.catch(() => undefined)
  if (e.inclusionPromise !== undefined) {
    log = await verifySignedEntryTimestamp(
      {
        canonicalizedBody: e.canonicalizedBody,
        integratedTime: e.integratedTime,
        logId: e.logId,
        logIndex: e.logIndex,
        signedEntryTimestamp: e.inclusionPromise.signedEntryTimestamp,
      },
      candidates,
      options,
    )
    integratedTime = new Date(Number(e.integratedTime) * 1000)
    verifiedBy.push('set')
  }
  let checkpoint: Checkpoint | undefined
  if (e.inclusionProof !== undefined) {
    // With a verified SET the checkpoint must come from the same log key; without one, any key of this log ID.
    const result = await (earlyProof ??
      verifyProof(e, log === undefined ? candidates : [log], options.signatureBackend))
    log ??= result.log
    checkpoint = result.checkpoint
    verifiedBy.push('proof')
  }
  return {
    entry: e,
    log: log!,
    ...(integratedTime === undefined ? {} : { integratedTime }),
    verifiedBy: Object.freeze(verifiedBy),
    ...(checkpoint === undefined ? {} : { checkpoint }),
  }
}

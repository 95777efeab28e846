/**
 * Rekor v2 (rekor-tiles) writer: `POST /api/v2/log/entries` with a hashedrekord 0.0.2 request. The log answers with
 * a protobuf-JSON `TransparencyLogEntry` (inclusion proof under a signed checkpoint, no SET, no integrated time)
 * only once a checkpoint covers the entry, which takes seconds; hence the long default timeout.
 *
 * @module
 */
import type { BundleContent } from '../bundle/bundle.js'
import type { LogSigner, TransparencyLogWriter } from '../contracts/transparency-log.js'
import { CountersignError, isCountersignError } from '../errors.js'
import { redactingErrors } from '../http/redact.js'
import { createServiceHTTP, type ServiceClientOptions } from '../http/service.js'
import { toBase64 } from '../internal/bytes.js'
import { verifyEntryBody } from './body.js'
import { parseTransparencyLogEntry, type TransparencyLogEntry } from './entry.js'
import { hashedRekordRequestV002 } from './proposed-entry-v2.js'

/**
 * Options of {@link createRekorV2Client}.
 *
 * Exported from `countersign/rekor`.
 */
export interface RekorV2ClientOptions extends ServiceClientOptions {
  /** Base URL of one log shard, e.g. `https://log2025-1.rekor.sigstore.dev` (from the signing config). */
  readonly url: string
}

// rekor-tiles blocks a write until a checkpoint covers it (2–10 s); its own Go client allows 30 s.
const DEFAULT_TIMEOUT_MS = 30_000
// An entry carries one certificate, a proof of at most 64 hashes and a checkpoint: far below this.
const MAX_RESPONSE_BYTES = 1024 * 1024

function responseError(url: string, reason: string, cause?: unknown): never {
  throw new CountersignError('ERR_REKOR_HTTP', `Rekor v2: ${url} answered with ${reason}`, {
    details: { reason },
    ...(cause === undefined ? {} : { cause }),
  })
}

/** The entry in canonical protobuf JSON, rebuilt from the validated values (nothing unvalidated passes through). */
function entryJSON(e: TransparencyLogEntry): Record<string, unknown> {
  const proof = e.inclusionProof!
  return {
    logIndex: String(e.logIndex),
    logId: { keyId: toBase64(e.logId) },
    kindVersion: { kind: e.kindVersion.kind, version: e.kindVersion.version },
    ...(e.integratedTime > 0n ? { integratedTime: String(e.integratedTime) } : {}),
    ...(e.inclusionPromise
      ? { inclusionPromise: { signedEntryTimestamp: toBase64(e.inclusionPromise.signedEntryTimestamp) } }
      : {}),
    inclusionProof: {
      logIndex: String(proof.logIndex),
      rootHash: toBase64(proof.rootHash),
      treeSize: String(proof.treeSize),
      hashes: proof.hashes.map(toBase64),
      checkpoint: { envelope: proof.checkpoint! },
    },
    canonicalizedBody: toBase64(e.canonicalizedBody),
  }
}

/**
 * A Rekor v2 client: logs a message signature or DSSE envelope as a hashedrekord 0.0.2 entry (DSSE as the digest of
 * its PAE with the envelope signature, as sigstore-go does; rekor-tiles refuses every other kind, including the
 * deprecated `dsseRequestV002`, so `options.kind` is ignored). The answer is checked before it is returned: a
 * well-formed entry of kind hashedrekord 0.0.2 with an inclusion proof and checkpoint, whose logged body holds this
 * signature, verifier and digest. Checkpoint and proof are for the caller to verify against its trusted root.
 *
 * The log refuses an entry it already holds (HTTP 409 with the existing index in `x-log-index`); rekor-tiles has no
 * API to fetch that entry with its proof, so this is an ERR_REKOR_HTTP error with `details.logIndex`. ECDSA
 * signatures are randomised and never collide; deterministic schemes (RSA PKCS#1, Ed25519ph) do when the same
 * content is signed twice with the same key.
 *
 * @param options - The log's base URL and HTTP options (default timeout 30 s per attempt).
 * @returns A {@link TransparencyLogWriter} with `apiVersion` 2.
 * @throws {CountersignError} from `createEntry`: ERR_UNSUPPORTED_ALGORITHM (pure Ed25519, RSA-PSS) and
 *   ERR_INVALID_INPUT (missing `messageDigest`, key/algorithm mismatch) before any request; ERR_REKOR_HTTP for HTTP
 *   failures (`details.status`) and malformed answers (`details.reason`); ERR_TLOG_ENTRY_MISMATCH when the logged
 *   body is not this signature; ERR_NETWORK, ERR_ABORTED.
 * @example
 * ```ts
 * import { createRekorV2Client } from 'countersign/rekor'
 * const log = createRekorV2Client({ url: 'https://log2025-1.rekor.sigstore.dev' })
 * const entry = await log.createEntry(bundle.content, { type: 'certificate', certificate, algorithm: 'ecdsa-p256-sha256' })
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function createRekorV2Client(options: RekorV2ClientOptions): TransparencyLogWriter {
  const base = options.url.replace(/\/+$/, '')
  let endpoint: string
  try {
    const u = new URL(`${base}/api/v2/log/entries`)
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError('not http(s)')
    endpoint = u.href
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', 'Rekor v2 URL must be an http(s) URL', { cause })
  }
  const http = createServiceHTTP('Rekor v2', 'ERR_REKOR_HTTP', {
    ...options,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  })

  async function createEntry(
    content: BundleContent,
    signer: LogSigner,
    call: { readonly signal?: AbortSignal } = {},
  ): Promise<Record<string, unknown>> {
    const { request, digest } = hashedRekordRequestV002(content, signer)
    const res = await http({
      method: 'POST',
      url: endpoint,
      json: request,
      maxBytes: MAX_RESPONSE_BYTES,
      acceptStatus: [409],
      ...(call.signal ? { signal: call.signal } : {}),
    })
    if (res.status === 409) {
      const index = res.headers.get('x-log-index')
      const logIndex = index !== null && /^[0-9]{1,19}$/.test(index) ? index : undefined
      throw new CountersignError(
        'ERR_REKOR_HTTP',
        `Rekor v2: ${base} already holds this entry${logIndex === undefined ? '' : ` at index ${logIndex}`}` +
          ' (Rekor v2 cannot return an existing entry; sign again to log a new signature)',
        { details: { status: 409, reason: 'duplicate', ...(logIndex === undefined ? {} : { logIndex }) } },
      )
    }
    let entry: TransparencyLogEntry
    try {
      entry = parseTransparencyLogEntry(res.json())
    } catch (cause) {
      if (isCountersignError(cause, 'ERR_REKOR_HTTP')) throw cause
      responseError(base, 'a malformed transparency log entry', cause)
    }
    const { kind, version } = entry.kindVersion
    if (kind !== 'hashedrekord' || version !== '0.0.2') responseError(base, `an entry of kind ${kind} ${version}`)
    if (entry.inclusionProof?.checkpoint === undefined) responseError(base, 'an entry without inclusion proof')
    // The log must have logged what was sent: same signature, verifier and digest (the caller also verifies this,
    // with proof and checkpoint, against its trusted root).
    verifyEntryBody(entry, {
      content,
      verifier: signer.type === 'certificate' ? { certificate: signer.certificate } : { publicKey: signer.spki },
      artifact: digest,
    })
    return entryJSON(entry)
  }

  return Object.freeze({ url: base, apiVersion: 2 as const, createEntry: redactingErrors(createEntry, http.secrets) })
}

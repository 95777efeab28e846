/**
 * The transparency-log contract: what signing asks of a log (Rekor v1 or v2). The Rekor clients implement it;
 * `witnessSignature` drives it and verifies what it returns before anything reaches a bundle.
 *
 * @module
 */
import type { BundleContent } from '../bundle/bundle.js'
import type { AbortSignalLike } from '../internal/host-types.js'
import type { SigningAlgorithm } from './signer.js'

/**
 * Who signed the content a log entry records: the leaf certificate (keyless) or the public key (managed keys), plus
 * the signing scheme (Rekor v2 records it as `keyDetails` and accepts only prehashed schemes: Ed25519ph, not pure
 * Ed25519, and no RSA-PSS).
 *
 * Exported from `countersign/witness`.
 */
export type LogSigner =
  | { readonly type: 'certificate'; readonly certificate: Uint8Array; readonly algorithm: SigningAlgorithm }
  | { readonly type: 'publicKey'; readonly spki: Uint8Array; readonly algorithm: SigningAlgorithm }

/**
 * Rekor entry kinds a writer can be asked for. `hashedrekord` for message signatures; for DSSE envelopes Rekor v1
 * takes `dsse` (cosign v3, sigstore-go) or `intoto` 0.0.2 (cosign v1/v2 `attest`); Rekor v2 logs DSSE as a
 * hashedrekord over the PAE and ignores the choice.
 *
 * Exported from `countersign/witness`.
 */
export type LogEntryKind = 'hashedrekord' | 'dsse' | 'intoto'

/**
 * Writes entries to one transparency log.
 *
 * @example
 * ```ts
 * import { createRekorClient } from 'countersign/rekor'
 * const log: TransparencyLogWriter = createRekorClient({ url: 'https://rekor.sigstore.dev' })
 * const entryJSON = await log.createEntry(bundle.content, { type: 'certificate', certificate, algorithm })
 * ```
 *
 * Exported from `countersign/witness`.
 */
export interface TransparencyLogWriter {
  /** Base URL of the log (`https://rekor.sigstore.dev`, `https://log2025-1.rekor.sigstore.dev`). */
  readonly url: string
  /** Rekor API major version: 1 (REST, SET + proof) or 2 (tiles, proof only). */
  readonly apiVersion: 1 | 2
  /**
   * Log `content` (a message signature with its `messageDigest`, or a single-signature DSSE envelope) and return the
   * entry as protobuf-JSON `TransparencyLogEntry`, ready for a bundle's `verificationMaterial.tlogEntries`. When the
   * log already holds the entry (Rekor v1 409) the existing entry is returned. The caller verifies it.
   */
  createEntry(
    content: BundleContent,
    signer: LogSigner,
    options?: { readonly kind?: LogEntryKind; readonly signal?: AbortSignalLike },
  ): Promise<Record<string, unknown>>
}

/** Node's native SHA-2 behind the portable incremental-hash contract of the registry client. @module */
import { createHash } from 'node:crypto'
import type { HasherFactory } from '../oci/blob-download.js'

/**
 * Incremental SHA-256/SHA-512 via `node:crypto` (OpenSSL): about ten times the portable default (`@noble/hashes`)
 * on large blobs (bench/hashing.ts), where the digest check otherwise limits download speed. Pass it as the
 * registry client's `hasher` (the CLI does) and to `attachSBOM`.
 *
 * @example
 * ```ts
 * import { createRegistryClient } from 'countersign/oci'
 * import { nodeHasher } from 'countersign/node'
 * const store = createRegistryClient({ hasher: nodeHasher })
 * ```
 *
 * Exported from `countersign/node`.
 */
export const nodeHasher: HasherFactory = (algorithm) => {
  const hash = createHash(algorithm)
  return {
    update(chunk: Uint8Array) {
      hash.update(chunk)
    },
    digest() {
      const out = hash.digest()
      return new Uint8Array(out.buffer, out.byteOffset, out.length)
    },
  }
}

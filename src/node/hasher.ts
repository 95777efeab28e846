/** Node's native SHA-2 behind the portable incremental-hash contract of the registry client. @module */
import { createHash } from 'node:crypto'
import type { HasherFactory } from '../oci/blob-download.js'

/**
 * Incremental SHA-256/SHA-512 via `node:crypto` (OpenSSL): about 3× the portable default on large blobs, where the
 * digest check otherwise limits download speed. Pass it as the registry client's `hasher`.
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

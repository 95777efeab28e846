/** CRC32C (Castagnoli), which Cloud KMS uses to protect digests and signatures in transit. @module */

let table: Uint32Array | undefined

function crcTable(): Uint32Array {
  if (table) return table
  table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    // Reflected Castagnoli polynomial 0x1EDC6F41.
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    table[n] = c >>> 0
  }
  return table
}

/**
 * CRC32C of `bytes` as an unsigned 32-bit number (Go's `crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))`).
 *
 * @example
 * ```ts
 * import { crc32c } from 'countersign/kms/gcp'
 * crc32c(new TextEncoder().encode('123456789')) // 0xe3069283
 * ```
 *
 * Exported from `countersign/kms/gcp`.
 */
export function crc32c(bytes: Uint8Array): number {
  const t = crcTable()
  let c = 0xffffffff
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

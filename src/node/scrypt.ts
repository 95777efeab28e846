/** Node's native scrypt behind the portable `ScryptFunction` contract. @module */
import { scrypt } from 'node:crypto'
import type { ScryptFunction } from '../keys/types.js'

/**
 * scrypt via `node:crypto` (OpenSSL), several times faster than the portable default. Used by the CLI and the key-file
 * helpers; pass it to `decryptCosignPrivateKey` / `encryptCosignPrivateKey` as `{ scrypt: nodeScrypt }`.
 *
 * @example
 * ```ts
 * import { decryptCosignPrivateKey } from 'countersign/keys'
 * import { nodeScrypt } from 'countersign/node'
 * const key = await decryptCosignPrivateKey(pem, 'pw', { scrypt: nodeScrypt })
 * ```
 *
 * Exported from `countersign/node`.
 */
export const nodeScrypt: ScryptFunction = (password, salt, params) =>
  new Promise((resolve, reject) => {
    // N=131072, r=8 needs 128 MiB; allow a little more than 128·N·r.
    const maxmem = 128 * params.N * params.r * params.p + 32 * 1024 * 1024
    scrypt(password, salt, params.dkLen, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(new Uint8Array(key.buffer, key.byteOffset, key.length)),
    )
  })

/**
 * countersign: sign and verify container images and artifacts, byte-compatible with cosign.
 *
 * The root entry re-exports the common entry points; the full API lives in subpaths
 * (`countersign/keys`, `countersign/oci`, `countersign/signature`, `countersign/signers`, `countersign/sign`,
 * `countersign/verify`, `countersign/errors`, and `countersign/node` for Node-only adapters).
 *
 * @example
 * ```ts
 * import { signImage, verifyImage, createKeySigner, generateKeyPair } from 'countersign'
 * ```
 *
 * Exported from `countersign`.
 * @module
 */

export type { KeyMaterial, Signer } from './contracts/signer.js'
export { CountersignError, type ErrorCode, isCountersignError } from './errors.js'
export { type SignImageOptions, type SignImageResult, signImage } from './image/sign.js'
export { type SignatureCheck, type VerifyImageOptions, type VerifyImageResult, verifyImage } from './image/verify.js'
export {
  decryptCosignPrivateKey,
  encryptCosignPrivateKey,
  generateKeyPair,
  type PrivateKey,
  type PublicKey,
  parsePrivateKey,
  parsePublicKey,
  publicKeyToPEM,
} from './keys/index.js'
export { createLayoutStore, createMemoryFileSystem, createRegistryClient, parseReference } from './oci/index.js'
export type { OCIStore, Reference } from './oci/types.js'
export { createKeySigner } from './signers/key-signer.js'

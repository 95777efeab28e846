/**
 * Keys: parse, generate, encrypt (cosign format), sign and verify.
 *
 * Exported from `countersign/keys`.
 *
 * @module
 */
export type { SigningAlgorithm } from '../contracts/signer.js'
export {
  COSIGN_PEM_LABEL,
  decryptCosignPrivateKey,
  encryptCosignPrivateKey,
  isCosignEncryptedKey,
  LEGACY_COSIGN_PEM_LABEL,
} from './cosign-encrypted.js'
export { ecdsaDERToP1363, ecdsaP1363ToDER } from './ecdsa-der.js'
export { generateKeyPair } from './generate.js'
export { defaultSigningAlgorithm, keyHint } from './key-info.js'
export { parsePrivateKey } from './parse-private.js'
export { parsePublicKey } from './parse-public.js'
export { signData } from './sign.js'
export { privateKeyToPEM, publicKeyToPEM } from './to-pem.js'
export type {
  DecryptCosignPrivateKeyOptions,
  EncryptCosignPrivateKeyOptions,
  GenerateKeyPairOptions,
  HashAlgorithm,
  KeyAlgorithm,
  PrivateKey,
  PublicKey,
  ScryptFunction,
  SignDataOptions,
  VerifyOptions,
} from './types.js'
export type { RSAVerifyPadding, SignatureBackend, SignatureVerifyOptions } from './verify.js'
export { verifySignature } from './verify.js'

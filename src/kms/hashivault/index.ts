/**
 * HashiCorp Vault (and OpenBao) transit keys as signers: `hashivault://KEY` / `openbao://KEY`, cosign's references.
 *
 * Exported from `countersign/kms/hashivault`.
 * @module
 */
export type {
  HashiVaultAppRole,
  HashiVaultAppRoleLogin,
  HashiVaultCredential,
  HashiVaultCredentialSource,
  HashiVaultJWTLogin,
  HashiVaultKMSOptions,
  HashiVaultLogin,
} from './config.js'
export type { HashiVaultKeyType, HashiVaultKeyVersion } from './key-info.js'
export {
  createHashiVaultKMSProvider,
  type HashiVaultCallOptions,
  type HashiVaultCreateKeyOptions,
  type HashiVaultKMSProvider,
} from './provider.js'
export { type HashiVaultKeyReference, parseHashiVaultURI } from './uri.js'

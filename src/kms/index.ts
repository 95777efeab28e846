/**
 * Key-management services as signers: the provider contract, recognition of cosign's KMS key references, and
 * dispatch by scheme. Each provider lives in its own subpath (`countersign/kms/hashivault`, …) so an application
 * loads only the one it uses.
 *
 * Exported from `countersign/kms`.
 * @module
 */

export {
  type CredentialSourceListener,
  type CredentialSourceReport,
  noCredentialsError,
  type TriedCredentialSource,
} from './credential-chain.js'
export { createKMSSigner, kmsPublicKey } from './dispatch.js'
export type { KMSCallOptions, KMSEnvironment, KMSProvider, KMSSigner } from './types.js'
export { isKMSReference, KMS_SCHEMES, type KMSScheme, kmsScheme } from './uri.js'

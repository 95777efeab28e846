/**
 * The contract every key-management provider implements (AWS KMS, Google Cloud KMS, Azure Key Vault, HashiCorp
 * Vault): a {@link Signer} for a key named by cosign's URI, the key's public half for verification, and key creation
 * for `generate-key-pair --kms`. Providers live in their own subpaths so an application loads only the one it uses.
 *
 * @module
 */

import type { Signer, SigningAlgorithm } from '../contracts/signer.js'
import type { ServiceClientOptions } from '../http/service.js'
import type { AbortSignalLike } from '../internal/host-types.js'
import type { PublicKey } from '../keys/types.js'

/**
 * Environment variables as the provider reads them (`process.env` in Node; a plain object elsewhere).
 *
 * Exported from `countersign/kms`.
 */
export type KMSEnvironment = Readonly<Record<string, string | undefined>>

/**
 * Options every provider call takes. Credentials are provider-specific and come from the provider's own options
 * (or, in Node, from the credential chains in `countersign/node`).
 *
 * Exported from `countersign/kms`.
 */
export interface KMSCallOptions extends ServiceClientOptions {
  readonly signal?: AbortSignalLike
}

/**
 * A KMS key usable as a {@link Signer}: `keyMaterial()` reports the provider's public key (fetched once), `sign()`
 * hashes locally when the provider signs digests, and returns DER for ECDSA.
 *
 * Exported from `countersign/kms`.
 */
export interface KMSSigner extends Signer {
  /** The key reference as given (`awskms:///alias/release`), for messages and audit events. */
  readonly uri: string
  /** The public key, fetched from the provider on first use and cached. */
  publicKey(options?: { readonly signal?: AbortSignalLike }): Promise<PublicKey>
}

/**
 * One provider, selected by the scheme of a key reference.
 *
 * @example
 * ```ts
 * import type { KMSProvider } from 'countersign/kms'
 * const provider: KMSProvider = {
 *   scheme: 'myhsm',
 *   createSigner: async (uri) => mySigner(uri),
 *   publicKey: async (uri) => myPublicKey(uri),
 * }
 * ```
 *
 * Exported from `countersign/kms`.
 */
export interface KMSProvider {
  /** URI scheme without `://`: `awskms`, `gcpkms`, `azurekms`, `hashivault`. */
  readonly scheme: string
  /**
   * A signer for the key `uri` names. The key is read once here (its type decides the signer's `algorithm`, which a
   * {@link Signer} must report before signing); signing itself happens on `sign()`.
   */
  createSigner(uri: string, options?: KMSCallOptions): Promise<KMSSigner>
  /** The key's public half (verification by KMS URI). */
  publicKey(uri: string, options?: KMSCallOptions): Promise<PublicKey>
  /** Create the key where the provider allows it (`generate-key-pair --kms`), returning its public half. */
  createKey?(uri: string, options?: KMSCallOptions & { readonly algorithm?: SigningAlgorithm }): Promise<PublicKey>
}

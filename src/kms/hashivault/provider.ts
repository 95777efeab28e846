/** The HashiCorp Vault / OpenBao transit provider. @module */

import type { SigningAlgorithm } from '../../contracts/signer.js'
import { CountersignError } from '../../errors.js'
import type { PublicKey } from '../../keys/types.js'
import type { KMSCallOptions, KMSProvider, KMSSigner } from '../types.js'
import { createVaultClient, type VaultClient } from './client.js'
import { checkVersion, type HashiVaultKMSOptions } from './config.js'
import {
  type HashiVaultKeyType,
  type HashiVaultKeyVersion,
  isKeyType,
  KEY_TYPES,
  keyVersion,
  readTransitKey,
} from './key-info.js'
import { createTransitSigner } from './signer.js'
import { parseHashiVaultURI } from './uri.js'

/**
 * Per-call options of the Vault provider.
 *
 * Exported from `countersign/kms/hashivault`.
 */
export interface HashiVaultCallOptions extends KMSCallOptions {
  /** Use this key version (signing, or the public key returned) instead of the provider's default. */
  readonly keyVersion?: number
}

/**
 * Options for {@link HashiVaultKMSProvider.createKey}.
 *
 * Exported from `countersign/kms/hashivault`.
 */
export interface HashiVaultCreateKeyOptions extends KMSCallOptions {
  /** The signature scheme the key will use: picks the key type (RSA → `rsa-2048` unless `keyType` says otherwise). */
  readonly algorithm?: SigningAlgorithm
  /** The transit key type; wins over `algorithm`. Default `ecdsa-p256` (sigstore's default). */
  readonly keyType?: HashiVaultKeyType
}

/**
 * The Vault transit provider: {@link KMSProvider} plus every version's public key, for verification across
 * rotations.
 *
 * Exported from `countersign/kms/hashivault`.
 */
export interface HashiVaultKMSProvider extends KMSProvider {
  readonly scheme: 'hashivault'
  createSigner(uri: string, options?: HashiVaultCallOptions): Promise<KMSSigner>
  /**
   * The public key to verify with: the version `options.keyVersion`, else the one `VAULT_KEY_PREFIX` (`vault:vN:`)
   * names, else the provider's `keyVersion`, else the latest.
   */
  publicKey(uri: string, options?: HashiVaultCallOptions): Promise<PublicKey>
  /** Every version Vault still holds, oldest first: verify with all of them to accept signatures from before a rotation. */
  publicKeys(uri: string, options?: KMSCallOptions): Promise<readonly HashiVaultKeyVersion[]>
  /** Create the transit key (`generate-key-pair --kms`); an existing key of the same type is returned as is. */
  createKey(uri: string, options?: HashiVaultCreateKeyOptions): Promise<PublicKey>
}

const TYPE_FOR_ALGORITHM: Partial<Record<SigningAlgorithm, HashiVaultKeyType>> = {
  'ecdsa-p256-sha256': 'ecdsa-p256',
  'ecdsa-p384-sha384': 'ecdsa-p384',
  'ecdsa-p521-sha512': 'ecdsa-p521',
  ed25519: 'ed25519',
  'rsa-pkcs1v15-sha256': 'rsa-2048',
}

function keyTypeFor(options: HashiVaultCreateKeyOptions): HashiVaultKeyType {
  if (options.keyType !== undefined) {
    if (!isKeyType(options.keyType)) {
      throw new CountersignError(
        'ERR_UNSUPPORTED_ALGORITHM',
        `unsupported Vault transit key type ${String(options.keyType)}`,
      )
    }
    if (options.algorithm !== undefined && KEY_TYPES[options.keyType].algorithm !== options.algorithm) {
      throw new CountersignError(
        'ERR_UNSUPPORTED_ALGORITHM',
        `a ${options.keyType} transit key signs with ${KEY_TYPES[options.keyType].algorithm}, not ${options.algorithm}`,
      )
    }
    return options.keyType
  }
  if (options.algorithm === undefined) return 'ecdsa-p256'
  const type = TYPE_FOR_ALGORITHM[options.algorithm]
  if (type === undefined) {
    throw new CountersignError(
      'ERR_UNSUPPORTED_ALGORITHM',
      `Vault transit keys cannot sign with ${String(options.algorithm)} (supported: ${Object.keys(TYPE_FOR_ALGORITHM).join(', ')})`,
    )
  }
  return type
}

/**
 * Create the HashiCorp Vault (and OpenBao) transit provider for `hashivault://KEY` and `openbao://KEY` references.
 * Configuration comes from `options` and `options.env` (`VAULT_ADDR`, `VAULT_TOKEN`, …); nothing is contacted until a
 * key is used.
 *
 * Signers hash locally and send the digest (`prehashed: true`) to `POST /v1/<transit>/sign/<key>/<hash>`: ECDSA
 * P-256/P-384/P-521 with SHA-256/384/512 (DER), RSA with PKCS#1 v1.5 and SHA-256; Ed25519 signs the message.
 *
 * @param options - Address, credentials, namespace, transit mount, key version, transport.
 * @returns The provider (scheme `hashivault`; `createKMSSigner` also routes `openbao://` to it).
 * @throws {CountersignError} ERR_INVALID_INPUT when the address or transit path is missing or malformed.
 * @example
 * ```ts
 * import { createKMSSigner } from 'countersign/kms'
 * import { createHashiVaultKMSProvider } from 'countersign/kms/hashivault'
 * const vault = createHashiVaultKMSProvider({ address: 'https://vault.example:8200', token })
 * const signer = await createKMSSigner('hashivault://release', [vault])
 * await signImage(ref, signer, { store })
 * ```
 *
 * Exported from `countersign/kms/hashivault`.
 */
export function createHashiVaultKMSProvider(options: HashiVaultKMSOptions = {}): HashiVaultKMSProvider {
  if (options.keyVersion !== undefined) checkVersion(options.keyVersion, 'keyVersion')
  let client: VaultClient | undefined
  // Configuration errors surface on first use, as with the other providers, so building the provider never throws.
  const vault = (call: KMSCallOptions | undefined): VaultClient => {
    if (call !== undefined && (call.fetch !== undefined || call.retry !== undefined || call.timeoutMs !== undefined)) {
      return createVaultClient({ ...options, ...call })
    }
    client ??= createVaultClient(options)
    return client
  }
  const versionFrom = (call: HashiVaultCallOptions | undefined, fallback: number | undefined): number | undefined =>
    call?.keyVersion !== undefined ? checkVersion(call.keyVersion, 'keyVersion') : fallback

  return Object.freeze({
    scheme: 'hashivault' as const,
    async createSigner(uri: string, call?: HashiVaultCallOptions) {
      const { name } = parseHashiVaultURI(uri)
      const c = vault(call)
      const key = await readTransitKey(c, name, call?.signal)
      const version = versionFrom(call, options.keyVersion) ?? key.latestVersion
      keyVersion(key, version)
      return createTransitSigner(c, uri, key, version)
    },
    async publicKey(uri: string, call?: HashiVaultCallOptions) {
      const { name } = parseHashiVaultURI(uri)
      const c = vault(call)
      const key = await readTransitKey(c, name, call?.signal)
      const version = versionFrom(call, c.config.verifyVersion ?? options.keyVersion) ?? key.latestVersion
      return keyVersion(key, version).publicKey
    },
    async publicKeys(uri: string, call?: KMSCallOptions) {
      const { name } = parseHashiVaultURI(uri)
      return (await readTransitKey(vault(call), name, call?.signal)).versions
    },
    async createKey(uri: string, call: HashiVaultCreateKeyOptions = {}) {
      const { name } = parseHashiVaultURI(uri)
      const type = keyTypeFor(call)
      const c = vault(call)
      await c.call({
        method: 'POST',
        path: `${c.config.transitPath}/keys/${encodeURIComponent(name)}`,
        json: { type },
        what: `creating transit key "${name}"`,
        ...(call.signal ? { signal: call.signal } : {}),
      })
      // Vault answers a create of an existing key with success and leaves it alone, so check what is there.
      const key = await readTransitKey(c, name, call.signal)
      if (key.type !== type) {
        throw new CountersignError(
          'ERR_KMS',
          `transit key "${name}" already exists with type ${key.type}, not ${type}`,
          { details: { provider: 'hashivault', reason: 'key-exists' } },
        )
      }
      return keyVersion(key, key.latestVersion).publicKey
    },
  })
}

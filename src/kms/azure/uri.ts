/** `azurekms://` key references, parsed as sigstore's `pkg/signature/kms/azure` parses them. @module */
import { CountersignError } from '../../errors.js'

/**
 * A parsed `azurekms://` reference.
 *
 * Exported from `countersign/kms/azure`.
 */
export interface AzureKMSKeyReference {
  /** The vault's host (`myvault.vault.azure.net`), possibly with a port. */
  readonly vaultHost: string
  /** `https://<vaultHost>` */
  readonly vaultURL: string
  readonly keyName: string
  /** The pinned version, or undefined for the key's current version. */
  readonly version?: string
}

// sigstore's expression; versions are lower-case hex in practice, and sigstore allows only [a-z0-9].
const REFERENCE = /^azurekms:\/\/([^/]+)\/([^/]+)(\/[a-z0-9]*)?$/

/**
 * Parse `azurekms://VAULT_HOST/KEY_NAME[/VERSION]`.
 *
 * @param uri - The key reference.
 * @returns Vault, key name and optional version.
 * @throws {CountersignError} ERR_INVALID_INPUT when the reference does not have that shape.
 * @example
 * ```ts
 * import { parseAzureKMSURI } from 'countersign/kms/azure'
 * parseAzureKMSURI('azurekms://myvault.vault.azure.net/release').keyName // 'release'
 * ```
 *
 * Exported from `countersign/kms/azure`.
 */
export function parseAzureKMSURI(uri: string): AzureKMSKeyReference {
  if (typeof uri !== 'string') throw new TypeError('uri must be a string')
  const m = REFERENCE.exec(uri)
  // The host and key name end up in a URL: refuse what would change its meaning (userinfo, query, fragment, dot
  // segments), which sigstore's pattern lets through to the Azure SDK. Key Vault names are [0-9A-Za-z-].
  const host = m?.[1]
  const name = m?.[2]
  if (!m || !host || !name || !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host) || !/^[A-Za-z0-9-]+$/.test(name)) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      'azurekms key reference must look like azurekms://VAULT.vault.azure.net/KEY_NAME[/VERSION]',
    )
  }
  const version = m[3]?.slice(1)
  return {
    vaultHost: host,
    vaultURL: `https://${host}`,
    keyName: name,
    // `azurekms://vault/key/` (empty version) means the current version, as in sigstore.
    ...(version ? { version } : {}),
  }
}

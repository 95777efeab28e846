/** Pick the provider for a key reference by its scheme and call it. @module */
import { CountersignError } from '../errors.js'
import type { PublicKey } from '../keys/types.js'
import type { KMSCallOptions, KMSProvider, KMSSigner } from './types.js'
import { canonicalScheme, kmsScheme, uriScheme } from './uri.js'

/** Where each built-in provider lives, for the message when the caller did not pass it. */
const PROVIDER_SUBPATHS: Readonly<Record<string, string>> = Object.freeze({
  awskms: 'countersign/kms/aws',
  gcpkms: 'countersign/kms/gcp',
  azurekms: 'countersign/kms/azure',
  hashivault: 'countersign/kms/hashivault',
})

/** The provider for `uri`: its own scheme first, then the scheme it is an alias of. */
function selectProvider(uri: string, providers: readonly KMSProvider[]): KMSProvider {
  if (typeof uri !== 'string') throw new TypeError('uri must be a string')
  if (!Array.isArray(providers)) throw new TypeError('providers must be an array of KMSProvider')
  const scheme = uriScheme(uri)
  if (scheme === undefined) {
    throw new CountersignError('ERR_INVALID_INPUT', 'not a KMS key reference (expected scheme://key)', {
      details: { reason: 'no-scheme' },
    })
  }
  const canonical = canonicalScheme(scheme)
  const provider =
    providers.find((p) => p.scheme === scheme) ?? providers.find((p) => p.scheme === canonical && canonical !== scheme)
  if (provider !== undefined) return provider
  const known = providers.map((p) => `${p.scheme}://`).join(', ')
  const builtIn = kmsScheme(uri) !== undefined ? PROVIDER_SUBPATHS[canonical] : undefined
  throw new CountersignError(
    'ERR_INVALID_INPUT',
    builtIn !== undefined
      ? `${scheme}:// keys need the provider from ${builtIn}, which was not configured${known ? ` (configured: ${known})` : ''}`
      : `unknown KMS scheme ${scheme}://${known ? ` (configured: ${known})` : ' (no KMS provider configured)'}`,
    { details: { scheme, reason: 'unknown-scheme' } },
  )
}

/**
 * A {@link KMSSigner} for a key reference, from the provider whose scheme matches (`openbao://` is served by the
 * `hashivault` provider).
 *
 * @param uri - The key reference (`awskms:///alias/release`, `hashivault://release`, …).
 * @param providers - The providers the application configured.
 * @param options - Passed to the provider.
 * @returns The provider's signer.
 * @throws {CountersignError} ERR_INVALID_INPUT when no provider handles the scheme; the provider's errors otherwise.
 * @example
 * ```ts
 * import { createKMSSigner } from 'countersign/kms'
 * import { createHashiVaultKMSProvider } from 'countersign/kms/hashivault'
 * const signer = await createKMSSigner('hashivault://release', [createHashiVaultKMSProvider({ env })])
 * ```
 *
 * Exported from `countersign/kms`.
 */
export async function createKMSSigner(
  uri: string,
  providers: readonly KMSProvider[],
  options?: KMSCallOptions,
): Promise<KMSSigner> {
  return selectProvider(uri, providers).createSigner(uri, options)
}

/**
 * The public key of a KMS key reference, from the provider whose scheme matches (verification by KMS URI).
 *
 * @param uri - The key reference.
 * @param providers - The providers the application configured.
 * @param options - Passed to the provider.
 * @returns The key's public half.
 * @throws {CountersignError} ERR_INVALID_INPUT when no provider handles the scheme; the provider's errors otherwise.
 * @example
 * ```ts
 * import { kmsPublicKey } from 'countersign/kms'
 * const key = await kmsPublicKey('hashivault://release', providers)
 * await verifyImage(ref, { store, keys: [key], insecureIgnoreTlog: true })
 * ```
 *
 * Exported from `countersign/kms`.
 */
export async function kmsPublicKey(
  uri: string,
  providers: readonly KMSProvider[],
  options?: KMSCallOptions,
): Promise<PublicKey> {
  return selectProvider(uri, providers).publicKey(uri, options)
}

/**
 * cosign's KMS key references in the CLI: `--key awskms://…` (and `hashivault://`, …) for signing and verification,
 * and `generate-key-pair --kms URI`. Providers are built from the environment, each only when its scheme is used.
 * @module
 */

import type { SigningAlgorithm } from '../contracts/signer.js'
import { CountersignError } from '../errors.js'
import type { SecretSet } from '../http/redact.js'
import type { PublicKey } from '../keys/types.js'
import type { CredentialSourceListener, CredentialSourceReport } from '../kms/credential-chain.js'
import { createKMSSigner } from '../kms/dispatch.js'
import type { HashiVaultKMSProvider } from '../kms/hashivault/provider.js'
import type { KMSProvider, KMSSigner } from '../kms/types.js'
import { kmsScheme } from '../kms/uri.js'
import { awsKMSProviderFromEnvironment } from '../node/aws-credentials.js'
import { azureKMSProviderFromEnvironment } from '../node/azure-credentials.js'
import { gcpKMSProviderFromEnvironment } from '../node/gcp-credentials.js'
import { hashiVaultKMSProviderFromEnvironment } from '../node/vault-credentials.js'
import type { CliIO } from './context.js'

type ProviderFactory = (io: CliIO) => KMSProvider

/** The built-in providers by scheme (`openbao://` is Vault's alias). */
const FACTORIES: Readonly<Record<string, ProviderFactory>> = {
  awskms: (io) => awsKMSProviderFromEnvironment({ env: io.env, ...providerOptionsOf(io) }),
  gcpkms: (io) => gcpKMSProviderFromEnvironment({ env: io.env, ...providerOptionsOf(io) }),
  azurekms: (io) => azureKMSProviderFromEnvironment({ env: io.env, ...providerOptionsOf(io) }),
  hashivault: vaultProvider,
  openbao: vaultProvider,
}

function vaultProvider(io: CliIO): HashiVaultKMSProvider {
  return hashiVaultKMSProviderFromEnvironment({
    env: io.env,
    ...(io.env.HOME ? { homeDir: io.env.HOME } : {}),
    ...providerOptionsOf(io),
  })
}

/**
 * What every provider gets from the run: its secret set (providers add the credentials they resolve and redact
 * errors with it) and, with `-d/--verbose`, a line on stderr naming the credential source a provider settled on
 * (never the secret).
 */
function providerOptionsOf(io: CliIO): {
  readonly secrets?: SecretSet
  readonly onCredentialSource?: CredentialSourceListener
} {
  return {
    ...(io.secrets !== undefined ? { secrets: io.secrets } : {}),
    ...(io.verbose === true
      ? {
          onCredentialSource: (r: CredentialSourceReport) =>
            io.stderr.write(`${r.provider} credentials: ${r.source}${r.detail ? ` (${r.detail})` : ''}\n`),
        }
      : {}),
  }
}

/** Whether `--key` names a KMS key rather than a file. */
export function isKMSKey(ref: string): boolean {
  return kmsScheme(ref) !== undefined
}

function providerFor(uri: string, io: CliIO): KMSProvider {
  const scheme = kmsScheme(uri)
  const factory = scheme === undefined ? undefined : FACTORIES[scheme]
  if (factory === undefined) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      `unsupported KMS key reference scheme in ${JSON.stringify(uri.split('://')[0])}`,
    )
  }
  return factory(io)
}

/** Signers by reference, per CLI run: creating one reads the key from the service, which a verb may need twice. */
const signers = new WeakMap<CliIO, Map<string, Promise<KMSSigner>>>()

/** A signer for a KMS key reference (one per reference and run). */
export function kmsSigner(uri: string, io: CliIO): Promise<KMSSigner> {
  const byURI = signers.get(io) ?? new Map<string, Promise<KMSSigner>>()
  signers.set(io, byURI)
  let signer = byURI.get(uri)
  if (signer === undefined) {
    signer = createKMSSigner(uri, [providerFor(uri, io)])
    // A failed read is not remembered: the next call asks the service again.
    signer.catch(() => byURI.delete(uri))
    byURI.set(uri, signer)
  }
  return signer
}

/**
 * The verification keys of a KMS reference: every version of a Vault key (so signatures of rotated-out versions
 * keep verifying), the key itself elsewhere.
 */
export async function kmsVerificationKeys(uri: string, io: CliIO): Promise<PublicKey[]> {
  const scheme = kmsScheme(uri)
  if (scheme === 'hashivault' || scheme === 'openbao') {
    const vault = vaultProvider(io)
    return (await vault.publicKeys(uri)).map((v) => v.publicKey)
  }
  // The signer's key (read once, shared with kmsVerifyDefaults' look at its scheme).
  return [await (await kmsSigner(uri, io)).publicKey()]
}

/** `generate-key-pair --kms`: create the key in the provider (default algorithm) and return its public half. */
export async function createKMSKey(uri: string, io: CliIO, algorithm?: SigningAlgorithm): Promise<PublicKey> {
  const provider = providerFor(uri, io)
  if (typeof provider.createKey !== 'function') {
    throw new CountersignError('ERR_INVALID_INPUT', `the ${kmsScheme(uri)} provider cannot create keys`)
  }
  return provider.createKey(uri, algorithm ? { algorithm } : {})
}

/**
 * How signatures of the first KMS key among `refs` are verified: the hash its signing scheme uses (cosign verifies a
 * KMS key with its own algorithm) and PSS padding for RSA-PSS keys. Empty when no KMS key is given or the scheme is
 * SHA-256 PKCS#1 / ECDSA P-256 / Ed25519.
 */
export async function kmsVerifyDefaults(
  refs: readonly string[],
  io: CliIO,
): Promise<{ readonly hash?: 'sha384' | 'sha512'; readonly rsaPadding?: 'pss' }> {
  const uri = refs.find(isKMSKey)
  if (uri === undefined) return {}
  const { algorithm } = await kmsSigner(uri, io)
  const hash = /sha384$/.test(algorithm) ? 'sha384' : /sha512$/.test(algorithm) ? 'sha512' : undefined
  return { ...(hash ? { hash } : {}), ...(algorithm.startsWith('rsa-pss') ? { rsaPadding: 'pss' as const } : {}) }
}

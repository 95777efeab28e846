/** Transit key metadata (`GET /v1/<transit>/keys/<name>`): key type and the public key of every version. @module */

import type { SigningAlgorithm } from '../../contracts/signer.js'
import { CountersignError } from '../../errors.js'
import { fromBase64 } from '../../internal/bytes.js'
import { encodeEd25519SPKI, parsePublicKey, parseSPKI } from '../../keys/parse-public.js'
import type { PublicKey } from '../../keys/types.js'
import type { VaultClient } from './client.js'
import { invalidResponse } from './http.js'

/**
 * Transit key types usable for signing, as Vault names them (sigstore's `hvSupportedAlgorithms`).
 *
 * Exported from `countersign/kms/hashivault`.
 */
export type HashiVaultKeyType =
  | 'ecdsa-p256'
  | 'ecdsa-p384'
  | 'ecdsa-p521'
  | 'ed25519'
  | 'rsa-2048'
  | 'rsa-3072'
  | 'rsa-4096'

/**
 * One version of a transit key.
 *
 * Exported from `countersign/kms/hashivault`.
 */
export interface HashiVaultKeyVersion {
  /** 1, 2, … (Vault's `vault:vN:` signature prefix). */
  readonly version: number
  readonly publicKey: PublicKey
}

/** What we use of a transit key. Internal. */
export interface TransitKey {
  readonly name: string
  readonly type: HashiVaultKeyType
  readonly latestVersion: number
  /** Ascending by version. */
  readonly versions: readonly HashiVaultKeyVersion[]
}

/** The hash path segment and signature scheme per key type. Ed25519 signs the message itself (no hash). */
export const KEY_TYPES: Readonly<
  Record<
    HashiVaultKeyType,
    { readonly algorithm: SigningAlgorithm; readonly hash?: 'sha2-256' | 'sha2-384' | 'sha2-512' }
  >
> = Object.freeze({
  'ecdsa-p256': { algorithm: 'ecdsa-p256-sha256', hash: 'sha2-256' },
  'ecdsa-p384': { algorithm: 'ecdsa-p384-sha384', hash: 'sha2-384' },
  'ecdsa-p521': { algorithm: 'ecdsa-p521-sha512', hash: 'sha2-512' },
  ed25519: { algorithm: 'ed25519' },
  'rsa-2048': { algorithm: 'rsa-pkcs1v15-sha256', hash: 'sha2-256' },
  'rsa-3072': { algorithm: 'rsa-pkcs1v15-sha256', hash: 'sha2-256' },
  'rsa-4096': { algorithm: 'rsa-pkcs1v15-sha256', hash: 'sha2-256' },
})

export function isKeyType(v: unknown): v is HashiVaultKeyType {
  return typeof v === 'string' && Object.hasOwn(KEY_TYPES, v)
}

/** Whether `key` is what a transit key of `type` must hold. */
function matchesType(key: PublicKey, type: HashiVaultKeyType): boolean {
  if (type.startsWith('rsa-')) return key.algorithm === 'rsa' && key.rsaBits === Number(type.slice(4))
  return key.algorithm === type
}

/** Parse one version's `public_key`: PEM SPKI, except Ed25519 which Vault gives as base64 of the 32 raw bytes. */
function parseVersionKey(type: HashiVaultKeyType, value: string): PublicKey {
  if (type === 'ed25519') {
    const raw = fromBase64(value)
    if (raw.length !== 32) throw new Error(`Ed25519 key of ${raw.length} bytes`)
    return parseSPKI(encodeEd25519SPKI(raw))
  }
  return parsePublicKey(value)
}

/** Validate the `data` of a key read. Hostile or odd answers become ERR_KMS invalid-response. */
export function parseTransitKey(body: unknown, name: string): TransitKey {
  const what = `the read of transit key "${name}"`
  const data = (body as { data?: unknown } | undefined)?.data as Record<string, unknown> | undefined
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw invalidResponse(what, 'no data object')
  const type = data.type
  if (typeof type !== 'string') throw invalidResponse(what, 'no key type')
  if (!isKeyType(type) || data.supports_signing === false) {
    throw new CountersignError(
      'ERR_UNSUPPORTED_ALGORITHM',
      `transit key "${name}" has type ${JSON.stringify(type.slice(0, 40))}, which cannot sign for cosign (use ecdsa-p256, ecdsa-p384, ecdsa-p521, ed25519 or rsa-2048/3072/4096)`,
      { details: { provider: 'hashivault', keyType: type.slice(0, 40) } },
    )
  }
  const latest = data.latest_version
  if (typeof latest !== 'number' || !Number.isSafeInteger(latest) || latest < 1) {
    throw invalidResponse(what, 'an invalid latest_version')
  }
  const keys = data.keys
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) throw invalidResponse(what, 'no keys map')
  const versions: HashiVaultKeyVersion[] = []
  for (const [label, entry] of Object.entries(keys)) {
    if (!/^[1-9][0-9]{0,14}$/.test(label)) throw invalidResponse(what, 'a key version that is not a number')
    const version = Number(label)
    if (version > latest) throw invalidResponse(what, 'a key version above latest_version')
    const pub = (entry as { public_key?: unknown } | null)?.public_key
    if (typeof pub !== 'string' || pub === '') throw invalidResponse(what, `no public key for version ${version}`)
    let publicKey: PublicKey
    try {
      publicKey = parseVersionKey(type, pub)
    } catch (cause) {
      throw invalidResponse(what, `an unusable public key for version ${version}`, cause)
    }
    if (!matchesType(publicKey, type)) throw invalidResponse(what, `a version ${version} key that is not ${type}`)
    versions.push(Object.freeze({ version, publicKey }))
  }
  versions.sort((a, b) => a.version - b.version)
  if (versions.at(-1)?.version !== latest) throw invalidResponse(what, 'no public key for latest_version')
  return Object.freeze({ name, type, latestVersion: latest, versions: Object.freeze(versions) })
}

/** Read and parse a transit key. */
export async function readTransitKey(client: VaultClient, name: string, signal?: AbortSignal): Promise<TransitKey> {
  const body = await client.call({
    method: 'GET',
    path: `${client.config.transitPath}/keys/${encodeURIComponent(name)}`,
    what: `reading transit key "${name}"`,
    ...(signal ? { signal } : {}),
  })
  return parseTransitKey(body, name)
}

/** One version of `key`, or ERR_KMS not-found. */
export function keyVersion(key: TransitKey, version: number): HashiVaultKeyVersion {
  const found = key.versions.find((v) => v.version === version)
  if (found === undefined) {
    throw new CountersignError(
      'ERR_KMS',
      `transit key "${key.name}" has no usable version ${version} (latest is ${key.latestVersion})`,
      { details: { provider: 'hashivault', reason: 'key-version-not-found' } },
    )
  }
  return found
}

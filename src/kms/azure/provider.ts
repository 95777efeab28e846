/**
 * Azure Key Vault (and Managed HSM) as a {@link KMSProvider}, behaving as sigstore's `pkg/signature/kms/azure`: the
 * signing algorithm follows the key (ES256/384/512 by curve, RS256/384/512 by RSA size 2048/3072/4096), the digest
 * is signed remotely and EC's raw `r‖s` becomes DER, and `createKey` makes an EC P-256 key tagged `use=sigstore`
 * when none exists. Unlike sigstore, an unpinned signer signs with the exact version whose public key it reported
 * (from the key's `kid`), so a rotation between the two calls cannot produce a signature for another key.
 *
 * @module
 */
import type { SigningAlgorithm } from '../../contracts/signer.js'
import { CountersignError } from '../../errors.js'
import { createSecretSet } from '../../http/redact.js'
import { fromBase64, toBase64 } from '../../internal/bytes.js'
import type { AbortSignalLike } from '../../internal/host-types.js'
import { isJSONObject } from '../../internal/json.js'
import { CURVES } from '../../keys/algorithms.js'
import { ecdsaP1363ToDER } from '../../keys/ecdsa-der.js'
import type { HashAlgorithm, PublicKey } from '../../keys/types.js'
import { verifySignature } from '../../keys/verify.js'
import { sha2Digest } from '../../keys/webcrypto.js'
import { type AccessTokenSource, type CachedAccessToken, cacheAccessToken, staticAccessToken } from '../access-token.js'
import { badResponse, type CloudHTTP, createCloudHTTP, httpOptions, jsonObject, kmsStatus } from '../cloud-http.js'
import { kmsSignerFromSignFunction } from '../kms-signer.js'
import type { KMSCallOptions, KMSEnvironment, KMSProvider } from '../types.js'
import { AZURE_VAULT_RESOURCE } from './credentials.js'
import { type AzureDefaultCredentialsOptions, createAzureDefaultCredentials } from './default-chain.js'
import { publicKeyFromJWK } from './jwk.js'
import { type AzureKMSKeyReference, parseAzureKMSURI } from './uri.js'

const PROVIDER = 'azurekms'
const SERVICE = 'Azure Key Vault'
/** The Key Vault REST API version used (GA since 2023; azkeys v1.x speaks 7.4+). */
export const AZURE_KEYVAULT_API_VERSION = '7.4'

/** Key Vault's JWS algorithm for a key, sigstore's `getKeyVaultHashFunc`. */
interface AzureAlgorithm {
  readonly alg: 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'RS384' | 'RS512'
  readonly hash: HashAlgorithm
  readonly signing: SigningAlgorithm
  /** Scalar size for EC (raw r‖s halves). */
  readonly ecSize?: number
}

function algorithmFor(key: PublicKey): AzureAlgorithm {
  switch (key.algorithm) {
    case 'ecdsa-p256':
      return { alg: 'ES256', hash: 'sha256', signing: 'ecdsa-p256-sha256', ecSize: CURVES['ecdsa-p256'].size }
    case 'ecdsa-p384':
      return { alg: 'ES384', hash: 'sha384', signing: 'ecdsa-p384-sha384', ecSize: CURVES['ecdsa-p384'].size }
    case 'ecdsa-p521':
      return { alg: 'ES512', hash: 'sha512', signing: 'ecdsa-p521-sha512', ecSize: CURVES['ecdsa-p521'].size }
    case 'rsa':
      if (key.rsaBits === 2048) return { alg: 'RS256', hash: 'sha256', signing: 'rsa-pkcs1v15-sha256' }
      if (key.rsaBits === 3072) return { alg: 'RS384', hash: 'sha384', signing: 'rsa-pkcs1v15-sha384' }
      if (key.rsaBits === 4096) return { alg: 'RS512', hash: 'sha512', signing: 'rsa-pkcs1v15-sha512' }
  }
  throw new CountersignError(
    'ERR_UNSUPPORTED_ALGORITHM',
    `${SERVICE}: unsupported key (${key.algorithm}${key.rsaBits ? ` ${key.rsaBits}` : ''})`,
    {
      details: { provider: PROVIDER },
    },
  )
}

/** Key creation parameters by scheme: EC curves, and RSA sizes in sigstore's size → hash pairing. */
const CREATE: Readonly<Partial<Record<SigningAlgorithm, Record<string, unknown>>>> = {
  'ecdsa-p256-sha256': { kty: 'EC', crv: 'P-256' },
  'ecdsa-p384-sha384': { kty: 'EC', crv: 'P-384' },
  'ecdsa-p521-sha512': { kty: 'EC', crv: 'P-521' },
  'rsa-pkcs1v15-sha256': { kty: 'RSA', key_size: 2048 },
  'rsa-pkcs1v15-sha384': { kty: 'RSA', key_size: 3072 },
  'rsa-pkcs1v15-sha512': { kty: 'RSA', key_size: 4096 },
}

/**
 * Options for {@link createAzureKMSProvider}. Credentials, first found wins: `accessToken`, `credentials`, then
 * {@link createAzureDefaultCredentials} over `env` (client secret or certificate, workload identity with
 * `federatedToken`, managed identity, Azure CLI with `azureCLI`); the Node parts of that chain
 * (`federatedToken`, `loadClientCertificate`, `azureCLI`, `readArcKey`) and `onCredentialSource` are passed to it.
 *
 * Exported from `countersign/kms/azure`.
 */
export interface AzureKMSProviderOptions
  extends KMSCallOptions,
    Pick<
      AzureDefaultCredentialsOptions,
      'loadClientCertificate' | 'azureCLI' | 'readArcKey' | 'tenantId' | 'onCredentialSource'
    > {
  /** Base URL used instead of `https://<vault host>` (private endpoints, tests). */
  readonly endpoint?: string
  /** A fixed access token for Key Vault. Secret: never logged. */
  readonly accessToken?: string
  /** Where tokens come from (cached until five minutes before expiry). */
  readonly credentials?: AccessTokenSource
  /** Environment for the default credential chain (`AZURE_*`, `IDENTITY_*`). */
  readonly env?: KMSEnvironment
  /** Workload identity token reader for the default chain (`countersign/node` reads `AZURE_FEDERATED_TOKEN_FILE`). */
  readonly federatedToken?: (options: { readonly signal?: AbortSignalLike }) => Promise<string>
  /** Key Vault REST API version (default 7.4). */
  readonly apiVersion?: string
  /** Current time in milliseconds (default `Date.now`). */
  readonly now?: () => number
}

/**
 * The Azure Key Vault provider (`azurekms://`).
 *
 * Exported from `countersign/kms/azure`.
 */
export interface AzureKMSProvider extends KMSProvider {
  readonly scheme: 'azurekms'
  createKey(uri: string, options?: KMSCallOptions & { readonly algorithm?: SigningAlgorithm }): Promise<PublicKey>
}

interface ResolvedKey {
  readonly version: string
  readonly publicKey: PublicKey
  readonly algorithm: AzureAlgorithm
}

interface Context {
  readonly http: CloudHTTP
  readonly token: CachedAccessToken
  readonly base: string
  readonly apiVersion: string
  readonly signal?: AbortSignalLike
}

/** The token audience for a vault: sovereign clouds and Managed HSM have their own; anything else the public one. */
export function azureVaultResource(vaultHost: string): string {
  const host = vaultHost.replace(/:\d+$/, '').toLowerCase()
  for (const suffix of ['vault.azure.net', 'vault.azure.cn', 'vault.usgovcloudapi.net', 'managedhsm.azure.net']) {
    if (host.endsWith(`.${suffix}`)) return `https://${suffix}`
  }
  return AZURE_VAULT_RESOURCE
}

function base64url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function keyURL(ctx: Context, ref: AzureKMSKeyReference, version: string | undefined, op = ''): string {
  const path = `/keys/${ref.keyName}${version ? `/${version}` : ''}${op}`
  return `${ctx.base}${path}?api-version=${encodeURIComponent(ctx.apiVersion)}`
}

/** The version a `kid` (`https://vault/keys/NAME/VERSION`) names, checked against the requested key. */
function versionOfKid(kid: unknown, ref: AzureKMSKeyReference): string {
  let path = ''
  try {
    path = typeof kid === 'string' ? new URL(kid).pathname : ''
  } catch {
    // Reported below.
  }
  const m = /^\/keys\/([A-Za-z0-9-]+)\/([A-Za-z0-9]+)$/.exec(path)
  // Key Vault names are case-insensitive.
  if (!m || m[1]!.toLowerCase() !== ref.keyName.toLowerCase() || (ref.version !== undefined && m[2] !== ref.version)) {
    throw badResponse(PROVIDER, `${SERVICE}: the key's kid does not name the requested key version`)
  }
  return m[2]!
}

async function resolveKey(ctx: Context, ref: AzureKMSKeyReference): Promise<ResolvedKey> {
  const res = await ctx.http({
    method: 'GET',
    url: keyURL(ctx, ref, ref.version),
    token: ctx.token,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  })
  const bundle = jsonObject(res, PROVIDER, 'Key Vault key')
  const jwk = bundle.key
  if (!isJSONObject(jwk)) throw badResponse(PROVIDER, `${SERVICE}: key bundle has no key`, res.status)
  const version = versionOfKid(jwk.kid, ref)
  const publicKey = publicKeyFromJWK(jwk)
  return { version, publicKey, algorithm: algorithmFor(publicKey) }
}

async function signDigest(
  ctx: Context,
  ref: AzureKMSKeyReference,
  key: ResolvedKey,
  data: Uint8Array,
): Promise<Uint8Array> {
  // Web Crypto beyond a few KiB: sign-blob hands over the whole file.
  const digest = await sha2Digest(key.algorithm.hash, data)
  const res = await ctx.http({
    method: 'POST',
    url: keyURL(ctx, ref, key.version, '/sign'),
    token: ctx.token,
    json: { alg: key.algorithm.alg, value: base64url(digest) },
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  })
  const doc = jsonObject(res, PROVIDER, 'Key Vault sign result')
  if (doc.kid !== undefined && versionOfKid(doc.kid, ref) !== key.version) {
    throw badResponse(PROVIDER, `${SERVICE}: signed with another key version`, res.status)
  }
  const value = doc.value
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+={0,2}$/.test(value)) {
    throw badResponse(PROVIDER, `${SERVICE}: sign result has no base64url value`, res.status)
  }
  const raw = fromBase64(value)
  const size = key.algorithm.ecSize
  if (size !== undefined) {
    if (raw.length !== 2 * size)
      throw badResponse(PROVIDER, `${SERVICE}: EC signature has the wrong length`, res.status)
    return ecdsaP1363ToDER(raw)
  }
  if (raw.length !== (key.publicKey.rsaBits ?? 0) / 8) {
    throw badResponse(PROVIDER, `${SERVICE}: RSA signature has the wrong length`, res.status)
  }
  return raw
}

/**
 * Create the Azure Key Vault provider for `azurekms://VAULT_HOST/KEY[/VERSION]`. Keys: EC P-256/P-384/P-521 and
 * RSA 2048/3072/4096 (also `-HSM`), signed with ES256/ES384/ES512 and RS256/RS384/RS512 (sigstore's choice).
 *
 * @param providerOptions - Credentials, endpoint, API version, HTTP options.
 * @returns The provider; `createSigner` reads the key once, each `sign()` is one `sign` call on that exact version,
 *   and the answer is verified locally before it is returned.
 * @example
 * ```ts
 * import { createAzureKMSProvider } from 'countersign/kms/azure'
 * const kms = createAzureKMSProvider({ env: process.env })
 * const signer = await kms.createSigner('azurekms://myvault.vault.azure.net/release')
 * const signature = await signer.sign(payload)
 * ```
 *
 * Exported from `countersign/kms/azure`.
 */
export function createAzureKMSProvider(providerOptions: AzureKMSProviderOptions = {}): AzureKMSProvider {
  // One secret set for the provider, its credential chain and every call: what one learns, all redact.
  const options = { ...providerOptions, secrets: providerOptions.secrets ?? createSecretSet() }
  let endpoint: string | undefined
  if (options.endpoint !== undefined) {
    let u: URL
    try {
      u = new URL(options.endpoint)
    } catch {
      throw new CountersignError('ERR_INVALID_INPUT', 'Azure Key Vault endpoint is not a URL')
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') {
      throw new CountersignError('ERR_INVALID_INPUT', 'Azure Key Vault endpoint must be http(s)')
    }
    endpoint = `${u.origin}${u.pathname.replace(/\/+$/, '')}`
  }
  const tokens = new Map<string, CachedAccessToken>()
  const tokenFor = (resource: string): CachedAccessToken => {
    let t = tokens.get(resource)
    if (!t) {
      let source: AccessTokenSource
      if (options.accessToken !== undefined) {
        if (typeof options.accessToken !== 'string' || options.accessToken === '') {
          throw new TypeError('accessToken must be a non-empty string')
        }
        options.secrets.add(options.accessToken)
        source = staticAccessToken(options.accessToken)
      } else if (options.credentials) {
        source = options.credentials
      } else {
        const { env, federatedToken, loadClientCertificate, azureCLI, readArcKey, tenantId, onCredentialSource } =
          options
        source = createAzureDefaultCredentials({
          ...httpOptions(options),
          resource,
          ...(env ? { env } : {}),
          ...(federatedToken ? { federatedToken } : {}),
          ...(loadClientCertificate ? { loadClientCertificate } : {}),
          ...(azureCLI ? { azureCLI } : {}),
          ...(readArcKey ? { readArcKey } : {}),
          ...(tenantId ? { tenantId } : {}),
          ...(onCredentialSource ? { onCredentialSource } : {}),
          ...(options.now ? { now: options.now } : {}),
        })
      }
      t = cacheAccessToken(source, options.now)
      tokens.set(resource, t)
    }
    return t
  }
  const context = (ref: AzureKMSKeyReference, call: KMSCallOptions | undefined): Context => {
    const signal = call?.signal ?? options.signal
    return {
      http: createCloudHTTP(PROVIDER, SERVICE, { ...httpOptions(options), ...httpOptions(call ?? {}) }),
      token: tokenFor(azureVaultResource(ref.vaultHost)),
      base: endpoint ?? ref.vaultURL,
      apiVersion: options.apiVersion ?? AZURE_KEYVAULT_API_VERSION,
      ...(signal ? { signal } : {}),
    }
  }

  const provider: AzureKMSProvider = {
    scheme: 'azurekms',
    async createSigner(uri, call) {
      const ref = parseAzureKMSURI(uri)
      const key = await resolveKey(context(ref, call), ref)
      return kmsSignerFromSignFunction(uri, key.algorithm.signing, key.publicKey, async (data, signal) => {
        const signature = await signDigest(context(ref, { ...call, ...(signal ? { signal } : {}) }), ref, key, data)
        // Refused here rather than published: a signature that does not verify would only fail far from its cause.
        const { hash } = key.algorithm
        if (!(await verifySignature(key.publicKey, data, signature, { hash }).catch(() => false))) {
          throw badResponse(PROVIDER, `${SERVICE}: the returned signature does not verify with the key's public key`)
        }
        return signature
      })
    },
    async publicKey(uri, call) {
      const ref = parseAzureKMSURI(uri)
      return (await resolveKey(context(ref, call), ref)).publicKey
    },
    async createKey(uri, call) {
      const ref = parseAzureKMSURI(uri)
      const scheme = call?.algorithm ?? 'ecdsa-p256-sha256'
      const params = CREATE[scheme]
      if (!params) {
        throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `${SERVICE} keys for ${scheme} cannot be created`, {
          details: { provider: PROVIDER },
        })
      }
      const ctx = context(ref, call)
      // sigstore: an existing key is reused; only a 404 leads to creation.
      try {
        return (await resolveKey(ctx, ref)).publicKey
      } catch (e) {
        if (kmsStatus(e) !== 404) throw e
      }
      await ctx.http({
        method: 'POST',
        url: keyURL(ctx, ref, undefined, '/create'),
        token: ctx.token,
        json: { ...params, key_ops: ['sign', 'verify'], attributes: { enabled: true }, tags: { use: 'sigstore' } },
        retry: false,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      })
      return (await resolveKey(ctx, ref)).publicKey
    },
  }
  return Object.freeze(provider)
}

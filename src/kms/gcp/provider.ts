/**
 * Google Cloud KMS as a {@link KMSProvider}: the REST API (`cloudkms.googleapis.com/v1`) with bearer tokens,
 * behaving as sigstore's `pkg/signature/kms/gcp`: the key must have purpose ASYMMETRIC_SIGN, an unpinned reference
 * uses the first ENABLED version listed by `name desc`, the digest is signed with CRC32C integrity checks both
 * ways, and `createKey` makes the key ring and key when they do not exist (default `EC_SIGN_P256_SHA256`).
 *
 * @module
 */
import type { SigningAlgorithm } from '../../contracts/signer.js'
import { CountersignError } from '../../errors.js'
import { createSecretSet } from '../../http/redact.js'
import { fromBase64, toBase64 } from '../../internal/bytes.js'
import { isJSONObject } from '../../internal/json.js'
import { ecdsaDERToP1363 } from '../../keys/ecdsa-der.js'
import { parsePublicKey } from '../../keys/parse-public.js'
import type { PublicKey } from '../../keys/types.js'
import { verifySignature } from '../../keys/verify.js'
import { sha2Digest } from '../../keys/webcrypto.js'
import { type AccessTokenSource, type CachedAccessToken, cacheAccessToken, staticAccessToken } from '../access-token.js'
import { badResponse, type CloudHTTP, createCloudHTTP, httpOptions, jsonObject, kmsStatus } from '../cloud-http.js'
import { kmsSignerFromSignFunction } from '../kms-signer.js'
import type { KMSCallOptions, KMSEnvironment, KMSProvider } from '../types.js'
import { GCP_ALGORITHMS, type GCPAlgorithmInfo, type GCPKeyAlgorithm, gcpAlgorithmName } from './algorithms.js'
import { crc32c } from './crc32c.js'
import { createGCPMetadataCredentials } from './credentials.js'
import { type GCPKMSKeyReference, parseGCPKMSURI } from './uri.js'

const PROVIDER = 'gcpkms'
const SERVICE = 'Google Cloud KMS'
/** Cloud KMS's public endpoint. */
export const GCP_KMS_ENDPOINT = 'https://cloudkms.googleapis.com'
const ECDSA_SIZE: Readonly<Record<string, number>> = { 'ecdsa-p256': 32, 'ecdsa-p384': 48 }
/** Asymmetric key versions are generated asynchronously: poll this often, this many times, after creating one. */
const CREATE_POLL_MS = 1_000
const CREATE_POLL_ATTEMPTS = 30

/**
 * Options for {@link createGCPKMSProvider}. Credentials, first found wins: `accessToken`, `credentials`,
 * `GOOGLE_OAUTH_ACCESS_TOKEN` in `env`, then the metadata server. (`countersign/node`'s
 * `gcpKMSProviderFromEnvironment` adds the Application Default Credentials files before the metadata server.)
 *
 * Exported from `countersign/kms/gcp`.
 */
export interface GCPKMSProviderOptions extends KMSCallOptions {
  /** Base URL instead of `https://cloudkms.googleapis.com` (private endpoints, emulators, tests). */
  readonly endpoint?: string
  /** A fixed OAuth access token. Secret: never logged. */
  readonly accessToken?: string
  /** Where tokens come from (cached by the provider until five minutes before they expire). */
  readonly credentials?: AccessTokenSource
  /** Environment (`process.env` in Node): `GOOGLE_OAUTH_ACCESS_TOKEN`, `GCE_METADATA_HOST`. */
  readonly env?: KMSEnvironment
  /** Current time in milliseconds (default `Date.now`), for token expiry. */
  readonly now?: () => number
}

/**
 * Options for {@link GCPKMSProvider.createKey}.
 *
 * Exported from `countersign/kms/gcp`.
 */
export interface GCPCreateKeyOptions extends KMSCallOptions {
  /** A generic scheme (RSA gets the smallest modulus Cloud KMS offers for it). */
  readonly algorithm?: SigningAlgorithm
  /** sigstore's name (`rsa-pss-3072-sha256`) or Cloud KMS's (`RSA_SIGN_PSS_3072_SHA256`); wins over `algorithm`. */
  readonly keyAlgorithm?: GCPKeyAlgorithm
}

/**
 * The Google Cloud KMS provider (`gcpkms://`).
 *
 * Exported from `countersign/kms/gcp`.
 */
export interface GCPKMSProvider extends KMSProvider {
  readonly scheme: 'gcpkms'
  createKey(uri: string, options?: GCPCreateKeyOptions): Promise<PublicKey>
}

/** One resolved key version: what sign() uses and what publicKey() reports. */
interface ResolvedVersion {
  readonly name: string
  readonly info: GCPAlgorithmInfo
  readonly publicKey: PublicKey
}

interface Context {
  readonly http: CloudHTTP
  readonly token: CachedAccessToken
  readonly base: string
  readonly signal?: AbortSignal
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted()
    const t = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(t)
      reject(signal.reason)
    })
  })
}

function endpointOf(value: string | undefined): string {
  const base = value ?? GCP_KMS_ENDPOINT
  let url: URL
  try {
    url = new URL(base)
  } catch {
    throw new CountersignError('ERR_INVALID_INPUT', 'Google Cloud KMS endpoint is not a URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CountersignError('ERR_INVALID_INPUT', 'Google Cloud KMS endpoint must be http(s)')
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

function str(doc: Record<string, unknown>, name: string): string | undefined {
  const v = doc[name]
  return typeof v === 'string' ? v : undefined
}

/** Cloud KMS encodes int64 fields (the CRC32Cs) as decimal strings in JSON; numbers are accepted too. */
function int64(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return Number(v)
  return undefined
}

async function getJSON(ctx: Context, path: string, what: string): Promise<Record<string, unknown>> {
  const res = await ctx.http({
    method: 'GET',
    url: `${ctx.base}/v1/${path}`,
    token: ctx.token,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  })
  return jsonObject(res, PROVIDER, what)
}

/** The key version to use: the pinned one, or the first ENABLED version by `name desc` (sigstore's query). */
async function findVersion(ctx: Context, ref: GCPKMSKeyReference): Promise<Record<string, unknown>> {
  const key = await getJSON(ctx, ref.cryptoKeyName, 'cryptoKey')
  if (str(key, 'purpose') !== 'ASYMMETRIC_SIGN') {
    throw new CountersignError(
      'ERR_UNSUPPORTED_ALGORITHM',
      `${SERVICE}: the key cannot be used to sign (purpose ${String(str(key, 'purpose')).slice(0, 40)})`,
      {
        details: { provider: PROVIDER },
      },
    )
  }
  if (ref.version !== undefined)
    return getJSON(ctx, `${ref.cryptoKeyName}/cryptoKeyVersions/${ref.version}`, 'cryptoKeyVersion')
  const query = new URLSearchParams({ filter: 'state=ENABLED', orderBy: 'name desc' }).toString().replace(/\+/g, '%20')
  const list = await getJSON(ctx, `${ref.cryptoKeyName}/cryptoKeyVersions?${query}`, 'cryptoKeyVersions')
  const versions = list.cryptoKeyVersions
  if (versions !== undefined && !Array.isArray(versions))
    throw badResponse(PROVIDER, `${SERVICE}: cryptoKeyVersions is not a list`)
  const first = versions?.[0]
  if (first === undefined) {
    throw new CountersignError('ERR_KMS', `${SERVICE}: the key has no enabled version`, {
      details: { provider: PROVIDER, status: 404, reason: 'no-enabled-version' },
    })
  }
  if (!isJSONObject(first)) throw badResponse(PROVIDER, `${SERVICE}: cryptoKeyVersion is not an object`)
  return first
}

async function resolveVersion(ctx: Context, ref: GCPKMSKeyReference): Promise<ResolvedVersion> {
  const version = await findVersion(ctx, ref)
  const name = str(version, 'name')
  const prefix = `${ref.cryptoKeyName}/cryptoKeyVersions/`
  if (name === undefined || !name.startsWith(prefix) || !/^[A-Za-z0-9_-]+$/.test(name.slice(prefix.length))) {
    throw badResponse(PROVIDER, `${SERVICE}: the key version's name does not belong to the requested key`)
  }
  if (ref.version !== undefined && name !== `${prefix}${ref.version}`) {
    throw badResponse(PROVIDER, `${SERVICE}: answered with another key version`)
  }
  const algorithm = str(version, 'algorithm') ?? ''
  const info = Object.hasOwn(GCP_ALGORITHMS, algorithm) ? GCP_ALGORITHMS[algorithm] : undefined
  if (!info) {
    throw new CountersignError(
      'ERR_UNSUPPORTED_ALGORITHM',
      `${SERVICE}: unsupported key algorithm ${JSON.stringify(algorithm.slice(0, 60))}`,
      {
        details: { provider: PROVIDER },
      },
    )
  }
  const pub = await getJSON(ctx, `${name}/publicKey`, 'publicKey')
  const pem = str(pub, 'pem')
  if (pem === undefined) throw badResponse(PROVIDER, `${SERVICE}: publicKey response has no pem`)
  const pemCrc = int64(pub.pemCrc32c)
  if (pub.pemCrc32c !== undefined && pemCrc !== crc32c(new TextEncoder().encode(pem))) {
    throw badResponse(PROVIDER, `${SERVICE}: public key corrupted in transit (pemCrc32c mismatch)`)
  }
  if (pub.algorithm !== undefined && pub.algorithm !== algorithm) {
    throw badResponse(PROVIDER, `${SERVICE}: public key algorithm differs from the key version's`)
  }
  let publicKey: PublicKey
  try {
    publicKey = parsePublicKey(pem)
  } catch (cause) {
    throw new CountersignError('ERR_KMS', `${SERVICE}: the public key is malformed`, {
      cause,
      details: { provider: PROVIDER, reason: 'bad-response' },
    })
  }
  if (publicKey.algorithm !== info.key || (info.rsaBits !== undefined && publicKey.rsaBits !== info.rsaBits)) {
    throw badResponse(PROVIDER, `${SERVICE}: the public key does not match the key version's algorithm ${algorithm}`)
  }
  return { name, info, publicKey }
}

async function asymmetricSign(ctx: Context, version: ResolvedVersion, data: Uint8Array): Promise<Uint8Array> {
  // Web Crypto beyond a few KiB: sign-blob hands over the whole file.
  const digest = await sha2Digest(version.info.hash, data)
  const digestCrc = crc32c(digest)
  const res = await ctx.http({
    method: 'POST',
    url: `${ctx.base}/v1/${version.name}:asymmetricSign`,
    token: ctx.token,
    json: { digest: { [version.info.hash]: toBase64(digest) }, digestCrc32c: String(digestCrc) },
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  })
  const doc = jsonObject(res, PROVIDER, 'asymmetricSign response')
  // The integrity checks Google's data-integrity guidelines (and sigstore) ask for, plus the version's name.
  if (doc.verifiedDigestCrc32c !== true) {
    throw badResponse(
      PROVIDER,
      `${SERVICE}: AsymmetricSign request corrupted in transit (digest CRC32C not verified)`,
      res.status,
    )
  }
  const encoded = str(doc, 'signature')
  if (encoded === undefined)
    throw badResponse(PROVIDER, `${SERVICE}: AsymmetricSign response has no signature`, res.status)
  let signature: Uint8Array
  try {
    signature = fromBase64(encoded)
  } catch {
    throw badResponse(PROVIDER, `${SERVICE}: AsymmetricSign signature is not base64`, res.status)
  }
  if (int64(doc.signatureCrc32c) !== crc32c(signature)) {
    throw badResponse(
      PROVIDER,
      `${SERVICE}: AsymmetricSign response corrupted in transit (signature CRC32C mismatch)`,
      res.status,
    )
  }
  if (doc.name !== undefined && doc.name !== version.name) {
    throw badResponse(PROVIDER, `${SERVICE}: AsymmetricSign answered for another key version`, res.status)
  }
  return signature
}

/** Refuse a signature that does not verify with the key we report: it would otherwise be published. */
async function checkSignature(version: ResolvedVersion, data: Uint8Array, signature: Uint8Array): Promise<void> {
  const { info, publicKey } = version
  let ok: boolean
  try {
    if (info.key !== 'rsa') ecdsaDERToP1363(signature, ECDSA_SIZE[info.key]!)
    ok = await verifySignature(publicKey, data, signature, {
      hash: info.hash,
      rsaPadding: info.signing.startsWith('rsa-pss') ? 'pss' : 'pkcs1v15',
    })
  } catch {
    ok = false
  }
  if (!ok) throw badResponse(PROVIDER, `${SERVICE}: the returned signature does not verify with the key's public key`)
}

function tokenSource(options: GCPKMSProviderOptions): AccessTokenSource {
  if (options.accessToken !== undefined) {
    if (typeof options.accessToken !== 'string' || options.accessToken === '')
      throw new TypeError('accessToken must be a non-empty string')
    options.secrets?.add(options.accessToken)
    return staticAccessToken(options.accessToken)
  }
  if (options.credentials) return options.credentials
  const envToken = options.env?.GOOGLE_OAUTH_ACCESS_TOKEN
  options.secrets?.add(envToken)
  if (envToken) return staticAccessToken(envToken)
  return createGCPMetadataCredentials({
    ...httpOptions(options),
    ...(options.env ? { env: options.env } : {}),
    ...(options.now ? { now: options.now } : {}),
  })
}

/**
 * Create the Google Cloud KMS provider for `gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/V]`.
 * Supported key versions: EC_SIGN_P256_SHA256, EC_SIGN_P384_SHA384, RSA_SIGN_PKCS1_{2048,3072,4096}_SHA256,
 * RSA_SIGN_PKCS1_4096_SHA512, RSA_SIGN_PSS_{2048,3072,4096}_SHA256 and RSA_SIGN_PSS_4096_SHA512 (sigstore's set).
 *
 * @param providerOptions - Credentials, endpoint and HTTP options.
 * @returns The provider; `createSigner` resolves the key version and its public key once, then each `sign()` is one
 *   `asymmetricSign` call with CRC32C checks and a local verification of the answer.
 * @example
 * ```ts
 * import { createGCPKMSProvider } from 'countersign/kms/gcp'
 * const kms = createGCPKMSProvider({ accessToken: process.env.GOOGLE_OAUTH_ACCESS_TOKEN })
 * const signer = await kms.createSigner('gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/release')
 * const signature = await signer.sign(payload)
 * ```
 *
 * Exported from `countersign/kms/gcp`.
 */
export function createGCPKMSProvider(providerOptions: GCPKMSProviderOptions = {}): GCPKMSProvider {
  // One secret set for the provider, its token source and every call: what one learns, all redact.
  const options = { ...providerOptions, secrets: providerOptions.secrets ?? createSecretSet() }
  const base = endpointOf(options.endpoint)
  let token: CachedAccessToken | undefined
  const tokens = () => {
    token ??= cacheAccessToken(tokenSource(options), options.now)
    return token
  }
  const context = (call: KMSCallOptions | undefined): Context => {
    const signal = call?.signal ?? options.signal
    return {
      http: createCloudHTTP(PROVIDER, SERVICE, { ...httpOptions(options), ...httpOptions(call ?? {}) }),
      token: tokens(),
      base,
      ...(signal ? { signal } : {}),
    }
  }

  const provider: GCPKMSProvider = {
    scheme: 'gcpkms',
    async createSigner(uri, call) {
      const ref = parseGCPKMSURI(uri)
      const version = await resolveVersion(context(call), ref)
      return kmsSignerFromSignFunction(uri, version.info.signing, version.publicKey, async (data, signal) => {
        const signature = await asymmetricSign(context({ ...call, ...(signal ? { signal } : {}) }), version, data)
        await checkSignature(version, data, signature)
        return signature
      })
    },
    async publicKey(uri, call) {
      return (await resolveVersion(context(call), parseGCPKMSURI(uri))).publicKey
    },
    async createKey(uri, call) {
      const ref = parseGCPKMSURI(uri)
      const requested = call?.keyAlgorithm ?? call?.algorithm ?? 'ecdsa-p256-sha256'
      const algorithm = gcpAlgorithmName(requested)
      if (algorithm === undefined) {
        throw new CountersignError(
          'ERR_UNSUPPORTED_ALGORITHM',
          `${SERVICE} cannot create ${JSON.stringify(String(requested).slice(0, 60))} keys`,
          {
            details: { provider: PROVIDER },
          },
        )
      }
      const ctx = context(call)
      const post = (path: string, json: unknown) =>
        ctx.http({
          method: 'POST',
          url: `${base}/v1/${path}`,
          token: ctx.token,
          json,
          retry: false,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        })
      // Key ring first (sigstore does the same); a 409 means someone else just made it.
      try {
        await getJSON(ctx, ref.keyRingName, 'keyRing')
      } catch (e) {
        if (kmsStatus(e) !== 404) throw e
        await post(`projects/${ref.project}/locations/${ref.location}/keyRings?keyRingId=${ref.keyRing}`, {}).catch(
          (err) => {
            if (kmsStatus(err) !== 409) throw err
          },
        )
      }
      let exists = true
      try {
        await getJSON(ctx, ref.cryptoKeyName, 'cryptoKey')
      } catch (e) {
        if (kmsStatus(e) !== 404) throw e
        exists = false
      }
      if (!exists) {
        await post(`${ref.keyRingName}/cryptoKeys?cryptoKeyId=${ref.cryptoKey}`, {
          purpose: 'ASYMMETRIC_SIGN',
          versionTemplate: { algorithm },
        }).catch((err) => {
          if (kmsStatus(err) !== 409) throw err
        })
      }
      // A new asymmetric key's first version is PENDING_GENERATION for a few seconds.
      const sleep = call?.sleep ?? options.sleep ?? defaultSleep
      for (let attempt = 0; ; attempt++) {
        try {
          return (await resolveVersion(ctx, ref)).publicKey
        } catch (e) {
          const pending = e instanceof CountersignError && e.details?.reason === 'no-enabled-version'
          if (!pending || exists || attempt >= CREATE_POLL_ATTEMPTS) throw e
          await sleep(CREATE_POLL_MS, ctx.signal)
        }
      }
    },
  }
  return Object.freeze(provider)
}

/**
 * The `awskms://` provider: signers backed by AWS KMS asymmetric keys, their public keys, and key creation, with
 * sigstore's behaviour (the key's first signing algorithm, digests signed with `MessageType: DIGEST`, aliases
 * required to create a key).
 *
 * @module
 */

import type { SigningAlgorithm } from '../../contracts/signer.js'
import { CountersignError } from '../../errors.js'
import { createSecretSet } from '../../http/redact.js'
import { fromBase64, toBase64 } from '../../internal/bytes.js'
import { parseSPKI } from '../../keys/parse-public.js'
import type { PublicKey } from '../../keys/types.js'
import { verifySignature } from '../../keys/verify.js'
import { sha2Digest } from '../../keys/webcrypto.js'
import { kmsSignerFromSignFunction } from '../kms-signer.js'
import type { KMSCallOptions, KMSEnvironment, KMSProvider, KMSSigner } from '../types.js'
import { type AWSKeySpec, keySpecFor, signingSchemeFor } from './algorithms.js'
import { type AWSKMSCall, createAWSKMSClient } from './client.js'
import {
  type AWSCredentialProvider,
  type AWSCredentials,
  awsCredentialsFromEnv,
  regionFromEnv,
  toCredentialProvider,
} from './credentials.js'
import { type AWSKMSReference, parseAWSKMSURI } from './uri.js'
import { dnsSuffix } from './web-identity.js'

/**
 * Options for {@link createAWSKMSProvider}.
 *
 * @example
 * ```ts
 * import type { AWSKMSProviderOptions } from 'countersign/kms/aws'
 * const options: AWSKMSProviderOptions = { region: 'eu-west-1', credentials: { accessKeyId, secretAccessKey } }
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export interface AWSKMSProviderOptions extends KMSCallOptions {
  /**
   * Credentials, or a function returning them (see `countersign/node` for the AWS default chain). Default: the
   * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` variables of `env`.
   */
  readonly credentials?: AWSCredentials | AWSCredentialProvider
  /** Region for keys not named by ARN (an ARN's region wins). Default: `AWS_REGION`, then `AWS_DEFAULT_REGION`. */
  readonly region?: string | (() => Promise<string | undefined>)
  /**
   * KMS base URL for references without an endpoint (`awskms:///…`); default `AWS_ENDPOINT_URL_KMS`, then
   * `AWS_ENDPOINT_URL`, then `https://kms.REGION.amazonaws.com`. An endpoint in the reference always wins and is
   * reached over https, as in sigstore.
   */
  readonly endpoint?: string
  /** Environment read for credentials, region and endpoints (default: none). */
  readonly env?: KMSEnvironment
  /** Clock for request signatures (default `Date.now`). */
  readonly now?: () => Date
}

/**
 * Options for the AWS provider's `createKey`.
 *
 * @example
 * ```ts
 * import type { AWSCreateKeyOptions } from 'countersign/kms/aws'
 * const options: AWSCreateKeyOptions = { keySpec: 'RSA_3072' }
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export interface AWSCreateKeyOptions extends KMSCallOptions {
  /** Pick the key spec by scheme (P-256/384/521; any RSA scheme → `RSA_2048`). Default `ecdsa-p256-sha256`. */
  readonly algorithm?: SigningAlgorithm
  /** The exact AWS key spec (wins over `algorithm`). */
  readonly keySpec?: AWSKeySpec
}

/**
 * The `awskms` {@link KMSProvider}, with `createKey` taking an AWS key spec too.
 *
 * @example
 * ```ts
 * import { createAWSKMSProvider, type AWSKMSProvider } from 'countersign/kms/aws'
 * const provider: AWSKMSProvider = createAWSKMSProvider({ env: process.env })
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export interface AWSKMSProvider extends KMSProvider {
  readonly scheme: 'awskms'
  createKey(uri: string, options?: AWSCreateKeyOptions): Promise<PublicKey>
}

/** What GetPublicKey says about a key. */
interface KeyDescription {
  readonly publicKey: PublicKey
  readonly signingAlgorithms: readonly string[]
}

/**
 * Create the AWS KMS provider. Each call talks JSON 1.1 to KMS (`GetPublicKey`, `Sign`, `CreateKey`,
 * `CreateAlias`), signed with SigV4; throttling and 5xx answers are retried.
 *
 * A signer signs with the key's first listed signing algorithm (sigstore's rule), hashes the message locally and
 * sends the digest; its `algorithm` is therefore only known after `GetPublicKey`, which `createSigner` calls.
 *
 * @param providerOptions - Credentials, region, endpoint and HTTP options.
 * @returns The provider for `awskms://` references.
 * @example
 * ```ts
 * import { createAWSKMSProvider } from 'countersign/kms/aws'
 * import { signImage } from 'countersign/sign'
 * const aws = createAWSKMSProvider({ env: process.env })
 * const signer = await aws.createSigner('awskms:///alias/release')
 * await signImage(ref, signer, { store })
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export function createAWSKMSProvider(providerOptions: AWSKMSProviderOptions = {}): AWSKMSProvider {
  // One secret set for every call's client: what one learns (a session token), all redact.
  const options = { ...providerOptions, secrets: providerOptions.secrets ?? createSecretSet() }
  const env = options.env ?? {}
  const credentials: AWSCredentialProvider | undefined =
    options.credentials !== undefined
      ? toCredentialProvider(options.credentials)
      : (() => {
          const fromEnv = awsCredentialsFromEnv(env)
          return fromEnv !== undefined ? toCredentialProvider(fromEnv) : undefined
        })()

  async function clientFor(ref: AWSKMSReference, callOptions: KMSCallOptions = {}): Promise<AWSKMSCall> {
    if (credentials === undefined) {
      throw new CountersignError(
        'ERR_KMS',
        'no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass credentials, or use awsKMSProviderFromEnvironment (countersign/node) for profiles and web identity',
        { details: { provider: 'aws', reason: 'no-credentials' } },
      )
    }
    const configured = typeof options.region === 'function' ? await options.region() : options.region
    const region = ref.region ?? configured ?? regionFromEnv(env)
    if (region === undefined || !/^[a-z0-9-]+$/.test(region)) {
      throw new CountersignError(
        'ERR_KMS',
        region === undefined
          ? `no AWS region for ${ref.uri}: set AWS_REGION or name the key by ARN`
          : 'the AWS region is not a valid region name',
        { details: { provider: 'aws', reason: 'no-region' } },
      )
    }
    const endpoint =
      ref.endpoint !== ''
        ? `https://${ref.endpoint}`
        : (options.endpoint ??
          nonEmpty(env.AWS_ENDPOINT_URL_KMS) ??
          nonEmpty(env.AWS_ENDPOINT_URL) ??
          `https://kms.${region}.${dnsSuffix(region)}`)
    const { env: _env, credentials: _c, region: _r, endpoint: _e, ...http } = options
    return createAWSKMSClient({ ...http, ...callOptions, endpoint, region, credentials })
  }

  async function describe(call: AWSKMSCall, ref: AWSKMSReference, signal?: AbortSignal): Promise<KeyDescription> {
    const out = await call('GetPublicKey', { KeyId: ref.keyId }, signal ? { signal } : {})
    const der = typeof out.PublicKey === 'string' ? decode(out.PublicKey) : undefined
    const algorithms = out.SigningAlgorithms
    if (
      der === undefined ||
      (algorithms !== undefined &&
        (!Array.isArray(algorithms) || !algorithms.every((a): a is string => typeof a === 'string')))
    ) {
      throw new CountersignError('ERR_KMS', 'AWS KMS GetPublicKey answered without a usable public key', {
        details: { provider: 'aws', status: 200, reason: 'invalid-response' },
      })
    }
    if (out.KeyUsage !== undefined && out.KeyUsage !== 'SIGN_VERIFY') {
      throw new CountersignError(
        'ERR_UNSUPPORTED_ALGORITHM',
        `AWS KMS key ${ref.uri} is not a signing key (KeyUsage ${String(out.KeyUsage).slice(0, 40)})`,
        { details: { provider: 'aws' } },
      )
    }
    return { publicKey: parseSPKI(der), signingAlgorithms: (algorithms as string[] | undefined) ?? [] }
  }

  return Object.freeze({
    scheme: 'awskms' as const,

    async publicKey(uri: string, callOptions?: KMSCallOptions): Promise<PublicKey> {
      const ref = parseAWSKMSURI(uri)
      return (await describe(await clientFor(ref, callOptions), ref, callOptions?.signal)).publicKey
    },

    async createSigner(uri: string, callOptions?: KMSCallOptions): Promise<KMSSigner> {
      const ref = parseAWSKMSURI(uri)
      const call = await clientFor(ref, callOptions)
      const { publicKey, signingAlgorithms } = await describe(call, ref, callOptions?.signal)
      const scheme = signingSchemeFor(publicKey, signingAlgorithms)
      const rsaPadding = scheme.algorithm.startsWith('rsa-pss') ? ('pss' as const) : ('pkcs1v15' as const)
      return kmsSignerFromSignFunction(uri, scheme.algorithm, publicKey, async (data, signal) => {
        signal?.throwIfAborted()
        const digest = await sha2Digest(scheme.hash, data)
        const out = await call(
          'Sign',
          {
            KeyId: ref.keyId,
            Message: toBase64(digest),
            MessageType: 'DIGEST',
            SigningAlgorithm: scheme.awsAlgorithm,
          },
          signal ? { signal } : {},
        )
        const signature = typeof out.Signature === 'string' ? decode(out.Signature) : undefined
        // A signature that does not verify would only fail later, at verification time, far from its cause.
        const valid =
          signature !== undefined &&
          (await verifySignature(publicKey, data, signature, { hash: scheme.hash, rsaPadding }).catch(() => false))
        if (!valid) {
          throw new CountersignError('ERR_KMS', `AWS KMS Sign returned a signature that does not verify (${uri})`, {
            details: { provider: 'aws', status: 200, reason: 'invalid-signature' },
          })
        }
        return signature
      })
    },

    async createKey(uri: string, createOptions: AWSCreateKeyOptions = {}): Promise<PublicKey> {
      const ref = parseAWSKMSURI(uri)
      if (ref.alias === undefined) {
        throw new CountersignError(
          'ERR_INVALID_INPUT',
          'creating an AWS KMS key needs an alias reference (awskms:///alias/NAME)',
          {
            details: { provider: 'aws' },
          },
        )
      }
      const keySpec = keySpecFor(createOptions.algorithm, createOptions.keySpec)
      const { algorithm: _a, keySpec: _k, ...callOptions } = createOptions
      const call = await clientFor(ref, callOptions)
      const signal = callOptions.signal
      try {
        return (await describe(call, ref, signal)).publicKey
      } catch (error) {
        if (!(error instanceof CountersignError && error.details?.awsError === 'NotFoundException')) throw error
      }
      const created = await call(
        'CreateKey',
        { KeySpec: keySpec, KeyUsage: 'SIGN_VERIFY', Description: 'Created by Sigstore' },
        // Not repeated after a 5xx: a lost answer would otherwise leave a second, orphaned key.
        { idempotent: false, ...(signal ? { signal } : {}) },
      )
      const metadata = created.KeyMetadata as Record<string, unknown> | undefined
      const keyId = typeof metadata === 'object' && metadata !== null ? metadata.KeyId : undefined
      if (typeof keyId !== 'string' || keyId === '') {
        throw new CountersignError('ERR_KMS', 'AWS KMS CreateKey answered without a key id', {
          details: { provider: 'aws', status: 200, reason: 'invalid-response' },
        })
      }
      await call('CreateAlias', { AliasName: ref.alias, TargetKeyId: keyId }, signal ? { signal } : {})
      return (await describe(call, ref, signal)).publicKey
    },
  })
}

function decode(b64: string): Uint8Array | undefined {
  try {
    return fromBase64(b64)
  } catch {
    return undefined
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim()
  return t === undefined || t === '' ? undefined : t
}

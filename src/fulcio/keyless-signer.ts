/**
 * The keyless {@link Signer}: an ephemeral P-256 key that never leaves Web Crypto, certified by Fulcio for the
 * identity in an OIDC token, with the certificate verified before the key signs anything.
 *
 * @module
 */

import type { KeyMaterial, Signer } from '../contracts/signer.js'
import { CountersignError, isCountersignError } from '../errors.js'
import { createSecretSet, redactError, type SecretSet } from '../http/redact.js'
import { toArrayBufferView, utf8 } from '../internal/bytes.js'
import type { AbortSignalLike } from '../internal/host-types.js'
import { ecdsaP1363ToDER } from '../keys/ecdsa-der.js'
import { getSubtle } from '../keys/webcrypto.js'
import type { IdentityTokenProvider } from '../oidc/providers.js'
import { parseIdentityToken } from '../oidc/token.js'
import type { TrustedRoot } from '../trust/trusted-root.js'
import type { Certificate } from '../x509/certificate.js'
import { type KeylessIdentity, verifyFulcioCertificate } from './certificate-check.js'
import type { FulcioClient } from './client.js'

/**
 * Options for {@link createKeylessSigner}.
 *
 * Exported from `countersign/fulcio`.
 */
export interface KeylessSignerOptions {
  /** From `createFulcioClient`. */
  readonly fulcio: FulcioClient
  /** The token, or a provider asked once when the certificate is first needed (`countersign/oidc`). */
  readonly identityToken: string | IdentityTokenProvider
  /** Parsed trusted root (`countersign/trust`): Fulcio CAs and CT logs the certificate must chain to. */
  readonly trustedRoot: TrustedRoot
  /** Distinct trusted CT logs whose SCT must verify (default 1, as cosign and sigstore-go; 0 skips the check). */
  readonly ctlogThreshold?: number
  /** The clock (default the current time). */
  readonly now?: () => Date
  /**
   * The secrets kept out of errors (the CLI passes its process-wide set); the token is added once it is obtained.
   * Default: a set of the signer's own.
   */
  readonly secrets?: SecretSet
}

/**
 * A keyless signer: a {@link Signer} (`ecdsa-p256-sha256`, DER signatures, `x509` key material) that also reports
 * the identity its certificate certifies.
 *
 * Exported from `countersign/fulcio`.
 */
export interface KeylessSigner extends Signer {
  readonly algorithm: 'ecdsa-p256-sha256'
  /** The verified identity (SAN and issuer) of the certificate, obtaining the certificate if needed. */
  identity(options?: { readonly signal?: AbortSignalLike }): Promise<KeylessIdentity>
}

interface Certified {
  readonly chain: readonly Uint8Array[]
  readonly leaf: Certificate
  readonly identity: KeylessIdentity
}

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const

async function resolveToken(source: string | IdentityTokenProvider, signal: AbortSignal | undefined): Promise<string> {
  if (typeof source === 'string') return source
  try {
    const token = await source(signal ? { signal } : undefined)
    if (typeof token !== 'string') throw new TypeError('identity token provider returned a non-string')
    return token
  } catch (cause) {
    if (isCountersignError(cause)) throw cause
    throw new CountersignError('ERR_OIDC_TOKEN', 'the identity token provider failed', {
      cause,
      details: { reason: 'provider' },
    })
  }
}

/**
 * Create a keyless signer. A P-256 key pair is generated with Web Crypto as non-extractable (only the public key is
 * exported, as SPKI). On the first `keyMaterial()`, `sign()` or `identity()` (concurrent calls share one request)
 * the signer gets the token, signs its challenge (email, else `sub`) as proof of possession, asks Fulcio for a
 * certificate and verifies it (`verifyFulcioCertificate`: our key, chain to a trusted Fulcio CA valid now, SCTs from
 * trusted CT logs, the token's identity). Only then does `sign()` sign. A failed attempt is not cached: the next call
 * tries again. The first caller's abort signal governs the shared request.
 *
 * The certificate lives about ten minutes; `sign()` refuses with ERR_CERT_EXPIRED once it has expired (create a new
 * signer).
 *
 * @param options - Fulcio client, token, trusted root, CT threshold, clock.
 * @returns The signer.
 * @throws {CountersignError} (from its methods) ERR_OIDC_TOKEN, ERR_FULCIO_HTTP, ERR_NETWORK, ERR_ABORTED,
 *   ERR_CERT_CHAIN_INVALID, ERR_CERT_EXPIRED, ERR_POLICY_DENIED (identity mismatch); errors never contain the token.
 * @example
 * ```ts
 * import { createFulcioClient, createKeylessSigner } from 'countersign/fulcio'
 * import { githubActionsIdentityToken } from 'countersign/oidc'
 * import { publicGoodTrustedRoot } from 'countersign/trust'
 * const signer = createKeylessSigner({
 *   fulcio: createFulcioClient(),
 *   identityToken: githubActionsIdentityToken({ env: process.env }),
 *   trustedRoot: publicGoodTrustedRoot(),
 * })
 * const { subject, issuer } = await signer.identity()
 * const signature = await signer.sign(payload)
 * ```
 *
 * Exported from `countersign/fulcio`.
 */
export function createKeylessSigner(options: KeylessSignerOptions): KeylessSigner {
  const { fulcio, identityToken, trustedRoot } = options
  if (typeof fulcio?.createSigningCertificate !== 'function')
    throw new TypeError('options.fulcio must be a FulcioClient')
  if (typeof identityToken !== 'string' && typeof identityToken !== 'function') {
    throw new TypeError('options.identityToken must be a string or a provider function')
  }
  if (!Array.isArray(trustedRoot?.certificateAuthorities))
    throw new TypeError('options.trustedRoot must be a parsed trusted root')
  const ctlogThreshold = options.ctlogThreshold ?? 1
  if (!Number.isInteger(ctlogThreshold) || ctlogThreshold < 0) {
    throw new RangeError('ctlogThreshold must be a non-negative integer')
  }
  const secrets = options.secrets ?? createSecretSet()
  if (typeof identityToken === 'string') secrets.add(identityToken.trim())
  const now = options.now ?? (() => new Date())

  let keys: Promise<{ privateKey: CryptoKey; spki: Uint8Array }> | undefined
  const keyPair = () => {
    keys ??= (async () => {
      const subtle = getSubtle()
      // Not extractable: the private key can sign but never be exported, logged or persisted.
      const pair = (await subtle.generateKey(ECDSA_P256, false, ['sign', 'verify'])) as CryptoKeyPair
      const spki = new Uint8Array(await subtle.exportKey('spki', pair.publicKey))
      return { privateKey: pair.privateKey, spki }
    })()
    return keys
  }
  const rawSign = async (data: Uint8Array) => {
    const { privateKey } = await keyPair()
    const p1363 = new Uint8Array(await getSubtle().sign(ECDSA_SHA256, privateKey, toArrayBufferView(data)))
    return ecdsaP1363ToDER(p1363)
  }

  let pending: Promise<Certified> | undefined
  const certify = async (signal: AbortSignalLike | undefined): Promise<Certified> => {
    let raw: string | undefined
    try {
      const { spki } = await keyPair()
      raw = await resolveToken(identityToken, signal)
      secrets.addTemporary(raw)
      const token = parseIdentityToken(raw, { now: now() })
      const proofOfPossession = await rawSign(utf8(token.challenge))
      const response = await fulcio.createSigningCertificate({
        identityToken: token.raw,
        publicKey: spki,
        proofOfPossession,
        ...(signal ? { signal } : {}),
      })
      const verified = await verifyFulcioCertificate(response.chain, {
        trustedRoot,
        publicKey: spki,
        identityToken: token,
        time: now(),
        ctlogThreshold,
        ...(response.detachedSct ? { detachedSct: response.detachedSct } : {}),
      })
      return Object.freeze({ chain: response.chain, leaf: verified.leaf, identity: verified.identity })
    } catch (error) {
      throw redactError(error, secrets)
    }
  }
  const certificate = (signal: AbortSignalLike | undefined): Promise<Certified> => {
    signal?.throwIfAborted()
    if (pending === undefined) {
      const attempt = certify(signal)
      pending = attempt
      // A failure is reported to every waiting caller, then forgotten so a later call can try again.
      attempt.catch(() => {
        if (pending === attempt) pending = undefined
      })
    }
    return pending
  }

  return Object.freeze({
    algorithm: 'ecdsa-p256-sha256' as const,
    async keyMaterial(callOptions?: { readonly signal?: AbortSignalLike }): Promise<KeyMaterial> {
      const { chain } = await certificate(callOptions?.signal)
      return Object.freeze({ type: 'x509' as const, chain })
    },
    async identity(callOptions?: { readonly signal?: AbortSignalLike }): Promise<KeylessIdentity> {
      return (await certificate(callOptions?.signal)).identity
    },
    async sign(data: Uint8Array, callOptions?: { readonly signal?: AbortSignalLike }): Promise<Uint8Array> {
      if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array')
      // Certify first: a signature from a key whose certificate failed verification must never exist.
      const { leaf } = await certificate(callOptions?.signal)
      const at = now()
      if (at.getTime() > leaf.notAfter.getTime()) {
        throw new CountersignError(
          'ERR_CERT_EXPIRED',
          `the signing certificate expired at ${leaf.notAfter.toISOString()}; create a new keyless signer`,
          { details: { check: 'signing-certificate', notAfter: leaf.notAfter.toISOString() } },
        )
      }
      callOptions?.signal?.throwIfAborted()
      return rawSign(data)
    },
  })
}

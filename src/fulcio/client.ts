/**
 * Fulcio v2 client: `POST /api/v2/signingCert` with a public key, its proof of possession and an OIDC token
 * (fulcio `fulcio.proto`, grpc-gateway JSON). The response is parsed strictly; nothing in it is trusted yet (the
 * keyless signer verifies the certificate before use).
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { redactError } from '../http/redact.js'
import { createServiceHTTP, type ServiceClientOptions } from '../http/service.js'
import { fromBase64, toBase64 } from '../internal/bytes.js'
import type { AbortSignalLike } from '../internal/host-types.js'
import { decodePEMBlocks, encodePEM } from '../internal/pem.js'
import { parseCertificate } from '../x509/certificate.js'

/**
 * The public-good Fulcio (cosign's `--fulcio-url` default).
 *
 * Exported from `countersign/fulcio`.
 */
export const FULCIO_PUBLIC_GOOD_URL = 'https://fulcio.sigstore.dev'

/**
 * Options for {@link createFulcioClient}.
 *
 * Exported from `countersign/fulcio`.
 */
export interface FulcioClientOptions extends ServiceClientOptions {
  /** Base URL (default {@link FULCIO_PUBLIC_GOOD_URL}). */
  readonly url?: string
}

/**
 * What a certificate request carries.
 *
 * Exported from `countersign/fulcio`.
 */
export interface SigningCertificateRequest {
  /** The OIDC identity token (secret; never appears in errors). */
  readonly identityToken: string
  /** DER SubjectPublicKeyInfo of the key to certify. */
  readonly publicKey: Uint8Array
  /** The key's signature over the token's challenge (email or `sub`), DER for ECDSA. */
  readonly proofOfPossession: Uint8Array
  readonly signal?: AbortSignalLike
}

/**
 * Fulcio's answer, not yet verified.
 *
 * Exported from `countersign/fulcio`.
 */
export interface SigningCertificate {
  /** DER certificates, leaf first (Fulcio sends leaf, intermediates, root). */
  readonly chain: readonly Uint8Array[]
  /**
   * Present when Fulcio logged the final certificate instead of embedding an SCT: the bytes of
   * `signedCertificateTimestamp`, an RFC 6962 `add-chain` response as JSON (fulcio `fulcio.proto`).
   */
  readonly detachedSct?: Uint8Array
}

/**
 * A Fulcio client.
 *
 * Exported from `countersign/fulcio`.
 */
export interface FulcioClient {
  readonly url: string
  /** Request a short-lived signing certificate for `publicKey`. */
  createSigningCertificate(request: SigningCertificateRequest): Promise<SigningCertificate>
}

/** A Fulcio chain is 2–4 certificates; more is not a chain we would use. */
const MAX_CHAIN = 10
const MAX_RESPONSE_BYTES = 256 * 1024

function bad(message: string, status: number): CountersignError {
  return new CountersignError('ERR_FULCIO_HTTP', `Fulcio: ${message}`, {
    details: { status, reason: 'invalid-response' },
  })
}

function parseChain(value: unknown, status: number): Uint8Array[] {
  const certificates = (value as { certificates?: unknown } | null)?.certificates
  if (typeof value !== 'object' || value === null || !Array.isArray(certificates)) {
    throw bad('response has no certificate chain', status)
  }
  if (certificates.length === 0) throw bad('response has an empty certificate chain', status)
  if (certificates.length > MAX_CHAIN) throw bad(`response chain has more than ${MAX_CHAIN} certificates`, status)
  return certificates.map((pem, i) => {
    if (typeof pem !== 'string') throw bad(`chain entry ${i} is not a PEM string`, status)
    let der: Uint8Array
    try {
      const blocks = decodePEMBlocks(pem)
      if (blocks.length !== 1 || blocks[0]!.label !== 'CERTIFICATE') throw new Error('not one CERTIFICATE block')
      der = blocks[0]!.bytes
      parseCertificate(der)
    } catch {
      throw bad(`chain entry ${i} is not a PEM certificate`, status)
    }
    return der
  })
}

/**
 * Create a Fulcio v2 client. Requests send the token in `credentials.oidcIdentityToken` and the key as a
 * `publicKeyRequest` (PEM SPKI + base64 proof of possession), as sigstore-js does; both the embedded-SCT and the
 * detached-SCT answers are accepted. 5xx/429 and reset connections are retried (a certificate request may be
 * repeated: each answer is a fresh certificate for the same key).
 *
 * @param options - Base URL and HTTP options.
 * @returns The client.
 * @throws {CountersignError} (from `createSigningCertificate`) ERR_FULCIO_HTTP for refusals (`details.status`, the
 *   server's reason in the message, e.g. 401 for a token it rejects) and malformed answers
 *   (`details.reason` = `invalid-response`); ERR_NETWORK / ERR_ABORTED. The token never appears in an error.
 * @example
 * ```ts
 * import { createFulcioClient } from 'countersign/fulcio'
 * const fulcio = createFulcioClient({ url: 'https://fulcio.sigstore.dev' })
 * const { chain } = await fulcio.createSigningCertificate({ identityToken, publicKey: spki, proofOfPossession })
 * ```
 *
 * Exported from `countersign/fulcio`.
 */
export function createFulcioClient(options: FulcioClientOptions = {}): FulcioClient {
  const { url: rawURL = FULCIO_PUBLIC_GOOD_URL, ...httpOptions } = options
  let base: string
  try {
    const parsed = new URL(rawURL)
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('scheme')
    base = rawURL.replace(/\/+$/, '')
  } catch {
    throw new CountersignError('ERR_INVALID_INPUT', 'Fulcio URL must be an http(s) URL')
  }
  const http = createServiceHTTP('Fulcio', 'ERR_FULCIO_HTTP', httpOptions)

  return Object.freeze({
    url: base,
    async createSigningCertificate(request: SigningCertificateRequest): Promise<SigningCertificate> {
      const { identityToken, publicKey, proofOfPossession, signal } = request
      if (typeof identityToken !== 'string' || identityToken === '') {
        throw new TypeError('identityToken must be a non-empty string')
      }
      if (!(publicKey instanceof Uint8Array)) throw new TypeError('publicKey must be a Uint8Array (DER SPKI)')
      if (!(proofOfPossession instanceof Uint8Array)) throw new TypeError('proofOfPossession must be a Uint8Array')
      const body = {
        credentials: { oidcIdentityToken: identityToken },
        publicKeyRequest: {
          // Fulcio derives the algorithm from the key; the field is informational.
          publicKey: { algorithm: 'ECDSA', content: encodePEM('PUBLIC KEY', publicKey) },
          proofOfPossession: toBase64(proofOfPossession),
        },
      }
      try {
        const res = await http({
          method: 'POST',
          url: `${base}/api/v2/signingCert`,
          json: body,
          // Its JSON-escaped and base64 forms (and its segments) are redacted from whatever Fulcio answers.
          secrets: [identityToken],
          maxBytes: MAX_RESPONSE_BYTES,
          ...(signal ? { signal } : {}),
        })
        const doc = res.json() as Record<string, unknown> | null
        if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
          throw bad('response is not a JSON object', res.status)
        }
        const embedded = doc.signedCertificateEmbeddedSct
        const detached = doc.signedCertificateDetachedSct
        if ((embedded === undefined) === (detached === undefined)) {
          throw bad('response must hold exactly one of the embedded-SCT and detached-SCT forms', res.status)
        }
        if (embedded !== undefined) {
          const chain = parseChain((embedded as { chain?: unknown } | null)?.chain, res.status)
          return Object.freeze({ chain: Object.freeze(chain) })
        }
        const d = detached as { chain?: unknown; signedCertificateTimestamp?: unknown } | null
        const chain = parseChain(d?.chain, res.status)
        const sct = d?.signedCertificateTimestamp
        let detachedSct: Uint8Array
        try {
          if (typeof sct !== 'string' || sct === '') throw new Error('missing')
          detachedSct = fromBase64(sct)
        } catch {
          throw bad('detached-SCT response has no valid signedCertificateTimestamp', res.status)
        }
        return Object.freeze({ chain: Object.freeze(chain), detachedSct })
      } catch (error) {
        http.secrets.addTemporary(identityToken)
        throw redactError(error, http.secrets)
      }
    },
  })
}

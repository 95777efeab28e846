/**
 * The client certificate credential (azidentity `ClientCertificateCredential`, which signs through MSAL for Go): a
 * client assertion JWT signed with the certificate's RSA key, sent to `{authority}/{tenant}/oauth2/v2.0/token`
 * with `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`. As MSAL for Go
 * (`apps/internal/oauth/ops/accesstokens/accesstokens.go`, `Credential.JWT`): PS256 with an `x5t#S256` header
 * (standard base64 of the certificate's SHA-256; MSAL's RS256/`x5t` variant is for AD FS and dSTS authorities, which
 * countersign does not address); claims `aud` (the token endpoint), `iss` = `sub` (the client ID), `jti`, `nbf` now and `exp` ten minutes later; `x5c` (the chain, signing
 * certificate first, standard base64 DER) only when asked to send the chain (Subject Name/Issuer authentication).
 * Reading the PEM or PKCS#12 file is Node's part (`countersign/node`).
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import { toArrayBufferView, toBase64, utf8 } from '../../internal/bytes.js'
import { sha256 } from '../../internal/sha2.js'
import { getSubtle } from '../../keys/webcrypto.js'
import type { AccessTokenSource } from '../access-token.js'
import { type AzureCredentialOptions, createAzureClientCredentials } from './credentials.js'

/**
 * A certificate credential's material, as `countersign/node` reads it from `AZURE_CLIENT_CERTIFICATE_PATH`.
 *
 * @example
 * ```ts
 * import type { AzureClientCertificate } from 'countersign/kms/azure'
 * const material: AzureClientCertificate = { certificates: [leafDER, issuerDER], privateKey: pkcs8DER }
 * ```
 *
 * Exported from `countersign/kms/azure`.
 */
export interface AzureClientCertificate {
  /** DER certificates; the first is the one the private key belongs to, the rest its chain. */
  readonly certificates: readonly Uint8Array[]
  /** The RSA private key as PKCS#8 DER. Secret: never logged. */
  readonly privateKey: Uint8Array
}

/**
 * Options for {@link createAzureClientCertificateCredentials}.
 *
 * Exported from `countersign/kms/azure`.
 */
export interface AzureClientCertificateOptions extends AzureCredentialOptions {
  readonly tenantId: string
  readonly clientId: string
  /** The certificate and key, or a function producing them (called once, on first use). */
  readonly certificate: AzureClientCertificate | (() => Promise<AzureClientCertificate>)
  /** Send the chain in the assertion's `x5c` header (`AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`; default false). */
  readonly sendCertificateChain?: boolean
  /** `https://login.microsoftonline.com` unless overridden (see `AZURE_AUTHORITY_HOST`). */
  readonly authorityHost?: string
}

const b64url = (bytes: Uint8Array): string => toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
const jsonPart = (value: unknown): string => b64url(utf8(JSON.stringify(value)))

function uuid4(): string {
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6]! & 0x0f) | 0x40
  b[8] = (b[8]! & 0x3f) | 0x80
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

interface Signing {
  readonly header: Record<string, unknown>
  readonly key: CryptoKey
}

async function prepare(material: AzureClientCertificate, sendChain: boolean): Promise<Signing> {
  const [leaf] = material.certificates
  if (!leaf) throw new CountersignError('ERR_INVALID_INPUT', 'Azure client certificate: no certificate')
  // MSAL writes the thumbprint in standard base64, not the base64url of RFC 7515 §4.1.8; Entra expects that.
  const header: Record<string, unknown> = { alg: 'PS256', typ: 'JWT', 'x5t#S256': toBase64(sha256(leaf)) }
  if (sendChain) header.x5c = material.certificates.map((c) => toBase64(c))
  let key: CryptoKey
  try {
    key = await getSubtle().importKey(
      'pkcs8',
      toArrayBufferView(material.privateKey),
      { name: 'RSA-PSS', hash: 'SHA-256' },
      false,
      ['sign'],
    )
  } catch (cause) {
    // MSAL for Go: "key must be an RSA key".
    throw new CountersignError('ERR_INVALID_INPUT', 'Azure client certificate: the private key must be an RSA key', {
      cause,
    })
  }
  return { header, key }
}

/**
 * A client assertion JWT as MSAL for Go builds one, signed now for `tokenEndpoint`.
 *
 * @example
 * ```ts
 * const jwt = await signClientAssertion(signing, clientId, tokenEndpoint, Date.now())
 * ```
 */
async function signClientAssertion(s: Signing, clientId: string, tokenEndpoint: string, nowMs: number) {
  const now = Math.floor(nowMs / 1000)
  const claims = { aud: tokenEndpoint, exp: now + 600, iss: clientId, jti: uuid4(), nbf: now, sub: clientId }
  const input = `${jsonPart(s.header)}.${jsonPart(claims)}`
  // Go's jwt PS256 uses a salt as long as the hash (rsa.PSSSaltLengthEqualsHash).
  const params = { name: 'RSA-PSS', saltLength: 32 }
  const signature = new Uint8Array(await getSubtle().sign(params, s.key, toArrayBufferView(utf8(input))))
  return `${input}.${b64url(signature)}`
}

/**
 * The client credentials grant authenticated by a certificate (azidentity `ClientCertificateCredential`): a fresh
 * client assertion JWT (PS256, `x5t#S256`) for each token request. The
 * assertion, like every token, is kept out of errors.
 *
 * @param options - Tenant, client, certificate material, authority, fetch.
 * @returns A {@link AccessTokenSource | BearerTokenSource} for `createAzureKMSProvider({ credentials })`.
 * @throws {CountersignError} ERR_INVALID_INPUT when the key is not RSA; ERR_KMS when Entra refuses the assertion.
 * @example
 * ```ts
 * import { createAzureClientCertificateCredentials, createAzureKMSProvider } from 'countersign/kms/azure'
 * const credentials = createAzureClientCertificateCredentials({
 *   tenantId,
 *   clientId,
 *   certificate: { certificates: [leafDER], privateKey: pkcs8DER },
 * })
 * const kms = createAzureKMSProvider({ credentials })
 * ```
 *
 * Exported from `countersign/kms/azure`.
 */
export function createAzureClientCertificateCredentials(options: AzureClientCertificateOptions): AccessTokenSource {
  const { certificate, sendCertificateChain, ...rest } = options
  const now = options.now ?? Date.now
  let signing: Promise<Signing> | undefined
  const load = (): Promise<Signing> => {
    signing ??= (async () => {
      const material = typeof certificate === 'function' ? await certificate() : certificate
      return prepare(material, sendCertificateChain === true)
    })()
    // A failed load (unreadable file, wrong password) is not cached: the next token request tries again.
    signing.catch(() => {
      signing = undefined
    })
    return signing
  }
  return createAzureClientCredentials({
    ...rest,
    clientAssertion: async ({ tokenEndpoint }) =>
      signClientAssertion(await load(), options.clientId, tokenEndpoint, now()),
  })
}

/**
 * Verify an RFC 3161 timestamp against the data it timestamps and the timestamp authorities of a Sigstore trusted
 * root, the way sigstore-go and the Sigstore timestamp-authority verifier do.
 *
 * @module
 */
import { CountersignError, isCountersignError } from '../errors.js'
import { equalBytes, toHex } from '../internal/bytes.js'
import { parseDER, readChildren, readOctetString, readOID, TAG } from '../internal/der.js'
import type { HashAlgorithm } from '../keys/types.js'
import type { SignatureBackend } from '../keys/verify.js'
import { sha2Digest } from '../keys/webcrypto.js'
import { type CertificateAuthority, isValidAt, type TrustedRoot } from '../trust/trusted-root.js'
import { type Certificate, isCertificateValidAt } from '../x509/certificate.js'
import {
  digest,
  digestForOID,
  fail,
  OID_CONTENT_TYPE,
  OID_MESSAGE_DIGEST,
  OID_SIGNING_CERTIFICATE,
  OID_SIGNING_CERTIFICATE_V2,
  OID_TST_INFO,
} from './algorithms.js'
import {
  embeddedCertificate,
  hasTimeStampingEKU,
  trustedTSACertificates,
  verifyTSAChain,
  verifyWithCertificate,
} from './certificate.js'
import { parseTimestamp, type TimestampAttribute, type TimestampToken } from './parse.js'

/**
 * Options for {@link verifyTimestamp}.
 *
 * Exported from `countersign/timestamp`.
 */
export interface VerifyTimestampOptions {
  /** The trusted root whose `timestampAuthorities` may vouch for the token. */
  readonly trustedRoot: TrustedRoot
  /** Signature primitives (default Web Crypto; `nodeSignatureBackend` from `countersign/node` in Node). */
  readonly signatureBackend?: SignatureBackend | undefined
}

/**
 * A timestamp that verified: the time it proves and who vouched for it.
 *
 * Exported from `countersign/timestamp`.
 */
export interface VerifiedTimestamp {
  /** The TSTInfo genTime: the data existed no later than this. */
  readonly time: Date
  readonly token: TimestampToken
  /** The trusted-root timestamp authority that issued the signing certificate. */
  readonly authority: CertificateAuthority
  /** DER of the certificate whose key signed the token. */
  readonly signingCertificate: Uint8Array
}

const DER_CTX = { code: 'ERR_TIMESTAMP_INVALID', what: 'timestamp attribute' } as const

/** The one value of the one attribute of `type`; repeated attributes or values are malformed (RFC 5652 §11). */
function singleAttribute(
  attributes: readonly TimestampAttribute[],
  type: string,
  name: string,
): Uint8Array | undefined {
  const found = attributes.filter((a) => a.type === type)
  if (found.length === 0) return undefined
  if (found.length > 1 || found[0]!.values.length !== 1) fail('malformed', `${name} attribute must have one value`)
  return found[0]!.values[0]!
}

async function checkImprint(token: TimestampToken, data: Uint8Array): Promise<void> {
  const hash = digestForOID(token.messageImprint.hashAlgorithm)
  if (hash === undefined) {
    fail('unsupported-algorithm', `unsupported message imprint algorithm ${token.messageImprint.hashAlgorithm}`)
  }
  if (!equalBytes(await sha2Digest(hash, data), token.messageImprint.hash)) {
    fail('imprint-mismatch', 'message imprint does not match the timestamped data')
  }
}

async function checkSignedAttributes(token: TimestampToken): Promise<void> {
  const { signer } = token
  const contentType = singleAttribute(signer.signedAttributes, OID_CONTENT_TYPE, 'contentType')
  if (contentType === undefined) fail('malformed', 'contentType attribute is missing')
  if (readOID(parseDER(contentType, DER_CTX), 'contentType', DER_CTX) !== OID_TST_INFO) {
    fail('content-type', 'contentType attribute is not id-ct-TSTInfo')
  }
  const messageDigest = singleAttribute(signer.signedAttributes, OID_MESSAGE_DIGEST, 'messageDigest')
  if (messageDigest === undefined) fail('malformed', 'messageDigest attribute is missing')
  const hash = digestForOID(signer.digestAlgorithm)
  if (hash === undefined) fail('unsupported-algorithm', `unsupported digest algorithm ${signer.digestAlgorithm}`)
  const expected = readOctetString(parseDER(messageDigest, DER_CTX), 'messageDigest', DER_CTX)
  if (!equalBytes(await sha2Digest(hash, token.tstInfo), expected)) {
    fail('message-digest-mismatch', 'messageDigest attribute does not match the TSTInfo')
  }
}

/** Does the SignerInfo identify `cert` (issuer + serial, or subject key identifier)? */
function identifies(token: TimestampToken, cert: Certificate): boolean {
  const { signer } = token
  if (signer.issuer !== undefined && signer.serialNumber !== undefined) {
    // x509 keeps the serial as the hex of the INTEGER contents, as encoded: the same bytes compare equal.
    return equalBytes(signer.issuer, cert.issuer.raw) && toHex(signer.serialNumber) === cert.serialNumber
  }
  const ski = cert.subjectKeyId
  return signer.subjectKeyIdentifier !== undefined && ski !== undefined && equalBytes(signer.subjectKeyIdentifier, ski)
}

// A TSA's signing certificate usually comes from the trusted root, parsed once: its ESSCertID hash is computed once.
const certificateHashes = new WeakMap<Certificate, Map<string, Promise<Uint8Array>>>()

function certificateHash(cert: Certificate, hash: HashAlgorithm | 'sha1'): Promise<Uint8Array> {
  let perCert = certificateHashes.get(cert)
  if (perCert === undefined) {
    perCert = new Map()
    certificateHashes.set(cert, perCert)
  }
  let pending = perCert.get(hash)
  if (pending === undefined) {
    pending = hash === 'sha1' ? digest('sha1', cert.raw) : sha2Digest(hash, cert.raw)
    perCert.set(hash, pending)
  }
  return pending
}

/**
 * ESSCertID / ESSCertIDv2 (RFC 2634 §5.4, RFC 5035 §4): the first certID names the signing certificate by hash and,
 * optionally, by issuer + serial. Absent attribute: nothing to check (the token is bound to the key by the signature).
 */
async function checkSigningCertificate(token: TimestampToken, leaf: Certificate): Promise<void> {
  const attrs = token.signer.signedAttributes
  const v1 = singleAttribute(attrs, OID_SIGNING_CERTIFICATE, 'signingCertificate')
  const v2 = singleAttribute(attrs, OID_SIGNING_CERTIFICATE_V2, 'signingCertificateV2')
  for (const [value, isV2] of [
    [v1, false],
    [v2, true],
  ] as const) {
    if (value === undefined) continue
    // SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), policies OPTIONAL }
    const [certs] = readChildren(parseDER(value, DER_CTX))
    const [first] = readChildren(certs ?? fail('malformed', 'signingCertificate has no certs'))
    if (first === undefined || first.tag !== TAG.SEQUENCE) fail('malformed', 'signingCertificate has no ESSCertID')
    const fields = readChildren(first)
    let hashAlg: 'sha1' | 'sha256' | 'sha384' | 'sha512' = 'sha1'
    let i = 0
    if (isV2) {
      hashAlg = 'sha256' // RFC 5035: DEFAULT id-sha256
      if (fields[0]?.tag === TAG.SEQUENCE) {
        const oid = readOID(readChildren(fields[0])[0], 'hashAlgorithm', DER_CTX)
        const h = digestForOID(oid)
        if (h === undefined) fail('unsupported-algorithm', `unsupported ESSCertIDv2 hash ${oid}`)
        hashAlg = h
        i = 1
      }
    }
    const certHash = readOctetString(fields[i], 'certHash', DER_CTX)
    if (!equalBytes(await certificateHash(leaf, hashAlg), certHash)) {
      fail('signing-certificate-mismatch', 'signingCertificate attribute does not name the signing certificate')
    }
    const issuerSerial = fields[i + 1]
    if (issuerSerial !== undefined) {
      // IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber }; compare the serial (the name is a
      // GeneralNames wrapper whose directoryName must be the leaf's issuer).
      const [names, serial] = readChildren(issuerSerial)
      const serialBytes = serial?.tag === TAG.INTEGER ? serial.value : undefined
      const dirName = names === undefined ? undefined : readChildren(names).find((n) => n.tag === 0xa4)
      const issuer = dirName === undefined ? undefined : readChildren(dirName)[0]?.raw
      if (
        serialBytes === undefined ||
        toHex(serialBytes) !== leaf.serialNumber ||
        (issuer !== undefined && !equalBytes(issuer, leaf.issuer.raw))
      ) {
        fail('signing-certificate-mismatch', 'signingCertificate issuer/serial does not name the signing certificate')
      }
    }
  }
}

/**
 * The chain to check for one authority, leaf first: the authority's own leaf when the SignerInfo names it, or an
 * embedded certificate the SignerInfo names and the authority's first certificate issued. Undefined when the
 * authority did not issue the token's signer.
 */
function chainFor(token: TimestampToken, authority: CertificateAuthority): readonly Certificate[] | undefined {
  const trusted = trustedTSACertificates(authority)
  const first = trusted[0]!
  const inRoot = (der: Uint8Array) => trusted.find((c) => equalBytes(c.raw, der))
  // Embedded certificates are never trusted, and each must be one of the chain's certificates: an embedded signer
  // certificate that differs from the root's (timestamp-authority's verifier refuses that too) or unrelated extra
  // certificates would let different tokens verify alike. So at most one distinct certificate outside the root's
  // chain may be embedded, the signer's; only that one is ever parsed.
  const foreign = token.certificates.filter((der) => inRoot(der) === undefined)
  if (foreign.some((der) => !equalBytes(der, foreign[0]!))) return undefined
  if (identifies(token, first)) return foreign.length === 0 ? trusted : undefined
  for (const der of token.certificates) {
    const cert = inRoot(der) ?? embeddedCertificate(der)
    if (identifies(token, cert) && equalBytes(cert.issuer.raw, first.subject.raw)) {
      return foreign.length === 0 || equalBytes(foreign[0]!, der) ? [cert, ...trusted] : undefined
    }
  }
  return undefined
}

async function verifyWithAuthority(
  token: TimestampToken,
  authority: CertificateAuthority,
  chain: readonly Certificate[],
  backend: SignatureBackend | undefined,
  early: EarlySignature | undefined,
): Promise<VerifiedTimestamp> {
  const time = token.genTime
  if (!isValidAt(authority.validFor, time)) {
    fail('outside-authority-validity', `genTime ${time.toISOString()} is outside the authority's validity`)
  }
  for (const cert of chain) {
    if (!isCertificateValidAt(cert, time)) {
      fail(
        'outside-certificate-validity',
        `genTime ${time.toISOString()} is outside TSA certificate validity ` +
          `${cert.notBefore.toISOString()}..${cert.notAfter.toISOString()}`,
      )
    }
  }
  const leaf = chain[0]!
  if (!hasTimeStampingEKU(leaf)) {
    fail('eku', 'TSA certificate must have a critical extended key usage of exactly timeStamping')
  }
  await verifyTSAChain(leaf, authority, time, backend)
  await checkSigningCertificate(token, leaf)
  const { signer } = token
  const ok =
    early?.leaf === leaf
      ? unwrap(await early.outcome)
      : await verifyWithCertificate(
          leaf,
          signer.signedAttributesDER,
          signer.signature,
          signer.signatureAlgorithm,
          signer.digestAlgorithm,
          backend,
        )
  if (!ok) fail('signature', 'signature verification failed')
  // A copy: the parsed certificate's bytes are shared by every later verification.
  return Object.freeze({ time, token, authority, signingCertificate: leaf.raw.slice() })
}

type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown }

function unwrap<T>(s: Settled<T>): T {
  if (!s.ok) throw s.error
  return s.value
}

/** The token's CMS signature check, started before the cheaper checks that decide whether its outcome matters. */
interface EarlySignature {
  readonly leaf: Certificate
  readonly outcome: Promise<Settled<boolean>>
}

/**
 * Start the SignerInfo signature check with the signer certificate of the first authority that issued it. Sigstore
 * TSAs sign with P-384, far slower than every other check of a bundle, so with a backend that runs it off the main
 * thread it should start first. Its outcome is only read where the sequential order would have computed it, so the
 * reported failure is the same; anything that throws here is simply redone there.
 */
function startSignature(token: TimestampToken, options: VerifyTimestampOptions): EarlySignature | undefined {
  try {
    for (const authority of options.trustedRoot.timestampAuthorities) {
      const chain = chainFor(token, authority)
      if (chain === undefined) continue
      const leaf = chain[0]!
      const { signer } = token
      const outcome = verifyWithCertificate(
        leaf,
        signer.signedAttributesDER,
        signer.signature,
        signer.signatureAlgorithm,
        signer.digestAlgorithm,
        options.signatureBackend,
      ).then(
        (value): Settled<boolean> => ({ ok: true, value }),
        (error: unknown): Settled<boolean> => ({ ok: false, error }),
      )
      return { leaf, outcome }
    }
  } catch {
    // Malformed certificates are reported by the ordered checks below.
  }
  return undefined
}

/**
 * Verify an RFC 3161 timestamp over `data` (for Sigstore bundles: the signature bytes, i.e.
 * `messageSignature.signature` or `dsseEnvelope.signatures[0].sig`, decoded):
 *
 * 1. the message imprint (SHA-256/384/512) is the hash of `data`;
 * 2. the signed attributes: contentType = id-ct-TSTInfo, messageDigest = hash of the TSTInfo, and an
 *    ESSCertID(v2) signingCertificate, when present, naming the signing certificate;
 * 3. the SignerInfo names a certificate of a timestamp authority in the trusted root: the authority's `certChain`
 *    leaf (used when the token embeds no certificates), or an embedded certificate issued by the first certificate
 *    of `certChain`; embedded certificates are never trust anchors, and each must be a certificate of that chain;
 * 4. genTime lies in the authority's `validFor` (inclusive) and in every chain certificate's validity (so an
 *    expired TSA chain still proves times from when it was valid);
 * 5. the leaf has a critical EKU of exactly timeStamping; the chain verifies with x509's chain verifier for the
 *    timeStamping purpose (certificate profiles, names and key identifiers, path length, signatures), as
 *    `verifyCertificateChain` from `countersign/x509` checks Fulcio chains; and the CMS signature over the DER
 *    signed attributes verifies with the leaf key (Web Crypto).
 *
 * Certificates of the trusted root are parsed, and their keys imported, once and cached.
 *
 * @param timestamp - DER TimeStampResp / TimeStampToken, or a token from {@link parseTimestamp}.
 * @param data - The timestamped bytes.
 * @param options - The trusted root.
 * @returns The verified time, token and authority.
 * @throws {CountersignError} ERR_TIMESTAMP_INVALID with `details.reason` (a {@link TimestampFailureReason}).
 * @example
 * ```ts
 * import { verifyTimestamp } from 'countersign/timestamp'
 * import { parseTrustedRoot } from 'countersign/trust'
 * const { time } = await verifyTimestamp(tokenDER, signatureBytes, { trustedRoot: parseTrustedRoot(json) })
 * ```
 *
 * Exported from `countersign/timestamp`.
 */
export async function verifyTimestamp(
  timestamp: Uint8Array | TimestampToken,
  data: Uint8Array,
  options: VerifyTimestampOptions,
): Promise<VerifiedTimestamp> {
  if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array')
  if (typeof options !== 'object' || options === null || typeof options.trustedRoot !== 'object') {
    throw new TypeError('options.trustedRoot is required')
  }
  const token = timestamp instanceof Uint8Array ? parseTimestamp(timestamp) : timestamp
  const early = startSignature(token, options)
  try {
    await checkImprint(token, data)
    await checkSignedAttributes(token)
    const authorities = options.trustedRoot.timestampAuthorities
    if (authorities.length === 0) fail('no-authorities', 'the trusted root lists no timestamp authority')
    const errors: CountersignError[] = []
    for (const authority of authorities) {
      try {
        // Inside the per-authority try: an authority whose certificates do not parse fails alone (as a Fulcio CA
        // does in x509's chain verifier), the others are still tried.
        const chain = chainFor(token, authority)
        if (chain === undefined) continue
        return await verifyWithAuthority(token, authority, chain, options.signatureBackend, early)
      } catch (error) {
        if (!isCountersignError(error, 'ERR_TIMESTAMP_INVALID')) throw error
        errors.push(error)
      }
    }
    if (errors.length === 0) {
      fail('untrusted', 'no timestamp authority of the trusted root issued the signing certificate')
    }
    // Several entries for one TSA (rotated validity windows) fail alike; report the first, list all.
    const first = errors[0]!
    throw new CountersignError('ERR_TIMESTAMP_INVALID', first.message, {
      cause: first.cause,
      details: { ...first.details, authorities: errors.map((e) => e.details?.reason) },
    })
  } catch (error) {
    if (isCountersignError(error, 'ERR_TIMESTAMP_INVALID') && error.details?.reason !== undefined) throw error
    // Verification fails closed and reports one code: key or algorithm problems become timestamp failures.
    if (isCountersignError(error, 'ERR_UNSUPPORTED_ALGORITHM')) {
      fail('unsupported-algorithm', error.message, { cause: error })
    }
    fail('malformed', 'timestamp is malformed', { cause: error })
  }
}

/**
 * The checks a keyless signer runs on Fulcio's answer before using it: the certificate is for our key, chains to a
 * Fulcio CA of the trusted root, was logged to a trusted CT log, and names the identity of the token we sent.
 *
 * Upstream for comparison: cosign ≤ v2 (`fulcioverifier.NewSigner`) verified only the SCT of the new certificate;
 * cosign v3 / sigstore-go (`sign.Bundle` with a trusted root) verify the finished bundle (chain, log, timestamps)
 * with `WithoutIdentitiesUnsafe`; sigstore-js verifies nothing at signing time. Checking the identity is ours: it
 * makes what the privacy prompt and the output show the certified identity, bound to the token.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { concat, equalBytes, fromBase64, fromUtf8 } from '../internal/bytes.js'
import type { IdentityToken } from '../oidc/token.js'
import type { TrustedRoot } from '../trust/trusted-root.js'
import { type Certificate, parseCertificate } from '../x509/certificate.js'
import { verifyCertificateChain } from '../x509/chain.js'
import { fulcioExtensions } from '../x509/fulcio-extensions.js'
import { type CertificateIdentity, certificateIdentity } from '../x509/identity.js'
import {
  checkSCTThreshold,
  parseSCT,
  type SCTResult,
  type SignedCertificateTimestamp,
  verifyEmbeddedSCTs,
  verifySCT,
} from '../x509/sct.js'

/**
 * The identity a verified Fulcio certificate certifies (what cosign's privacy prompt and output show).
 *
 * Exported from `countersign/fulcio`.
 */
export interface KeylessIdentity {
  /** The certificate's SAN: URI, else email, else Sigstore username (sigstore-go's order). */
  readonly subject: string
  readonly subjectType: CertificateIdentity['subjectType']
  /** The OIDC issuer recorded in the certificate (.1.8, else .1.1). */
  readonly issuer: string
}

/**
 * Options for {@link verifyFulcioCertificate}.
 *
 * Exported from `countersign/fulcio`.
 */
export interface VerifyFulcioCertificateOptions {
  /** The trusted root whose `certificateAuthorities` and `ctlogs` decide. */
  readonly trustedRoot: TrustedRoot
  /** Our DER SPKI: the leaf must certify exactly this key. */
  readonly publicKey: Uint8Array
  /** The token the certificate was requested with. */
  readonly identityToken: IdentityToken
  /** When the chain must be valid (now, for a certificate about to be used). */
  readonly time: Date
  /** Distinct trusted CT logs whose SCT must verify (default 1; 0 skips the check). */
  readonly ctlogThreshold?: number
  /** Fulcio's detached SCT, when it sent one instead of embedding it. */
  readonly detachedSct?: Uint8Array
}

/**
 * A certificate that passed {@link verifyFulcioCertificate}.
 *
 * Exported from `countersign/fulcio`.
 */
export interface VerifiedFulcioCertificate {
  readonly leaf: Certificate
  /** Leaf first, the trusted root's anchor last. */
  readonly path: readonly Certificate[]
  readonly identity: KeylessIdentity
}

function identityError(message: string, rule: string): CountersignError {
  return new CountersignError('ERR_POLICY_DENIED', `Fulcio certificate ${message}`, {
    details: { check: 'identity', reasons: [{ rule, message }] },
  })
}

/**
 * A detached SCT as Fulcio sends it: the JSON of an RFC 6962 `add-chain` response (`sct_version`, `id`,
 * `timestamp`, `extensions`, `signature` as a TLS DigitallySigned), or already TLS-encoded.
 */
function parseDetachedSCT(bytes: Uint8Array): SignedCertificateTimestamp {
  if (bytes[0] !== 0x7b /* "{" */) return parseSCT(bytes)
  let doc: { sct_version?: unknown; id?: unknown; timestamp?: unknown; extensions?: unknown; signature?: unknown }
  try {
    doc = JSON.parse(fromUtf8(bytes, 'detached SCT'))
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', 'detached SCT is not valid JSON', { cause })
  }
  const { sct_version: version, id, timestamp, extensions = '', signature } = doc ?? {}
  if (
    version !== 0 ||
    typeof id !== 'string' ||
    typeof timestamp !== 'number' ||
    !Number.isSafeInteger(timestamp) ||
    timestamp < 0 ||
    typeof extensions !== 'string' ||
    typeof signature !== 'string'
  ) {
    throw new CountersignError('ERR_INVALID_INPUT', 'detached SCT is malformed')
  }
  const logId = fromBase64(id)
  const ext = fromBase64(extensions)
  if (logId.length !== 32 || ext.length > 0xffff)
    throw new CountersignError('ERR_INVALID_INPUT', 'detached SCT is malformed')
  const ts = new Uint8Array(8)
  let t = timestamp
  for (let i = 7; i >= 0; i--) {
    ts[i] = t % 256
    t = Math.floor(t / 256)
  }
  // The TLS form (RFC 6962 §3.2): version, log ID, timestamp, extensions, then the DigitallySigned as sent.
  return parseSCT(
    concat(
      new Uint8Array([0]),
      logId,
      ts,
      new Uint8Array([ext.length >> 8, ext.length & 0xff]),
      ext,
      fromBase64(signature),
    ),
  )
}

function claimString(token: IdentityToken, path: readonly string[]): string | undefined {
  let v: unknown = token.claims
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined
    v = (v as Record<string, unknown>)[key]
  }
  return typeof v === 'string' && v !== '' ? v : undefined
}

/**
 * Check that the certificate names the token's identity.
 *
 * Issuer: the certificate's issuer extension must be the token's `iss`, or its `federated_claims.connector_id`
 * (the public-good Dex at oauth2.sigstore.dev is configured in Fulcio with that claim as the issuer, so a GitHub
 * login through it is certified as `https://github.com/login/oauth`).
 *
 * Subject: Fulcio ≥ 1.8.6 (fulcio#2307, 2026-03) records the raw `sub` in the Token Subject extension (.1.24) for every issuer type; when
 * present it must equal the token's `sub`. Without it, a SAN must be one Fulcio derives from the token: the verified
 * `email`, the `sub` (SPIFFE, Kubernetes, URI issuers), `https://github.com/` + `job_workflow_ref` (GitHub Actions)
 * or `https://` + `ci_config_ref_uri` (GitLab). In either case an email SAN other than the token's email is refused.
 */
function checkTokenIdentity(leaf: Certificate, token: IdentityToken): KeylessIdentity {
  const identity = certificateIdentity(leaf)
  const ext = fulcioExtensions(leaf)
  const issuers = [token.issuer, claimString(token, ['federated_claims', 'connector_id'])].filter(
    (v): v is string => v !== undefined,
  )
  if (identity.issuer === undefined) throw identityError('has no OIDC issuer extension', 'issuer')
  if (!issuers.includes(identity.issuer)) {
    throw identityError(
      `issuer ${JSON.stringify(identity.issuer)} is not the token's issuer ${JSON.stringify(token.issuer)}`,
      'issuer',
    )
  }
  const sanValues = leaf.subjectAltNames.flatMap((n) =>
    (n.type === 'email' || n.type === 'uri' || n.type === 'otherName') && typeof n.value === 'string' ? [n.value] : [],
  )
  const emailSAN = leaf.subjectAltNames.find((n) => n.type === 'email')
  if (emailSAN?.type === 'email' && token.email !== undefined && emailSAN.value !== token.email) {
    throw identityError(`is issued to ${JSON.stringify(emailSAN.value)}, not the token's email`, 'subject')
  }
  if (ext.tokenSubject !== undefined) {
    if (ext.tokenSubject !== token.subject) {
      throw identityError("token subject extension is not the token's subject", 'subject')
    }
    return Object.freeze({ subject: identity.subject, subjectType: identity.subjectType, issuer: identity.issuer })
  }
  const workflowRef = claimString(token, ['job_workflow_ref'])
  const gitlabRef = claimString(token, ['ci_config_ref_uri'])
  const expected = [
    token.email,
    token.subject,
    workflowRef !== undefined ? `https://github.com/${workflowRef}` : undefined,
    gitlabRef !== undefined ? `https://${gitlabRef}` : undefined,
  ].filter((v): v is string => v !== undefined)
  if (!sanValues.some((v) => expected.includes(v))) {
    throw identityError(
      `is issued to ${JSON.stringify(identity.subject)}, which is not the identity of the token (${JSON.stringify(token.challenge)})`,
      'subject',
    )
  }
  return Object.freeze({ subject: identity.subject, subjectType: identity.subjectType, issuer: identity.issuer })
}

/**
 * Verify a certificate chain Fulcio returned before using it, in this order: the leaf certifies `publicKey`
 * (byte-equal SPKI); it chains to a Fulcio CA of the trusted root valid at `time` (certificates Fulcio sent after the
 * leaf must belong to that path); at least `ctlogThreshold` SCTs (embedded, or the detached one) verify with trusted
 * CT logs; and the certificate names the token's identity (see the module comment and the rules below).
 *
 * Identity rules: issuer extension = token `iss` or Dex's `federated_claims.connector_id`; Token Subject extension
 * (.1.24), when present, = token `sub`; otherwise a SAN equal to the token's email, `sub`, GitHub workflow URI or
 * GitLab config URI; an email SAN must be the token's email.
 *
 * @param chain - DER certificates, leaf first.
 * @param options - Trusted root, our key, the token, time, CT threshold.
 * @returns The parsed leaf, the verified path and the certified identity.
 * @throws {CountersignError} ERR_CERT_CHAIN_INVALID (`details.check`: `public-key`, `chain` or `sct`),
 *   ERR_CERT_EXPIRED, ERR_POLICY_DENIED (`details.check` = `identity`), ERR_INVALID_INPUT (malformed certificate).
 * @example
 * ```ts
 * import { verifyFulcioCertificate } from 'countersign/fulcio'
 * const { identity } = await verifyFulcioCertificate(chain, {
 *   trustedRoot, publicKey: spki, identityToken: parseIdentityToken(jwt), time: new Date(),
 * })
 * ```
 *
 * Exported from `countersign/fulcio`.
 */
export async function verifyFulcioCertificate(
  chain: readonly Uint8Array[],
  options: VerifyFulcioCertificateOptions,
): Promise<VerifiedFulcioCertificate> {
  const { trustedRoot, publicKey, identityToken, time } = options
  const threshold = options.ctlogThreshold ?? 1
  if (!Number.isInteger(threshold) || threshold < 0)
    throw new RangeError('ctlogThreshold must be a non-negative integer')
  if (chain.length === 0) {
    throw new CountersignError('ERR_CERT_CHAIN_INVALID', 'Fulcio returned no certificate', {
      details: { check: 'chain', reason: 'empty' },
    })
  }
  const [leaf, ...rest] = chain.map((der) => parseCertificate(der))
  if (!equalBytes(leaf!.spki, publicKey)) {
    throw new CountersignError('ERR_CERT_CHAIN_INVALID', 'Fulcio certificate is not for the signing key', {
      details: { check: 'public-key', reason: 'key-mismatch' },
    })
  }
  const { path } = await verifyCertificateChain(leaf!, trustedRoot.certificateAuthorities, {
    time,
    intermediates: rest,
  })
  if (threshold > 0) {
    if (options.detachedSct !== undefined) {
      let results: SCTResult[]
      try {
        results = [
          await verifySCT(
            parseDetachedSCT(options.detachedSct),
            { type: 'x509', certificate: leaf!.raw },
            trustedRoot.ctlogs,
          ),
        ]
      } catch (cause) {
        throw new CountersignError('ERR_CERT_CHAIN_INVALID', 'Fulcio\u2019s detached SCT is malformed', {
          cause,
          details: { check: 'sct', reason: 'malformed' },
        })
      }
      checkSCTThreshold(results, threshold)
    } else {
      // path[1] is the leaf's issuer; a leaf that is itself a trust anchor cannot occur (checked as a leaf profile).
      await verifyEmbeddedSCTs(leaf!, path[1]!, trustedRoot.ctlogs, { threshold })
    }
  }
  const identity = checkTokenIdentity(leaf!, identityToken)
  return Object.freeze({ leaf: leaf!, path, identity })
}

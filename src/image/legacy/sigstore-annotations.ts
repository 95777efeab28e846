/**
 * Sigstore checks of a legacy `.sig` layer (cosign v1/v2 keyless images; docs/formats.md §Legacy layer annotations,
 * §Legacy-format checks): the RFC 3161 annotation when signed timestamps are required, the Rekor SET of the
 * `bundle` annotation and its hashedrekord body, the certificate of the `certificate` annotation (chain with the
 * `chain` annotation's intermediates at the integrated time, SCTs, identity with the issuer from extension .1.1),
 * then the signature.
 * @module
 */
import type { DSSEEnvelope } from '../../dsse/envelope.js'
import { verifyDSSE } from '../../dsse/verify.js'
import { CountersignError } from '../../errors.js'
import { boundedJoin, clipText, MAX_QUOTED_LENGTH } from '../../internal/bounded-text.js'
import { fromBase64, fromHex } from '../../internal/bytes.js'
import { isJSONObject } from '../../internal/json.js'
import type { HashAlgorithm, PublicKey, VerifyOptions } from '../../keys/types.js'
import { verifySignature } from '../../keys/verify.js'
import { verifyEntryBody } from '../../rekor/body.js'
import type { TransparencyLogEntry } from '../../rekor/entry.js'
import { verifySignedEntryTimestamp } from '../../rekor/set.js'
import {
  BUNDLE_ANNOTATION,
  CERTIFICATE_ANNOTATION,
  CHAIN_ANNOTATION,
  RFC3161_TIMESTAMP_ANNOTATION,
} from '../../signature/annotations.js'
import { verifyTimestamps } from '../../timestamp/thresholds.js'
import { bundleThresholds, checkCertificate, type SigstoreVerificationOptions } from '../../verifier/sigstore-check.js'
import { type Certificate, parseCertificatePEM } from '../../x509/certificate.js'
import { fulcioExtensions } from '../../x509/fulcio-extensions.js'
import {
  type CertificateIdentity,
  certificateIdentity,
  compileIdentityRegExp,
  type IdentityPolicy,
  identityRegExpMatches,
} from '../../x509/identity.js'
import { certificatePublicKey } from '../../x509/signature.js'

/** What the Sigstore checks of one legacy layer proved. */
export interface LegacySigstoreCheck {
  /** Index into `keys` of the key that verified (key mode). */
  readonly keyIndex?: number
  readonly certificate?: Certificate
  readonly identity?: CertificateIdentity
  /** The SET-verified integrated time. */
  readonly integratedTime?: Date
}

/** Options the legacy checks read. */
export interface LegacySigstoreOptions extends SigstoreVerificationOptions {
  readonly keys: readonly PublicKey[]
  readonly hash?: HashAlgorithm
  readonly verifyOptions?: VerifyOptions
}

const fail = (code: 'ERR_INVALID_INPUT' | 'ERR_TLOG_INCLUSION_PROOF' | 'ERR_SIGNATURE_INVALID', message: string) =>
  new CountersignError(code, message)

/**
 * What a legacy layer signs: a simple-signing payload with its raw signature (`.sig`), or a DSSE envelope (`.att`).
 */
export type LegacySignedContent =
  | { readonly type: 'simple-signing'; readonly payload: Uint8Array; readonly signature: Uint8Array }
  | { readonly type: 'dsse'; readonly envelope: DSSEEnvelope }

/** Index of the key among `keys` that verifies `content`, or -1. */
async function verifyContent(
  content: LegacySignedContent,
  keys: readonly PublicKey[],
  verifyOptions: VerifyOptions,
): Promise<number> {
  if (content.type === 'dsse') return verifyDSSE(content.envelope, keys, verifyOptions)
  for (let i = 0; i < keys.length; i++) {
    if (await verifySignature(keys[i]!, content.payload, content.signature, verifyOptions)) return i
  }
  return -1
}

/**
 * Run the Sigstore checks of one legacy layer: a `.sig` simple-signing payload (logged as hashedrekord) or an
 * `.att` DSSE envelope (logged as dsse, or intoto by cosign v1/v2).
 *
 * @throws {CountersignError} with the failing check's code; the message is what a check reason should say.
 */
export async function checkLegacySigstore(
  annotations: Readonly<Record<string, string>> | undefined,
  content: LegacySignedContent,
  options: LegacySigstoreOptions,
  mode: 'key-tlog' | 'keyless',
): Promise<LegacySigstoreCheck> {
  const root = options.trustedRoot!
  const a = annotations ?? {}
  const verifyOptions: VerifyOptions = { hash: options.hash ?? 'sha256', ...options.verifyOptions }
  const signature =
    content.type === 'dsse' ? (content.envelope.signatures[0]?.sig ?? new Uint8Array(0)) : content.signature
  if (content.type === 'dsse' && content.envelope.signatures.length !== 1) {
    throw fail('ERR_SIGNATURE_INVALID', 'a logged DSSE envelope must carry exactly one signature')
  }

  // Signer material first: keyless needs the certificate annotation (cosign: "no certificate found on signature").
  let leaf: Certificate | undefined
  let intermediates: Certificate[] = []
  let keyIndex = -1
  if (mode === 'keyless') {
    const pem = a[CERTIFICATE_ANNOTATION]
    if (!pem) throw fail('ERR_INVALID_INPUT', 'no certificate found on signature')
    leaf = parseCertificatePEM(pem)[0]!
    const chain = a[CHAIN_ANNOTATION]
    // The chain annotation is written even when empty (docs/formats.md §Legacy layer annotations).
    if (chain && chain.trim() !== '') intermediates = parseCertificatePEM(chain)
  } else {
    keyIndex = await verifyContent(content, options.keys, verifyOptions)
    if (keyIndex < 0) throw fail('ERR_SIGNATURE_INVALID', 'invalid signature when validating ASN.1 encoded signature')
  }

  const times: Date[] = []
  if (options.useSignedTimestamps === true) {
    const token = rfc3161Token(a[RFC3161_TIMESTAMP_ANNOTATION])
    const { verified } = await verifyTimestamps([token], signature, { trustedRoot: root, threshold: 1 })
    times.push(...verified.map((t) => t.time))
  }

  let integratedTime: Date | undefined
  if (options.insecureIgnoreTlog !== true) {
    const raw = a[BUNDLE_ANNOTATION]
    if (!raw) {
      throw fail(
        'ERR_TLOG_INCLUSION_PROOF',
        'offline verification failed: the signature has no dev.sigstore.cosign/bundle annotation (Rekor SET); --insecure-ignore-tlog skips the log',
      )
    }
    const entry = parseRekorBundleAnnotation(raw)
    await verifySignedEntryTimestamp(entry, root.tlogs)
    integratedTime = new Date(Number(entry.integratedTime) * 1000)
    if (integratedTime > (options.now ?? new Date())) {
      throw fail('ERR_TLOG_INCLUSION_PROOF', 'the Rekor integrated time is in the future')
    }
    const kinds = content.type === 'dsse' ? ['dsse', 'intoto'] : ['hashedrekord']
    if (!kinds.includes(entry.kindVersion.kind)) {
      throw new CountersignError(
        'ERR_TLOG_ENTRY_MISMATCH',
        `a legacy ${content.type === 'dsse' ? 'attestation' : 'image signature'} must be logged as ${kinds.join(' or ')}, not ${entry.kindVersion.kind}`,
      )
    }
    const body = verifyEntryBody(entry, {
      content:
        content.type === 'dsse'
          ? { type: 'dsseEnvelope', envelope: content.envelope }
          : { type: 'messageSignature', signature },
      verifier: leaf ? { certificate: leaf.raw } : { publicKey: options.keys[keyIndex]! },
      ...(content.type === 'simple-signing' ? { artifact: content.payload } : {}),
    })
    // cosign compares the body hash with sha256(payload) and accepts no other algorithm.
    if (content.type === 'simple-signing' && body.digest.algorithm !== 'sha256') {
      throw new CountersignError('ERR_TLOG_ENTRY_MISMATCH', `unsupported hash algorithm ${body.digest.algorithm}`)
    }
    times.push(integratedTime)
  }

  if (mode === 'key-tlog') return { keyIndex, ...(integratedTime ? { integratedTime } : {}) }

  const ct = bundleThresholds(options, 'keyless').ctlogThreshold ?? 1
  const { identity } = await checkCertificate(leaf!, intermediates, times, options, ct, (c) =>
    legacyIdentity(c, options.identity!),
  )
  if ((await verifyContent(content, [certificatePublicKey(leaf!)], verifyOptions)) < 0) {
    throw fail('ERR_SIGNATURE_INVALID', 'invalid signature when validating ASN.1 encoded signature')
  }
  return { certificate: leaf!, identity, ...(integratedTime ? { integratedTime } : {}) }
}

function rfc3161Token(raw: string | undefined): Uint8Array {
  if (!raw) throw new CountersignError('ERR_TIMESTAMP_INVALID', 'no RFC 3161 timestamp annotation on the signature')
  try {
    const doc: unknown = JSON.parse(raw)
    if (isJSONObject(doc) && typeof doc.SignedRFC3161Timestamp === 'string') {
      return fromBase64(doc.SignedRFC3161Timestamp, { allowWhitespace: true })
    }
  } catch {
    // reported below
  }
  throw new CountersignError('ERR_TIMESTAMP_INVALID', 'malformed RFC 3161 timestamp annotation')
}

/**
 * The `dev.sigstore.cosign/bundle` annotation (`{"SignedEntryTimestamp", "Payload": {body, integratedTime, logIndex,
 * logID}}`, Go field names outside, json tags inside) as a transparency-log entry with its SET.
 */
export function parseRekorBundleAnnotation(raw: string): TransparencyLogEntry & { signedEntryTimestamp: Uint8Array } {
  const bad = (what: string, cause?: unknown): never => {
    throw new CountersignError('ERR_TLOG_INCLUSION_PROOF', `malformed Rekor bundle annotation: ${what}`, {
      details: { check: 'set' },
      ...(cause === undefined ? {} : { cause }),
    })
  }
  let doc: unknown
  try {
    doc = JSON.parse(raw)
  } catch (cause) {
    bad('not JSON', cause)
  }
  if (!isJSONObject(doc) || !isJSONObject(doc.Payload)) return bad('no Payload')
  const p = doc.Payload
  if (typeof doc.SignedEntryTimestamp !== 'string') return bad('no SignedEntryTimestamp')
  if (typeof p.body !== 'string') return bad('no body')
  if (typeof p.logID !== 'string' || !/^[0-9a-f]{64}$/.test(p.logID)) return bad('logID is not a hex SHA-256')
  for (const k of ['integratedTime', 'logIndex'] as const) {
    if (typeof p[k] !== 'number' || !Number.isSafeInteger(p[k]) || (p[k] as number) < 0) return bad(`${k} is invalid`)
  }
  let body: Uint8Array
  let set: Uint8Array
  try {
    body = fromBase64(p.body)
    set = fromBase64(doc.SignedEntryTimestamp)
  } catch (cause) {
    return bad('invalid base64', cause)
  }
  let kind: unknown
  let version: unknown
  try {
    const b: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body))
    if (isJSONObject(b)) {
      kind = b.kind
      version = b.apiVersion
    }
  } catch (cause) {
    bad('body is not JSON', cause)
  }
  if (typeof kind !== 'string' || typeof version !== 'string') return bad('body has no kind/apiVersion')
  return {
    logIndex: BigInt(p.logIndex as number),
    logId: fromHex(p.logID),
    kindVersion: { kind, version },
    integratedTime: BigInt(p.integratedTime as number),
    canonicalizedBody: body,
    signedEntryTimestamp: set,
  }
}

const GITHUB_CLAIMS = [
  ['githubWorkflowTrigger', 'Trigger'],
  ['githubWorkflowSha', 'SHA'],
  ['githubWorkflowName', 'Name'],
  ['githubWorkflowRepository', 'Repository'],
  ['githubWorkflowRef', 'Ref'],
] as const

function matches(value: string | undefined, exact: string | undefined, pattern: string | undefined): boolean {
  if (value === undefined) return false
  if (exact !== undefined && value !== exact) return false
  return pattern === undefined || identityRegExpMatches(value, pattern)
}

/**
 * cosign's legacy `CheckCertificatePolicy`: any SAN (email, URI, DNS, IP, otherName) against the subject, the issuer
 * from extension .1.1 (else .1.8), the GitHub v1 extensions; with cosign's failure texts. Its regexps need the RE2
 * engine, which `checkCertificate` loads before calling it.
 */
export function legacyIdentity(cert: Certificate, policy: IdentityPolicy): CertificateIdentity {
  if (policy.subjectRegExp !== undefined) compileIdentityRegExp(policy.subjectRegExp)
  if (policy.issuerRegExp !== undefined) compileIdentityRegExp(policy.issuerRegExp)
  const ext = fulcioExtensions(cert)
  const issuer = ext.issuerV1 ?? ext.issuer
  const sans = cert.subjectAltNames.flatMap((n) => ('value' in n && typeof n.value === 'string' ? [n.value] : []))
  const anySubject = policy.subject === undefined && policy.subjectRegExp === undefined
  const anyIssuer = policy.issuer === undefined && policy.issuerRegExp === undefined
  const subjectOK =
    (anySubject && policy.allowAnySubject === true) ||
    (!anySubject && sans.some((v) => matches(v, policy.subject, policy.subjectRegExp)))
  const issuerOK =
    (anyIssuer && policy.allowAnyIssuer === true) || (!anyIssuer && matches(issuer, policy.issuer, policy.issuerRegExp))
  if (!subjectOK || !issuerOK) {
    throw new CountersignError(
      'ERR_POLICY_DENIED',
      `none of the expected identities matched what was in the certificate, got subjects [${boundedJoin(sans, ' ')}] with issuer ${clipText(issuer ?? '', MAX_QUOTED_LENGTH)}`,
      { details: { check: 'identity' } },
    )
  }
  for (const [claim, label] of GITHUB_CLAIMS) {
    const expected = policy[claim]
    if (expected !== undefined && ext[claim] !== expected) {
      throw new CountersignError('ERR_POLICY_DENIED', `expected GitHub Workflow ${label} not found in certificate`, {
        details: { check: 'identity', rule: claim },
      })
    }
  }
  let identity: CertificateIdentity
  try {
    identity = certificateIdentity(cert)
  } catch {
    identity = { subject: sans[0] ?? '', subjectType: 'uri', issuer }
  }
  return { ...identity, issuer }
}

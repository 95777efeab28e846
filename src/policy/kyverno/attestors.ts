/**
 * Verifying Kyverno attestor sets against one image digest: each leaf attestor (keys, keyless, certificates)
 * becomes one countersign verification (`verifyImage` or `verifyImageAttestations`), shared between attestors that
 * need the same one; Kyverno's identity, annotation and count rules are applied to what verified.
 * @module
 */
import { isCountersignError } from '../../errors.js'
import type { SignatureCheck } from '../../image/verify.js'
import type { AttestationCheck } from '../../image/verify-attestation.js'
import { boundedJoin } from '../../internal/bounded-text.js'
import { fromBase64, toHex } from '../../internal/bytes.js'
import { decodePEMBlocks } from '../../internal/pem.js'
import { parsePublicKey } from '../../keys/parse-public.js'
import type { HashAlgorithm, PublicKey } from '../../keys/types.js'
import { parseRepository } from '../../oci/reference.js'
import type { OCIStore, Reference, Repository, StoreCallOptions } from '../../oci/types.js'
import { publicGoodTrustedRoot } from '../../trust/public-good.js'
import { type Certificate, parseCertificatePEM } from '../../x509/certificate.js'
import type { AuthorityVerificationOptions } from '../authority-facts.js'
import { resolvedKeyList, verifiedChecks } from '../verification-runs.js'
import { kyvernoIdentityMismatch } from './identity.js'
import { chainedCertificateKey, kyvernoTrustMaterial } from './trust-material.js'
import type { KyvernoAttestor, KyvernoAttestorSet } from './types.js'

type Check = SignatureCheck | AttestationCheck

/** One image's verification state: runs and keys shared by every attestor that asks for the same thing. */
export interface AttestorRunContext {
  readonly at: Reference
  readonly store: OCIStore
  readonly options: AuthorityVerificationOptions
  /**
   * `legacy` for `type: Cosign` (cosign's `.sig`/`.att` tags, which is what Kyverno reads), `bundle` for
   * `type: SigstoreBundle` (Sigstore bundles as OCI 1.1 referrers).
   */
  readonly signatureFormat: 'legacy' | 'bundle'
  /** The entry's `repository`, unless an attestor names its own. */
  readonly repository?: string
  readonly runs: Map<string, Promise<readonly Check[]>>
  readonly keys: Map<string, Promise<PublicKey[]>>
}

/** What one attestor (or set) established: the checks it accepted, or why it failed. */
export type AttestorResult =
  | { readonly ok: true; readonly accepted: readonly Check[] }
  | { readonly ok: false; readonly message: string }

/**
 * What an attestor set is asked to verify: image signatures, or attestations of one predicate type (each accepted
 * statement passed to `check`, which returns why it fails the conditions, or undefined).
 */
export type AttestorTarget =
  | { readonly kind: 'signatures' }
  | {
      readonly kind: 'attestations'
      readonly predicateType: string
      readonly check?: (c: AttestationCheck) => string | undefined
    }

/** A failure that is the policy's answer (not a registry outage, which is thrown). */
class EntryFailure extends Error {}

/**
 * Verify an attestor set: Kyverno's `count` (absent: every entry) with entries tried in order until enough passed.
 * `kind` says whether image signatures or attestations of `predicateType` are verified.
 *
 * @throws {CountersignError} ERR_ABORTED, ERR_NETWORK: no decision could be made.
 * @example
 * ```ts
 * const r = await verifyAttestorSet(set, '.attestors[0]', ctx, { kind: 'signatures' })
 * ```
 */
export async function verifyAttestorSet(
  set: KyvernoAttestorSet,
  path: string,
  ctx: AttestorRunContext,
  what: AttestorTarget,
): Promise<AttestorResult> {
  const required = set.count ?? set.entries.length
  const accepted: Check[] = []
  const errors: string[] = []
  let passed = 0
  for (const [i, entry] of set.entries.entries()) {
    if (passed >= required) break
    const where = `${path}.entries[${i}]${entryKind(entry)}`
    const r = entry.attestor
      ? await verifyAttestorSet(entry.attestor, `${where}`, ctx, what)
      : await verifyLeaf(entry, ctx, what)
    if (r.ok) {
      passed++
      accepted.push(...r.accepted)
    } else errors.push(`${where}: ${r.message}`)
  }
  if (passed >= required) return { ok: true, accepted }
  return {
    ok: false,
    message: `verified ${passed} of ${required} required attestor(s): ${boundedJoin(errors, '; ')}`,
  }
}

function entryKind(e: KyvernoAttestor): string {
  if (e.keys) return '.keys'
  if (e.keyless) return '.keyless'
  if (e.certificates) return '.certificates'
  return '.attestor'
}

async function verifyLeaf(
  entry: KyvernoAttestor,
  ctx: AttestorRunContext,
  what: AttestorTarget,
): Promise<AttestorResult> {
  try {
    const checks = await runFor(entry, ctx, what.kind)
    if (what.kind === 'signatures') return acceptSignatures(entry, checks)
    return acceptAttestations(entry, checks as readonly AttestationCheck[], what)
  } catch (e) {
    if (e instanceof EntryFailure) return { ok: false, message: e.message }
    if (isCountersignError(e, 'ERR_ABORTED') || isCountersignError(e, 'ERR_NETWORK')) throw e
    if (isCountersignError(e)) return { ok: false, message: withHint(e.message, e.code, ctx) }
    throw e
  }
}

/** The remedy in a Kyverno policy's terms, where the verifier's message names a CLI flag or misses the form. */
function withHint(message: string, code: string, ctx: AttestorRunContext): string {
  if (code === 'ERR_NO_SIGNATURES' && ctx.signatureFormat === 'legacy') {
    return `${message} (type Cosign reads cosign's .sig/.att tags; for Sigstore bundles, cosign v3's default, use type: SigstoreBundle)`
  }
  if (message.includes('--insecure-ignore-tlog')) return `${message}; in the policy: rekor: {ignoreTlog: true}`
  return message
}

/** Image signatures: at least one verified signature whose certificate satisfies the identity (keyless). */
function acceptSignatures(entry: KyvernoAttestor, checks: readonly Check[]): AttestorResult {
  const keyless = entry.keyless
  if (!keyless) return { ok: true, accepted: checks }
  const accepted = checks.filter((c) => kyvernoIdentityMismatch(c.certificate, keyless) === undefined)
  if (accepted.length > 0) return { ok: true, accepted }
  const why = [...new Set(checks.map((c) => kyvernoIdentityMismatch(c.certificate, keyless)!))]
  return { ok: false, message: `no signature matched the identity: ${boundedJoin(why, '; ')}` }
}

/**
 * Attestations: the statements of `predicateType` that verified; with a keyless identity, every one of them must
 * satisfy it (Kyverno checks each signature of the type, not any one).
 */
function acceptAttestations(
  entry: KyvernoAttestor,
  checks: readonly AttestationCheck[],
  what: Extract<AttestorTarget, { kind: 'attestations' }>,
): AttestorResult {
  const { predicateType } = what
  const ofType = checks.filter((c) => c.predicateType === predicateType)
  if (ofType.length === 0) {
    const seen = [...new Set(checks.map((c) => c.predicateType ?? '?'))]
    return {
      ok: false,
      message: `attestations not found for predicate type ${predicateType} (found: ${boundedJoin(seen, ', ') || 'none'})`,
    }
  }
  const keyless = entry.keyless
  if (keyless) {
    for (const c of ofType) {
      const why = kyvernoIdentityMismatch(c.certificate, keyless)
      if (why !== undefined) return { ok: false, message: `attestation of type ${predicateType}: ${why}` }
    }
  }
  // Every statement of the type must satisfy the conditions, as Kyverno.
  for (const c of ofType) {
    const why = what.check?.(c)
    if (why !== undefined)
      return { ok: false, message: `attestation checks failed for predicate ${predicateType}: ${why}` }
  }
  return { ok: true, accepted: ofType }
}

/** The shared verification run an attestor needs, started once per image. */
async function runFor(entry: KyvernoAttestor, ctx: AttestorRunContext, kind: 'signatures' | 'attestations') {
  const plan = await planLeaf(entry, ctx, kind)
  let run = ctx.runs.get(plan.key)
  if (!run) {
    run = plan.run()
    ctx.runs.set(plan.key, run)
  }
  return run
}

async function planLeaf(
  entry: KyvernoAttestor,
  ctx: AttestorRunContext,
  kind: 'signatures' | 'attestations',
): Promise<{ key: string; run: () => Promise<readonly Check[]> }> {
  const { options } = ctx
  const call: StoreCallOptions = options.signal ? { signal: options.signal } : {}
  const leaf = entry.keys ?? entry.keyless ?? entry.certificates
  const logs = {
    ignoreTlog: leaf?.rekor?.ignoreTlog === true || options.insecureIgnoreTlog === true,
    ignoreSCT: leaf?.ctlog?.ignoreSCT === true,
  }
  // Keyless-style attestors take their CAs from `roots` or (without `cert`) `certChain`.
  const caPEM =
    entry.keyless?.roots ?? (entry.certificates?.cert === undefined ? entry.certificates?.certChain : undefined)
  let material: ReturnType<typeof kyvernoTrustMaterial>
  try {
    material = kyvernoTrustMaterial(options.trustedRoot ?? publicGoodTrustedRoot(), {
      ...(leaf?.rekor ? { rekor: leaf.rekor } : {}),
      ...(leaf?.ctlog ? { ctlog: leaf.ctlog } : {}),
      ...(caPEM !== undefined ? { caPEM, caField: entry.keyless ? 'roots' : 'certChain' } : {}),
    })
  } catch (e) {
    throw new EntryFailure((e as Error).message)
  }
  // What makes two attestors' runs different besides keys: the trust material they name.
  const materialKey = JSON.stringify([caPEM, leaf?.rekor?.pubkey, leaf?.ctlog?.pubkey, leaf?.ctlog?.tsaCertChain])
  const repoText = entry.repository ?? ctx.repository
  let signatureRepository: Repository | undefined
  if (repoText !== undefined) {
    try {
      signatureRepository = parseRepository(repoText)
    } catch (e) {
      throw new EntryFailure(`repository: ${(e as Error).message}`)
    }
  }
  const annotations = entry.annotations
  const common = {
    store: ctx.store,
    signatureFormat: ctx.signatureFormat,
    ...(signatureRepository ? { signatureRepository } : {}),
    ...(annotations && kind === 'signatures' ? { annotations } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.maxWorkers !== undefined ? { maxWorkers: options.maxWorkers } : {}),
    ...call,
  }
  const where = [
    kind,
    ctx.signatureFormat,
    repoText ?? '',
    kind === 'signatures' ? JSON.stringify(annotations ?? {}) : '',
    logs.ignoreTlog,
    logs.ignoreSCT,
    materialKey,
  ].join('|')
  if (kind === 'attestations' && annotations && Object.keys(annotations).length > 0) {
    // Kyverno reads attestation envelopes as simple-signing payloads, which have no annotations: never satisfied.
    throw new EntryFailure('annotations cannot be satisfied by attestations')
  }

  const signed = material.useSignedTimestamps ? { useSignedTimestamps: true } : {}
  const keyed = await keysOf(entry, ctx, call)
  if (keyed) {
    const needsRoot = !logs.ignoreTlog || material.useSignedTimestamps
    const verify = {
      ...common,
      keys: keyed.keys,
      hash: keyed.hash,
      ...(needsRoot ? { trustedRoot: material.root } : {}),
      insecureIgnoreTlog: logs.ignoreTlog,
      ...signed,
    }
    const spkis = keyed.keys.map((k) => toHex(k.spki)).join(',')
    return { key: `${where}|key|${spkis}|${keyed.hash}`, run: () => verifiedChecks(kind, ctx.at, verify) }
  }

  // Keyless: a Fulcio-style certificate under the trusted root's CAs, `roots`, or a `certChain`.
  const verify = {
    ...common,
    keys: [] as PublicKey[],
    // Kyverno applies identities itself after cosign verified: every attestor sharing a root shares one run.
    identity: { allowAnySubject: true, allowAnyIssuer: true },
    trustedRoot: material.root,
    insecureIgnoreTlog: logs.ignoreTlog,
    ...(logs.ignoreSCT ? { insecureIgnoreSct: true } : {}),
    ...signed,
  }
  return { key: `${where}|keyless`, run: () => verifiedChecks(kind, ctx.at, verify) }
}

/** The keys of a `keys` or `certificates.cert` attestor, or undefined for keyless-style attestors. */
async function keysOf(
  entry: KyvernoAttestor,
  ctx: AttestorRunContext,
  call: StoreCallOptions,
): Promise<{ keys: PublicKey[]; hash: HashAlgorithm } | undefined> {
  const { options } = ctx
  const certs = entry.certificates
  if (certs?.cert !== undefined) {
    const cert = signingCertificate(certs.cert)
    if (certs.certChain === undefined) return { keys: [parsePublicKey(cert.spki)], hash: 'sha256' }
    try {
      return { keys: [await chainedCertificateKey(cert, certs.certChain, options.now ?? new Date())], hash: 'sha256' }
    } catch (e) {
      if (!isCountersignError(e)) throw e
      throw new EntryFailure(`certificates.cert: ${e.message}`)
    }
  }
  const k = entry.keys
  if (!k) return undefined
  if (k.signatureAlgorithm === 'sha224') throw new EntryFailure('signatureAlgorithm sha224 is not supported')
  const hash = k.signatureAlgorithm as HashAlgorithm
  const memoKey = k.publicKeys ?? (k.kms !== undefined ? `kms ${k.kms}` : `secret ${JSON.stringify(k.secret)}`)
  let pending = ctx.keys.get(memoKey)
  if (!pending) {
    pending = resolveKeys(k, options, call)
    ctx.keys.set(memoKey, pending)
  }
  return { keys: await pending, hash }
}

async function resolveKeys(
  k: NonNullable<KyvernoAttestor['keys']>,
  options: AuthorityVerificationOptions,
  call: StoreCallOptions,
): Promise<PublicKey[]> {
  if (k.publicKeys !== undefined) {
    try {
      return decodePEMBlocks(k.publicKeys)
        .filter((b) => b.label === 'PUBLIC KEY')
        .map((b) => parsePublicKey(b.bytes))
    } catch (e) {
      throw new EntryFailure(`publicKeys: ${(e as Error).message}`)
    }
  }
  const resolve = async (what: string, fn: () => Promise<PublicKey | readonly PublicKey[]>) => {
    try {
      return await resolvedKeyList(fn)
    } catch (e) {
      if (isCountersignError(e, 'ERR_ABORTED')) throw e
      throw new EntryFailure(`resolving ${what}: ${(e as Error).message}`)
    }
  }
  if (k.kms !== undefined) {
    const kms = k.kms
    if (!options.resolveKMSKey) throw new EntryFailure(`no KMS resolver configured for ${kms}`)
    return resolve(kms, () => options.resolveKMSKey!(kms, call))
  }
  const secret = k.secret!
  if (!options.resolveSecretKey) throw new EntryFailure(`no secret resolver configured for secret ${secret.name}`)
  return resolve(`secret ${secret.name}`, () => options.resolveSecretKey!(secret, call))
}

/** `certificates.cert`: PEM, or base64 of PEM (Kyverno accepts both). */
function signingCertificate(text: string): Certificate {
  let pem = text
  if (!text.includes('-----BEGIN')) {
    try {
      pem = new TextDecoder().decode(fromBase64(text, { allowWhitespace: true }))
    } catch {
      throw new EntryFailure('certificates.cert is neither PEM nor base64 of PEM')
    }
  }
  try {
    const [cert] = parseCertificatePEM(pem)
    if (!cert) throw new Error('no certificate')
    return cert
  } catch (e) {
    throw new EntryFailure(`certificates.cert: ${(e as Error).message}`)
  }
}

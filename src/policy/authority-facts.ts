/**
 * Establish the facts for each authority of the matching policies: resolve its keys and trusted root, then verify
 * signatures (`verifyImage`) or attestations (`verifyImageAttestations`) at the image digest. Authorities that need
 * the same verification (same keys or trust root, same log and timestamp requirements, same signature location)
 * share one run; keyless identities are applied afterwards, per authority, to what verified.
 * @module
 */
import { isCountersignError } from '../errors.js'
import type { SignatureCheck } from '../image/verify.js'
import type { AttestationCheck } from '../image/verify-attestation.js'
import { boundedJoin } from '../internal/bounded-text.js'
import { toHex } from '../internal/bytes.js'
import { mapLimit } from '../internal/concurrency.js'
import { parsePublicKey } from '../keys/parse-public.js'
import type { HashAlgorithm, PublicKey } from '../keys/types.js'
import { parseRepository } from '../oci/reference.js'
import type { OCIStore, Reference, Repository, StoreCallOptions } from '../oci/types.js'
import { publicGoodTrustedRoot } from '../trust/public-good.js'
import type { TrustedRoot } from '../trust/trusted-root.js'
import type { Certificate } from '../x509/certificate.js'
import { checkIdentity } from '../x509/identity-sync.js'
import { withCertificateAuthorities } from './certificate-authorities.js'
import type { AttestationFact, AuthorityFacts, PolicyFacts, SignatureFact } from './evaluate.js'
import type { ClusterImagePolicy, PolicyAuthority, PolicyCheck, PolicyIdentity } from './types.js'
import { resolvedKeyList, verifiedChecks } from './verification-runs.js'

/**
 * Resolves a `key.kms` URI to its public key (countersign's KMS providers, or your own).
 *
 * Exported from `countersign/policy`.
 */
export type KMSKeyResolver = (uri: string, options: StoreCallOptions) => Promise<PublicKey | readonly PublicKey[]>

/**
 * Resolves a `key.secretRef` (a Kubernetes Secret holding PEM public keys) to its keys.
 *
 * Exported from `countersign/policy`.
 */
export type SecretKeyResolver = (
  ref: { readonly name: string; readonly namespace?: string },
  options: StoreCallOptions,
) => Promise<PublicKey | readonly PublicKey[]>

/**
 * What verifying authorities needs.
 *
 * Exported from `countersign/policy`.
 */
export interface AuthorityVerificationOptions extends StoreCallOptions {
  /** Where images, signatures and attestations live. */
  readonly store: OCIStore
  /** The trusted root for authorities that name none (default: the embedded Sigstore public-good root). */
  readonly trustedRoot?: TrustedRoot
  /** Named trusted roots for `trustRootRef` (policy-controller's TrustRoot resources). */
  readonly trustedRoots?: Readonly<Record<string, TrustedRoot>>
  /** Resolves `key.kms` URIs; without it such authorities fail. */
  readonly resolveKMSKey?: KMSKeyResolver
  /** Resolves `key.secretRef`; without it such authorities fail. */
  readonly resolveSecretKey?: SecretKeyResolver
  /**
   * Skip the transparency log for every authority (private infrastructure without Rekor). Keyless certificates are
   * then checked at the current time unless the authority asks for RFC 3161 timestamps.
   */
  readonly insecureIgnoreTlog?: boolean
  /** The clock for certificate validity and log times (default: now). */
  readonly now?: Date
  /** Signatures or attestations fetched and checked concurrently per verification (default 10). */
  readonly maxWorkers?: number
  /** Authorities verified concurrently (default 4). */
  readonly concurrency?: number
}

interface Plan {
  readonly key: string
  readonly kind: 'signatures' | 'attestations'
  readonly run: () => Promise<readonly (SignatureCheck | AttestationCheck)[]>
}

class AuthorityFailure extends Error {
  constructor(
    readonly check: PolicyCheck,
    message: string,
  ) {
    super(message)
  }
}

/**
 * Verify every authority of `policies` against the image at `digest`.
 *
 * @throws {CountersignError} ERR_ABORTED, ERR_NETWORK: the decision could not be made (never cached).
 */
export async function gatherAuthorityFacts(
  ref: Reference,
  digest: string,
  policies: readonly ClusterImagePolicy[],
  store: OCIStore,
  options: AuthorityVerificationOptions,
): Promise<PolicyFacts> {
  const at: Reference = { registry: ref.registry, repository: ref.repository, digest }
  const runs = new Map<string, Promise<readonly (SignatureCheck | AttestationCheck)[]>>()
  const keys = new Map<string, Promise<PublicKey[]>>()
  const jobs = policies.flatMap((p) => p.authorities.map((a, i) => ({ p, a, i })))
  const results = await mapLimit(jobs, options.concurrency ?? 4, async ({ a }) => {
    if (a.static) return undefined
    const notes: string[] = []
    try {
      const plan = await planAuthority(a, at, store, options, keys, notes)
      let run = runs.get(plan.key)
      if (!run) {
        run = plan.run()
        runs.set(plan.key, run)
      }
      const verified = await run
      const facts = toFacts(a, plan.kind, verified)
      return notes.length > 0 ? { ...facts, notes } : facts
    } catch (e) {
      if (isCountersignError(e, 'ERR_ABORTED') || isCountersignError(e, 'ERR_NETWORK')) throw e
      if (e instanceof AuthorityFailure) return { failure: { check: e.check, message: e.message }, notes }
      if (isCountersignError(e)) {
        const check: PolicyCheck = a.attestations && a.attestations.length > 0 ? 'attestation' : 'signature'
        return { failure: { check, message: e.message }, notes }
      }
      throw e
    }
  })
  const facts: Record<string, (AuthorityFacts | undefined)[]> = {}
  for (const [n, job] of jobs.entries()) {
    const list = facts[job.p.name] ?? []
    facts[job.p.name] = list
    list[job.i] = results[n]
  }
  return facts
}

async function planAuthority(
  a: PolicyAuthority,
  at: Reference,
  store: OCIStore,
  options: AuthorityVerificationOptions,
  keyMemo: Map<string, Promise<PublicKey[]>>,
  notes: string[],
): Promise<Plan> {
  const call: StoreCallOptions = options.signal ? { signal: options.signal } : {}
  const source = a.source?.[0]
  if (source?.tagPrefix !== undefined) {
    throw new AuthorityFailure('unsupported', 'source.tagPrefix is not supported by countersign')
  }
  if (source?.signaturePullSecrets && source.signaturePullSecrets.length > 0) {
    notes.push('source.signaturePullSecrets ignored: signatures are read with the store credentials')
  }
  let signatureRepository: Repository | undefined
  if (source?.oci !== undefined) {
    // A bare registry keeps the image's repository path (policy-controller's registry-only source).
    signatureRepository = source.oci.includes('/')
      ? parseRepository(source.oci)
      : { registry: parseRepository(`${source.oci}/x`).registry, repository: at.repository }
  }
  const format = a.signatureFormat ?? 'any'
  const tsa = a.rfc3161timestamp !== undefined
  const ignoreTlog = options.insecureIgnoreTlog === true
  const kind = a.attestations && a.attestations.length > 0 ? 'attestations' : 'signatures'
  const common = {
    store,
    signatureFormat: format,
    ...(signatureRepository ? { signatureRepository } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.maxWorkers !== undefined ? { maxWorkers: options.maxWorkers } : {}),
    ...call,
  } as const
  const where = `${format}|${signatureRepository ? `${signatureRepository.registry}/${signatureRepository.repository}` : ''}`

  if (a.key) {
    const k = a.key
    if (k.hashAlgorithm === 'sha224') {
      throw new AuthorityFailure('unsupported', 'key.hashAlgorithm sha224 is not supported by countersign')
    }
    const memoKey = k.data ?? (k.kms !== undefined ? `kms ${k.kms}` : `secret ${JSON.stringify(k.secretRef)}`)
    let pending = keyMemo.get(memoKey)
    if (!pending) {
      pending = resolveKeys(k, options, call)
      keyMemo.set(memoKey, pending)
    }
    const keys = await pending
    // policy-controller checks the log for a key authority only when it names one (`ctlog`).
    const wantsLog = (a.ctlog !== undefined || tsa) && !ignoreTlog
    if ((a.ctlog !== undefined || tsa) && ignoreTlog) {
      notes.push('transparency log and timestamp checks disabled (insecureIgnoreTlog)')
    }
    const rootName = a.ctlog?.trustRootRef ?? a.rfc3161timestamp?.trustRootRef
    const trustedRoot = wantsLog ? selectRoot(rootName, options) : undefined
    const verify = {
      ...common,
      keys,
      hash: k.hashAlgorithm as HashAlgorithm,
      ...(wantsLog ? { trustedRoot: trustedRoot!, ...(tsa ? { useSignedTimestamps: true } : {}) } : {}),
      insecureIgnoreTlog: !wantsLog,
    }
    const spkis = keys.map((x) => toHex(x.spki)).join(',')
    return {
      key: `${kind}|key|${spkis}|${k.hashAlgorithm}|${wantsLog}|${tsa}|${rootName ?? ''}|${where}`,
      kind,
      run: () => verifiedChecks(kind, at, verify),
    }
  }

  const kl = a.keyless!
  const refs = [kl.trustRootRef, a.ctlog?.trustRootRef, a.rfc3161timestamp?.trustRootRef].filter(
    (r): r is string => r !== undefined,
  )
  if (new Set(refs).size > 1) {
    throw new AuthorityFailure(
      'trust-root',
      'the trustRootRef of ctlog and rfc3161timestamp must be the keyless authority one',
    )
  }
  let trustedRoot = selectRoot(refs[0], options)
  let caName = ''
  if (kl['ca-cert']) {
    const ca = kl['ca-cert']
    if (ca.data === undefined) {
      throw new AuthorityFailure('unsupported', 'keyless.ca-cert from kms or secretRef is not supported by countersign')
    }
    trustedRoot = withCertificateAuthority(trustedRoot, ca.data)
    caName = ca.data
  }
  if (ignoreTlog && !tsa) notes.push('transparency log disabled (insecureIgnoreTlog): certificates checked at now')
  const verify = {
    ...common,
    keys: [] as PublicKey[],
    // Identities are applied per authority to what verified, so authorities sharing a root share one run.
    identity: { allowAnySubject: true, allowAnyIssuer: true },
    trustedRoot,
    insecureIgnoreTlog: ignoreTlog || tsa,
    ...(tsa ? { useSignedTimestamps: true } : {}),
    ...(kl.insecureIgnoreSCT === true ? { insecureIgnoreSct: true } : {}),
  }
  return {
    key: `${kind}|keyless|${refs[0] ?? ''}|${caName}|${ignoreTlog}|${tsa}|${kl.insecureIgnoreSCT === true}|${where}`,
    kind,
    run: () => verifiedChecks(kind, at, verify),
  }
}

async function resolveKeys(
  k: NonNullable<PolicyAuthority['key']>,
  options: AuthorityVerificationOptions,
  call: StoreCallOptions,
): Promise<PublicKey[]> {
  if (k.data !== undefined) {
    try {
      return [parsePublicKey(k.data)]
    } catch (e) {
      throw new AuthorityFailure('key', `key.data: ${(e as Error).message}`)
    }
  }
  if (k.kms !== undefined) {
    if (!options.resolveKMSKey) throw new AuthorityFailure('key', `no KMS resolver configured for ${k.kms}`)
    try {
      return await resolvedKeyList(() => options.resolveKMSKey!(k.kms!, call))
    } catch (e) {
      if (isCountersignError(e, 'ERR_ABORTED')) throw e
      throw new AuthorityFailure('key', `resolving ${k.kms}: ${(e as Error).message}`)
    }
  }
  const ref = k.secretRef!
  if (!options.resolveSecretKey) {
    throw new AuthorityFailure('key', `no secret resolver configured for secretRef ${ref.name}`)
  }
  try {
    return await resolvedKeyList(() => options.resolveSecretKey!(ref, call))
  } catch (e) {
    if (isCountersignError(e, 'ERR_ABORTED')) throw e
    throw new AuthorityFailure('key', `resolving secretRef ${ref.name}: ${(e as Error).message}`)
  }
}

function selectRoot(name: string | undefined, options: AuthorityVerificationOptions): TrustedRoot {
  if (name === undefined) return options.trustedRoot ?? publicGoodTrustedRoot()
  const roots = options.trustedRoots ?? {}
  if (!Object.hasOwn(roots, name)) throw new AuthorityFailure('trust-root', `trustRootRef ${name} not found`)
  return roots[name]!
}

/** `keyless.ca-cert.data`: the PEM chain replaces the root's certificate authorities (logs and TSAs stay). */
function withCertificateAuthority(root: TrustedRoot, pem: string): TrustedRoot {
  try {
    return withCertificateAuthorities(root, pem)
  } catch (e) {
    throw new AuthorityFailure('trust-root', `keyless.ca-cert.data ${(e as Error).message}`)
  }
}

function identityMatches(cert: Certificate | undefined, identities: readonly PolicyIdentity[]): boolean {
  if (!cert) return false
  return identities.some((id) => {
    try {
      checkIdentity(cert, id)
      return true
    } catch (e) {
      if (isCountersignError(e)) return false
      throw e
    }
  })
}

function toFacts(
  a: PolicyAuthority,
  kind: 'signatures' | 'attestations',
  verified: readonly (SignatureCheck | AttestationCheck)[],
): AuthorityFacts {
  let accepted = verified
  if (a.keyless) {
    accepted = verified.filter((c) => identityMatches(c.certificate, a.keyless!.identities))
    if (accepted.length === 0) {
      const found = [...new Set(verified.map((c) => `${c.identity?.subject ?? '?'} (${c.identity?.issuer ?? '?'})`))]
      throw new AuthorityFailure(
        'identity',
        `none of the ${verified.length} verified ${kind} matched the identities; found: ${boundedJoin(found, ', ')}`,
      )
    }
  }
  const base = (c: SignatureCheck | AttestationCheck): SignatureFact => ({
    format: c.format,
    id: c.layer.digest,
    ...(c.identity ? { subject: c.identity.subject } : {}),
    ...(c.identity?.issuer !== undefined ? { issuer: c.identity.issuer } : {}),
  })
  if (kind === 'signatures') return { signatures: accepted.map(base) }
  const attestations: AttestationFact[] = []
  for (const c of accepted as readonly AttestationCheck[]) {
    let statement: unknown
    try {
      statement = JSON.parse(new TextDecoder().decode(c.payload))
    } catch {
      continue // Verified bytes that are not JSON cannot satisfy a condition; parseStatement already read them.
    }
    attestations.push({ ...base(c), predicateType: c.predicateType ?? '', statement })
  }
  return { attestations }
}

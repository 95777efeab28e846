/**
 * The trust material a Kyverno attestor names for itself, laid over the trusted root: `roots` or `certChain` replace
 * the certificate authorities, `rekor.pubkey` the transparency logs, `ctlog.pubkey` the certificate-transparency
 * logs, `ctlog.tsaCertChain` the timestamp authorities (and asks for a signed timestamp), as Kyverno passes them to
 * cosign instead of the TUF material. `certificates` with both `cert` and `certChain`: the certificate must chain to
 * `certChain`, then its key verifies.
 * @module
 */
import { CountersignError } from '../../errors.js'
import { parsePublicKey } from '../../keys/parse-public.js'
import type { PublicKey } from '../../keys/types.js'
import { createTrustedRoot } from '../../trust/create-trusted-root.js'
import { parseTrustedRoot, type TrustedRoot } from '../../trust/trusted-root.js'
import { type Certificate, parseCertificatePEM } from '../../x509/certificate.js'
import { verifyCertificateChain } from '../../x509/chain.js'
import { withCertificateAuthorities } from '../certificate-authorities.js'
import type { KyvernoCTLog, KyvernoRekor } from './types.js'

// Keys an attestor names are trusted for as long as the policy says so: from the epoch, without end.
const ALWAYS = new Date(0)

/**
 * `root` with what the attestor overrides, and whether a signed timestamp is required.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT naming the field when a key or chain does not parse.
 * @example
 * ```ts
 * const { root, useSignedTimestamps } = kyvernoTrustMaterial(base, { rekor: { url, pubkey: rekorPem } })
 * ```
 */
export function kyvernoTrustMaterial(
  base: TrustedRoot,
  leaf: {
    readonly rekor?: KyvernoRekor
    readonly ctlog?: KyvernoCTLog
    readonly caPEM?: string
    readonly caField?: string
  },
): { root: TrustedRoot; useSignedTimestamps: boolean } {
  let root = base
  if (leaf.caPEM !== undefined)
    root = field(leaf.caField ?? 'roots', () => withCertificateAuthorities(root, leaf.caPEM!))
  const { rekor, ctlog } = leaf
  if (rekor?.pubkey !== undefined) {
    const publicKey = field('rekor.pubkey', () => parsePublicKey(rekor.pubkey!))
    root = { ...root, tlogs: logs('tlogs', rekor.url ?? '', publicKey) }
  }
  if (ctlog?.pubkey !== undefined) {
    const publicKey = field('ctlog.pubkey', () => parsePublicKey(ctlog.pubkey!))
    root = { ...root, ctlogs: logs('ctlogs', '', publicKey) }
  }
  if (ctlog?.tsaCertChain !== undefined) {
    const chain = field('ctlog.tsaCertChain', () => parseCertificatePEM(ctlog.tsaCertChain!))
    if (chain.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'ctlog.tsaCertChain: holds no certificate')
    // As given: the signing leaf first, or (as cosign accepts, e.g. freetsa's root alone) only the CA certificates,
    // the leaf then coming from the token, which the verifier accepts when the chain's first certificate issued it.
    const certChain = chain.map((c) => c.raw)
    root = { ...root, timestampAuthorities: [{ subject: {}, uri: '', certChain, validFor: { start: ALWAYS } }] }
  }
  return { root, useSignedTimestamps: ctlog?.tsaCertChain !== undefined }
}

/** One log of the given key, built as a trusted root builds it (log ID from the key). */
function logs(kind: 'tlogs' | 'ctlogs', baseUrl: string, publicKey: PublicKey) {
  return parseTrustedRoot(createTrustedRoot({ [kind]: [{ baseUrl, publicKey, start: ALWAYS }] }))[kind]
}

function field<T>(name: string, fn: () => T): T {
  try {
    return fn()
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', `${name}: ${(cause as Error).message}`, { cause })
  }
}

/**
 * The key of `certificates.cert` after checking that the certificate chains to `certChain` (intermediates first, the
 * root last) at `now`, for code signing.
 *
 * @throws {CountersignError} ERR_CERT_CHAIN_INVALID or ERR_CERT_EXPIRED when it does not; ERR_INVALID_INPUT when
 *   the chain does not parse.
 * @example
 * ```ts
 * const key = await chainedCertificateKey(cert, chainPem, new Date())
 * ```
 */
export async function chainedCertificateKey(cert: Certificate, certChainPEM: string, now: Date): Promise<PublicKey> {
  const certChain = field('certificates.certChain', () => parseCertificatePEM(certChainPEM)).map((c) => c.raw)
  await verifyCertificateChain(cert, [{ subject: {}, uri: '', certChain, validFor: { start: ALWAYS } }], { time: now })
  return parsePublicKey(cert.spki)
}

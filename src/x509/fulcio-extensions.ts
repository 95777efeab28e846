/**
 * Fulcio certificate extensions (OIDs 1.3.6.1.4.1.57264.1.1 – .1.24, fulcio `docs/oid-info.md`). The v1 extensions
 * (.1.1 – .1.6) hold the raw string bytes as `extnValue`; the v2 ones (.1.8 and later) hold a DER UTF8String.
 *
 * @module
 */
import { parseDER } from '../internal/der.js'
import { decodeUTF8, malformed } from './asn1.js'
import type { Certificate } from './certificate.js'

/**
 * Fulcio extension names (sigstore-go `certificate.Extensions` field names, camelCase) by OID.
 *
 * Exported from `countersign/x509`.
 */
export const FULCIO_EXTENSION_OIDS = /* @__PURE__ */ Object.freeze({
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  githubWorkflowTrigger: '1.3.6.1.4.1.57264.1.2',
  githubWorkflowSha: '1.3.6.1.4.1.57264.1.3',
  githubWorkflowName: '1.3.6.1.4.1.57264.1.4',
  githubWorkflowRepository: '1.3.6.1.4.1.57264.1.5',
  githubWorkflowRef: '1.3.6.1.4.1.57264.1.6',
  issuer: '1.3.6.1.4.1.57264.1.8',
  buildSignerURI: '1.3.6.1.4.1.57264.1.9',
  buildSignerDigest: '1.3.6.1.4.1.57264.1.10',
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryURI: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryDigest: '1.3.6.1.4.1.57264.1.13',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  sourceRepositoryIdentifier: '1.3.6.1.4.1.57264.1.15',
  sourceRepositoryOwnerURI: '1.3.6.1.4.1.57264.1.16',
  sourceRepositoryOwnerIdentifier: '1.3.6.1.4.1.57264.1.17',
  buildConfigURI: '1.3.6.1.4.1.57264.1.18',
  buildConfigDigest: '1.3.6.1.4.1.57264.1.19',
  buildTrigger: '1.3.6.1.4.1.57264.1.20',
  runInvocationURI: '1.3.6.1.4.1.57264.1.21',
  sourceRepositoryVisibilityAtSigning: '1.3.6.1.4.1.57264.1.22',
  deploymentEnvironment: '1.3.6.1.4.1.57264.1.23',
  tokenSubject: '1.3.6.1.4.1.57264.1.24',
} as const)

/**
 * The Fulcio extension values a certificate carries, by name. `issuerV1` is the deprecated .1.1 value; `issuer`
 * is .1.8 when present, else .1.1 (what verifiers compare against).
 *
 * Exported from `countersign/x509`.
 */
export type FulcioExtensions = { readonly [K in keyof typeof FULCIO_EXTENSION_OIDS]?: string }

const V1_OIDS: ReadonlySet<string> = /* @__PURE__ */ new Set([
  FULCIO_EXTENSION_OIDS.issuerV1,
  FULCIO_EXTENSION_OIDS.githubWorkflowTrigger,
  FULCIO_EXTENSION_OIDS.githubWorkflowSha,
  FULCIO_EXTENSION_OIDS.githubWorkflowName,
  FULCIO_EXTENSION_OIDS.githubWorkflowRepository,
  FULCIO_EXTENSION_OIDS.githubWorkflowRef,
])

const NAME_BY_OID: ReadonlyMap<string, keyof typeof FULCIO_EXTENSION_OIDS> = /* @__PURE__ */ new Map(
  Object.entries(FULCIO_EXTENSION_OIDS).map(([name, oid]) => [oid, name as keyof typeof FULCIO_EXTENSION_OIDS]),
)

const cache = new WeakMap<Certificate, FulcioExtensions>()

/**
 * Decode every Fulcio extension of a certificate (cached per certificate object).
 *
 * @param cert - A parsed certificate.
 * @returns The values by name; absent extensions are absent keys.
 * @throws {CountersignError} ERR_INVALID_INPUT when a v2 value is not a DER UTF8String or a value is not UTF-8.
 * @example
 * ```ts
 * import { fulcioExtensions, parseCertificate } from 'countersign/x509'
 * const ext = fulcioExtensions(parseCertificate(pem))
 * console.log(ext.issuer, ext.sourceRepositoryURI)
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function fulcioExtensions(cert: Certificate): FulcioExtensions {
  const cached = cache.get(cert)
  if (cached) return cached
  const out: { -readonly [K in keyof FulcioExtensions]: FulcioExtensions[K] } = {}
  for (const ext of cert.extensions) {
    const name = NAME_BY_OID.get(ext.oid)
    if (name === undefined) continue
    if (V1_OIDS.has(ext.oid)) {
      out[name] = decodeUTF8(ext.value, `Fulcio extension ${ext.oid}`)
    } else {
      const node = parseDER(ext.value, { what: `Fulcio extension ${ext.oid}` })
      if (node.tag !== 0x0c) malformed(`Fulcio extension ${ext.oid} is not a DER UTF8String`)
      out[name] = decodeUTF8(node.value, `Fulcio extension ${ext.oid}`)
    }
  }
  if (out.issuer === undefined && out.issuerV1 !== undefined) out.issuer = out.issuerV1
  const frozen = Object.freeze(out)
  cache.set(cert, frozen)
  return frozen
}

/**
 * The OIDC issuer recorded in a Fulcio certificate: extension .1.8 when present, else the deprecated .1.1.
 *
 * @param cert - A parsed certificate.
 * @returns The issuer URL, or undefined when the certificate has neither extension.
 * @example
 * ```ts
 * import { certificateIssuer } from 'countersign/x509'
 * certificateIssuer(leaf) // 'https://token.actions.githubusercontent.com'
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function certificateIssuer(cert: Certificate): string | undefined {
  return fulcioExtensions(cert).issuer
}

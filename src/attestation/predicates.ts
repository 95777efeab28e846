/**
 * cosign's predicate types: the `--type` aliases and how `cosign attest` turns a predicate file into the in-toto
 * statement it signs (cosign `cmd/cosign/cli/options/predicate.go`, `pkg/cosign/attestation/attestation.go`).
 * @module
 */
import { CountersignError } from '../errors.js'
import { fromUtf8, utf8 } from '../internal/bytes.js'
import { type GoJSONValue, goMarshal, goObject } from '../internal/go-json.js'
import { isJSONObject } from '../internal/json.js'
import { normalizeLinkPredicate } from './link.js'
import {
  normalizeSLSAProvenanceV1,
  normalizeSLSAProvenanceV02,
  SLSA_PROVENANCE_V1_PREDICATE_TYPE,
  SLSA_PROVENANCE_V02_PREDICATE_TYPE,
} from './slsa-provenance.js'
import { createStatement, IN_TOTO_STATEMENT_V01 } from './statement.js'
import { COSIGN_VULN_PREDICATE_TYPE, normalizeCosignVulnPredicate } from './vuln.js'

/** predicateType of cosign's `custom` attestations. Exported from `countersign/attestation`. */
export const COSIGN_CUSTOM_PREDICATE_TYPE = 'https://cosign.sigstore.dev/attestation/v1'
/** predicateType of SPDX documents. Exported from `countersign/attestation`. */
export const SPDX_PREDICATE_TYPE = 'https://spdx.dev/Document'
/** predicateType of CycloneDX BOMs. Exported from `countersign/attestation`. */
export const CYCLONEDX_PREDICATE_TYPE = 'https://cyclonedx.org/bom'
/** predicateType of OpenVEX documents. Exported from `countersign/attestation`. */
export const OPENVEX_PREDICATE_TYPE = 'https://openvex.dev/ns'
/** predicateType of in-toto links. Exported from `countersign/attestation`. */
export const LINK_PREDICATE_TYPE = 'https://in-toto.io/Link/v1'

/**
 * cosign's `--type` aliases and the predicate type URI each stands for (`options.PredicateTypeMap`).
 *
 * Exported from `countersign/attestation`.
 */
export const PREDICATE_TYPE_ALIASES: Readonly<Record<string, string>> = /* @__PURE__ */ Object.freeze({
  custom: COSIGN_CUSTOM_PREDICATE_TYPE,
  slsaprovenance: SLSA_PROVENANCE_V02_PREDICATE_TYPE,
  slsaprovenance02: SLSA_PROVENANCE_V02_PREDICATE_TYPE,
  slsaprovenance1: SLSA_PROVENANCE_V1_PREDICATE_TYPE,
  spdx: SPDX_PREDICATE_TYPE,
  spdxjson: SPDX_PREDICATE_TYPE,
  cyclonedx: CYCLONEDX_PREDICATE_TYPE,
  link: LINK_PREDICATE_TYPE,
  vuln: COSIGN_VULN_PREDICATE_TYPE,
  openvex: OPENVEX_PREDICATE_TYPE,
})

/**
 * The predicate type URI for a `--type` value: an alias from {@link PREDICATE_TYPE_ALIASES}, or any other value
 * that Go's `url.ParseRequestURI` accepts (an absolute URI with `scheme:/…`, or an absolute path), used verbatim.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT `invalid predicate type: <t>` otherwise.
 * @example
 * ```ts
 * import { resolvePredicateType } from 'countersign/attestation'
 * resolvePredicateType('slsaprovenance1') // 'https://slsa.dev/provenance/v1'
 * resolvePredicateType('https://example.com/my-type/v1') // itself
 * ```
 *
 * Exported from `countersign/attestation`.
 */
export function resolvePredicateType(type: string): string {
  const alias = Object.hasOwn(PREDICATE_TYPE_ALIASES, type) ? PREDICATE_TYPE_ALIASES[type] : undefined
  if (alias) return alias
  // url.ParseRequestURI: "/path" or "scheme:" followed by a hierarchical part; no spaces or control characters.
  if (/^(\/|[A-Za-z][A-Za-z0-9+.-]*:\/)[^\s\u0000-\u001f\u007f]*$/.test(type) && !type.includes('#')) return type
  throw new CountersignError('ERR_INVALID_INPUT', `invalid predicate type: ${type}`)
}

/**
 * A predicate as `cosign attest --predicate` reads it: the file's bytes (or its text), or an already parsed JSON
 * value (used as if it were the file `JSON.stringify` would write).
 *
 * Exported from `countersign/attestation`.
 */
export type PredicateInput = Uint8Array | string | GoJSONValue | Readonly<Record<string, unknown>>

/**
 * Inputs of {@link createAttestationStatement}.
 *
 * Exported from `countersign/attestation`.
 */
export interface AttestationStatementInput {
  /** The `--type`: an alias (`custom`, `slsaprovenance1`, `spdxjson`, …) or a predicate type URI. */
  readonly type: string
  /** The predicate file. */
  readonly predicate: PredicateInput
  /** The subject's `name`: the image repository, `registry/repository` (cosign's `digest.Repository.String()`). */
  readonly subjectName: string
  /** The image digest, `sha256:<hex>`. */
  readonly digest: string
  /** `custom` only: the predicate's `Timestamp` (default now), written as UTC RFC 3339 seconds. */
  readonly timestamp?: Date
}

/**
 * The in-toto statement `cosign attest` signs, byte for byte (up to protojson's optional spaces): `_type`
 * Statement v0.1, one subject `{name, digest: {sha256}}`, and the predicate by type —
 * `custom` (and its URI) wraps the file as `{"Data": <text>, "Timestamp": <UTC RFC 3339>}`; `slsaprovenance*`,
 * `vuln` and `link` are normalised as cosign's typed readers do; `spdx` puts the raw file in as a JSON string (in
 * a Go-map-ordered statement); `spdxjson`, `cyclonedx`, `openvex` and any other URI need a JSON object.
 *
 * @returns The predicate type URI and the statement bytes.
 * @throws {CountersignError} ERR_INVALID_INPUT for an invalid type, a predicate that is not (valid UTF-8) JSON where
 *   JSON is needed, or a typed predicate with a malformed field.
 * @example
 * ```ts
 * import { createAttestationStatement } from 'countersign/attestation'
 * const { predicateType, statement } = createAttestationStatement({
 *   type: 'slsaprovenance1', predicate: fileBytes, subjectName: 'ghcr.io/acme/app', digest: 'sha256:…',
 * })
 * ```
 *
 * Exported from `countersign/attestation`.
 */
export function createAttestationStatement(input: AttestationStatementInput): {
  readonly predicateType: string
  readonly statement: Uint8Array
} {
  const predicateType = resolvePredicateType(input.type)
  const m = /^sha256:([0-9a-f]{64})$/.exec(input.digest)
  if (!m)
    throw new CountersignError('ERR_INVALID_INPUT', `attestations need a sha256 image digest, got ${input.digest}`)
  const subject = [{ name: input.subjectName, digest: { sha256: m[1]! } }]
  const text = () => predicateText(input.predicate)

  if (input.type === 'spdx') {
    // cosign keeps the raw SPDX file as a string predicate and marshals the statement as a Go map (sorted keys,
    // HTML escaping), with the subject in its Go struct field order.
    return {
      predicateType,
      statement: utf8(
        goMarshal({
          _type: IN_TOTO_STATEMENT_V01,
          subject: subject.map((s) => goObject([...Object.entries(s)])),
          predicateType,
          predicate: text(),
        }),
      ),
    }
  }
  let predicate: Record<string, unknown>
  switch (input.type) {
    case 'slsaprovenance':
    case 'slsaprovenance02':
      predicate = normalizeSLSAProvenanceV02(jsonObject(input.predicate, 'provenance predicate'))
      break
    case 'slsaprovenance1':
      predicate = normalizeSLSAProvenanceV1(jsonObject(input.predicate, 'provenance predicate'))
      break
    case 'link':
      predicate = normalizeLinkPredicate(jsonObject(input.predicate, 'link statement'))
      break
    case 'vuln':
      predicate = normalizeCosignVulnPredicate(jsonObject(input.predicate, 'vuln predicate'))
      break
    case 'spdxjson':
    case 'cyclonedx':
    case 'openvex':
      predicate = jsonObject(input.predicate, `${input.type} predicate`)
      break
    default:
      predicate =
        predicateType === COSIGN_CUSTOM_PREDICATE_TYPE
          ? { Data: text(), Timestamp: (input.timestamp ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z') }
          : jsonObject(input.predicate, `invalid JSON payload for predicate type ${predicateType}`)
  }
  return {
    predicateType,
    statement: createStatement(subject, predicateType, predicate as Record<string, GoJSONValue>, {
      type: IN_TOTO_STATEMENT_V01,
    }),
  }
}

function predicateText(p: PredicateInput): string {
  if (p instanceof Uint8Array) return fromUtf8(p, 'predicate')
  if (typeof p === 'string') return p
  return JSON.stringify(p)
}

/** The predicate as a JSON object, as Go's `json.Unmarshal` into a map reads it (`null` → empty). */
function jsonObject(p: PredicateInput, what: string): Record<string, unknown> {
  let doc: unknown = p
  if (p instanceof Uint8Array || typeof p === 'string') {
    try {
      doc = JSON.parse(typeof p === 'string' ? p : fromUtf8(p, 'predicate'))
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause)
      throw new CountersignError('ERR_INVALID_INPUT', `${what}: not valid JSON: ${reason}`, { cause })
    }
  }
  if (doc === null) return {}
  if (!isJSONObject(doc)) throw new CountersignError('ERR_INVALID_INPUT', `${what}: expected a JSON object`)
  return doc
}

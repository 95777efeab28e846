/** DSSE v1 Pre-Authentication Encoding. @module */
import { concat, utf8 } from '../internal/bytes.js'

/**
 * The bytes a DSSE signature covers: `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths as ASCII
 * decimal byte counts (DSSE v1 protocol, "Signature definition").
 *
 * @example
 * ```ts
 * import { dssePAE, IN_TOTO_PAYLOAD_TYPE } from 'countersign/dsse'
 * dssePAE(IN_TOTO_PAYLOAD_TYPE, new TextEncoder().encode('{}'))
 * ```
 *
 * Exported from `countersign/dsse`.
 */
export function dssePAE(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8(payloadType)
  return concat(utf8(`DSSEv1 ${type.length} `), type, utf8(` ${payload.length} `), payload)
}

/** PEM (RFC 7468) decoding and encoding, Go `encoding/pem` compatible. Never exported from the package. @module */
import { CountersignError } from '../errors.js'
import { fromBase64, toBase64 } from './bytes.js'

/** One decoded PEM block. */
export interface PEMBlock {
  /** The label between `-----BEGIN ` and `-----`, e.g. `PUBLIC KEY`. */
  readonly label: string
  /** RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`), which only legacy encrypted keys carry. */
  readonly headers: Readonly<Record<string, string>>
  /** The decoded body. */
  readonly bytes: Uint8Array
}

const BEGIN = /^-----BEGIN (.*)-----$/

/**
 * Decode every PEM block in `text`, in order. Text before, between and after blocks is ignored (Go's
 * `pem.Decode` skips it too); CRLF line ends are accepted.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when there is no block, a block has no matching END line, or its
 *   body is not base64.
 */
export function decodePEMBlocks(text: string): PEMBlock[] {
  const lines = text.split(/\r?\n|\r/)
  const blocks: PEMBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const begin = BEGIN.exec(lines[i]!.trim())
    if (!begin) continue
    const label = begin[1]!
    const end = `-----END ${label}-----`
    const headers: Record<string, string> = {}
    let body = ''
    let j = i + 1
    // RFC 1421 headers come first and are separated from the body by a blank line.
    for (; j < lines.length && /^[A-Za-z0-9-]+:/.test(lines[j]!); j++) {
      const line = lines[j]!
      const colon = line.indexOf(':')
      headers[line.slice(0, colon)] = line.slice(colon + 1).trim()
    }
    let closed = false
    for (; j < lines.length; j++) {
      const line = lines[j]!.trim()
      if (line === end) {
        closed = true
        break
      }
      if (line.startsWith('-----')) break
      // Go's pem decoder drops spaces and tabs inside the body as well.
      body += line.replace(/[ \t]/g, '')
    }
    if (!closed) throw new CountersignError('ERR_INVALID_INPUT', `PEM block "${label}" has no END line`)
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) {
      throw new CountersignError('ERR_INVALID_INPUT', `PEM block "${label}" is not valid base64`)
    }
    blocks.push({ label, headers, bytes: fromBase64(body) })
    i = j
  }
  if (blocks.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'no PEM block found')
  return blocks
}

/**
 * Decode the first PEM block in `text`.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT as for {@link decodePEMBlocks}.
 */
export function decodePEM(text: string): PEMBlock {
  return decodeCanonicalPEM(text) ?? decodePEMBlocks(text)[0]!
}

const NO_HEADERS: Readonly<Record<string, string>> = /* @__PURE__ */ Object.freeze({})

/**
 * The one-block PEM that Go's `pem.EncodeToMemory` writes (as in every Rekor v1 entry body): a `CERTIFICATE` or
 * `PUBLIC KEY` block alone, `\n` line ends, base64 lines only. Decoded without splitting lines or regular
 * expressions; anything else returns `undefined` and goes through {@link decodePEMBlocks}, which gives the same
 * result for every text accepted here.
 */
function decodeCanonicalPEM(text: string): PEMBlock | undefined {
  if (!text.startsWith('-----BEGIN ')) return undefined
  const nl = text.indexOf('\n')
  const label = nl < 0 ? '' : text.slice(11, nl - 5)
  if ((label !== 'CERTIFICATE' && label !== 'PUBLIC KEY') || !text.startsWith('-----', nl - 5)) return undefined
  const endLine = `\n-----END ${label}-----`
  const end = text.indexOf(endLine, nl)
  const after = end + endLine.length
  if (end < 0 || !(after === text.length || (after === text.length - 1 && text.charCodeAt(after) === 0x0a))) {
    return undefined
  }
  let body = ''
  let lineStart = nl + 1
  let padding = -1 // index in `body` of the first '='
  for (let i = nl + 1; i <= end; i++) {
    const c = i === end ? 0x0a : text.charCodeAt(i)
    if (c === 0x0a) {
      body += text.slice(lineStart, i)
      lineStart = i + 1
    } else if (c === 0x3d) {
      if (padding < 0) padding = body.length + (i - lineStart)
    } else if (
      !((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f)
    ) {
      return undefined
    } else if (padding >= 0) return undefined // base64 after '='
  }
  if (body.length % 4 !== 0 || (padding >= 0 && body.length - padding > 2)) return undefined
  return { label, headers: NO_HEADERS, bytes: fromBase64(body) }
}

/** True when `text` contains something that looks like a PEM BEGIN line (cheap sniffing, no decoding). */
export function looksLikePEM(text: string): boolean {
  return /-----BEGIN [^\r\n]*-----/.test(text)
}

/**
 * Encode one PEM block exactly as Go's `pem.EncodeToMemory`: 64-character base64 lines and a trailing newline.
 */
export function encodePEM(label: string, bytes: Uint8Array): string {
  const b64 = toBase64(bytes)
  let out = `-----BEGIN ${label}-----\n`
  for (let i = 0; i < b64.length; i += 64) out += `${b64.slice(i, i + 64)}\n`
  return `${out}-----END ${label}-----\n`
}

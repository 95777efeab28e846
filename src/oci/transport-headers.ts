/** Reading registry response headers: media type, digest, length, `Link` pagination. @module */
import { CountersignError } from '../errors.js'

/** The media type of a response, without parameters, lower-cased. */
export function contentType(res: Response): string | undefined {
  const ct = res.headers.get('content-type')
  if (ct === null) return undefined
  return ct.split(';')[0]!.trim().toLowerCase()
}

/** `Docker-Content-Digest`, trimmed. */
export function headerDigest(res: Response): string | undefined {
  const h = res.headers.get('docker-content-digest')
  return h === null ? undefined : h.trim()
}

/** `Content-Length` when it is a plain decimal number. */
export function parseLength(res: Response): number | undefined {
  const cl = res.headers.get('content-length')
  if (cl === null || !/^\d{1,15}$/.test(cl.trim())) return undefined
  return Number(cl.trim())
}

/** The `rel="next"` target of a `Link` header (RFC 8288), resolved against the current URL. */
export function nextLink(res: Response, current: string): string | undefined {
  const link = res.headers.get('link')
  if (link === null) return undefined
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part)
    if (m && /;\s*rel="?next"?/i.test(m[2]!)) {
      try {
        return new URL(m[1]!, current).href
      } catch {
        throw new CountersignError('ERR_OCI_HTTP', 'registry sent an invalid Link header')
      }
    }
  }
  return undefined
}

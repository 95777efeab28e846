/**
 * SigV4 (`AWS4-HMAC-SHA256` in the Authorization header) checked the way AWS checks it, independently of the
 * client's signer: the canonical request, string to sign and HMAC key chain are recomputed here with node:crypto
 * from the request as received, for the service and region a stand-in serves (the KMS and STS stand-ins both use
 * it): host, x-amz-date and any x-amz-security-token must be signed, the date must be within five minutes of the
 * server's clock, and a temporary credential needs its session token. Refusals carry the error codes of the
 * service's protocol.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

export interface SigV4Credential {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

/** The codes AWS refuses a request's authentication with: Query protocol services (STS) and JSON ones (KMS). */
const CODES = {
  query: {
    missing: 'MissingAuthenticationToken',
    incomplete: 'IncompleteSignature',
    mismatch: 'SignatureDoesNotMatch',
    unknownKey: 'InvalidClientTokenId',
  },
  json: {
    missing: 'MissingAuthenticationTokenException',
    incomplete: 'IncompleteSignatureException',
    mismatch: 'InvalidSignatureException',
    unknownKey: 'UnrecognizedClientException',
  },
} as const

export type SigV4Result =
  | { readonly ok: true; readonly accessKeyId: string }
  | { readonly ok: false; readonly code: string; readonly message: string }

export function verifySigV4(
  req: IncomingMessage,
  body: Buffer,
  expect: {
    readonly service: string
    readonly region: string
    readonly credentials: ReadonlyMap<string, SigV4Credential>
    readonly now: () => Date
    /** Whose error codes refusals carry (default `query`). */
    readonly protocol?: keyof typeof CODES
  },
): SigV4Result {
  const codes = CODES[expect.protocol ?? 'query']
  const fail = (code: keyof typeof codes, message: string): SigV4Result => ({ ok: false, code: codes[code], message })
  const auth = req.headers.authorization ?? ''
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    )
  if (!m) return fail('missing', 'Request is missing Authentication Token')
  const [, accessKeyId, date, scopeRegion, scopeService, signedHeaders, signature] = m as unknown as string[]
  const amzDate = String(req.headers['x-amz-date'] ?? '')
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== date) {
    return fail('incomplete', 'Date must be in ISO-8601 basic format and match the credential scope')
  }
  const when = Date.UTC(
    Number(amzDate.slice(0, 4)),
    Number(amzDate.slice(4, 6)) - 1,
    Number(amzDate.slice(6, 8)),
    Number(amzDate.slice(9, 11)),
    Number(amzDate.slice(11, 13)),
    Number(amzDate.slice(13, 15)),
  )
  if (Math.abs(expect.now().getTime() - when) > 5 * 60_000) {
    return fail('mismatch', `Signature expired: ${amzDate} is now earlier than allowed`)
  }
  if (scopeService !== expect.service) {
    return fail('mismatch', `Credential should be scoped to correct service: '${expect.service}'.`)
  }
  if (scopeRegion !== expect.region) {
    return fail('mismatch', `Credential should be scoped to a valid region: '${expect.region}'.`)
  }
  const cred = expect.credentials.get(accessKeyId!)
  if (cred === undefined) return fail('unknownKey', 'The security token included in the request is invalid.')
  const names = signedHeaders!.split(';')
  const token = req.headers['x-amz-security-token']
  if (
    !names.includes('host') ||
    !names.includes('x-amz-date') ||
    (token !== undefined && !names.includes('x-amz-security-token')) ||
    [...names].sort().join(';') !== signedHeaders
  ) {
    return fail('mismatch', 'Host, X-Amz-Date and X-Amz-Security-Token must be signed')
  }
  if (cred.sessionToken !== undefined && token !== cred.sessionToken) {
    return fail('unknownKey', 'The security token included in the request is invalid.')
  }
  const canonicalHeaders = names
    .map((n) => {
      const v = req.headers[n]
      return `${n}:${(Array.isArray(v) ? v.join(',') : (v ?? '')).trim().replace(/\s+/g, ' ')}\n`
    })
    .join('')
  const url = new URL(req.url ?? '/', 'http://x')
  const canonicalQuery = [...url.searchParams]
    .map(([k, v]) => [encode(k), encode(v)])
    .sort(([a, x], [b, y]) => (a! < b! ? -1 : a! > b! ? 1 : x! < y! ? -1 : x! > y! ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
  const canonicalRequest = [
    req.method,
    url.pathname,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    createHash('sha256').update(body).digest('hex'),
  ].join('\n')
  const scope = `${date}/${scopeRegion}/${scopeService}/aws4_request`
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n')
  let k: Buffer = createHmac('sha256', `AWS4${cred.secretAccessKey}`).update(date!).digest()
  for (const part of [scopeRegion!, scopeService!, 'aws4_request']) k = createHmac('sha256', k).update(part).digest()
  const expected = createHmac('sha256', k).update(stringToSign).digest()
  if (!timingSafeEqual(expected, Buffer.from(signature!, 'hex'))) {
    return fail('mismatch', 'The request signature we calculated does not match the signature you provided.')
  }
  return { ok: true, accessKeyId: accessKeyId! }
}

/** RFC 3986 unreserved characters stay, everything else is %XX (SigV4's URI encoding). */
function encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/**
 * A hostile stand-in for every protocol countersign speaks, on 127.0.0.1: it reflects each request (its
 * credential-bearing headers, its body, its other headers) into an error answer in the protocol's own format, so the client
 * builds its error message from text that holds whatever secret it sent. The reflection is re-encoded as the test
 * asks (as is, base64, base64url, percent-encoded, JSON-escaped) and preceded by `pad` dots, so secrets land on
 * either side of the clients' clipping limits.
 *
 * Routes: a registry (`/v2/…`, 401 with a Basic or Bearer challenge until an `Authorization` header comes, then a
 * distribution error; a HEAD of a tag succeeds so that reads go on to GETs) and its token server (`/token`, echoing or issuing a token), Fulcio, Rekor v1/v2, a TSA
 * (a DER TimeStampResp refusing with the reflection as its status text), OIDC endpoints (GitHub Actions' ambient
 * endpoint, an OAuth token endpoint), AWS KMS and STS, Google Cloud KMS and its token endpoint, Azure Key Vault and
 * Entra's token endpoint, and Vault.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export type EchoEncoding = 'raw' | 'base64' | 'base64url' | 'uri' | 'json'

/** Every encoding the echo can use. */
export const ECHO_ENCODINGS: readonly EchoEncoding[] = ['raw', 'base64', 'base64url', 'uri', 'json']

/** One request as the server saw it. */
export interface EchoedRequest {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export interface EchoServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** `127.0.0.1:PORT` */
  readonly host: string
  /** How the reflection is encoded (default raw). */
  encoding: EchoEncoding
  /** Dots before the reflection (default 0). */
  pad: number
  /** The registry's challenge: Basic, or Bearer with this server's `/token` as realm (default basic). */
  challenge: 'basic' | 'bearer'
  /** The token server echoes (default) or issues `issuedToken`. */
  tokenServer: 'echo' | 'issue'
  /** The token `/token` issues when `tokenServer` is `issue`. */
  issuedToken: string
  /** Every request, in order. */
  readonly requests: EchoedRequest[]
  stop(): Promise<void>
}

/** Headers that carry credentials come first in the reflection: a hostile server shows what matters. */
const CREDENTIAL_HEADERS = /authorization|token|secret|identity|cookie|api-key/i

function reflection(req: EchoedRequest, encoding: EchoEncoding, pad: number): string {
  const names = Object.keys(req.headers)
  const line = (n: string) => `${n}: ${req.headers[n]}`
  // Credential headers, then the body (which may carry a token), then the rest: all of it within a clipped message.
  // Token headers before Authorization: a SigV4 Authorization header holds no secret and would fill the message.
  const rank = (n: string) => (/token|secret/i.test(n) ? 0 : 1)
  const text = [
    ...names
      .filter((n) => CREDENTIAL_HEADERS.test(n))
      .sort((a, b) => rank(a) - rank(b))
      .map(line),
    req.body,
    ...names.filter((n) => !CREDENTIAL_HEADERS.test(n)).map(line),
  ].join('\n')
  const encoded =
    encoding === 'base64'
      ? Buffer.from(text).toString('base64')
      : encoding === 'base64url'
        ? Buffer.from(text).toString('base64url')
        : encoding === 'uri'
          ? encodeURIComponent(text)
          : encoding === 'json'
            ? JSON.stringify(text).slice(1, -1)
            : text
  return `${'.'.repeat(pad)}${encoded}`
}

/** DER length and TLV. */
function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff])
  return Buffer.concat([Buffer.from([tag]), len, content])
}

/** A TimeStampResp refusing the request (status 2, rejection) with `text` as its PKIFreeText. */
function timestampRefusal(text: string): Buffer {
  const freeText = tlv(0x30, tlv(0x0c, Buffer.from(text.slice(0, 16000))))
  const statusInfo = tlv(0x30, Buffer.concat([tlv(0x02, Buffer.from([2])), freeText]))
  return tlv(0x30, statusInfo)
}

interface Answer {
  readonly status: number
  readonly headers?: Record<string, string>
  readonly body: string | Buffer
}

const json = (status: number, doc: unknown, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(doc),
})

function answer(server: EchoServer, req: EchoedRequest): Answer {
  const echo = reflection(req, server.encoding, server.pad)
  const p = req.path.split('?')[0]!
  if (p === '/token' || p.endsWith('/oauth2/v2.0/token') || p === '/oauth/token') {
    if (server.tokenServer === 'issue') return json(200, { token: server.issuedToken, expires_in: 300 })
    // OAuth 2.0 (RFC 6749 §5.2) and distribution's token server both answer 400 with a reason.
    return json(400, {
      error: 'invalid_grant',
      error_description: echo,
      errors: [{ code: 'DENIED', message: echo }],
    })
  }
  if (p.startsWith('/v2/')) {
    if (req.headers.authorization === undefined) {
      const challenge =
        server.challenge === 'basic'
          ? 'Basic realm="echo"'
          : `Bearer realm="${server.url}/token",service="echo",scope="repository:app:pull"`
      return json(
        401,
        { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
        {
          'www-authenticate': challenge,
        },
      )
    }
    // A HEAD has no body to echo into: resolving a tag succeeds, so the client goes on to GETs that fail.
    if (req.method === 'HEAD' && /\/manifests\/[\w.-]+$/.test(p)) {
      return {
        status: 200,
        headers: {
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
          'docker-content-digest': `sha256:${'e'.repeat(64)}`,
          'content-length': '1234',
        },
        body: '',
      }
    }
    return json(400, { errors: [{ code: 'DENIED', message: echo, detail: { echo, nested: [{ echo }] } }] })
  }
  if (p === '/api/v2/signingCert' || p.startsWith('/api/v1/') || p.startsWith('/api/v2/log')) {
    return json(400, { code: 3, message: echo })
  }
  if (p === '/timestamp') {
    return { status: 200, headers: { 'content-type': 'application/timestamp-reply' }, body: timestampRefusal(echo) }
  }
  if (p === '/github-oidc') return json(400, { message: echo })
  if (p === '/aws/') return json(400, { __type: 'com.amazonaws.kms#AccessDeniedException', message: echo })
  if (p === '/sts/') {
    const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    return {
      status: 403,
      headers: { 'content-type': 'text/xml' },
      body: `<ErrorResponse><Error><Type>Sender</Type><Code>${xml(echo)}</Code><Message>${xml(echo)}</Message></Error></ErrorResponse>`,
    }
  }
  if (p.startsWith('/v1/projects/'))
    return json(403, { error: { code: 403, message: echo, status: 'PERMISSION_DENIED' } })
  if (p.startsWith('/keys/')) return json(403, { error: { code: 'Forbidden', message: echo } })
  if (p.startsWith('/v1/')) return json(400, { errors: [echo] })
  return json(400, { message: echo })
}

/** Start the echo server on 127.0.0.1. */
export async function startEchoServer(): Promise<EchoServer> {
  const requests: EchoedRequest[] = []
  let server: EchoServer | undefined
  const http: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v
      const seen: EchoedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      requests.push(seen)
      const a = answer(server!, seen)
      res.writeHead(a.status, a.headers ?? {})
      res.end(a.body)
    })
  })
  await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok))
  const port = (http.address() as AddressInfo).port
  server = {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    encoding: 'raw',
    pad: 0,
    challenge: 'basic',
    tokenServer: 'echo',
    issuedToken: '',
    requests,
    stop: () =>
      new Promise<void>((ok) => {
        http.closeAllConnections()
        http.close(() => ok())
      }),
  }
  return server
}

/**
 * The AWS KMS JSON 1.1 protocol: `POST /` with `X-Amz-Target: TrentService.<Operation>`, signed with SigV4
 * (`sign-request.ts`: aws4fetch's signer, Web Crypto only), sent through the shared service HTTP helper. KMS answers throttling with
 * HTTP 400 `ThrottlingException`, which the helper does not retry, so this client does: with a fresh signature
 * (and fresh credentials) per attempt. The credentials of each attempt join the client's secret set, and the
 * service's reason is redacted against it before it is clipped into a message.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import { clipReason, type SecretSet } from '../../http/redact.js'
import { createServiceHTTP, type ServiceClientOptions } from '../../http/service.js'
import { backoffDelay, defaultSleep } from '../../http/transport.js'
import { fromUtf8, utf8 } from '../../internal/bytes.js'
import type { AWSCredentialProvider } from './credentials.js'
import { withAWSProvider } from './service-errors.js'
import { signAWSPost } from './sign-request.js'

/** The KMS operations countersign uses. */
export type AWSKMSOperation = 'GetPublicKey' | 'Sign' | 'CreateKey' | 'CreateAlias' | 'DescribeKey'

/** Options of {@link createAWSKMSClient}. */
export interface AWSKMSClientOptions extends ServiceClientOptions {
  /** Base URL, e.g. `https://kms.us-east-1.amazonaws.com`. */
  readonly endpoint: string
  /** Signing region. */
  readonly region: string
  readonly credentials: AWSCredentialProvider
  /** Clock for `X-Amz-Date` (default `Date.now`). */
  readonly now?: () => Date
}

/** Calls one operation and returns its JSON object. */
export type AWSKMSCall = (
  operation: AWSKMSOperation,
  input: Readonly<Record<string, unknown>>,
  options?: { readonly signal?: AbortSignal; readonly idempotent?: boolean },
) => Promise<Record<string, unknown>>

const CONTENT_TYPE = 'application/x-amz-json-1.1'
const MAX_RESPONSE_BYTES = 256 * 1024
/** Error codes the AWS SDKs retry as throttling (those KMS can send). */
const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded'])
// Client errors returned to us (instead of thrown by the helper) so the AWS error type can be read; 408 and 429
// stay with the retrying transport.
const CLIENT_ERRORS = Array.from({ length: 100 }, (_, i) => 400 + i).filter((s) => s !== 408 && s !== 429)
const MAX_MESSAGE = 200

/** Create the signed JSON caller for one endpoint and region. */
export function createAWSKMSClient(options: AWSKMSClientOptions): AWSKMSCall {
  const http = createServiceHTTP('AWS KMS', 'ERR_KMS', options)
  const url = `${options.endpoint.replace(/\/+$/, '')}/`
  const now = options.now ?? (() => new Date())
  const sleep = options.sleep ?? defaultSleep
  const attempts = options.retry?.attempts ?? 3
  return async (operation, input, callOptions = {}) => {
    const body = utf8(JSON.stringify(input))
    for (let attempt = 0; ; attempt++) {
      const credentials = await options.credentials(callOptions.signal ? { signal: callOptions.signal } : {})
      // The secret key never travels (only its HMAC), but a session token does; both stay out of messages.
      http.secrets.addTemporary(credentials.secretAccessKey, credentials.sessionToken)
      const headers = await signAWSPost(
        { url, headers: { 'content-type': CONTENT_TYPE, 'x-amz-target': `TrentService.${operation}` }, body },
        credentials,
        { service: 'kms', region: options.region, now },
      )
      let res: Awaited<ReturnType<typeof http>>
      try {
        res = await http({
          method: 'POST',
          url,
          body,
          headers,
          maxBytes: MAX_RESPONSE_BYTES,
          acceptStatus: CLIENT_ERRORS,
          retry: callOptions.idempotent ?? true,
          ...(callOptions.signal ? { signal: callOptions.signal } : {}),
        })
      } catch (cause) {
        throw withAWSProvider(cause, ` (${operation})`)
      }
      if (res.status >= 200 && res.status < 300) {
        const doc = res.json()
        if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
          throw new CountersignError('ERR_KMS', `AWS KMS ${operation} answered with something other than an object`, {
            details: { provider: 'aws', status: res.status, reason: 'invalid-response' },
          })
        }
        return doc as Record<string, unknown>
      }
      const failure = awsError(res.headers, res.body, http.secrets)
      if (THROTTLING.has(failure.type) && attempt < attempts) {
        await sleep(backoffDelay(attempt, options.retry, Math.random), callOptions.signal)
        continue
      }
      throw new CountersignError(
        'ERR_KMS',
        `AWS KMS ${operation} failed with HTTP ${res.status}: ${failure.type || 'unknown error'}${failure.message ? `: ${failure.message}` : ''}`,
        {
          details: {
            provider: 'aws',
            status: res.status,
            ...(failure.type ? { awsError: failure.type } : {}),
            retryable: THROTTLING.has(failure.type),
          },
        },
      )
    }
  }
}

/** The AWS error type (`x-amzn-ErrorType` or `__type`, without namespace or URL) and message of a failure body. */
function awsError(headers: Headers, body: Uint8Array, secrets: SecretSet): { type: string; message: string } {
  let doc: Record<string, unknown> = {}
  try {
    const parsed = JSON.parse(fromUtf8(body))
    if (typeof parsed === 'object' && parsed !== null) doc = parsed as Record<string, unknown>
  } catch {
    // Not JSON (a proxy's page): only the header can name the error.
  }
  const raw = secrets.redact(headers.get('x-amzn-errortype') ?? (typeof doc.__type === 'string' ? doc.__type : ''))
  const type = (raw.split(':')[0] ?? '')
    .replace(/^.*#/, '')
    .replace(/[^A-Za-z0-9_.-]/g, '')
    .slice(0, 100)
  const m = typeof doc.message === 'string' ? doc.message : typeof doc.Message === 'string' ? doc.Message : ''
  return { type, message: clipReason(m, secrets, MAX_MESSAGE) }
}

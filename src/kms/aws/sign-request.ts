/**
 * SigV4 for the requests countersign sends to AWS (KMS's JSON protocol, STS's Query API): aws4fetch's signer, Web
 * Crypto only, with `X-Amz-Date` from the injected clock. Internal to `countersign/kms/aws`.
 *
 * @module
 */
import { AwsV4Signer } from 'aws4fetch'
import { toArrayBufferView } from '../../internal/bytes.js'
import type { AWSCredentials } from './credentials.js'

/**
 * The headers of a signed `POST` of `body` to `url`: those given, plus `host`, `x-amz-date`, `authorization` and,
 * for temporary credentials, `x-amz-security-token`.
 *
 * @example
 * ```ts
 * const headers = await signAWSPost(
 *   { url: 'https://sts.amazonaws.com/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body },
 *   credentials,
 *   { service: 'sts', region: 'us-east-1', now: () => new Date() },
 * )
 * ```
 */
export async function signAWSPost(
  request: { readonly url: string; readonly headers: Readonly<Record<string, string>>; readonly body: Uint8Array },
  credentials: AWSCredentials,
  scope: { readonly service: string; readonly region: string; readonly now: () => Date },
): Promise<Record<string, string>> {
  const signed = await new AwsV4Signer({
    method: 'POST',
    url: request.url,
    headers: { ...request.headers },
    body: toArrayBufferView(request.body),
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    ...(credentials.sessionToken !== undefined ? { sessionToken: credentials.sessionToken } : {}),
    service: scope.service,
    region: scope.region,
    datetime: scope
      .now()
      .toISOString()
      .replace(/[:-]|\.\d{3}/g, ''),
  }).sign()
  const headers: Record<string, string> = {}
  signed.headers.forEach((value, name) => {
    headers[name] = value
  })
  return headers
}

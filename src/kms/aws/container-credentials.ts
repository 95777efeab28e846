/**
 * Container credentials: the ECS task role (the ECS agent at `169.254.170.2`) and EKS Pod Identity (the Pod
 * Identity agent at `169.254.170.23`), both an HTTP GET that answers with a credentials JSON, as the AWS SDK for Go
 * v2's `credentials/endpointcreds` provider reads it. Which URI to ask and which hosts are allowed is the Node
 * adapter's business (it reads the environment); this part takes the URI and the token as given.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import { clipReason } from '../../http/redact.js'
import { createServiceHTTP, type ServiceClientOptions, type ServiceResponse } from '../../http/service.js'
import type { AbortSignalLike } from '../../internal/host-types.js'
import { isJSONObject } from '../../internal/json.js'
import { type AWSCredentialProvider, type AWSCredentials, cacheAWSCredentials } from './credentials.js'
import { credentialsJSONFields } from './credentials-json.js'
import { badAWSAnswer, withAWSProvider } from './service-errors.js'

const SERVICE = 'AWS container credentials endpoint'
// 4xx answers carry the endpoint's `{code, message}`; 408 and 429 stay with the retrying transport.
const CLIENT_ERRORS: readonly number[] = Array.from({ length: 100 }, (_, i) => 400 + i).filter(
  (s) => s !== 408 && s !== 429,
)

/**
 * Options for {@link createContainerCredentials}.
 *
 * @example
 * ```ts
 * import type { ContainerCredentialsOptions } from 'countersign/kms/aws'
 * const options: ContainerCredentialsOptions = { uri: 'http://169.254.170.23/v1/credentials', authorizationToken }
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export interface ContainerCredentialsOptions extends ServiceClientOptions {
  /** The full URI to GET (`http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, or the full URI). */
  readonly uri: string
  /**
   * The `Authorization` header value, asked before every fetch (EKS Pod Identity rotates its token file); sent as
   * is, without a scheme. Surrounding white space is dropped; a line break inside is refused. Secret.
   */
  readonly authorizationToken?: (options?: { readonly signal?: AbortSignalLike }) => Promise<string | undefined>
  /** Clock for the cache. */
  readonly now?: () => Date
}

/**
 * Credentials from a container credentials endpoint (ECS task role, EKS Pod Identity, or any endpoint that answers
 * `{AccessKeyId, SecretAccessKey, Token?, Expiration?}`; the Pod Identity answer's `AccountId` is ignored). Cached
 * until five minutes before `Expiration`; an answer without `Expiration` is kept. Every key and token is added to
 * `secrets`.
 *
 * @param options - URI, authorization token source, fetch and clock.
 * @returns A credential provider.
 * @throws {CountersignError} ERR_INVALID_INPUT for a URI that is not http(s); ERR_KMS (from the provider) when the
 *   endpoint refuses (`details.status`, `details.awsError`), does not answer, or answers with garbage. Messages
 *   never carry the token or the credentials.
 * @example
 * ```ts
 * import { createAWSKMSProvider, createContainerCredentials } from 'countersign/kms/aws'
 * const credentials = createContainerCredentials({ uri: `http://169.254.170.2${relativeURI}` })
 * const aws = createAWSKMSProvider({ credentials, region: 'eu-west-1' })
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export function createContainerCredentials(options: ContainerCredentialsOptions): AWSCredentialProvider {
  let url: URL | undefined
  try {
    url = new URL(options?.uri)
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new CountersignError('ERR_INVALID_INPUT', 'the container credentials URI must be an http(s) URL', {
      details: { provider: 'aws' },
    })
  }
  const uri = url.href
  // The origin only: an ECS relative URI is the task's credential id (the Node adapter adds it to `secrets`).
  const where = url.origin
  const http = createServiceHTTP(SERVICE, 'ERR_KMS', { ...options, timeoutMs: options.timeoutMs ?? 5_000 })

  const fetchCredentials: AWSCredentialProvider = async (callOptions) => {
    const signal = callOptions?.signal
    const token = (await options.authorizationToken?.(signal ? { signal } : {}))?.trim()
    if (token !== undefined && /[\r\n]/.test(token)) {
      // Go SDK: a header value with a line break would smuggle another header.
      http.secrets.addTemporary(...token.split(/[\r\n]+/))
      throw new CountersignError('ERR_KMS', `${SERVICE}: the authorization token contains a line break`, {
        details: { provider: 'aws', reason: 'authorization-token' },
      })
    }
    let res: ServiceResponse
    try {
      res = await http({
        method: 'GET',
        url: uri,
        headers: token ? { Authorization: token } : {},
        // Sent without a scheme, so the header scan would not learn it.
        secrets: [token],
        acceptStatus: CLIENT_ERRORS,
        maxBytes: 64 * 1024,
        ...(signal ? { signal } : {}),
      })
    } catch (e) {
      throw withProvider(e, where, http.secrets)
    }
    if (res.status >= 400) throw refusal(res, http.secrets, where)
    let doc: unknown
    try {
      doc = res.json()
    } catch (e) {
      throw withProvider(e, where, http.secrets)
    }
    if (!isJSONObject(doc)) throw bad(`${where} answered with something other than a JSON object`, res.status)
    const { accessKeyId, secretAccessKey, sessionToken, expiration } = credentialsJSONFields(doc, http.secrets)
    if (!accessKeyId || !secretAccessKey) {
      throw bad(`${where} answered without AccessKeyId and SecretAccessKey`, res.status)
    }
    if (expiration !== undefined && Number.isNaN(expiration.getTime())) {
      throw bad(`${where} answered with an Expiration that is not a date`, res.status)
    }
    const credentials: AWSCredentials = {
      accessKeyId,
      secretAccessKey,
      ...(sessionToken !== undefined ? { sessionToken } : {}),
      ...(expiration !== undefined ? { expiration } : {}),
    }
    return Object.freeze(credentials)
  }
  return cacheAWSCredentials(fetchCredentials, { ...(options.now ? { now: options.now } : {}) })
}

/** A 4xx with the endpoint's `{code, message}` (ECS, EKS Pod Identity; other endpoints capitalise them). */
function refusal(res: ServiceResponse, secrets: Parameters<typeof clipReason>[1], where: string): CountersignError {
  let code = ''
  let message = ''
  try {
    const doc: unknown = JSON.parse(res.text())
    if (isJSONObject(doc)) {
      const c = doc.code ?? doc.Code
      const m = doc.message ?? doc.Message
      code = typeof c === 'string' ? clipReason(c, secrets, 100) : ''
      message = typeof m === 'string' ? clipReason(m, secrets, 300) : ''
    }
  } catch {
    // Not JSON: the status says enough.
  }
  const reason = [code, message].filter((s) => s !== '').join(': ')
  return new CountersignError(
    'ERR_KMS',
    `${SERVICE}: GET ${where} failed with HTTP ${res.status}${reason ? `: ${reason}` : ''}`,
    {
      details: { provider: 'aws', status: res.status, ...(code ? { awsError: code } : {}) },
    },
  )
}

function withProvider(e: unknown, where: string, secrets: Parameters<typeof clipReason>[1]): unknown {
  if (e instanceof CountersignError && e.code === 'ERR_NETWORK') {
    return new CountersignError('ERR_KMS', `${SERVICE} ${where} did not answer (${secrets.redact(e.message)})`, {
      cause: e,
      details: { provider: 'aws', reason: 'unreachable' },
    })
  }
  return withAWSProvider(e)
}

function bad(what: string, status: number): CountersignError {
  return badAWSAnswer(SERVICE, what, status)
}

/**
 * STS `AssumeRoleWithWebIdentity`: exchange an OIDC token (EKS IRSA, GitHub Actions, …) for temporary AWS
 * credentials. The request is unsigned (the token is the authentication); the answer is the Query protocol's XML.
 * Reading the token file is the Node adapter's job, so this core part takes the token from a function.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import type { SecretSet } from '../../http/secret-set.js'
import { createServiceHTTP, type ServiceClientOptions, type ServiceResponse } from '../../http/service.js'
import { fromUtf8, utf8 } from '../../internal/bytes.js'
import type { AbortSignalLike } from '../../internal/host-types.js'
import { type AWSCredentialProvider, cacheAWSCredentials } from './credentials.js'
import { withAWSProvider } from './service-errors.js'

/**
 * Options for {@link createWebIdentityCredentials}.
 *
 * @example
 * ```ts
 * import type { WebIdentityCredentialsOptions } from 'countersign/kms/aws'
 * const options: WebIdentityCredentialsOptions = { roleArn, token: async () => oidcToken, region: 'eu-west-1' }
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export interface WebIdentityCredentialsOptions extends ServiceClientOptions {
  /** The role to assume (`AWS_ROLE_ARN`). */
  readonly roleArn: string
  /** `AWS_ROLE_SESSION_NAME`; default `countersign-<milliseconds>`. */
  readonly roleSessionName?: string
  /** The current web identity token (read again on every refresh: the files rotate). Secret. */
  readonly token: (options?: { readonly signal?: AbortSignalLike }) => Promise<string>
  /** STS region: the regional endpoint `https://sts.REGION.amazonaws.com` is used; without one the global one. */
  readonly region?: string
  /** STS base URL overriding the one derived from the region (`AWS_ENDPOINT_URL_STS`, tests). */
  readonly endpoint?: string
  /** Clock for the cache and the default session name. */
  readonly now?: () => Date
}

/**
 * Temporary credentials from STS `AssumeRoleWithWebIdentity`, cached until five minutes before they expire.
 *
 * @param options - Role, token source and STS endpoint.
 * @returns A credential provider.
 * @throws {CountersignError} ERR_KMS (from the provider) when STS refuses the token or answers with garbage; the
 *   message carries STS's error code, never the token or the credentials.
 * @example
 * ```ts
 * import { createWebIdentityCredentials } from 'countersign/kms/aws'
 * const credentials = createWebIdentityCredentials({ roleArn, token: async () => githubOIDCToken })
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export function createWebIdentityCredentials(options: WebIdentityCredentialsOptions): AWSCredentialProvider {
  if (typeof options?.roleArn !== 'string' || options.roleArn === '') {
    throw new CountersignError('ERR_INVALID_INPUT', 'web identity credentials need a role ARN (AWS_ROLE_ARN)', {
      details: { provider: 'aws' },
    })
  }
  const http = createServiceHTTP('AWS STS', 'ERR_KMS', options)
  const now = options.now ?? (() => new Date())
  const url = stsURL(options.endpoint, options.region)
  const assume: AWSCredentialProvider = async (callOptions) => {
    const token = await options.token(callOptions)
    const form = new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: options.roleArn,
      RoleSessionName: options.roleSessionName ?? `countersign-${now().getTime()}`,
      WebIdentityToken: token.trim(),
    })
    const res = await http({
      method: 'POST',
      url,
      body: utf8(form.toString()),
      contentType: 'application/x-www-form-urlencoded; charset=utf-8',
      headers: { Accept: 'text/xml' },
      secrets: [token.trim()],
      maxBytes: 64 * 1024,
      acceptStatus: [400, 401, 403],
      ...(callOptions?.signal ? { signal: callOptions.signal } : {}),
    }).catch((cause) => {
      throw withAWSProvider(cause)
    })
    return stsCredentials(res, http.secrets, 'AssumeRoleWithWebIdentity')
  }
  return cacheAWSCredentials(assume, { now })
}

/** The Query API URL of STS: `endpoint`, else the region's regional endpoint, else the global one. Internal. */
export function stsURL(endpoint: string | undefined, region: string | undefined): string {
  const base = endpoint ?? (region ? `https://sts.${region}.${dnsSuffix(region)}` : 'https://sts.amazonaws.com')
  return `${base.replace(/\/+$/, '')}/`
}

/**
 * The credentials of an STS Query answer to `action` (they join `secrets`), or the ERR_KMS its `<Code>` names, with
 * `what` (default `action`) in the message. Internal.
 */
export function stsCredentials(
  res: ServiceResponse,
  secrets: SecretSet,
  action: string,
  what = action,
): ReturnType<typeof parseCredentials> {
  const xml = fromUtf8(res.body, 'AWS STS response')
  if (res.status !== 200) {
    // Redacted before it is cut: a JWT fits the character set, so an echoing endpoint could otherwise leak a prefix.
    const code = secrets
      .redact(element(xml, 'Code') ?? 'unknown error')
      .replace(/[^A-Za-z0-9_.-]/g, '')
      .slice(0, 100)
    throw new CountersignError('ERR_KMS', `AWS STS ${what} failed with HTTP ${res.status}: ${code}`, {
      details: { provider: 'aws', status: res.status, awsError: code },
    })
  }
  const credentials = parseCredentials(xml, action)
  secrets.addTemporary(credentials.secretAccessKey, credentials.sessionToken)
  return credentials
}

/** The `<Credentials>` of an STS Query answer (`AssumeRole*`), refused without a complete set. */
function parseCredentials(xml: string, action: string) {
  const block = /<Credentials>([\s\S]*?)<\/Credentials>/.exec(xml)?.[1]
  const accessKeyId = block !== undefined ? element(block, 'AccessKeyId') : undefined
  const secretAccessKey = block !== undefined ? element(block, 'SecretAccessKey') : undefined
  const sessionToken = block !== undefined ? element(block, 'SessionToken') : undefined
  const expiration = block !== undefined ? element(block, 'Expiration') : undefined
  const expires = expiration !== undefined ? new Date(expiration) : undefined
  if (!accessKeyId || !secretAccessKey || !sessionToken || expires === undefined || Number.isNaN(expires.getTime())) {
    throw new CountersignError('ERR_KMS', `AWS STS ${action} answered without usable credentials`, {
      details: { provider: 'aws', status: 200, reason: 'invalid-response' },
    })
  }
  return Object.freeze({ accessKeyId, secretAccessKey, sessionToken, expiration: expires })
}

/** Text of the first `<name>` element, XML entities decoded. */
function element(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)
  if (!m) return undefined
  return m[1]!.trim().replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e.startsWith('#')) {
      const cp = e.startsWith('#x') ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10)
      return cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd'
    }
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e]!
  })
}

/** The AWS partition's DNS suffix for a region (China regions differ). */
export function dnsSuffix(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'
}

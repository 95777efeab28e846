/**
 * Microsoft Entra ID (Azure AD) access tokens without Node: the authority host (`AZURE_AUTHORITY_HOST`,
 * `AZURE_ENVIRONMENT`) and the OAuth 2.0 client credentials grant that the client secret, workload identity and
 * client certificate credentials share. The managed identity endpoints are in `managed-identity.ts`, the
 * `DefaultAzureCredential` order in `default-chain.ts`.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import type { ServiceClientOptions } from '../../http/service.js'
import { utf8 } from '../../internal/bytes.js'
import type { AbortSignalLike } from '../../internal/host-types.js'
import type { AccessTokenSource } from '../access-token.js'
import { accessTokenOf, createCloudHTTP } from '../cloud-http.js'
import type { KMSEnvironment } from '../types.js'

const PROVIDER = 'azurekms'
/** The Key Vault resource in the public cloud (the scope is `<resource>/.default`). */
export const AZURE_VAULT_RESOURCE = 'https://vault.azure.net'
const JWT_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/**
 * Options for the Azure credential sources.
 *
 * Exported from `countersign/kms/azure`.
 */
export interface AzureCredentialOptions extends ServiceClientOptions {
  /** Current time in milliseconds (default `Date.now`), for token expiry. */
  readonly now?: () => number
  /** The resource the token is for (default `https://vault.azure.net`; the provider derives it from the vault). */
  readonly resource?: string
}

/** ERR_INVALID_INPUT naming the provider. Internal to the Azure credential files. */
export function invalid(message: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', message, { details: { provider: PROVIDER } })
}

/**
 * `https://…`, or `http://` on loopback (tests, emulators) or the link-local metadata address; anything else is
 * refused. Internal to the Azure credential files.
 */
export function checkedURL(value: string, what: string): URL {
  let u: URL
  try {
    u = new URL(value)
  } catch {
    throw invalid(`${what} is not a URL`)
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && (loopback || u.hostname === '169.254.169.254'))) {
    throw invalid(`${what} must use https`)
  }
  return u
}

/**
 * The authority host: `AZURE_AUTHORITY_HOST`, else by `AZURE_ENVIRONMENT` as sigstore maps it (US Government,
 * China), else the public cloud.
 */
export function azureAuthorityHost(env: KMSEnvironment = {}): string {
  if (env.AZURE_AUTHORITY_HOST) return checkedURL(env.AZURE_AUTHORITY_HOST, 'AZURE_AUTHORITY_HOST').origin
  switch (env.AZURE_ENVIRONMENT) {
    case 'AZUREUSGOVERNMENT':
    case 'AZUREUSGOVERNMENTCLOUD':
      return 'https://login.microsoftonline.us'
    case 'AZURECHINACLOUD':
      return 'https://login.chinacloudapi.cn'
    default:
      return 'https://login.microsoftonline.com'
  }
}

/**
 * Options for {@link createAzureClientCredentials}.
 *
 * Exported from `countersign/kms/azure`.
 */
export interface AzureClientCredentialsOptions extends AzureCredentialOptions {
  readonly tenantId: string
  readonly clientId: string
  /** The client secret (`AZURE_CLIENT_SECRET`). Secret: never logged. */
  readonly clientSecret?: string
  /**
   * A client assertion, made afresh for every token request: a federated token (workload identity) or a JWT signed
   * for `tokenEndpoint` (client certificate).
   */
  readonly clientAssertion?: (options: {
    readonly signal?: AbortSignalLike
    readonly tokenEndpoint: string
  }) => Promise<string>
  /** `https://login.microsoftonline.com` unless overridden (see `azureAuthorityHost`). */
  readonly authorityHost?: string
}

/**
 * The OAuth 2.0 client credentials grant at `{authority}/{tenant}/oauth2/v2.0/token` with either a client secret
 * (EnvironmentCredential / ClientSecretCredential) or a federated client assertion (WorkloadIdentityCredential).
 *
 * @param options - Tenant, client, secret or assertion, authority, fetch.
 * @returns A {@link AccessTokenSource | BearerTokenSource} for `createAzureKMSProvider({ credentials })`.
 * @example
 * ```ts
 * import { createAzureClientCredentials, createAzureKMSProvider } from 'countersign/kms/azure'
 * const credentials = createAzureClientCredentials({ tenantId, clientId, clientSecret })
 * const kms = createAzureKMSProvider({ credentials })
 * ```
 *
 * Exported from `countersign/kms/azure`.
 */
export function createAzureClientCredentials(options: AzureClientCredentialsOptions): AccessTokenSource {
  const { tenantId, clientId } = options
  // The tenant becomes a path segment: Entra tenant IDs are GUIDs or domain names.
  if (typeof tenantId !== 'string' || !/^[A-Za-z0-9.-]{1,100}$/.test(tenantId)) throw invalid('invalid Azure tenant ID')
  if (typeof clientId !== 'string' || clientId === '') throw invalid('invalid Azure client ID')
  if ((options.clientSecret === undefined) === (options.clientAssertion === undefined)) {
    throw new TypeError('exactly one of clientSecret and clientAssertion is required')
  }
  const authority = options.authorityHost
    ? checkedURL(options.authorityHost, 'authority host').origin
    : azureAuthorityHost()
  const url = `${authority}/${tenantId}/oauth2/v2.0/token`
  const scope = `${options.resource ?? AZURE_VAULT_RESOURCE}/.default`
  const http = createCloudHTTP(PROVIDER, 'Microsoft Entra token endpoint', options)
  http.secrets.add(options.clientSecret)
  return async ({ signal }) => {
    const form: Record<string, string> = { grant_type: 'client_credentials', client_id: clientId, scope }
    if (options.clientSecret !== undefined) form.client_secret = options.clientSecret
    else {
      form.client_assertion_type = JWT_ASSERTION
      form.client_assertion = (
        await options.clientAssertion!({ tokenEndpoint: url, ...(signal ? { signal } : {}) })
      ).trim()
    }
    const res = await http({
      method: 'POST',
      url,
      body: utf8(new URLSearchParams(form).toString()),
      contentType: 'application/x-www-form-urlencoded',
      secrets: [form.client_secret, form.client_assertion],
      ...(signal ? { signal } : {}),
    })
    return accessTokenOf(res, PROVIDER, 'Entra token response', (options.now ?? Date.now)(), http.secrets)
  }
}

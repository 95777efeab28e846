/**
 * Microsoft Entra ID (Azure AD) access tokens without Node, following `DefaultAzureCredential`'s order for the
 * sources countersign implements: environment client secret, workload identity (a federated token the caller
 * reads, e.g. from `AZURE_FEDERATED_TOKEN_FILE` in `countersign/node`), then managed identity (App Service's
 * `IDENTITY_ENDPOINT` or the VM instance metadata service). Azure CLI, Azure Developer CLI, PowerShell, client
 * certificates and username/password are not implemented.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import type { ServiceClientOptions } from '../../http/service.js'
import { utf8 } from '../../internal/bytes.js'
import type { AbortSignalLike } from '../../internal/host-types.js'
import type { AccessTokenSource } from '../access-token.js'
import { accessTokenOf, askMetadataServer, createCloudHTTP } from '../cloud-http.js'
import type { KMSEnvironment } from '../types.js'

const PROVIDER = 'azurekms'
/** The Key Vault resource in the public cloud (the scope is `<resource>/.default`). */
export const AZURE_VAULT_RESOURCE = 'https://vault.azure.net'
const IMDS_HOST = 'http://169.254.169.254'
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

function invalid(message: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', message, { details: { provider: PROVIDER } })
}

/** `https://…` or `http://` on loopback (tests, emulators); anything else is refused. */
function checkedURL(value: string, what: string): URL {
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
  /** A federated assertion (workload identity), read afresh for every token request. */
  readonly clientAssertion?: (options: { readonly signal?: AbortSignalLike }) => Promise<string>
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
      form.client_assertion = (await options.clientAssertion!(signal ? { signal } : {})).trim()
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

/**
 * Options for {@link createAzureManagedIdentityCredentials}.
 *
 * Exported from `countersign/kms/azure`.
 */
export interface AzureManagedIdentityOptions extends AzureCredentialOptions {
  /** `IDENTITY_ENDPOINT`, `IDENTITY_HEADER`, `AZURE_POD_IDENTITY_AUTHORITY_HOST`. */
  readonly env?: KMSEnvironment
  /** A user-assigned identity's client ID (DefaultAzureCredential passes `AZURE_CLIENT_ID`). */
  readonly clientId?: string
}

/**
 * Managed identity: App Service / Functions (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`, api-version 2019-08-01), else
 * the instance metadata service (`http://169.254.169.254/metadata/identity/oauth2/token`, api-version 2018-02-01,
 * `Metadata: true`; host overridable with `AZURE_POD_IDENTITY_AUTHORITY_HOST` as in azidentity). An unreachable
 * IMDS (not on Azure) is reported as missing credentials. Azure Arc, Cloud Shell and Service Fabric are not handled.
 *
 * @param options - Environment, user-assigned client ID, fetch.
 * @returns A {@link AccessTokenSource | BearerTokenSource}.
 * @example
 * ```ts
 * import { createAzureKMSProvider, createAzureManagedIdentityCredentials } from 'countersign/kms/azure'
 * const kms = createAzureKMSProvider({ credentials: createAzureManagedIdentityCredentials({ env: process.env }) })
 * ```
 *
 * Exported from `countersign/kms/azure`.
 */
export function createAzureManagedIdentityCredentials(options: AzureManagedIdentityOptions = {}): AccessTokenSource {
  const env = options.env ?? {}
  const resource = options.resource ?? AZURE_VAULT_RESOURCE
  let url: URL
  const headers: Record<string, string> = {}
  if (env.IDENTITY_ENDPOINT && env.IDENTITY_HEADER) {
    url = checkedURL(env.IDENTITY_ENDPOINT, 'IDENTITY_ENDPOINT')
    url.searchParams.set('api-version', '2019-08-01')
    headers['X-IDENTITY-HEADER'] = env.IDENTITY_HEADER
  } else {
    const host = env.AZURE_POD_IDENTITY_AUTHORITY_HOST
      ? checkedURL(env.AZURE_POD_IDENTITY_AUTHORITY_HOST, 'AZURE_POD_IDENTITY_AUTHORITY_HOST').origin
      : IMDS_HOST
    url = new URL(`${host}/metadata/identity/oauth2/token`)
    url.searchParams.set('api-version', '2018-02-01')
    headers.Metadata = 'true'
  }
  url.searchParams.set('resource', resource)
  if (options.clientId) url.searchParams.set('client_id', options.clientId)
  // Off Azure, 169.254.169.254 does not answer: fail in seconds, not after 30 s and 3 retries.
  const http = createCloudHTTP(PROVIDER, 'Azure managed identity endpoint', {
    timeoutMs: 3_000,
    retry: { attempts: 1 },
    ...options,
  })
  return async ({ signal }) => {
    const res = await askMetadataServer(
      http,
      { method: 'GET', url: url.toString(), headers, ...(signal ? { signal } : {}) },
      PROVIDER,
      'no Azure credentials found: pass an access token, set AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET or AZURE_FEDERATED_TOKEN_FILE, or run with a managed identity (the metadata service is unreachable)',
    )
    return accessTokenOf(res, PROVIDER, 'managed identity token response', (options.now ?? Date.now)(), http.secrets)
  }
}

/**
 * Options for {@link createAzureDefaultCredentials}.
 *
 * Exported from `countersign/kms/azure`.
 */
export interface AzureDefaultCredentialsOptions extends AzureCredentialOptions {
  /** `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`, `AZURE_AUTHORITY_HOST`, `AZURE_ENVIRONMENT`, … */
  readonly env?: KMSEnvironment
  /** Reads the workload identity token (Node: the file in `AZURE_FEDERATED_TOKEN_FILE`). */
  readonly federatedToken?: (options: { readonly signal?: AbortSignalLike }) => Promise<string>
}

/**
 * `DefaultAzureCredential`'s order, for the sources implemented: the environment's client secret
 * (`AZURE_TENANT_ID` + `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET`), then workload identity (`federatedToken` with
 * `AZURE_TENANT_ID` + `AZURE_CLIENT_ID`), then managed identity (user-assigned when `AZURE_CLIENT_ID` is set).
 * The first configured source is used.
 *
 * @param options - Environment and the federated token reader.
 * @returns A {@link AccessTokenSource | BearerTokenSource}.
 * @example
 * ```ts
 * import { createAzureDefaultCredentials, createAzureKMSProvider } from 'countersign/kms/azure'
 * const kms = createAzureKMSProvider({ credentials: createAzureDefaultCredentials({ env: process.env }) })
 * ```
 *
 * Exported from `countersign/kms/azure`.
 */
export function createAzureDefaultCredentials(options: AzureDefaultCredentialsOptions = {}): AccessTokenSource {
  const env = options.env ?? {}
  const { env: _env, federatedToken, ...common } = options
  const tenantId = env.AZURE_TENANT_ID
  const clientId = env.AZURE_CLIENT_ID
  const authorityHost = azureAuthorityHost(env)
  if (tenantId && clientId && env.AZURE_CLIENT_SECRET) {
    return createAzureClientCredentials({
      ...common,
      tenantId,
      clientId,
      clientSecret: env.AZURE_CLIENT_SECRET,
      authorityHost,
    })
  }
  if (tenantId && clientId && federatedToken) {
    return createAzureClientCredentials({
      ...common,
      tenantId,
      clientId,
      clientAssertion: federatedToken,
      authorityHost,
    })
  }
  return createAzureManagedIdentityCredentials({ ...common, env, ...(clientId ? { clientId } : {}) })
}

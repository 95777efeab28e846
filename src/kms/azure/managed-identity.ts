/**
 * Azure managed identity, selected from the environment as azidentity's `managed_identity_client.go` does:
 * App Service / Functions / Container Apps (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`: api-version 2019-08-01 with
 * the `X-IDENTITY-HEADER` header), Azure Arc (`IDENTITY_ENDPOINT` + `IMDS_ENDPOINT`: api-version 2019-08-15, a 401
 * challenge `WWW-Authenticate: Basic realm=<key file>` whose file content goes back as `Authorization: Basic …`),
 * else the VM instance metadata service (api-version 2018-02-01, `Metadata: true`), probed first with a one-second
 * timeout and no retry as `DefaultAzureCredential` does. A user-assigned identity is chosen by client ID. Service
 * Fabric, Cloud Shell and Azure ML are not handled and say so. Reading the Arc key file is Node's part.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import { createServiceHTTP, type ServiceResponse } from '../../http/service.js'
import type { AbortSignalLike } from '../../internal/host-types.js'
import type { AccessTokenSource } from '../access-token.js'
import { accessTokenOf, badResponse, createCloudHTTP, httpOptions } from '../cloud-http.js'
import type { KMSEnvironment } from '../types.js'
import { AZURE_VAULT_RESOURCE, type AzureCredentialOptions, checkedURL, invalid } from './credentials.js'
import { credentialUnavailable } from './unavailable.js'

const PROVIDER = 'azurekms'
const IMDS_HOST = 'http://169.254.169.254'
const ALL_ERRORS: readonly number[] = Array.from({ length: 200 }, (_, i) => 400 + i)

/**
 * Reads the key file an Azure Arc challenge names, after checking it is where the Arc agent keeps its keys (the
 * Node reader in `countersign/node` checks the directory, the `.key` suffix and a 4096-byte limit).
 *
 * @example
 * ```ts
 * import type { AzureArcKeyReader } from 'countersign/kms/azure'
 * const readArcKey: AzureArcKeyReader = async (path) => myReadVerifiedKey(path)
 * ```
 *
 * Exported from `countersign/kms/azure`.
 */
export type AzureArcKeyReader = (path: string, options: { readonly signal?: AbortSignalLike }) => Promise<string>

/**
 * Options for {@link createAzureManagedIdentityCredentials}.
 *
 * Exported from `countersign/kms/azure`.
 */
export interface AzureManagedIdentityOptions extends AzureCredentialOptions {
  /** `IDENTITY_ENDPOINT`, `IDENTITY_HEADER`, `IMDS_ENDPOINT`, `AZURE_POD_IDENTITY_AUTHORITY_HOST` (IMDS host). */
  readonly env?: KMSEnvironment
  /** A user-assigned identity's client ID (DefaultAzureCredential passes `AZURE_CLIENT_ID`). */
  readonly clientId?: string
  /** Reads an Azure Arc key file (`countersign/node` passes one). */
  readonly readArcKey?: AzureArcKeyReader
}

/** The endpoint the environment selects, or why managed identity does not apply. Internal. */
export type AzureManagedIdentitySelection =
  | { readonly kind: 'App Service' | 'Azure Arc' | 'IMDS'; readonly token: AccessTokenSource }
  | { readonly unavailable: string }

function isJSON(body: Uint8Array): boolean {
  try {
    JSON.parse(new TextDecoder().decode(body))
    return true
  } catch {
    return false
  }
}

function tokenURL(base: string, what: string, apiVersion: string, resource: string): URL {
  const url = checkedURL(base, what)
  url.searchParams.set('api-version', apiVersion)
  url.searchParams.set('resource', resource)
  return url
}

function appService(env: KMSEnvironment, o: AzureManagedIdentityOptions, resource: string): AccessTokenSource {
  const url = tokenURL(env.IDENTITY_ENDPOINT!, 'IDENTITY_ENDPOINT', '2019-08-01', resource)
  if (o.clientId) url.searchParams.set('client_id', o.clientId)
  const http = createCloudHTTP(PROVIDER, 'Azure App Service identity endpoint', httpOptions(o))
  http.secrets.add(env.IDENTITY_HEADER)
  const headers = { 'X-IDENTITY-HEADER': env.IDENTITY_HEADER! }
  return async ({ signal }) => {
    const res = await http({ method: 'GET', url: url.toString(), headers, ...(signal ? { signal } : {}) })
    return accessTokenOf(res, PROVIDER, 'App Service token response', (o.now ?? Date.now)(), http.secrets)
  }
}

function azureArc(env: KMSEnvironment, o: AzureManagedIdentityOptions, resource: string): AccessTokenSource {
  const url = tokenURL(env.IDENTITY_ENDPOINT!, 'IDENTITY_ENDPOINT', '2019-08-15', resource).toString()
  const challenge = createServiceHTTP('Azure Arc identity endpoint', 'ERR_KMS', httpOptions(o))
  const http = createCloudHTTP(PROVIDER, 'Azure Arc identity endpoint', {
    ...httpOptions(o),
    secrets: challenge.secrets,
  })
  return async ({ signal }) => {
    const first = await challenge({
      method: 'GET',
      url,
      headers: { Metadata: 'true' },
      acceptStatus: [401],
      ...(signal ? { signal } : {}),
    })
    if (first.status !== 401) {
      throw badResponse(PROVIDER, `Azure Arc identity endpoint: expected a 401 challenge, got HTTP ${first.status}`)
    }
    // "Basic realm=/var/opt/azcmagent/tokens/<id>.key": everything after the first "=" is the path (as azidentity).
    const header = first.headers.get('www-authenticate') ?? ''
    const eq = header.indexOf('=')
    if (eq < 0) throw badResponse(PROVIDER, 'Azure Arc identity endpoint: the 401 has no WWW-Authenticate realm')
    if (!o.readArcKey) {
      throw invalid('Azure Arc managed identity needs a key file reader (countersign/node provides one)')
    }
    const key = (await o.readArcKey(header.slice(eq + 1), signal ? { signal } : {})).trim()
    http.secrets.add(key)
    const res = await http({
      method: 'GET',
      url,
      headers: { Metadata: 'true', Authorization: `Basic ${key}` },
      ...(signal ? { signal } : {}),
    })
    return accessTokenOf(res, PROVIDER, 'Azure Arc token response', (o.now ?? Date.now)(), http.secrets)
  }
}

function imds(env: KMSEnvironment, o: AzureManagedIdentityOptions, resource: string): AccessTokenSource {
  const host = env.AZURE_POD_IDENTITY_AUTHORITY_HOST
    ? checkedURL(env.AZURE_POD_IDENTITY_AUTHORITY_HOST, 'AZURE_POD_IDENTITY_AUTHORITY_HOST').origin
    : IMDS_HOST
  const endpoint = `${host}/metadata/identity/oauth2/token`
  const url = tokenURL(endpoint, 'IMDS endpoint', '2018-02-01', resource)
  if (o.clientId) url.searchParams.set('client_id', o.clientId)
  // Off Azure nothing answers at 169.254.169.254: one try, one second, as azidentity's probe.
  const probe = createServiceHTTP('Azure instance metadata service', 'ERR_KMS', {
    ...httpOptions(o),
    timeoutMs: 1_000,
    retry: { attempts: 0 },
  })
  const http = createServiceHTTP('Azure instance metadata service', 'ERR_KMS', httpOptions(o))
  let available = false
  return async ({ signal }) => {
    const sig = signal ? { signal } : {}
    if (!available) {
      let res: ServiceResponse
      try {
        res = await probe({ method: 'GET', url: endpoint, acceptStatus: ALL_ERRORS, ...sig })
      } catch (cause) {
        if (cause instanceof CountersignError && cause.code === 'ERR_NETWORK') {
          throw credentialUnavailable(`no instance metadata service answered at ${host} within 1 s`, cause)
        }
        throw cause
      }
      // IMDS always answers JSON; anything else is a proxy in the way.
      if (!isJSON(res.body)) throw credentialUnavailable('the instance metadata probe was answered by something else')
      available = true
    }
    const res = await http({
      method: 'GET',
      url: url.toString(),
      headers: { Metadata: 'true' },
      acceptStatus: [400, 403],
      ...sig,
    })
    if (res.status === 400 && o.clientId) {
      throw new CountersignError(
        'ERR_KMS',
        `managed identity: client ID ${o.clientId} isn't assigned to this resource`,
        {
          details: { provider: PROVIDER, status: 400 },
        },
      )
    }
    if (res.status === 400) throw credentialUnavailable('IMDS has no system-assigned identity for this resource')
    // Docker Desktop's proxy answers 403 "…unreachable…" for 169.254.169.254.
    if (res.status === 403 && new TextDecoder().decode(res.body).includes('unreachable')) {
      throw credentialUnavailable('the instance metadata service is unreachable (403 from a proxy)')
    }
    if (res.status === 403) {
      throw new CountersignError('ERR_KMS', 'Azure instance metadata service refused the token request (HTTP 403)', {
        details: { provider: PROVIDER, status: 403 },
      })
    }
    return accessTokenOf(res, PROVIDER, 'IMDS token response', (o.now ?? Date.now)(), http.secrets)
  }
}

/**
 * Select the managed identity endpoint from the environment, in azidentity's order. Internal: the default chain
 * and {@link createAzureManagedIdentityCredentials} share it.
 *
 * @example
 * ```ts
 * const selected = selectAzureManagedIdentity({ env: process.env })
 * ```
 */
export function selectAzureManagedIdentity(options: AzureManagedIdentityOptions): AzureManagedIdentitySelection {
  const env = options.env ?? {}
  const resource = options.resource ?? AZURE_VAULT_RESOURCE
  if (env.IDENTITY_ENDPOINT) {
    if (env.IDENTITY_HEADER) {
      if (env.IDENTITY_SERVER_THUMBPRINT) return { unavailable: 'Service Fabric managed identity is not supported' }
      return { kind: 'App Service', token: appService(env, options, resource) }
    }
    if (env.IMDS_ENDPOINT) {
      // azidentity: the Arc API takes no identity selection.
      if (options.clientId) {
        return { unavailable: 'Azure Arc does not support a user-assigned identity (AZURE_CLIENT_ID is set)' }
      }
      return { kind: 'Azure Arc', token: azureArc(env, options, resource) }
    }
  } else if (env.MSI_ENDPOINT) {
    return { unavailable: 'Cloud Shell and Azure ML managed identity (MSI_ENDPOINT) are not supported' }
  }
  return { kind: 'IMDS', token: imds(env, options, resource) }
}

/**
 * Managed identity: App Service / Functions, Azure Arc, else the VM instance metadata service (IMDS), selected from
 * `env` as azidentity does. An IMDS that does not answer within a second (not on Azure) is reported as ERR_KMS
 * with `details.reason` `no-credentials`.
 *
 * @param options - Environment, user-assigned client ID, Arc key reader, fetch.
 * @returns A {@link AccessTokenSource | BearerTokenSource}.
 * @throws {CountersignError} ERR_KMS when the endpoint refuses or is absent; ERR_INVALID_INPUT for a bad endpoint.
 * @example
 * ```ts
 * import { createAzureKMSProvider, createAzureManagedIdentityCredentials } from 'countersign/kms/azure'
 * const kms = createAzureKMSProvider({ credentials: createAzureManagedIdentityCredentials({ env: process.env }) })
 * ```
 *
 * Exported from `countersign/kms/azure`.
 */
export function createAzureManagedIdentityCredentials(options: AzureManagedIdentityOptions = {}): AccessTokenSource {
  const selected = selectAzureManagedIdentity(options)
  if ('unavailable' in selected) {
    const { unavailable } = selected
    return async () => {
      throw credentialUnavailable(unavailable)
    }
  }
  return selected.token
}

/**
 * `DefaultAzureCredential`'s chain (azidentity `default_azure_credential.go`, the Go SDK cosign's Azure KMS uses):
 * EnvironmentCredential (client secret, else client certificate), WorkloadIdentityCredential, ManagedIdentityCredential
 * (user-assigned when `AZURE_CLIENT_ID` is set), AzureCLICredential; `AZURE_TOKEN_CREDENTIALS` (`dev`, `prod` or one
 * credential's name) narrows it. A source that does not apply is passed over (with its reason kept for the error);
 * any other failure ends the chain, as `ChainedTokenCredential` does. Once a source has produced a token it is the
 * only one used. Reading files and running `az` are Node's parts, passed in as functions.
 *
 * @module
 */
import type { AbortSignalLike } from '../../internal/host-types.js'
import type { AccessToken, AccessTokenSource } from '../access-token.js'
import { type CredentialSourceListener, noCredentialsError, type TriedCredentialSource } from '../credential-chain.js'
import type { KMSEnvironment } from '../types.js'
import { type AzureClientCertificate, createAzureClientCertificateCredentials } from './client-certificate.js'
import {
  AZURE_VAULT_RESOURCE,
  type AzureCredentialOptions,
  azureAuthorityHost,
  createAzureClientCredentials,
  invalid,
} from './credentials.js'
import { type AzureArcKeyReader, selectAzureManagedIdentity } from './managed-identity.js'
import { credentialUnavailable, isCredentialUnavailable } from './unavailable.js'

/**
 * Gets a token from the Azure CLI (`az account get-access-token`); `countersign/node` runs it.
 *
 * @example
 * ```ts
 * import type { AzureCLITokenSource } from 'countersign/kms/azure'
 * const azureCLI: AzureCLITokenSource = async ({ resource }) => ({ token: await myCLI(resource) })
 * ```
 *
 * Exported from `countersign/kms/azure`.
 */
export type AzureCLITokenSource = (request: {
  readonly resource: string
  readonly tenantId?: string
  readonly signal?: AbortSignalLike
}) => Promise<AccessToken>

/**
 * Options for {@link createAzureDefaultCredentials}.
 *
 * Exported from `countersign/kms/azure`.
 */
export interface AzureDefaultCredentialsOptions extends AzureCredentialOptions {
  /** `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`, `AZURE_CLIENT_CERTIFICATE_PATH`, … */
  readonly env?: KMSEnvironment
  /** Reads the workload identity token (Node: the file in `AZURE_FEDERATED_TOKEN_FILE`). */
  readonly federatedToken?: (options: { readonly signal?: AbortSignalLike }) => Promise<string>
  /** Loads `AZURE_CLIENT_CERTIFICATE_PATH` with its password (Node: PEM or PKCS#12). */
  readonly loadClientCertificate?: (path: string, password: string | undefined) => Promise<AzureClientCertificate>
  /** Runs the Azure CLI (Node). */
  readonly azureCLI?: AzureCLITokenSource
  /** Reads an Azure Arc key file (Node). */
  readonly readArcKey?: AzureArcKeyReader
  /** The tenant the Azure CLI is asked for (azidentity's `DefaultAzureCredentialOptions.TenantID`); default its own. */
  readonly tenantId?: string
  /** Told which source the chain settled on (never a secret). */
  readonly onCredentialSource?: CredentialSourceListener
}

interface Candidate {
  readonly source: string
  readonly detail?: string
  readonly unavailable?: string
  readonly token?: AccessTokenSource
}

const NAMES: Readonly<Record<string, string>> = {
  environmentcredential: 'environment',
  workloadidentitycredential: 'workload identity',
  managedidentitycredential: 'managed identity',
  azureclicredential: 'azure cli',
}

/** The sources `AZURE_TOKEN_CREDENTIALS` selects (azidentity: `dev`, `prod`, or one credential type's name). */
function selected(value: string | undefined): ReadonlySet<string> {
  if (value === undefined || value === '') {
    return new Set(['environment', 'workload identity', 'managed identity', 'azure cli'])
  }
  if (value === 'dev') return new Set(['azure cli'])
  if (value === 'prod') return new Set(['environment', 'workload identity', 'managed identity'])
  const one = NAMES[value.toLowerCase()]
  if (one) return new Set([one])
  if (value.toLowerCase() === 'azuredeveloperclicredential') {
    throw invalid('AZURE_TOKEN_CREDENTIALS=AzureDeveloperCLICredential: the Azure Developer CLI is not supported')
  }
  throw invalid(
    `invalid AZURE_TOKEN_CREDENTIALS value; valid values are "dev", "prod", or EnvironmentCredential, WorkloadIdentityCredential, ManagedIdentityCredential, AzureCLICredential`,
  )
}

function environment(o: AzureDefaultCredentialsOptions, env: KMSEnvironment, common: AzureCredentialOptions) {
  const source = 'environment'
  const { AZURE_TENANT_ID: tenantId, AZURE_CLIENT_ID: clientId } = env
  if (!tenantId) return { source, unavailable: 'AZURE_TENANT_ID not set' }
  if (!clientId) return { source, unavailable: 'AZURE_CLIENT_ID not set' }
  const authorityHost = azureAuthorityHost(env)
  if (env.AZURE_CLIENT_SECRET) {
    const token = createAzureClientCredentials({
      ...common,
      tenantId,
      clientId,
      clientSecret: env.AZURE_CLIENT_SECRET,
      authorityHost,
    })
    return { source, detail: `client secret, client ID ${clientId}`, token }
  }
  const path = env.AZURE_CLIENT_CERTIFICATE_PATH
  if (path) {
    const load = o.loadClientCertificate
    if (!load) return { source, unavailable: 'AZURE_CLIENT_CERTIFICATE_PATH needs countersign/node to read the file' }
    const password = env.AZURE_CLIENT_CERTIFICATE_PASSWORD
    common.secrets?.add(password)
    const send = env.AZURE_CLIENT_SEND_CERTIFICATE_CHAIN
    const token = createAzureClientCertificateCredentials({
      ...common,
      tenantId,
      clientId,
      authorityHost,
      sendCertificateChain: send === '1' || send?.toLowerCase() === 'true',
      // azidentity cannot even build the credential from a bad file, and the chain passes it over.
      certificate: () =>
        load(path, password || undefined).catch((e: unknown) => {
          throw credentialUnavailable(`cannot use AZURE_CLIENT_CERTIFICATE_PATH: ${(e as Error).message}`, e)
        }),
    })
    return { source, detail: `client certificate ${path}, client ID ${clientId}`, token }
  }
  if (env.AZURE_USERNAME) return { source, unavailable: 'username/password (AZURE_USERNAME) is not supported' }
  return { source, unavailable: 'neither AZURE_CLIENT_SECRET nor AZURE_CLIENT_CERTIFICATE_PATH is set' }
}

function candidates(o: AzureDefaultCredentialsOptions): Candidate[] {
  const env = o.env ?? {}
  const {
    env: _e,
    federatedToken,
    loadClientCertificate: _l,
    azureCLI,
    readArcKey,
    tenantId,
    onCredentialSource: _c,
    ...common
  } = o
  const use = selected(env.AZURE_TOKEN_CREDENTIALS)
  const list: Candidate[] = []
  if (use.has('environment')) list.push(environment(o, env, common))
  if (use.has('workload identity')) {
    const source = 'workload identity'
    const tenant = env.AZURE_TENANT_ID || tenantId
    const missing = !tenant
      ? 'AZURE_TENANT_ID'
      : !env.AZURE_CLIENT_ID
        ? 'AZURE_CLIENT_ID'
        : !env.AZURE_FEDERATED_TOKEN_FILE && !federatedToken
          ? 'AZURE_FEDERATED_TOKEN_FILE'
          : undefined
    if (missing) list.push({ source, unavailable: `${missing} not set` })
    else if (!federatedToken) list.push({ source, unavailable: 'the token file needs countersign/node to read it' })
    else {
      const token = createAzureClientCredentials({
        ...common,
        tenantId: tenant!,
        clientId: env.AZURE_CLIENT_ID!,
        clientAssertion: federatedToken,
        authorityHost: azureAuthorityHost(env),
      })
      list.push({ source, detail: env.AZURE_FEDERATED_TOKEN_FILE ?? 'federated token', token })
    }
  }
  if (use.has('managed identity')) {
    const clientId = env.AZURE_CLIENT_ID
    const mi = selectAzureManagedIdentity({
      ...common,
      env,
      ...(clientId ? { clientId } : {}),
      ...(readArcKey ? { readArcKey } : {}),
    })
    const source = 'managed identity'
    if ('unavailable' in mi) list.push({ source, unavailable: mi.unavailable })
    else list.push({ source, detail: `${mi.kind}${clientId ? `, client ID ${clientId}` : ''}`, token: mi.token })
  }
  if (use.has('azure cli')) {
    const source = 'azure cli'
    if (!azureCLI) list.push({ source, unavailable: 'running az needs countersign/node' })
    else {
      const resource = o.resource ?? AZURE_VAULT_RESOURCE
      const token: AccessTokenSource = async ({ signal }) => {
        const got = await azureCLI({ resource, ...(tenantId ? { tenantId } : {}), ...(signal ? { signal } : {}) })
        common.secrets?.addTemporary(got.token)
        return got
      }
      list.push({ source, ...(tenantId ? { detail: `tenant ${tenantId}` } : {}), token })
    }
  }
  return list
}

/**
 * `DefaultAzureCredential`'s order: the environment (`AZURE_TENANT_ID` + `AZURE_CLIENT_ID` with
 * `AZURE_CLIENT_SECRET`, else `AZURE_CLIENT_CERTIFICATE_PATH`), workload identity (`AZURE_FEDERATED_TOKEN_FILE`),
 * managed identity (App Service, Azure Arc, IMDS; user-assigned when `AZURE_CLIENT_ID` is set), then the Azure CLI.
 * The first source that produces a token is kept (and reported once to `onCredentialSource`); with none, the error
 * names every source tried and why it was passed over.
 *
 * @param options - Environment, the Node parts (token file, certificate loader, `az`, Arc key reader), listener.
 * @returns A {@link AccessTokenSource | BearerTokenSource}.
 * @throws {CountersignError} ERR_KMS "no Azure credentials found; tried in order: …" when no source applies.
 * @example
 * ```ts
 * import { createAzureDefaultCredentials, createAzureKMSProvider } from 'countersign/kms/azure'
 * const kms = createAzureKMSProvider({ credentials: createAzureDefaultCredentials({ env: process.env }) })
 * ```
 *
 * Exported from `countersign/kms/azure`.
 */
export function createAzureDefaultCredentials(options: AzureDefaultCredentialsOptions = {}): AccessTokenSource {
  const list = candidates(options)
  let settled: Candidate | undefined
  return async ({ signal }) => {
    const sig = signal ? { signal } : {}
    if (settled) return settled.token!(sig)
    const tried: TriedCredentialSource[] = []
    for (const c of list) {
      if (!c.token) {
        tried.push({ source: c.source, reason: c.unavailable ?? 'not configured' })
        continue
      }
      let got: AccessToken
      try {
        got = await c.token(sig)
      } catch (e) {
        if (!isCredentialUnavailable(e)) throw e
        tried.push({ source: c.source, reason: options.secrets ? options.secrets.redact(e.message) : e.message })
        continue
      }
      settled = c
      options.onCredentialSource?.({ provider: 'azure', source: c.source, ...(c.detail ? { detail: c.detail } : {}) })
      return got
    }
    throw noCredentialsError('Azure', tried)
  }
}

/**
 * Azure credentials in Node: `DefaultAzureCredential`'s chain with the parts that need Node — the workload identity
 * token file (`AZURE_FEDERATED_TOKEN_FILE`, re-read for every token request because Kubernetes rotates it), the
 * client certificate file (`AZURE_CLIENT_CERTIFICATE_PATH`), the Azure Arc key file and the Azure CLI.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { CountersignError } from '../errors.js'
import { createSecretSet } from '../http/redact.js'
import { type AzureKMSProvider, type AzureKMSProviderOptions, createAzureKMSProvider } from '../kms/azure/provider.js'
import type { KMSEnvironment } from '../kms/types.js'
import { createAzureArcKeyReader } from './azure-arc-key.js'
import { createAzureCLITokenSource } from './azure-cli-credentials.js'
import { loadAzureClientCertificate } from './azure-client-certificate.js'

/**
 * Options for {@link azureKMSProviderFromEnvironment}.
 *
 * Exported from `countersign/node`.
 */
export interface AzureKMSProviderFromEnvironmentOptions extends AzureKMSProviderOptions {
  /** Environment (default `process.env`); `az` runs with it too. */
  readonly env?: KMSEnvironment
  /** The directory Azure Arc key files must be in (default the Arc agent's token directory). */
  readonly azureArcKeyDirectory?: string
  /** Time allowed for `az account get-access-token` (default 10 s). */
  readonly azureCLITimeoutMs?: number
}

/**
 * A reader for the workload identity token file (`AZURE_FEDERATED_TOKEN_FILE`), or undefined when it is not set.
 *
 * @param env - The environment (default `process.env`).
 * @returns A function reading the token afresh on each call.
 * @example
 * ```ts
 * import { createAzureDefaultCredentials } from 'countersign/kms/azure'
 * import { azureFederatedTokenReader } from 'countersign/node'
 * const credentials = createAzureDefaultCredentials({ env: process.env, federatedToken: azureFederatedTokenReader() })
 * ```
 *
 * Exported from `countersign/node`.
 */
export function azureFederatedTokenReader(
  env: KMSEnvironment = process.env,
): ((options: { readonly signal?: AbortSignal }) => Promise<string>) | undefined {
  const file = env.AZURE_FEDERATED_TOKEN_FILE
  if (!file) return undefined
  return async ({ signal } = {}) => {
    let text: string
    try {
      text = await readFile(file, { encoding: 'utf8', ...(signal ? { signal } : {}) })
    } catch (cause) {
      throw new CountersignError('ERR_INVALID_INPUT', `cannot read AZURE_FEDERATED_TOKEN_FILE ${file}`, { cause })
    }
    if (text.trim() === '')
      throw new CountersignError('ERR_INVALID_INPUT', `AZURE_FEDERATED_TOKEN_FILE ${file} is empty`)
    return text.trim()
  }
}

/**
 * The Azure Key Vault provider with Node's credential chain: `accessToken`/`credentials` options, else
 * `DefaultAzureCredential`'s order — the environment (`AZURE_TENANT_ID` + `AZURE_CLIENT_ID` with
 * `AZURE_CLIENT_SECRET`, else `AZURE_CLIENT_CERTIFICATE_PATH`), workload identity (`AZURE_FEDERATED_TOKEN_FILE`),
 * managed identity (App Service, Azure Arc, IMDS), the Azure CLI. `onCredentialSource` hears which one was used.
 *
 * @param options - Provider options; `env` defaults to `process.env`.
 * @returns The provider for `azurekms://` references.
 * @example
 * ```ts
 * import { azureKMSProviderFromEnvironment } from 'countersign/node'
 * const kms = azureKMSProviderFromEnvironment()
 * const signer = await kms.createSigner('azurekms://myvault.vault.azure.net/release')
 * ```
 *
 * Exported from `countersign/node`.
 */
export function azureKMSProviderFromEnvironment(
  options: AzureKMSProviderFromEnvironmentOptions = {},
): AzureKMSProvider {
  const env = options.env ?? process.env
  const secrets = options.secrets ?? createSecretSet()
  const federatedToken = options.federatedToken ?? azureFederatedTokenReader(env)
  const { azureArcKeyDirectory, azureCLITimeoutMs, ...rest } = options
  return createAzureKMSProvider({
    ...rest,
    env,
    secrets,
    ...(federatedToken ? { federatedToken } : {}),
    loadClientCertificate: options.loadClientCertificate ?? loadAzureClientCertificate,
    azureCLI:
      options.azureCLI ??
      createAzureCLITokenSource({
        env,
        secrets,
        ...(azureCLITimeoutMs !== undefined ? { timeoutMs: azureCLITimeoutMs } : {}),
      }),
    readArcKey:
      options.readArcKey ??
      createAzureArcKeyReader({
        env,
        ...(azureArcKeyDirectory !== undefined ? { directory: azureArcKeyDirectory } : {}),
      }),
  })
}

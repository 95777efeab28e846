/**
 * Helpers for the Azure credential-chain tests: the Key Vault stand-in and an Entra token endpoint issuing the
 * tokens it accepts, started together, and a sign-and-verify round trip through a provider (the signature is checked
 * with the key Key Vault hands out, so a credential that did not really sign fails the test).
 */
import { expect } from 'vitest'
import { verifySignature } from '../../src/keys/verify.js'
import type { KMSProvider } from '../../src/kms/types.js'
import { type AzureKeyVaultServer, startAzureKeyVaultServer } from './azure-keyvault-server.js'
import {
  type AzureTokenEndpoint,
  type AzureTokenEndpointOptions,
  startAzureTokenEndpoint,
} from './azure-token-endpoint.js'

/** A Key Vault stand-in holding the key `key`, and a token endpoint for its tenant and client. */
export async function startAzureStandIns(
  key: string,
  options: Omit<AzureTokenEndpointOptions, 'issueToken' | 'tenantId' | 'clientId'>,
): Promise<{ kv: AzureKeyVaultServer; te: AzureTokenEndpoint }> {
  const kv = await startAzureKeyVaultServer()
  kv.addKey(key)
  const te = await startAzureTokenEndpoint({
    issueToken: kv.issueToken,
    tenantId: kv.tenantId,
    clientId: kv.clientId,
    ...options,
  })
  return { kv, te }
}

/** Sign fresh data `what …` with the key `uri` through `provider` and verify the signature with its public key. */
export async function signAndVerify(provider: Pick<KMSProvider, 'createSigner'>, uri: string, what: string) {
  const signer = await provider.createSigner(uri)
  const data = new TextEncoder().encode(`${what} ${Math.random()}`)
  await expect(verifySignature(await signer.publicKey(), data, await signer.sign(data))).resolves.toBe(true)
}

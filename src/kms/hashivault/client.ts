/** A Vault client: configuration, token chain and authenticated requests. @module */
import { CountersignError } from '../../errors.js'
import { createVaultTokens } from './auth.js'
import { type HashiVaultKMSOptions, resolveConfig, type VaultConfig } from './config.js'
import { createVaultHTTP, type VaultRequest } from './http.js'

/** Authenticated Vault calls. Internal. */
export interface VaultClient {
  readonly config: VaultConfig
  call(request: Omit<VaultRequest, 'token' | 'secrets'>): Promise<unknown>
}

/** Build a client from provider options (throws ERR_INVALID_INPUT for a bad configuration). */
export function createVaultClient(options: HashiVaultKMSOptions): VaultClient {
  const config = resolveConfig(options)
  const http = createVaultHTTP(config, options)
  const tokens = createVaultTokens(options, http)
  return {
    config,
    async call(request) {
      for (let attempt = 0; ; attempt++) {
        const token = await tokens.token(request.signal)
        try {
          return await http({ ...request, token, secrets: [token, ...tokens.secrets()] })
        } catch (error) {
          // A revoked or expired AppRole token: log in again once. Static tokens are not retried.
          const denied = error instanceof CountersignError && error.details?.status === 403
          if (!denied || attempt > 0 || !tokens.invalidate(token)) throw error
        }
      }
    },
  }
}

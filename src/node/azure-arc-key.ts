/**
 * Reads the key file an Azure Arc identity endpoint names in its 401 challenge, with azidentity's checks
 * (`managed_identity_client.go`, `getAzureArcSecretKey`): the file must sit directly in the Arc agent's token
 * directory (`/var/opt/azcmagent/tokens` on Linux, `%ProgramData%\AzureConnectedMachineAgent\Tokens` on Windows),
 * end in `.key` and hold at most 4096 bytes. Whoever answers on the endpoint chooses the path, so these checks are
 * what keeps it from making countersign send other files' contents.
 *
 * @module
 */
import { readFile, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { CountersignError } from '../errors.js'
import { clipReason } from '../http/redact.js'
import type { AzureArcKeyReader } from '../kms/azure/managed-identity.js'
import type { KMSEnvironment } from '../kms/types.js'

/**
 * Options for {@link createAzureArcKeyReader}.
 *
 * Exported from `countersign/node`.
 */
export interface AzureArcKeyReaderOptions {
  /** The directory key files must be in (default: the Arc agent's, by platform). For tests and unusual installs. */
  readonly directory?: string
  /** Environment for `ProgramData` on Windows (default `process.env`). */
  readonly env?: KMSEnvironment
}

const MAX_KEY_BYTES = 4096

function refuse(message: string): CountersignError {
  return new CountersignError('ERR_KMS', `Azure Arc: ${message}`, { details: { provider: 'azurekms' } })
}

function agentDirectory(env: KMSEnvironment): string {
  if (process.platform === 'linux') return '/var/opt/azcmagent/tokens'
  if (process.platform === 'win32') {
    if (!env.ProgramData) throw refuse('environment variable ProgramData has no value')
    return join(env.ProgramData, 'AzureConnectedMachineAgent', 'Tokens')
  }
  throw refuse(`managed identity is not supported on ${process.platform}`)
}

/**
 * A reader for Azure Arc challenge key files, checking where they are and how large.
 *
 * @param options - The expected directory (default the Arc agent's) and environment.
 * @returns The `readArcKey` function for the Azure credential chain.
 * @throws {CountersignError} ERR_KMS (when called) for a path outside the directory, another suffix, or a large file.
 * @example
 * ```ts
 * import { createAzureKMSProvider } from 'countersign/kms/azure'
 * import { createAzureArcKeyReader } from 'countersign/node'
 * const kms = createAzureKMSProvider({ env: process.env, readArcKey: createAzureArcKeyReader() })
 * ```
 *
 * Exported from `countersign/node`.
 */
export function createAzureArcKeyReader(options: AzureArcKeyReaderOptions = {}): AzureArcKeyReader {
  return async (path, { signal } = {}) => {
    const expected = resolve(options.directory ?? agentDirectory(options.env ?? process.env))
    const shown = clipReason(path, { redact: (t) => t }, 200)
    if (dirname(path) !== expected || !path.endsWith('.key') || resolve(path) !== path) {
      throw refuse(`unexpected key file path from the identity endpoint: ${shown}`)
    }
    let size: number
    try {
      size = (await stat(path)).size
    } catch (cause) {
      throw new CountersignError('ERR_KMS', `Azure Arc: cannot stat ${shown}`, {
        cause,
        details: { provider: 'azurekms' },
      })
    }
    if (size > MAX_KEY_BYTES) throw refuse(`key file is too large (${size} bytes)`)
    try {
      return await readFile(path, { encoding: 'utf8', ...(signal ? { signal: signal as AbortSignal } : {}) })
    } catch (cause) {
      throw new CountersignError('ERR_KMS', `Azure Arc: cannot read ${shown}`, {
        cause,
        details: { provider: 'azurekms' },
      })
    }
  }
}

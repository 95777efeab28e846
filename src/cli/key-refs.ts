/**
 * Key references on the command line (`--key`): files, `env://NAME` (keys kept in CI secrets) and KMS URIs.
 * @module
 */
import { resolve } from 'node:path'
import { CountersignError } from '../errors.js'
import { parsePublicKey } from '../keys/parse-public.js'
import type { PrivateKey, PublicKey } from '../keys/types.js'
import { kmsScheme } from '../kms/uri.js'
import { loadPrivateKeyFile, loadPublicKeyFile, privateKeyFromPEM } from '../node/key-files.js'
import { keyPasswordReader } from '../node/password.js'
import type { CliIO } from './context.js'

/**
 * The key held in an environment variable, for cosign's `env://NAME` key references (`--key
 * env://COSIGN_PRIVATE_KEY`: keys kept in CI secrets); `undefined` for any other reference. The value is one of the
 * run's secrets from here on.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT, cosign's words, when the variable is not set.
 */
function envKey(ref: string, io: CliIO): Uint8Array | undefined {
  if (!ref.startsWith('env://')) return undefined
  const name = ref.slice('env://'.length)
  const value = io.env[name]
  if (value === undefined) throw new CountersignError('ERR_INVALID_INPUT', `loading URL: env var $${name} not found`)
  io.secrets?.add(value)
  return new TextEncoder().encode(value)
}

/**
 * Load a private key (a file, or `env://NAME`), asking for its password with cosign's rules (COSIGN_PASSWORD, TTY,
 * stdin). When there was no password to be had (no COSIGN_PASSWORD, no terminal, nothing piped in), the error says
 * to set COSIGN_PASSWORD; its code is the decryption's.
 */
export async function loadSigningKey(path: string, io: CliIO): Promise<PrivateKey> {
  const password = keyPasswordReader({ env: io.env, stdin: io.stdin, stderr: io.stderr as NodeJS.WriteStream })
  const bytes = envKey(path, io)
  try {
    return await (bytes
      ? privateKeyFromPEM(bytes, password.read)
      : loadPrivateKeyFile(resolve(io.cwd, path), password.read))
  } catch (error) {
    throw password.explain(error)
  }
}

/**
 * Load one or more public keys (`--key` may repeat or hold a comma list): files, `env://NAME`, or KMS references
 * (`awskms://…`).
 */
export async function loadVerificationKeys(paths: readonly string[], io: CliIO): Promise<PublicKey[]> {
  if (paths.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'a key reference (--key) is required')
  const sets = await Promise.all(
    paths.map(async (p) => {
      // KMS providers (and their HTTP signing code) load only for a KMS reference.
      if (kmsScheme(p) !== undefined) return (await import('./kms.js')).kmsVerificationKeys(p, io)
      const bytes = envKey(p, io)
      return [bytes ? parsePublicKey(bytes) : await loadPublicKeyFile(resolve(io.cwd, p))]
    }),
  )
  return sets.flat()
}

/**
 * The Vault CLI's token helpers as credential sources: the external helper `token_helper` of `~/.vault` names (run
 * as `<helper> get`, without a shell; its standard output is the token), and otherwise the CLI's internal helper,
 * the file `~/.vault-token` that `vault login` writes. As in the CLI (hashicorp/vault `api/cliconfig/util.go`
 * DefaultTokenHelper, `api/tokenhelper/helper_external.go`), a configured helper replaces the file: it is not read
 * then. Internal to `countersign/node`.
 *
 * @module
 */
import { readFile, stat } from 'node:fs/promises'
import { isAbsolute, join, resolve } from 'node:path'
import { CountersignError } from '../errors.js'
import type { HashiVaultCredential, HashiVaultCredentialSource } from '../kms/hashivault/index.js'
import { runHelperProgram } from './helper-process.js'
import { loadVaultCLIConfig, type VaultCLIConfig } from './vault-cli-config.js'

/** Options of {@link vaultTokenHelperSources}. */
export interface VaultTokenHelperOptions {
  /** The environment: `VAULT_CONFIG_PATH`, and the helper's own environment. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Home directory of `~/.vault` and `~/.vault-token`. */
  readonly homeDir: string
  /** Time a helper may take (default 60 s). */
  readonly timeoutMs?: number
}

/** A token is a few hundred bytes; a helper printing more is not printing a token. */
const MAX_OUTPUT = 64 * 1024

function helperError(message: string, cause?: unknown): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', message, {
    ...(cause !== undefined ? { cause } : {}),
    details: { provider: 'hashivault', reason: 'token-helper' },
  })
}

/**
 * Run `<helper> get` and return its trimmed standard output. The helper inherits `env`, as the CLI's does. Its
 * output may hold the token, so errors name only the program and its exit status.
 */
export async function runVaultTokenHelper(
  program: string,
  env: Readonly<Record<string, string | undefined>>,
  timeoutMs: number,
): Promise<string> {
  const outcome = await runHelperProgram(program, ['get'], { env, timeoutMs, maxStdout: MAX_OUTPUT })
  switch (outcome.kind) {
    case 'timeout':
      throw helperError(`the Vault token helper ${program} did not answer within ${timeoutMs} ms`)
    case 'too-much-output':
      throw helperError(`the Vault token helper ${program} printed too much`)
    case 'not-started':
      throw helperError(`the Vault token helper ${program} could not be run`, outcome.error)
  }
  if (outcome.code !== 0) {
    const why = outcome.signal ? `was killed by ${outcome.signal}` : `failed with exit status ${outcome.code}`
    throw helperError(`the Vault token helper ${program} ${why}`)
  }
  return outcome.stdout.trim()
}

/** The helper path as the CLI takes it: relative paths are made absolute; the program must exist. */
async function helperPath(config: VaultCLIConfig, helper: string): Promise<string> {
  const path = isAbsolute(helper) ? helper : resolve(helper)
  try {
    await stat(path)
  } catch (cause) {
    throw helperError(`the Vault token helper ${path} (token_helper in ${config.path}) does not exist`, cause)
  }
  return path
}

/**
 * Two sources, in the CLI's order: `token helper` (the external helper, when `~/.vault` names one) and `token file`
 * (`~/.vault-token`, read only when no helper is configured). The configuration is read once.
 *
 * @example
 * ```ts
 * const sources = vaultTokenHelperSources({ env: process.env, homeDir: homedir() })
 * ```
 */
export function vaultTokenHelperSources(options: VaultTokenHelperOptions): HashiVaultCredentialSource[] {
  let config: Promise<VaultCLIConfig> | undefined
  const load = () => {
    config ??= loadVaultCLIConfig(options.env, options.homeDir)
    return config
  }
  const tokenFile = join(options.homeDir, '.vault-token')
  const helper: HashiVaultCredentialSource = {
    source: 'token helper',
    async resolve(): Promise<HashiVaultCredential> {
      const c = await load()
      if (c.tokenHelper === undefined) {
        return { skip: c.found ? `no token_helper in ${c.path}` : `${c.path} not found` }
      }
      const program = await helperPath(c, c.tokenHelper)
      const token = await runVaultTokenHelper(program, options.env, options.timeoutMs ?? 60_000)
      return token === '' ? { skip: `${program} printed no token` } : { token, detail: program }
    },
  }
  const file: HashiVaultCredentialSource = {
    source: 'token file',
    async resolve(): Promise<HashiVaultCredential> {
      const c = await load()
      if (c.tokenHelper !== undefined) {
        return { skip: `not read: ${c.path} configures a token helper, which replaces it (as in the Vault CLI)` }
      }
      const token = await readTokenFile(tokenFile)
      return token === undefined ? { skip: `${tokenFile} not found or empty` } : { token, detail: tokenFile }
    },
  }
  return [helper, file]
}

/** The `~/.vault-token` file `vault login` writes (the default token helper); undefined when absent or empty. */
async function readTokenFile(path: string): Promise<string | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    // The message names the file, never its content.
    throw new CountersignError('ERR_INVALID_INPUT', `reading the Vault token file ${path} failed`, {
      cause,
      details: { provider: 'hashivault', reason: 'token-file' },
    })
  }
  const token = text.trim()
  return token === '' ? undefined : token
}

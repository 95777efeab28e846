/**
 * The AWS shared config and credentials files (`~/.aws/config`, `~/.aws/credentials`, moved by `AWS_CONFIG_FILE` /
 * `AWS_SHARED_CREDENTIALS_FILE`): their INI dialect, `[profile NAME]` / `[default]` / `[sso-session NAME]` sections in
 * config, bare `[NAME]` sections in credentials, and the credentials file winning for a key both set (as in the Go
 * SDK's `config/shared_config.go`, which loads config first and lets credentials override it). Internal to the Node
 * adapter.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { CountersignError } from '../errors.js'

/** One profile's keys, lower-cased. */
export type AWSProfile = Readonly<Record<string, string>>

/** The two files, parsed. */
export interface AWSSharedConfig {
  readonly configPath: string
  readonly credentialsPath: string
  /** The merged profile, or `undefined` when neither file has it. */
  profile(name: string): AWSProfile | undefined
  /** An `[sso-session NAME]` section of the config file. */
  ssoSession(name: string): AWSProfile | undefined
}

type Environment = Readonly<Record<string, string | undefined>>

/**
 * The home directory for `~/.aws`: the option, `$HOME`, then the OS's.
 *
 * @example
 * ```ts
 * const home = awsHomeDir({}, process.env)
 * ```
 */
export function awsHomeDir(options: { readonly homeDir?: string }, env: Environment): string {
  return options.homeDir ?? (nonEmpty(env.HOME) || homedir())
}

/**
 * Read and parse both files; a missing file is empty.
 *
 * @throws {CountersignError} ERR_KMS when a file exists but cannot be read.
 * @example
 * ```ts
 * const shared = await loadAWSSharedConfig({}, process.env)
 * const release = shared.profile('release')
 * ```
 */
export async function loadAWSSharedConfig(
  options: { readonly homeDir?: string },
  env: Environment,
): Promise<AWSSharedConfig> {
  const home = awsHomeDir(options, env)
  const configPath = nonEmpty(env.AWS_CONFIG_FILE) ?? join(home, '.aws', 'config')
  const credentialsPath = nonEmpty(env.AWS_SHARED_CREDENTIALS_FILE) ?? join(home, '.aws', 'credentials')
  const config = parseINI(await readOptional(configPath))
  const credentials = parseINI(await readOptional(credentialsPath))
  return {
    configPath,
    credentialsPath,
    profile(name) {
      const fromConfig = config.get(`profile ${name}`) ?? (name === 'default' ? config.get('default') : undefined)
      const fromCredentials = credentials.get(name)
      if (fromConfig === undefined && fromCredentials === undefined) return undefined
      return { ...(fromConfig ?? {}), ...(fromCredentials ?? {}) }
    },
    ssoSession: (name) => config.get(`sso-session ${name}`),
  }
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ''
    throw new CountersignError('ERR_KMS', `cannot read AWS shared config file ${path}`, {
      cause: error,
      details: { provider: 'aws', reason: 'config-file' },
    })
  }
}

/** The AWS INI dialect: `[section]`, `key = value`, `#`/`;` comment lines, keys case-insensitive. */
function parseINI(text: string): Map<string, Record<string, string>> {
  const sections = new Map<string, Record<string, string>>()
  let current: Record<string, string> | undefined
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const section = /^\[\s*([^\]]+?)\s*\]$/.exec(line)
    if (section) {
      const name = section[1]!.replace(/\s+/g, ' ')
      current = sections.get(name) ?? {}
      sections.set(name, current)
      continue
    }
    const eq = line.indexOf('=')
    // Lines without `=` and nested sub-properties (indented `key =` under `s3 =`) carry nothing we read.
    if (current === undefined || eq <= 0 || /^\s/.test(raw)) continue
    const key = line.slice(0, eq).trim().toLowerCase()
    const value = line.slice(eq + 1).trim()
    if (!Object.hasOwn(current, key)) current[key] = value
  }
  return sections
}

/** The trimmed value, or `undefined` when unset or blank. */
export function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim()
  return t === undefined || t === '' ? undefined : t
}

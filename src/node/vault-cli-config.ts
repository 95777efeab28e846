/**
 * The Vault CLI's own configuration file: `~/.vault`, or the file `VAULT_CONFIG_PATH` names, in HCL or JSON. Its only
 * setting is `token_helper`, the program the CLI asks for its token instead of reading `~/.vault-token`
 * (hashicorp/vault `api/cliconfig/config.go`: any other key is an error, as here). Internal to `countersign/node`.
 *
 * Only the part of HCL such a file uses is read: `key = "string"` assignments (keys bare or quoted), `#`, `//` and
 * `/* *\/` comments; anything else is refused rather than guessed at.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CountersignError } from '../errors.js'

/** What the file configures. */
export interface VaultCLIConfig {
  /** The file read (for messages). */
  readonly path: string
  /** Whether the file exists. */
  readonly found: boolean
  /** `token_helper`, when set and not empty. */
  readonly tokenHelper?: string
}

function invalid(path: string, why: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', `the Vault CLI configuration ${path} is not valid: ${why}`, {
    details: { provider: 'hashivault', reason: 'cli-config' },
  })
}

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', '/': '/' }

/** The `key = "value"` pairs of an HCL body, or an error message. */
function parseHCL(text: string): Map<string, { value: unknown; line: number }> | string {
  const out = new Map<string, { value: unknown; line: number }>()
  let i = 0
  const lineAt = (at: number) => text.slice(0, at).split('\n').length
  const skip = () => {
    for (;;) {
      while (i < text.length && /\s/.test(text[i]!)) i++
      if (text[i] === '#' || text.startsWith('//', i)) {
        while (i < text.length && text[i] !== '\n') i++
      } else if (text.startsWith('/*', i)) {
        const end = text.indexOf('*/', i + 2)
        if (end < 0) return false
        i = end + 2
      } else return true
    }
  }
  const string = (): string | undefined => {
    if (text[i] !== '"') return undefined
    let s = ''
    for (i++; i < text.length && text[i] !== '"'; i++) {
      if (text[i] === '\n') return undefined
      if (text[i] !== '\\') {
        s += text[i]
        continue
      }
      const c = text[++i]!
      if (c === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) {
        s += String.fromCharCode(Number.parseInt(text.slice(i + 1, i + 5), 16))
        i += 4
      } else if (ESCAPES[c] !== undefined) s += ESCAPES[c]
      else return undefined
    }
    if (text[i] !== '"') return undefined
    i++
    return s
  }
  for (;;) {
    if (!skip()) return 'an unterminated comment'
    if (i >= text.length) return out
    const line = lineAt(i)
    let key = string()
    if (key === undefined) {
      const m = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(text.slice(i))
      if (m === null) return `unexpected text on line ${line}`
      key = m[0]
      i += key.length
    }
    skip()
    if (text[i] !== '=') return `expected "=" after ${JSON.stringify(key)} on line ${line}`
    i++
    skip()
    const value = string()
    if (value === undefined) return `${JSON.stringify(key)} on line ${line} is not a quoted string`
    out.set(key, { value, line })
  }
}

/**
 * Parse the file's text (`path` is for messages).
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for a file the Vault CLI would refuse too.
 * @example
 * ```ts
 * parseVaultCLIConfig('token_helper = "/usr/local/bin/vault-helper"', '~/.vault').tokenHelper
 * ```
 */
export function parseVaultCLIConfig(text: string, path: string): VaultCLIConfig {
  let entries: Map<string, { value: unknown; line: number }>
  if (text.trimStart().startsWith('{')) {
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch {
      throw invalid(path, 'it is not JSON')
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid(path, 'not a JSON object')
    entries = new Map(Object.entries(doc).map(([k, value]) => [k, { value, line: 1 }]))
  } else {
    const parsed = parseHCL(text)
    if (typeof parsed === 'string') throw invalid(path, parsed)
    entries = parsed
  }
  for (const [key, { line }] of entries) {
    if (key !== 'token_helper') throw invalid(path, `invalid key ${JSON.stringify(key)} on line ${line}`)
  }
  const helper = entries.get('token_helper')?.value
  if (helper !== undefined && typeof helper !== 'string') throw invalid(path, 'token_helper is not a string')
  return { path, found: true, ...(helper ? { tokenHelper: helper } : {}) }
}

/**
 * Read the Vault CLI configuration: `VAULT_CONFIG_PATH`, else `~/.vault` (a leading `~` is the home directory, as
 * go-homedir expands it). A missing file configures nothing.
 *
 * @example
 * ```ts
 * const { tokenHelper } = await loadVaultCLIConfig(process.env, homedir())
 * ```
 */
export async function loadVaultCLIConfig(
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string,
): Promise<VaultCLIConfig> {
  const raw = env.VAULT_CONFIG_PATH || '~/.vault'
  const path = raw === '~' ? homeDir : raw.startsWith('~/') ? join(homeDir, raw.slice(2)) : raw
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return { path, found: false }
    throw new CountersignError('ERR_INVALID_INPUT', `reading the Vault CLI configuration ${path} failed`, {
      cause,
      details: { provider: 'hashivault', reason: 'cli-config' },
    })
  }
  return parseVaultCLIConfig(text, path)
}

/**
 * The secrets one CLI process reads from its flags and environment, registered in the process's secret set (which
 * every client of the run shares and adds the credentials it resolves to: Docker config entries, issued tokens), so
 * that no error, log line or output built from a server's answer can carry one.
 * @module
 */
import type { SecretSet } from '../http/redact.js'
import type { ParsedFlags } from './args.js'

/**
 * Environment variables that hold secrets: passwords, tokens and client secrets of the credential chains the verbs
 * use (cosign's key password, Sigstore identity tokens, AWS, Google, Azure and Vault credentials).
 *
 * @example
 * SECRET_ENVIRONMENT.includes('AWS_SESSION_TOKEN') // true
 */
export const SECRET_ENVIRONMENT: readonly string[] = [
  'COSIGN_PASSWORD',
  'SIGSTORE_ID_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SECRET_KEY',
  'AWS_SESSION_TOKEN',
  'GOOGLE_OAUTH_ACCESS_TOKEN',
  'AZURE_CLIENT_SECRET',
  'IDENTITY_HEADER',
  'VAULT_TOKEN',
  'BAO_TOKEN',
  'VAULT_SECRET_ID',
]

/**
 * Flags whose value is a secret. (`--identity-token` may name a file instead; the token read from it is registered
 * where it is read.)
 *
 * @example
 * SECRET_FLAGS.includes('registry-password') // true
 */
export const SECRET_FLAGS: readonly string[] = ['registry-password', 'registry-token']

/**
 * Register the secrets of `env` and `flags` in `secrets`: the values of {@link SECRET_ENVIRONMENT} and
 * {@link SECRET_FLAGS}, and `user:password` of `--registry-username`/`--registry-password` (a Basic header's
 * base64 is that pair's).
 *
 * @example
 * registerCliSecrets(io.secrets, io.env, parsed.flags)
 */
export function registerCliSecrets(
  secrets: SecretSet,
  env: Readonly<Record<string, string | undefined>>,
  flags?: ParsedFlags,
): void {
  secrets.add(...SECRET_ENVIRONMENT.map((name) => env[name]))
  if (flags === undefined) return
  const str = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined)
  secrets.add(...SECRET_FLAGS.map(str))
  const user = str('registry-username')
  const password = str('registry-password')
  if (password !== undefined) secrets.add(`${user ?? ''}:${password}`)
}

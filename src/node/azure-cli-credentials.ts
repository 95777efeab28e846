/**
 * The Azure CLI as a token source, as azidentity's `AzureCLICredential` (`azure_cli_credential.go`) uses it:
 * `az account get-access-token --output json --resource <resource>` (a v1 resource, since older CLIs take no v2
 * scope), `--tenant` when a tenant is asked for, ten seconds at most; `accessToken` and `expires_on` (epoch seconds)
 * from its JSON, else `expiresOn` read as local time. Unlike azidentity, `az` is started without a shell (on
 * Windows `az.cmd` needs `cmd.exe`; its arguments are checked against the same character sets azidentity allows).
 * Every failure is "not available" to the default chain, as azidentity's `unavailableIfInDAC`.
 *
 * @module
 */
import { spawn } from 'node:child_process'
import { CountersignError } from '../errors.js'
import { clipReason } from '../http/redact.js'
import type { SecretSet } from '../http/secret-set.js'
import type { AccessToken } from '../kms/access-token.js'
import type { AzureCLITokenSource } from '../kms/azure/default-chain.js'
import { credentialUnavailable } from '../kms/azure/unavailable.js'
import type { KMSEnvironment } from '../kms/types.js'

/**
 * Options for {@link createAzureCLITokenSource}.
 *
 * Exported from `countersign/node`.
 */
export interface AzureCLITokenSourceOptions {
  /** The environment `az` runs with, and whose `PATH` finds it (default `process.env`). */
  readonly env?: KMSEnvironment
  /** Time allowed for `az` (default 10 s, azidentity's `cliTimeout`). */
  readonly timeoutMs?: number
  /** `--subscription` (azidentity's `AzureCLICredentialOptions.Subscription`). */
  readonly subscription?: string
  /** Secrets to redact `az`'s error output with (tokens are added to it). */
  readonly secrets?: SecretSet
}

const MAX_STDOUT = 1 << 20
const MAX_STDERR = 16 << 10
// azidentity's validScope / validTenantID / subscription checks: these go on a command line.
const RESOURCE = /^[0-9A-Za-z._:/-]+$/
const TENANT = /^[0-9A-Za-z.-]+$/
const SUBSCRIPTION = /^[0-9A-Za-z._ -]+$/

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

function run(args: string[], env: KMSEnvironment, timeoutMs: number, signal?: AbortSignal): Promise<Run> {
  const windows = process.platform === 'win32'
  // az is a .cmd script on Windows, which only cmd.exe runs; elsewhere no shell is involved.
  const [file, argv] = windows
    ? [
        env.ComSpec ?? 'cmd.exe',
        ['/d', '/s', '/c', `"az ${args.map((a) => (a.includes(' ') ? `"${a}"` : a)).join(' ')}"`],
      ]
    : ['az', args]
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, {
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
      windowsVerbatimArguments: windows,
      // azidentity runs az from a system directory so a planted az in the working directory is never found.
      ...(windows && env.SYSTEMROOT ? { cwd: env.SYSTEMROOT } : {}),
    })
    let stdout = ''
    let stderr = ''
    let failure: Error | undefined
    const stop = (e: Error) => {
      failure ??= e
      child.kill('SIGKILL')
    }
    const timer = setTimeout(
      () => stop(credentialUnavailable(`az did not answer within ${timeoutMs / 1000} s`)),
      timeoutMs,
    )
    // An abort is the caller's decision, not a missing source: it ends the chain.
    const onAbort = () => stop(new CountersignError('ERR_ABORTED', 'az was aborted'))
    signal?.addEventListener('abort', onAbort, { once: true })
    if (signal?.aborted) onAbort()
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      if (stdout.length > MAX_STDOUT) stop(credentialUnavailable('az printed more than 1 MiB'))
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < MAX_STDERR) stderr += chunk.slice(0, MAX_STDERR - stderr.length)
    })
    let done = false
    const finish = (code: number | null) => {
      if (done) return
      done = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      if (failure) reject(failure)
      else resolve({ code, stdout, stderr })
    }
    child.on('error', (e: NodeJS.ErrnoException) => {
      failure ??=
        e.code === 'ENOENT'
          ? credentialUnavailable('Azure CLI (az) not found on PATH')
          : credentialUnavailable(`cannot run az (${e.code ?? 'error'})`)
      // A process that never started may not emit 'close'.
      if (child.pid === undefined) finish(null)
    })
    child.on('close', finish)
  })
}

/** `expiresOn` as the CLI prints it: local time, `2006-01-02 15:04:05.999999` (azidentity's fallback). */
function parseLocalTime(value: unknown): number | undefined {
  const m = typeof value === 'string' && /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/.exec(value)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, frac = '0'] = m
  const ms = Math.floor(Number(frac.padEnd(6, '0')) / 1000)
  const t = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms).getTime()
  return Number.isFinite(t) ? t : undefined
}

function tokenOf(stdout: string): AccessToken {
  let doc: Record<string, unknown>
  try {
    doc = JSON.parse(stdout)
  } catch {
    // The output holds the token: never quoted.
    throw credentialUnavailable('az printed no JSON')
  }
  const token = doc?.accessToken
  if (typeof token !== 'string' || token === '' || /[\s\u0000-\u001f\u007f]/.test(token)) {
    throw credentialUnavailable('az printed no accessToken')
  }
  const epoch = doc.expires_on
  const seconds =
    typeof epoch === 'number' ? epoch : typeof epoch === 'string' && /^\d{1,12}$/.test(epoch) ? Number(epoch) : 0
  const expiresAt = seconds > 0 ? seconds * 1000 : parseLocalTime(doc.expiresOn)
  if (expiresAt === undefined) throw credentialUnavailable('az printed no expires_on or expiresOn')
  return { token, expiresAt }
}

/**
 * A token source running the Azure CLI (`az account get-access-token`), as azidentity's `AzureCLICredential`.
 * Failures are ERR_KMS `no-credentials`: "Azure CLI (az) not found on PATH", "not logged in: run 'az login'", a
 * timeout, or the CLI's own first error line (redacted, clipped). The token is never in a message.
 *
 * @param options - Environment, timeout, subscription, secrets.
 * @returns The source the default chain uses (`azureCLI`), also usable alone through `credentials`.
 * @example
 * ```ts
 * import { createAzureKMSProvider } from 'countersign/kms/azure'
 * import { createAzureCLITokenSource } from 'countersign/node'
 * const azureCLI = createAzureCLITokenSource()
 * const kms = createAzureKMSProvider({ credentials: ({ signal }) => azureCLI({ resource: 'https://vault.azure.net', signal }) })
 * ```
 *
 * Exported from `countersign/node`.
 */
export function createAzureCLITokenSource(options: AzureCLITokenSourceOptions = {}): AzureCLITokenSource {
  const env = options.env ?? process.env
  const timeoutMs = options.timeoutMs ?? 10_000
  return async ({ resource, tenantId, signal }) => {
    if (!RESOURCE.test(resource)) throw credentialUnavailable('the Key Vault resource has characters az cannot take')
    if (tenantId !== undefined && !TENANT.test(tenantId)) throw credentialUnavailable('invalid tenant ID for az')
    const sub = options.subscription
    if (sub !== undefined && !SUBSCRIPTION.test(sub)) throw credentialUnavailable('invalid subscription for az')
    const args = ['account', 'get-access-token', '--output', 'json', '--resource', resource]
    if (tenantId) args.push('--tenant', tenantId)
    if (sub) args.push('--subscription', sub)
    const result = await run(args, env, timeoutMs, signal as AbortSignal | undefined)
    if (result.code !== 0) {
      const text = result.stderr
      if (result.code === 127 || /'az' is not recognized/.test(text)) {
        throw credentialUnavailable('Azure CLI (az) not found on PATH')
      }
      if (/az login/i.test(text)) throw credentialUnavailable("Azure CLI is not logged in: run 'az login'")
      const line = text.split('\n').find((l) => l.trim() !== '') ?? `exit code ${result.code}`
      const reason = clipReason(line, options.secrets ?? { redact: (t) => t }, 200)
      throw credentialUnavailable(`az account get-access-token failed: ${reason}`)
    }
    const token = tokenOf(result.stdout)
    options.secrets?.addTemporary(token.token)
    return token
  }
}

/**
 * A profile's `credential_process`: an external program that prints AWS credentials as JSON on stdout. The command
 * runs the way the AWS SDK for Go v2 (cosign's SDK, `credentials/processcreds`) runs it: the whole line is handed to
 * `sh -c` (`cmd.exe /C` on Windows), so quoting, `$VAR` and `~` behave as they do for cosign and the AWS CLI's Go
 * tools. The line comes from the user's own config file, which the SDKs treat as trusted; countersign passes the
 * program no secret (nothing in its arguments, stdin closed) and only inherits the environment.
 *
 * @module
 */
import { spawn } from 'node:child_process'
import { CountersignError } from '../errors.js'
import type { SecretSet } from '../http/redact.js'
import { isJSONObject } from '../internal/json.js'
import { type AWSCredentialProvider, type AWSCredentials, cacheAWSCredentials } from '../kms/aws/credentials.js'

/**
 * Options for {@link createAWSCredentialProcess}.
 *
 * @example
 * ```ts
 * import type { AWSCredentialProcessOptions } from 'countersign/node'
 * const options: AWSCredentialProcessOptions = { timeoutMs: 30_000, label: 'profile "build"' }
 * ```
 *
 * Exported from `countersign/node`.
 */
export interface AWSCredentialProcessOptions {
  /** Environment of the process (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Time the process may run (default 60 s, the Go SDK's `processcreds.DefaultTimeout`). */
  readonly timeoutMs?: number
  /** Names the source in errors, e.g. `profile "build"` (never the command line, which may carry a secret). */
  readonly label?: string
  /** Learns the secret key and session token the process prints. */
  readonly secrets?: SecretSet
  /** Clock for the cache (credentials with an `Expiration` are fetched again five minutes before it). */
  readonly now?: () => Date
}

const MAX_STDOUT = 64 * 1024

/**
 * Credentials from a `credential_process` command: JSON `{ "Version": 1, "AccessKeyId", "SecretAccessKey",
 * "SessionToken"?, "Expiration"? }` on stdout (the AWS CLI's process credential format). Credentials without
 * `Expiration` are kept; others are fetched again five minutes before they expire.
 *
 * @param command - The `credential_process` value, run with `sh -c` (`cmd.exe /C` on Windows).
 * @param options - Environment, timeout, label for errors, secret set and clock.
 * @returns A credential provider.
 * @throws {CountersignError} ERR_KMS (from the provider) when the process cannot start, times out, exits non-zero
 *   (the exit code is in `details.exitCode`), or prints anything other than Version 1 credentials. Neither its
 *   stdout nor its stderr is quoted: both may hold secrets.
 * @example
 * ```ts
 * import { createAWSCredentialProcess } from 'countersign/node'
 * const credentials = createAWSCredentialProcess('aws-vault export --format=json build')
 * ```
 *
 * Exported from `countersign/node`.
 */
export function createAWSCredentialProcess(
  command: string,
  options: AWSCredentialProcessOptions = {},
): AWSCredentialProvider {
  if (typeof command !== 'string' || command.trim() === '') {
    throw new CountersignError('ERR_INVALID_INPUT', 'credential_process is empty', { details: { provider: 'aws' } })
  }
  const label = options.label ?? 'credential_process'
  const run: AWSCredentialProvider = async (callOptions) => {
    const stdout = await execute(command, label, options, callOptions?.signal as AbortSignal | undefined)
    const credentials = parse(stdout, label)
    options.secrets?.addTemporary(credentials.secretAccessKey, credentials.sessionToken)
    return credentials
  }
  return cacheAWSCredentials(run, options.now ? { now: options.now } : {})
}

function fail(message: string, details: Record<string, unknown> = {}, cause?: unknown): CountersignError {
  return new CountersignError('ERR_KMS', message, {
    ...(cause !== undefined ? { cause } : {}),
    details: { provider: 'aws', reason: 'credential-process', ...details },
  })
}

function execute(
  command: string,
  label: string,
  options: AWSCredentialProcessOptions,
  signal: AbortSignal | undefined,
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 60_000
  const windows = process.platform === 'win32'
  return new Promise((resolve, reject) => {
    const child = spawn(windows ? 'cmd.exe' : '/bin/sh', windows ? ['/C', command] : ['-c', command], {
      env: (options.env ?? process.env) as NodeJS.ProcessEnv,
      // No stdin: countersign never prompts (the admission webhook has no terminal); stderr is read, not shown.
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsVerbatimArguments: windows,
    })
    const out: Buffer[] = []
    let outBytes = 0
    let errBytes = 0
    let settled = false
    const finish = (error: CountersignError | undefined, value = '') => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      if (error !== undefined) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
        reject(error)
      } else resolve(value)
    }
    const onAbort = () => finish(fail(`${label}: credential_process was aborted`, { aborted: true }))
    signal?.addEventListener('abort', onAbort, { once: true })
    const timer = setTimeout(
      () => finish(fail(`${label}: credential_process did not finish within ${timeoutMs} ms`, { timeout: true })),
      timeoutMs,
    )
    child.stdout.on('data', (c: Buffer) => {
      outBytes += c.length
      if (outBytes > MAX_STDOUT) {
        finish(fail(`${label}: credential_process printed more than ${MAX_STDOUT} bytes`))
      } else out.push(c)
    })
    // Drained so that a chatty process cannot block on a full pipe; never quoted (it may echo a secret).
    child.stderr.on('data', (c: Buffer) => {
      errBytes += c.length
    })
    child.on('error', (e: NodeJS.ErrnoException) => {
      finish(fail(`${label}: credential_process could not be started (${e.code ?? 'error'})`, {}, e))
    })
    child.on('close', (code, killedBy) => {
      if (code === 0) return finish(undefined, Buffer.concat(out).toString('utf8'))
      const how = code !== null ? `exited with code ${code}` : `was killed by ${killedBy}`
      finish(
        fail(
          `${label}: credential_process ${how}${errBytes > 0 ? ` (its ${errBytes} bytes of stderr are not shown: they may hold secrets)` : ''}`,
          { ...(code !== null ? { exitCode: code } : { signal: killedBy }) },
        ),
      )
    })
  })
}

function parse(stdout: string, label: string): AWSCredentials {
  let doc: unknown
  try {
    doc = JSON.parse(stdout)
  } catch {
    // The parser's message quotes the output, which holds the secret key when it is almost JSON.
    throw fail(`${label}: credential_process printed something that is not JSON`, { reason: 'invalid-response' })
  }
  if (!isJSONObject(doc)) throw fail(`${label}: credential_process printed JSON that is not an object`)
  if (doc.Version !== 1) throw fail(`${label}: credential_process output has Version ${String(doc.Version)}, not 1`)
  const { AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey, SessionToken: token, Expiration: exp } = doc
  if (typeof accessKeyId !== 'string' || accessKeyId === '') {
    throw fail(`${label}: credential_process output lacks AccessKeyId`)
  }
  if (typeof secretAccessKey !== 'string' || secretAccessKey === '') {
    throw fail(`${label}: credential_process output lacks SecretAccessKey`)
  }
  if (token !== undefined && typeof token !== 'string') {
    throw fail(`${label}: credential_process output has a SessionToken that is not a string`)
  }
  let expiration: Date | undefined
  if (exp !== undefined && exp !== null) {
    // RFC 3339, as Go's time.Time unmarshals it.
    expiration = typeof exp === 'string' && /^\d{4}-\d\d-\d\dT/.test(exp) ? new Date(exp) : undefined
    if (expiration === undefined || Number.isNaN(expiration.getTime())) {
      throw fail(`${label}: credential_process output has an Expiration that is not an RFC 3339 time`)
    }
  }
  return Object.freeze({
    accessKeyId,
    secretAccessKey,
    ...(token ? { sessionToken: token } : {}),
    ...(expiration !== undefined ? { expiration } : {}),
  })
}

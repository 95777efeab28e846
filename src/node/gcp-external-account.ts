/**
 * The host side of Google's `external_account` credential sources in Node: reading a subject-token file (bounded,
 * re-read on every exchange) and running `credential_source.executable` the way `golang.org/x/oauth2/google/
 * externalaccount` does: the command split on white space and started without a shell, the process environment
 * plus the `GOOGLE_EXTERNAL_ACCOUNT_*` variables, killed at `timeout_millis`, its standard output (or, when empty,
 * its standard error) as the answer. Whether executables may run at all (`GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES`)
 * is checked before the runner is called.
 *
 * @module
 */
import { execFile } from 'node:child_process'
import { open } from 'node:fs/promises'
import { CountersignError } from '../errors.js'
import type { GCPExecutableRunner } from '../kms/gcp/credential-options.js'
import type { KMSEnvironment } from '../kms/types.js'

/** What the Go client reads of a token file or an executable's output. */
const MAX_BYTES = 1 << 20

function failure(message: string, reason: string, cause?: unknown): CountersignError {
  return new CountersignError('ERR_KMS', message, {
    ...(cause !== undefined ? { cause } : {}),
    details: { provider: 'gcpkms', reason },
  })
}

/**
 * Read a subject-token file or an executable's output file as UTF-8, refusing more than 1 MiB.
 *
 * @param path - The file.
 * @param options - An abort signal.
 * @returns The file's text.
 * @throws {CountersignError} ERR_KMS when the file is larger than 1 MiB; Node's error when it cannot be read.
 * @example
 * ```ts
 * import { createGCPCredentialsFromJSON } from 'countersign/kms/gcp'
 * import { readGCPCredentialSourceFile } from 'countersign/node'
 * const credentials = createGCPCredentialsFromJSON(json, { readFile: readGCPCredentialSourceFile })
 * ```
 *
 * Exported from `countersign/node`.
 */
export async function readGCPCredentialSourceFile(
  path: string,
  options: { readonly signal?: AbortSignal } = {},
): Promise<string> {
  options.signal?.throwIfAborted()
  const handle = await open(path, 'r')
  try {
    const buffer = new Uint8Array(MAX_BYTES + 1)
    let length = 0
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null)
      if (bytesRead === 0) break
      length += bytesRead
      if (length > MAX_BYTES)
        throw failure(`Google credential source file ${path} is larger than 1 MiB`, 'subject-token')
    }
    return new TextDecoder().decode(buffer.subarray(0, length))
  } finally {
    await handle.close()
  }
}

/**
 * A runner for `credential_source.executable`: no shell, the environment `env` (default `process.env`) plus the
 * request's variables, killed (SIGKILL) when `timeoutMs` passes.
 *
 * @param options - The environment the program inherits.
 * @returns The runner to pass as `runExecutable`.
 * @throws {CountersignError} (from the runner) ERR_KMS with `details.reason` `executable-timeout`,
 *   `executable-failed` (non-zero exit, with the code), `executable-not-found` or `executable-output`.
 * @example
 * ```ts
 * import { createGCPCredentialsFromJSON } from 'countersign/kms/gcp'
 * import { createGCPExecutableRunner } from 'countersign/node'
 * const credentials = createGCPCredentialsFromJSON(json, { env: process.env, runExecutable: createGCPExecutableRunner() })
 * ```
 *
 * Exported from `countersign/node`.
 */
export function createGCPExecutableRunner(options: { readonly env?: KMSEnvironment } = {}): GCPExecutableRunner {
  return (request) =>
    new Promise((resolve, reject) => {
      const [file, ...args] = request.argv
      if (file === undefined)
        return reject(failure('Google credential_source executable has no command', 'executable-failed'))
      const env: Record<string, string> = {}
      for (const [k, v] of Object.entries(options.env ?? process.env)) if (v !== undefined) env[k] = v
      Object.assign(env, request.env)
      execFile(
        file,
        args,
        {
          env,
          shell: false,
          timeout: request.timeoutMs,
          killSignal: 'SIGKILL',
          maxBuffer: MAX_BYTES,
          windowsHide: true,
          encoding: 'utf8',
          ...(request.signal ? { signal: request.signal as AbortSignal } : {}),
        },
        (error, stdout, stderr) => {
          const name = `Google credential_source executable ${file}`
          if (!error) {
            const out = stdout.trim()
            return resolve(out !== '' ? out : stderr.trim())
          }
          // Neither output is quoted: a half-written answer may hold the token.
          const e = error as NodeJS.ErrnoException & { killed?: boolean; code?: unknown; signal?: unknown }
          if (e.name === 'AbortError') return reject(new CountersignError('ERR_ABORTED', `${name} aborted`))
          if (e.code === 'ENOENT' || e.code === 'EACCES') {
            return reject(failure(`${name} cannot be started (${e.code})`, 'executable-not-found'))
          }
          if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
            return reject(failure(`${name} wrote more than 1 MiB`, 'executable-output'))
          }
          if (e.killed && e.signal === 'SIGKILL') {
            return reject(failure(`${name} timed out after ${request.timeoutMs} ms`, 'executable-timeout'))
          }
          const how = typeof e.code === 'number' ? `exit code ${e.code}` : `signal ${String(e.signal)}`
          reject(failure(`${name} failed with ${how}`, 'executable-failed'))
        },
      )
    })
}

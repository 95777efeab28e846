/**
 * Options shared by the Google credential sources, including the two host hooks the portable code cannot provide
 * itself: reading a file (`credential_source.file`, an executable's `output_file`) and running an executable
 * (`credential_source.executable`). `countersign/node` supplies both; elsewhere those credential sources are refused.
 *
 * @module
 */
import type { ServiceClientOptions } from '../../http/service.js'
import type { AbortSignalLike } from '../../internal/host-types.js'
import type { KMSEnvironment } from '../types.js'

/**
 * What an `external_account` file's `credential_source.executable` asks to run, as Google's Go client runs it: the
 * command split on white space (no shell), a time limit, and the variables to add to the environment
 * (`GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE`, `…_TOKEN_TYPE`, `…_INTERACTIVE=0`, `…_IMPERSONATED_EMAIL`, `…_OUTPUT_FILE`).
 *
 * @example
 * ```ts
 * import type { GCPExecutableRequest } from 'countersign/kms/gcp'
 * const request: GCPExecutableRequest = { argv: ['/usr/local/bin/get-token', '--json'], timeoutMs: 30_000, env: {} }
 * ```
 *
 * Exported from `countersign/kms/gcp`.
 */
export interface GCPExecutableRequest {
  /** The program and its arguments. */
  readonly argv: readonly string[]
  /** Kill the program and fail after this long (5 s to 120 s; 30 s when the file gives none). */
  readonly timeoutMs: number
  /** Variables to set on top of the process environment. */
  readonly env: Readonly<Record<string, string>>
  readonly signal?: AbortSignalLike
}

/**
 * Runs a {@link GCPExecutableRequest} and returns its standard output (or, when that is empty, its standard error,
 * as the Go client does), trimmed. Throws a `CountersignError` when the program fails, times out or cannot start.
 *
 * @example
 * ```ts
 * import type { GCPExecutableRunner } from 'countersign/kms/gcp'
 * const run: GCPExecutableRunner = async () => JSON.stringify({ version: 1, success: true, token_type, id_token })
 * ```
 *
 * Exported from `countersign/kms/gcp`.
 */
export type GCPExecutableRunner = (request: GCPExecutableRequest) => Promise<string>

/**
 * Options for the Google credential sources.
 *
 * Exported from `countersign/kms/gcp`.
 */
export interface GCPCredentialOptions extends ServiceClientOptions {
  /** Current time in milliseconds (default `Date.now`); JWT `iat`/`exp` and token expiry use it. */
  readonly now?: () => number
  /** OAuth scopes (default cloud-platform). */
  readonly scopes?: readonly string[]
  /** Environment: `GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES` (must be `1` before an executable is run). */
  readonly env?: KMSEnvironment
  /**
   * Reads a text file: `credential_source.file` of an `external_account` file (re-read for every token exchange, as
   * the file is rotated) and an executable's `output_file`. Without it those sources are refused.
   */
  readonly readFile?: (path: string, options: { readonly signal?: AbortSignalLike }) => Promise<string>
  /** Runs `credential_source.executable`. Without it executable sources are refused. */
  readonly runExecutable?: GCPExecutableRunner
}

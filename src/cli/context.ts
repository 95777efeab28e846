/** What every CLI command gets: streams, environment, and the run's trust material. @module */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { CountersignError } from '../errors.js'
import type { SecretSet } from '../http/redact.js'
import { parseTrustedRoot, type TrustedRoot } from '../trust/trusted-root.js'
import { cliTrust } from './trust-source.js'

/** I/O of one CLI run, injectable for tests. */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  readonly stdin: NodeJS.ReadStream
  readonly env: Record<string, string | undefined>
  readonly cwd: string
  /**
   * The process's secrets (created once, in `main.ts`; `runCli` creates one when absent): every client of the run
   * gets it, and errors, logs and admission answers are redacted with it.
   */
  readonly secrets?: SecretSet
  /** `-d/--verbose` was given: clients say which credentials they use and what they request (never a secret). */
  readonly verbose?: boolean
}

/**
 * The trusted root of `--trusted-root FILE`; without one, the root the TUF repository publishes (through the TUF
 * cache, refreshed when its timestamp expires: {@link cliTrust}), as cosign does.
 */
export async function loadTrustedRoot(path: string | undefined, io: CliIO): Promise<TrustedRoot> {
  if (path === undefined || path === '') return (await cliTrust(io)).trustedRoot
  let bytes: Uint8Array
  try {
    bytes = new Uint8Array(await readFile(resolve(io.cwd, path)))
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', `reading trusted root ${path}: ${(cause as Error).message}`, {
      cause,
    })
  }
  return parseTrustedRoot(bytes)
}

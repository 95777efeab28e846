/**
 * Running a Docker credential helper (`docker-credential-<name> get`), as the Docker config's `credHelpers` /
 * `credsStore` and podman's `credHelpers` name them.
 * @module
 */
import { CountersignError } from '../errors.js'
import { isJSONObject } from '../internal/json.js'
import type { Credential } from '../oci/auth.js'
import { runHelperProgram } from './helper-process.js'

const MAX_HELPER_OUTPUT = 1024 * 1024

function invalidConfig(message: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', message)
}

/**
 * Ask `docker-credential-<helper> get` for the credentials of `serverURL` (written to its stdin), with the
 * docker-credential-helpers protocol: JSON `{ Username, Secret }` on stdout, `<token>` as the user name for an
 * identity token, "credentials not found" (exit status non-zero) for no entry, which is anonymous here. The
 * helper's output can hold secrets, so errors name only the program and its exit status.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when the helper name is not a plain name, the program is missing,
 * fails, times out, or answers something that is not the protocol's JSON.
 * @example
 * ```ts
 * const c = await runCredentialHelper('gcloud', 'gcr.io', process.env, 30_000) // { username, password } | undefined
 * ```
 */
export async function runCredentialHelper(
  helper: string,
  serverURL: string,
  env: Readonly<Record<string, string | undefined>>,
  timeoutMs: number,
): Promise<Credential | undefined> {
  // A helper name is a program-name suffix, never a path (a config must not run `docker-credential-../../x`).
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(helper)) {
    throw invalidConfig(`docker config: invalid credential helper name ${JSON.stringify(helper)}`)
  }
  const program = `docker-credential-${helper}`
  const outcome = await runHelperProgram(program, ['get'], {
    env,
    timeoutMs,
    maxStdout: MAX_HELPER_OUTPUT,
    maxStderr: 64 * 1024,
    input: serverURL,
  })
  switch (outcome.kind) {
    case 'timeout':
      throw invalidConfig(`${program} did not answer within ${timeoutMs} ms`)
    case 'too-much-output':
      throw invalidConfig(`${program} produced too much output`)
    case 'not-started': {
      const why = outcome.error.code === 'ENOENT' ? 'was not found on PATH' : 'could not be started'
      throw new CountersignError('ERR_INVALID_INPUT', `credential helper ${program} ${why}`, { cause: outcome.error })
    }
  }
  const { code, stdout, stderr } = outcome
  if (code !== 0) {
    // docker-credential-helpers report a missing entry with this message (credentials.errCredentialsNotFound).
    if (/credentials not found/i.test(stdout) || /credentials not found/i.test(stderr)) return undefined
    // The helper's output may contain secrets; report only the exit status.
    throw invalidConfig(`credential helper ${program} failed with exit code ${code}`)
  }
  let doc: unknown
  try {
    doc = JSON.parse(stdout)
  } catch {
    throw invalidConfig(`credential helper ${program} returned output that is not JSON`)
  }
  if (!isJSONObject(doc)) throw invalidConfig(`credential helper ${program} returned an unexpected answer`)
  const username = typeof doc.Username === 'string' ? doc.Username : ''
  const secret = typeof doc.Secret === 'string' ? doc.Secret : ''
  if (secret === '') return undefined
  // "<token>" as the user name marks an identity (refresh) token (docker/cli credentials/native_store.go).
  if (username === '<token>') return { identityToken: secret }
  return { username, password: secret }
}

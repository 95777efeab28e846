/**
 * Running a Docker credential helper (`docker-credential-<name> get`), as the Docker config's `credHelpers` /
 * `credsStore` and podman's `credHelpers` name them.
 * @module
 */
import { spawn } from 'node:child_process'
import { CountersignError } from '../errors.js'
import { isJSONObject } from '../internal/json.js'
import type { Credential } from '../oci/auth.js'

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
export function runCredentialHelper(
  helper: string,
  serverURL: string,
  env: Readonly<Record<string, string | undefined>>,
  timeoutMs: number,
): Promise<Credential | undefined> {
  // A helper name is a program-name suffix, never a path (a config must not run `docker-credential-../../x`).
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(helper)) {
    return Promise.reject(invalidConfig(`docker config: invalid credential helper name ${JSON.stringify(helper)}`))
  }
  const program = `docker-credential-${helper}`
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let outBytes = 0
    let errBytes = 0
    let settled = false
    const finish = (fn: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      fn()
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      finish(() => reject(invalidConfig(`${program} did not answer within ${timeoutMs} ms`)))
    }, timeoutMs)
    child.stdout.on('data', (c: Buffer) => {
      outBytes += c.length
      if (outBytes > MAX_HELPER_OUTPUT) {
        child.kill('SIGKILL')
        finish(() => reject(invalidConfig(`${program} produced too much output`)))
      } else out.push(c)
    })
    child.stderr.on('data', (c: Buffer) => {
      errBytes += c.length
      if (errBytes <= 64 * 1024) err.push(c)
    })
    child.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' ? 'was not found on PATH' : 'could not be started'
      finish(() =>
        reject(new CountersignError('ERR_INVALID_INPUT', `credential helper ${program} ${why}`, { cause: e })),
      )
    })
    child.stdin.on('error', () => {
      // The helper may exit without reading stdin; its exit status tells the story.
    })
    child.on('close', (code) => {
      finish(() => {
        const stdout = Buffer.concat(out).toString('utf8')
        const stderr = Buffer.concat(err).toString('utf8')
        if (code !== 0) {
          // docker-credential-helpers report a missing entry with this message (credentials.errCredentialsNotFound).
          if (/credentials not found/i.test(stdout) || /credentials not found/i.test(stderr)) return resolve(undefined)
          // The helper's output may contain secrets; report only the exit status.
          return reject(invalidConfig(`credential helper ${program} failed with exit code ${code}`))
        }
        let doc: unknown
        try {
          doc = JSON.parse(stdout)
        } catch {
          return reject(invalidConfig(`credential helper ${program} returned output that is not JSON`))
        }
        if (!isJSONObject(doc))
          return reject(invalidConfig(`credential helper ${program} returned an unexpected answer`))
        const username = typeof doc.Username === 'string' ? doc.Username : ''
        const secret = typeof doc.Secret === 'string' ? doc.Secret : ''
        if (secret === '') return resolve(undefined)
        // "<token>" as the user name marks an identity (refresh) token (docker/cli credentials/native_store.go).
        if (username === '<token>') return resolve({ identityToken: secret })
        return resolve({ username, password: secret })
      })
    })
    child.stdin.end(serverURL)
  })
}

/** Obtain a key password the way cosign does: COSIGN_PASSWORD, a no-echo TTY prompt, or all of stdin. @module */
import { CountersignError, isCountersignError } from '../errors.js'

/**
 * Options for {@link readPassword}. Streams and environment are injectable for tests and embedding.
 *
 * @example
 * ```ts
 * import { readPassword } from 'countersign/node'
 * const password = await readPassword({ confirm: true })
 * ```
 *
 * Exported from `countersign/node`.
 */
export interface ReadPasswordOptions {
  /** Environment to read `COSIGN_PASSWORD` from. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Input stream. Default `process.stdin`. */
  readonly stdin?: NodeJS.ReadStream
  /** Where prompts go. Default `process.stderr`. */
  readonly stderr?: NodeJS.WritableStream
  /** Ask twice and require both answers to match (key creation). Default `false`. */
  readonly confirm?: boolean
  /** First prompt. Default `Enter password for private key: `. */
  readonly prompt?: string
  /** Confirmation prompt. Default `Enter password for private key again: `. */
  readonly confirmPrompt?: string
}

const DEFAULT_PROMPT = 'Enter password for private key: '
const DEFAULT_CONFIRM_PROMPT = 'Enter password for private key again: '

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!
  return d === 0
}

/** Read the whole stream, as Go's `io.ReadAll(os.Stdin)`: bytes verbatim, trailing newline included. */
async function readAll(stream: NodeJS.ReadStream): Promise<Uint8Array> {
  if (stream.readableEnded) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of stream as AsyncIterable<Uint8Array | string>) {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk
    chunks.push(bytes)
    total += bytes.length
  }
  const out = new Uint8Array(total)
  let offset = 0
  for (const c of chunks) {
    out.set(c, offset)
    offset += c.length
  }
  return out
}

/**
 * Prompt on a terminal without echo. The terminal is put in raw mode, so line editing is ours: Enter ends the
 * input, Backspace/Delete removes the last character, Ctrl-C aborts, Ctrl-D ends (or aborts on an empty line),
 * escape sequences (arrow keys) are ignored. Only the prompt and a final newline are written.
 */
function promptHidden(stdin: NodeJS.ReadStream, stderr: NodeJS.WritableStream, prompt: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const decoder = new TextDecoder()
    const chars: string[] = []
    const wasRaw = stdin.isRaw === true
    let escState: 'none' | 'esc' | 'csi' = 'none'
    let settled = false

    const cleanup = () => {
      settled = true
      stdin.off('data', onData)
      stdin.off('end', onEnd)
      stdin.off('error', onError)
      if (typeof stdin.setRawMode === 'function') stdin.setRawMode(wasRaw)
      stdin.pause()
      // The user's Enter was not echoed; end the prompt line ourselves, as cosign does.
      stderr.write('\n')
    }
    const finish = (rest: string) => {
      cleanup()
      // Type-ahead after Enter belongs to the next prompt (the confirmation).
      if (rest.length > 0) stdin.unshift(new TextEncoder().encode(rest))
      resolve(new TextEncoder().encode(chars.join('')))
      chars.length = 0
    }
    const fail = (message: string) => {
      cleanup()
      chars.length = 0
      reject(new CountersignError('ERR_PASSWORD_REQUIRED', message))
    }
    const onData = (chunk: Uint8Array | string) => {
      if (settled) return
      const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
      const cps = Array.from(text)
      for (let i = 0; i < cps.length; i++) {
        const ch = cps[i]!
        if (escState === 'esc') {
          escState = ch === '[' || ch === 'O' ? 'csi' : 'none'
          continue
        }
        if (escState === 'csi') {
          // A CSI sequence ends with a byte in 0x40..0x7e.
          if (ch >= '@' && ch <= '~') escState = 'none'
          continue
        }
        if (ch === '\r' || ch === '\n') return finish(cps.slice(i + 1).join(''))
        if (ch === '\u0003') return fail('password prompt interrupted')
        if (ch === '\u0004') {
          if (chars.length === 0) return fail('no password entered')
          return finish(cps.slice(i + 1).join(''))
        }
        if (ch === '\u007f' || ch === '\b') {
          chars.pop()
          continue
        }
        if (ch === '\u001b') {
          escState = 'esc'
          continue
        }
        if (ch < ' ') continue
        chars.push(ch)
      }
    }
    const onEnd = () => {
      if (settled) return
      // Like Go's term.ReadPassword: EOF after some input returns it, EOF on an empty line is an error.
      if (chars.length > 0) finish('')
      else fail('no password entered')
    }
    const onError = (error: Error) => {
      if (settled) return
      cleanup()
      reject(new CountersignError('ERR_PASSWORD_REQUIRED', 'could not read password from terminal', { cause: error }))
    }

    // Echo off before the prompt appears: a password typed or pasted as soon as the prompt shows must not be echoed.
    if (typeof stdin.setRawMode === 'function') stdin.setRawMode(true)
    stderr.write(prompt)
    stdin.on('data', onData)
    stdin.once('end', onEnd)
    stdin.once('error', onError)
    stdin.resume()
  })
}

/**
 * Get the password for a cosign private key with cosign's precedence (`cmd/cosign/cli/generate` `GetPass` /
 * `readPasswordFn`):
 *
 * 1. `COSIGN_PASSWORD` set, even to the empty string → its UTF-8 bytes.
 * 2. stdin is a terminal → prompt `Enter password for private key: ` on stderr without echo; with `confirm`, ask
 *    again (`Enter password for private key again: `) and fail on a mismatch.
 * 3. otherwise → all of stdin, byte for byte, including any trailing newline (closed or empty stdin gives the
 *    empty password, as in cosign).
 *
 * @param options - Injected environment/streams, confirmation and prompt text.
 * @returns The password bytes. Treat them as secret.
 * @throws {CountersignError} ERR_INVALID_INPUT `passwords do not match`; ERR_PASSWORD_REQUIRED when the prompt is
 *   interrupted (Ctrl-C) or the terminal closes before any input.
 * @example
 * ```ts
 * import { readPassword } from 'countersign/node'
 * import { decryptCosignPrivateKey } from 'countersign/keys'
 * const key = await decryptCosignPrivateKey(pem, await readPassword())
 * ```
 *
 * Exported from `countersign/node`.
 */
export async function readPassword(options: ReadPasswordOptions = {}): Promise<Uint8Array> {
  const env = options.env ?? process.env
  const fromEnv = Object.hasOwn(env, 'COSIGN_PASSWORD') ? env.COSIGN_PASSWORD : undefined
  if (fromEnv !== undefined) return new TextEncoder().encode(fromEnv)
  const stdin = options.stdin ?? process.stdin
  const stderr = options.stderr ?? process.stderr
  if (stdin.isTTY !== true) return readAll(stdin)
  const first = await promptHidden(stdin, stderr, options.prompt ?? DEFAULT_PROMPT)
  if (options.confirm !== true) return first
  const second = await promptHidden(stdin, stderr, options.confirmPrompt ?? DEFAULT_CONFIRM_PROMPT)
  const match = sameBytes(first, second)
  second.fill(0)
  if (!match) {
    first.fill(0)
    throw new CountersignError('ERR_INVALID_INPUT', 'passwords do not match')
  }
  return first
}

/**
 * What to do when a key needs a password and none is available without a terminal, as in CI: named in the error so
 * the fix is in the message.
 */
const NO_PASSWORD_HINT =
  'no password was given: COSIGN_PASSWORD is not set and stdin is not a terminal (and had nothing on it). ' +
  "Set COSIGN_PASSWORD to the key's password; in CI, from a secret (GitHub Actions: set COSIGN_PASSWORD in the " +
  "step's env from secrets.COSIGN_PASSWORD)"

/**
 * A password getter for an existing key ({@link readPassword}'s rules) that can explain a failure to open the key
 * when there was no password to be had: `COSIGN_PASSWORD` unset, stdin not a terminal, and nothing on stdin. The
 * explained error keeps its code (and details); its message gains the hint to set `COSIGN_PASSWORD`. Internal: the
 * CLI's key loading uses it; not exported from the package.
 *
 * @example
 * ```ts
 * const password = keyPasswordReader({ env: process.env })
 * try {
 *   return await loadPrivateKeyFile('cosign.key', password.read)
 * } catch (error) {
 *   throw password.explain(error)
 * }
 * ```
 */
export function keyPasswordReader(options: ReadPasswordOptions = {}): {
  readonly read: () => Promise<Uint8Array>
  readonly explain: (error: unknown) => unknown
} {
  let none = false
  return {
    async read() {
      const env = options.env ?? process.env
      const stdin = options.stdin ?? process.stdin
      const password = await readPassword(options)
      const fromEnv = Object.hasOwn(env, 'COSIGN_PASSWORD') && env.COSIGN_PASSWORD !== undefined
      none = !fromEnv && stdin.isTTY !== true && password.length === 0
      return password
    },
    explain(error) {
      if (!none || !isCountersignError(error)) return error
      return new CountersignError(error.code, `${error.message}; ${NO_PASSWORD_HINT}`, {
        cause: error,
        ...(error.details !== undefined ? { details: { ...error.details } } : {}),
      })
    },
  }
}

/** cosign's `ui.ConfirmContinue` for the CLI: a `[y/N]` question on stderr, answered on a terminal. @module */
import { CountersignError, type ErrorCode } from '../errors.js'
import { quoteClipped } from '../internal/bounded-text.js'
import type { CliIO } from './context.js'

/** Read one line from the CLI's stdin (the answer to a prompt); "" at end of input. */
async function readLine(io: CliIO): Promise<string> {
  const stdin = io.stdin
  return new Promise((resolve, reject) => {
    let text = ''
    const done = (value: string) => {
      stdin.off('data', onData)
      stdin.off('end', onEnd)
      stdin.off('error', onError)
      stdin.pause()
      resolve(value)
    }
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString()
      const nl = text.indexOf('\n')
      if (nl >= 0) done(text.slice(0, nl))
    }
    const onEnd = () => done(text)
    const onError = (e: Error) => {
      stdin.off('data', onData)
      stdin.off('end', onEnd)
      reject(e)
    }
    stdin.on('data', onData)
    stdin.once('end', onEnd)
    stdin.once('error', onError)
    stdin.resume()
  })
}

/** What to ask and how to refuse. */
export interface ConfirmOptions {
  /** Printed first as `WARNING: …` (omit for none). */
  readonly warning?: string
  /** Printed first as is (cosign's privacy statement). */
  readonly notice?: string
  /** Code of the refusal errors. */
  readonly code: ErrorCode
  /** Message when stdin is not a terminal (nobody to ask). */
  readonly noTerminal: string
}

/**
 * Only `y`/`Y` goes on (cosign's `ui.ConfirmContinue`); `n` or an empty answer is "user declined the prompt".
 * Without a terminal there is nobody to ask, so it refuses with `noTerminal`.
 */
export async function confirmContinue(io: CliIO, options: ConfirmOptions): Promise<void> {
  if (options.warning !== undefined) io.stderr.write(`WARNING: ${options.warning}\n`)
  if (options.notice !== undefined) io.stderr.write(`${options.notice}\n`)
  if (io.stdin.isTTY !== true) throw new CountersignError(options.code, options.noTerminal)
  io.stderr.write('Are you sure you would like to continue? [y/N] ')
  const answer = (await readLine(io))
    .replace(/[\r\n]+$/, '')
    .trim()
    .toLowerCase()
  if (answer === 'y') return
  if (answer === '' || answer === 'n') throw new CountersignError(options.code, 'user declined the prompt')
  throw new CountersignError(options.code, `invalid input ${quoteClipped(answer)} (allowed values [y, n])`)
}

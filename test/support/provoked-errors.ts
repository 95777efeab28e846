/**
 * The errors a test file provokes, kept so that its afterAll can check that none of them says a secret: not in a
 * message, in details or in a stack, anywhere along the cause chain.
 */
import { expect } from 'vitest'
import { CountersignError } from '../../src/errors.js'

export interface ProvokedErrors {
  /** Await `p`'s rejection, record it, and check it is a CountersignError. */
  rejected(p: Promise<unknown>): Promise<CountersignError>
  /** Assert that no recorded error's text matches `pattern` or contains one of `secrets`. */
  expectNoSecrets(pattern: RegExp, secrets: readonly string[]): void
}

export function recordProvokedErrors(): ProvokedErrors {
  const errors: unknown[] = []
  return {
    async rejected(p) {
      const e = await p.then(
        () => {
          throw new Error('expected a rejection')
        },
        (err: unknown) => err,
      )
      errors.push(e)
      expect(e).toBeInstanceOf(CountersignError)
      return e as CountersignError
    },
    expectNoSecrets(pattern, secrets) {
      for (const e of errors) {
        let text = ''
        for (let c: unknown = e, i = 0; c && i < 6; c = (c as { cause?: unknown }).cause, i++) {
          const err = c as { message?: string; details?: unknown; stack?: string }
          text += `${err.message} ${JSON.stringify(err.details)} ${err.stack}\n`
        }
        expect(text).not.toMatch(pattern)
        for (const s of secrets) expect(text).not.toContain(s)
      }
    },
  }
}

/**
 * Unknown flags: pflag's first line (`unknown flag: --kye`, which scripts match) stays as it is, and cobra's
 * "Did you mean this?" paragraph follows with the verb's close flag names.
 */
import { describe, expect, it } from 'vitest'
import { parseFlags } from '../../src/cli/args.js'
import { signCommand } from '../../src/cli/commands/sign.js'
import { verifyCommand } from '../../src/cli/commands/verify.js'
import { suggest } from '../../src/cli/suggest.js'
import { isCountersignError } from '../../src/errors.js'
import { cli } from '../support/cli.js'

function parseError(argv: string[], flags = signCommand.flags): Error {
  try {
    parseFlags(argv, flags)
  } catch (e) {
    return e as Error
  }
  throw new Error(`${argv.join(' ')} parsed`)
}

describe('unknown flags', () => {
  it('suggest the close flag names of the verb, after the unchanged first line', () => {
    const e = parseError(['--kye', 'cosign.key', 'img'])
    expect(isCountersignError(e, 'ERR_INVALID_INPUT')).toBe(true)
    expect(e.message).toBe('unknown flag: --kye\n\nDid you mean this?\n\t--key')
    expect(parseError(['--kye=cosign.key']).message.split('\n')[0]).toBe('unknown flag: --kye')
    // A prefix names every flag it starts (at most three), nearest first.
    const prefix = parseError(['--certificate-oidc', 'x'], verifyCommand.flags).message
    expect(prefix).toMatch(/^unknown flag: --certificate-oidc\n\nDid you mean this\?\n\t--certificate-oidc-issuer\n/)
    expect(prefix.split('\n\t').length - 1).toBeLessThanOrEqual(3)
  })

  it('a long name typed with one dash is matched against the long names', () => {
    expect(parseError(['-key', 'x']).message).toBe('unknown flag: -key\n\nDid you mean this?\n\t--key')
  })

  it('a swap of two neighbouring letters is one edit; short names allow one edit only', () => {
    expect(suggest('kye', ['key', 'yes'], 1)).toEqual(['key'])
    expect(suggest('kye', ['key', 'yes'])).toEqual(['key', 'yes'])
    expect(suggest('sgin', ['sign', 'save'], 1)).toEqual(['sign'])
  })

  it('nothing is suggested when nothing is close, nor for an unknown one-letter flag', () => {
    expect(parseError(['--zzzzzzzz']).message).toBe('unknown flag: --zzzzzzzz')
    expect(parseError(['-Z']).message).toBe('unknown flag: -Z')
  })

  it('the CLI prints it on stderr after "Error: " and exits 1', async () => {
    const r = await cli(['sign', '--tlog-uplaod=false', 'oci:x'], { cwd: '/tmp' })
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('Error: unknown flag: --tlog-uplaod\n\nDid you mean this?\n\t--tlog-upload\n')
    expect(r.stdout).toBe('')
  })
})

import { PassThrough, Readable, Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { readPassword } from '../../src/node/password.js'

const text = (b: Uint8Array) => new TextDecoder().decode(b)

/** A stand-in for a terminal: a PassThrough that claims to be a TTY and records raw-mode switches. */
class FakeTTY extends PassThrough {
  readonly isTTY = true
  isRaw = false
  readonly rawModes: boolean[] = []
  setRawMode(mode: boolean): this {
    this.isRaw = mode
    this.rawModes.push(mode)
    return this
  }
}

function capture(): { stream: NodeJS.WritableStream; output: () => string } {
  let out = ''
  const stream = new Writable({
    write(chunk, _enc, done) {
      out += chunk.toString()
      done()
    },
  })
  return { stream, output: () => out }
}

function tty(): FakeTTY & NodeJS.ReadStream {
  return new FakeTTY() as FakeTTY & NodeJS.ReadStream
}

function pipe(...chunks: (string | Uint8Array)[]): NodeJS.ReadStream {
  return Readable.from(
    chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : Buffer.from(c))),
  ) as unknown as NodeJS.ReadStream
}

describe('readPassword: COSIGN_PASSWORD', () => {
  it('uses COSIGN_PASSWORD when set, even when empty, without touching stdin', async () => {
    const stdin = tty()
    const err = capture()
    expect(await readPassword({ env: { COSIGN_PASSWORD: '' }, stdin, stderr: err.stream })).toEqual(new Uint8Array(0))
    expect(text(await readPassword({ env: { COSIGN_PASSWORD: 'pässwörd\n' }, stdin, stderr: err.stream }))).toBe(
      'pässwörd\n',
    )
    expect(err.output()).toBe('')
    expect(stdin.rawModes).toEqual([])
  })

  it('ignores an env entry whose value is undefined', async () => {
    const got = await readPassword({ env: { COSIGN_PASSWORD: undefined }, stdin: pipe('from stdin') })
    expect(text(got)).toBe('from stdin')
  })
})

describe('readPassword: piped stdin', () => {
  it('reads all of stdin verbatim, including the trailing newline', async () => {
    expect(text(await readPassword({ env: {}, stdin: pipe('secret\n') }))).toBe('secret\n')
    expect(text(await readPassword({ env: {}, stdin: pipe('se', 'cr', 'et\r\n') }))).toBe('secret\r\n')
    const bytes = Uint8Array.of(0xff, 0x00, 0x0a)
    expect(await readPassword({ env: {}, stdin: pipe(bytes) })).toEqual(bytes)
  })

  it('gives the empty password for empty or closed stdin', async () => {
    expect(await readPassword({ env: {}, stdin: pipe() })).toEqual(new Uint8Array(0))
    const closed = pipe()
    for await (const _ of closed as AsyncIterable<unknown>) void _
    expect(await readPassword({ env: {}, stdin: closed })).toEqual(new Uint8Array(0))
  })
})

describe('readPassword: terminal prompt', () => {
  it('prompts on stderr without echo and returns what was typed', async () => {
    const stdin = tty()
    const err = capture()
    const pending = readPassword({ env: {}, stdin, stderr: err.stream })
    stdin.write('hunter2\r')
    expect(text(await pending)).toBe('hunter2')
    expect(err.output()).toBe('Enter password for private key: \n')
    expect(err.output()).not.toContain('hunter2')
    expect(stdin.rawModes).toEqual([true, false])
  })

  it('handles backspace, escape sequences and UTF-8 split across chunks', async () => {
    const stdin = tty()
    const pending = readPassword({ env: {}, stdin, stderr: capture().stream })
    const e = Buffer.from('é')
    stdin.write('abcd\x7f\x7fx\x1b[A')
    stdin.write(e.subarray(0, 1))
    stdin.write(Buffer.concat([e.subarray(1), Buffer.from('\b\b!\n')]))
    expect(text(await pending)).toBe('ab!')
  })

  it('asks twice with confirm and accepts matching answers (also typed ahead)', async () => {
    const stdin = tty()
    const err = capture()
    const pending = readPassword({ env: {}, stdin, stderr: err.stream, confirm: true })
    stdin.write('same\rsame\r')
    expect(text(await pending)).toBe('same')
    expect(err.output()).toBe('Enter password for private key: \nEnter password for private key again: \n')
  })

  it('fails with "passwords do not match" on a mismatch', async () => {
    const stdin = tty()
    const pending = readPassword({ env: {}, stdin, stderr: capture().stream, confirm: true })
    stdin.write('one\r')
    setTimeout(() => stdin.write('two\r'), 5)
    await expect(pending).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT', message: 'passwords do not match' })
  })

  it('rejects on Ctrl-C and restores the terminal mode', async () => {
    const stdin = tty()
    const pending = readPassword({ env: {}, stdin, stderr: capture().stream })
    stdin.write('abc\x03')
    await expect(pending).rejects.toMatchObject({ code: 'ERR_PASSWORD_REQUIRED' })
    expect(stdin.isRaw).toBe(false)
  })

  it('rejects when the terminal closes before any input, returns partial input on EOF', async () => {
    const empty = tty()
    const p1 = readPassword({ env: {}, stdin: empty, stderr: capture().stream })
    empty.end()
    await expect(p1).rejects.toMatchObject({ code: 'ERR_PASSWORD_REQUIRED' })
    const partial = tty()
    const p2 = readPassword({ env: {}, stdin: partial, stderr: capture().stream })
    partial.end('typed')
    expect(text(await p2)).toBe('typed')
  })

  it('uses a custom prompt', async () => {
    const stdin = tty()
    const err = capture()
    const pending = readPassword({ env: {}, stdin, stderr: err.stream, prompt: 'Password: ' })
    stdin.write('\r')
    expect(await pending).toEqual(new Uint8Array(0))
    expect(err.output()).toBe('Password: \n')
  })
})

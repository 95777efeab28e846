/**
 * `attach`'s input reading (`readInput`): files and stdin come back byte for byte as views of what was read (small
 * stdin reads sit inside Node's shared Buffer pool, at an offset of a larger ArrayBuffer), and `attach signature` /
 * `attach attestation` fed that way store exactly those bytes: the signature attached from stdin verifies, and the
 * attestation read back is the file. Images are OCI layouts on disk; no network.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readInput } from '../../src/cli/commands/attach.js'
import type { CliIO } from '../../src/cli/context.js'
import { openLayout } from '../../src/node/layout-fs.js'
import { cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'

const env = { COSIGN_PASSWORD: 'attach input pw' }
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cs-attach-input-'))
  const keys = await cli(['generate-key-pair'], { cwd: dir, env })
  expect(keys.code, keys.stderr).toBe(0)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const io = (chunks: (string | Uint8Array)[]): CliIO => ({
  stdout: new PassThrough(),
  stderr: new PassThrough(),
  stdin: Readable.from(chunks) as unknown as NodeJS.ReadStream,
  env: {},
  cwd: dir,
})

describe('readInput', () => {
  it('returns the bytes of a file', async () => {
    const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff)
    writeFileSync(join(dir, 'input.bin'), bytes)
    const got = await readInput('input.bin', io([]))
    expect(got).toBeInstanceOf(Uint8Array)
    expect(got.byteLength).toBe(bytes.length)
    expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(bytes)).toBe(true)
  })

  it('returns all of stdin for -, text and byte chunks alike, exactly (a view of a pooled Buffer)', async () => {
    const got = await readInput('-', io(['héllo ', new TextEncoder().encode('wörld'), Buffer.from('!')]))
    expect(new TextDecoder().decode(got)).toBe('héllo wörld!')
    expect(got.byteLength).toBe(new TextEncoder().encode('héllo wörld!').length)
    // Not copied once more into an ArrayBuffer of its own: a view into Node's pool for small Buffers, which is why
    // callers read through the view and never through `.buffer` alone.
    expect(got.buffer.byteLength).toBeGreaterThan(got.byteLength)
    expect(Array.from(got)).toEqual(Array.from(new TextEncoder().encode('héllo wörld!')))
  })

  it('returns an empty array for an empty stdin', async () => {
    expect((await readInput('-', io([]))).byteLength).toBe(0)
  })
})

describe('attach reading its inputs without a copy', () => {
  it('attach signature with the payload from stdin: the signature verifies', async () => {
    const layout = join(dir, 'img')
    const store = openLayout(layout, { create: true })
    await pushTinyImage(store, { registry: 'localhost', repository: 'img', tag: 'target' }, 'attach input')
    await pushTinyImage(store, { registry: 'localhost', repository: 'img', tag: 'source' }, 'attach input')
    const s = await cli(
      [
        'sign',
        '--key',
        'cosign.key',
        '--tlog-upload=false',
        '--new-bundle-format=false',
        '--output-signature',
        'sig.b64',
        '--output-payload',
        'payload.json',
        'oci:img:source',
      ],
      { cwd: dir, env },
    )
    expect(s.code, s.stderr).toBe(0)
    const payload = readFileSync(join(dir, 'payload.json'))
    const a = await cli(['attach', 'signature', '--signature', 'sig.b64', '--payload', '-', 'oci:img:target'], {
      cwd: dir,
      stdin: payload,
    })
    expect(a.code, a.stderr).toBe(0)
    const d = await cli(['download', 'signature', 'oci:img:target'], { cwd: dir })
    expect(d.code, d.stderr).toBe(0)
    expect(JSON.parse(d.stdout)).toMatchObject({
      Base64Signature: readFileSync(join(dir, 'sig.b64'), 'utf8'),
      Payload: payload.toString('base64'),
    })
    const v = await cli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', 'oci:img:target'], {
      cwd: dir,
      env,
    })
    expect(v.code, v.stderr).toBe(0)
  })

  it('attach attestation: the envelope read back is the file, byte for byte', async () => {
    const store = openLayout(join(dir, 'img'))
    const digest = await pushTinyImage(store, { registry: 'localhost', repository: 'img', tag: 'att' }, 'att input')
    const statement = Buffer.from(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ digest: { sha256: digest.slice(7) } }],
        predicateType: 'https://example.com/input/v1',
        predicate: {},
      }),
    ).toString('base64')
    const envelope = `{"payloadType":"application/vnd.in-toto+json","payload":"${statement}","signatures":[{"keyid":"","sig":"AAAA"}]}`
    writeFileSync(join(dir, 'envelope.json'), envelope)
    const at = await cli(['attach', 'attestation', '--attestation', 'envelope.json', 'oci:img:att'], { cwd: dir })
    expect(at.code, at.stderr).toBe(0)
    const back = await cli(['download', 'attestation', 'oci:img:att'], { cwd: dir })
    expect(back.code, back.stderr).toBe(0)
    expect(back.stdout).toBe(`${envelope}\n`)
  })
})

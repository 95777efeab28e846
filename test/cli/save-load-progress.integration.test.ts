/**
 * `save` of an image with a 3 MiB layer from a real docker-registry: on a terminal stderr (isTTY) the progress is one
 * line redrawn with `\r` and ends with one newline; on a pipe it is a single summary line; stdout carries only the
 * `-o json` report; the executable on a real pseudo-terminal (test/support/pty-run.py) draws the line in place too.
 * `load -o json` then pushes the layout to a second registry and reports the same digests; `load` shows the upload's
 * progress the same way (one redrawn line on a terminal, one summary line on a pipe).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/run.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { pushTinyImage } from '../support/oci-image.js'
import { mulberry32 } from '../support/prng.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

let reg: TestRegistry
let reg2: TestRegistry
let dir: string
let image: string
let digest: string

/** Run the CLI in-process with a stderr that is (or is not) a terminal. */
async function run(args: string[], tty: boolean): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough()
  const stderr = Object.assign(new PassThrough(), tty ? { isTTY: true } : {})
  const out: Buffer[] = []
  const err: Buffer[] = []
  stdout.on('data', (c) => out.push(c))
  stderr.on('data', (c) => err.push(c))
  const code = await runCli(args, {
    stdout,
    stderr,
    stdin: Readable.from([]) as unknown as NodeJS.ReadStream,
    env: { HOME: dir, DOCKER_CONFIG: join(dir, '.docker') },
    cwd: dir,
  })
  await new Promise((r) => setImmediate(r))
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }
}

beforeAll(async () => {
  ;[reg, reg2] = await Promise.all([startRegistry(), startRegistry()])
  dir = mkdtempSync(join(tmpdir(), 'cs-progress-'))
  // Incompressible text, so the gzipped layer stays above the 1 MiB progress threshold.
  const rng = mulberry32(7)
  const text = Array.from({ length: 4 * 1024 * 1024 }, () => String.fromCharCode(33 + Math.floor(rng() * 90))).join('')
  image = `${reg.host}/progress/app:v1`
  digest = await pushTinyImage(createRegistryClient(), parseReference(image), text)
}, 120_000)
afterAll(async () => {
  await Promise.all([reg?.stop(), reg2?.stop()])
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('save / load progress and reports', () => {
  it('on a terminal: \\r redraws of one line with bytes / total, a single newline', async () => {
    const r = await run(['save', '--dir', 'tty', image], true)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('')
    const redraws = r.stderr.split('\r').filter((s) => s !== '')
    expect(redraws.length).toBeGreaterThanOrEqual(2)
    for (const line of redraws) expect(line).toMatch(/^Saving blob \d+ .*\d+(\.\d)? (B|KiB|MiB) \/ \d+\.\d MiB/)
    expect(r.stderr.match(/\n/g)).toHaveLength(1)
    expect(r.stderr.endsWith('\x1b[K\n')).toBe(true)
  })

  it('on a pipe: one summary line, and -o json on stdout', async () => {
    const r = await run(['save', '--dir', 'plain', '-o', 'json', image], false)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/^Saving: \d+ blobs?, \d+\.\d MiB\n$/)
    expect(r.stderr).not.toContain('\r')
    expect(JSON.parse(r.stdout)).toEqual({
      image,
      dir: 'plain',
      digest,
      kind: 'image',
      signatures: null,
      attestations: null,
      referrers: [],
    })
  })

  it('on a real pseudo-terminal the executable draws the line in place (process.stderr.isTTY)', () => {
    const root = new URL('../../', import.meta.url).pathname
    const tsx = pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href
    const out = execFileSync(
      'python3',
      [
        join(root, 'test/support/pty-run.py'),
        '[]',
        process.execPath,
        '--import',
        tsx,
        join(root, 'src/cli/main.ts'),
        'save',
        '--dir',
        'pty',
        image,
      ],
      {
        cwd: dir,
        env: { ...process.env, HOME: dir, DOCKER_CONFIG: join(dir, '.docker') },
        encoding: 'utf8',
        timeout: 60_000,
      },
    )
    const { output, status } = JSON.parse(out) as { output: string; status: number }
    expect(status, output).toBe(0)
    expect(output).toMatch(/\rSaving blob \d+ \[[= ]+\] [\d.]+ (B|KiB|MiB) \/ [\d.]+ MiB \d+%/)
    // The terminal line, not the summary a pipe gets.
    expect(output).not.toContain('Saving: ')
  })

  it('load -o json reports what it pushed', async () => {
    const target = `${reg2.host}/progress/copy:v1`
    const r = await run(['load', '--dir', 'plain', '-o', 'json', target], false)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/^Loading: 2 blobs, \d+\.\d MiB\n$/)
    expect(JSON.parse(r.stdout)).toMatchObject({ image: target, dir: 'plain', digest, kind: 'image' })
    const pushed = await createRegistryClient().resolve(parseReference(target))
    expect(pushed.digest).toBe(digest)
  })

  it('load on a terminal: the upload redrawn on one line with bytes / total, a single newline', async () => {
    // A repository the layer is not in yet, so it is uploaded (the registry checks blobs per repository).
    const target = `${reg2.host}/progress/tty-load:v1`
    const r = await run(['load', '--dir', 'tty', target], true)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('')
    const redraws = r.stderr.split('\r').filter((s) => s !== '')
    expect(redraws.length).toBeGreaterThanOrEqual(1)
    for (const line of redraws) {
      expect(line).toMatch(/^Loading blob \d+ \[[= ]+\] [\d.]+ (B|KiB|MiB) \/ [\d.]+ MiB \d+% \([\d.]+ MiB in all\)/)
    }
    // The last redraw is the layer, whole.
    expect(redraws.at(-1)).toMatch(/\[=+\] ([\d.]+ MiB) \/ \1 100%/)
    expect(r.stderr.match(/\n/g)).toHaveLength(1)
    expect(r.stderr.endsWith('\x1b[K\n')).toBe(true)
    expect((await createRegistryClient().resolve(parseReference(target))).digest).toBe(digest)
  })
})

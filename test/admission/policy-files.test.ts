// The policy-file reader shared by the webhook and `policy verify`: sizes are checked before files are read in full
// (issue 18), per file and per directory, with errors naming the file or directory and the limit.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  MAX_POLICY_DIRECTORY_BYTES,
  MAX_POLICY_FILE_BYTES,
  readFileWithin,
  readPolicyPaths,
} from '../../src/node/policy-files.js'

describe('readPolicyPaths', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-policy-files-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('has generous defaults: 4 MiB per file, 64 MiB per directory', () => {
    expect(MAX_POLICY_FILE_BYTES).toBe(4 * 1024 * 1024)
    expect(MAX_POLICY_DIRECTORY_BYTES).toBe(64 * 1024 * 1024)
  })

  it('reads files and directories (regular files, names not starting with a dot, in name order)', async () => {
    const d = join(dir, 'policies')
    mkdirSync(d)
    mkdirSync(join(d, 'sub'))
    writeFileSync(join(d, 'b.yaml'), 'b')
    writeFileSync(join(d, 'a.yaml'), 'a')
    writeFileSync(join(d, '..data'), 'ignored')
    writeFileSync(join(dir, 'one.yaml'), 'one')
    expect(await readPolicyPaths([d, join(dir, 'one.yaml')])).toEqual([
      { path: join(d, 'a.yaml'), content: 'a' },
      { path: join(d, 'b.yaml'), content: 'b' },
      { path: join(dir, 'one.yaml'), content: 'one' },
    ])
  })

  it('refuses a file over the per-file limit, naming it and the limit', async () => {
    writeFileSync(join(dir, 'big.yaml'), 'x'.repeat(101))
    await expect(readPolicyPaths([join(dir, 'big.yaml')], { maxFileBytes: 100 })).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: `${join(dir, 'big.yaml')}: policy file is larger than 100 bytes`,
      details: { path: join(dir, 'big.yaml'), limit: 100 },
    })
    writeFileSync(join(dir, 'edge.yaml'), 'x'.repeat(100))
    expect(await readPolicyPaths([join(dir, 'edge.yaml')], { maxFileBytes: 100 })).toHaveLength(1)
  })

  it('refuses a directory whose files add up to more than its limit, or holding an oversized file', async () => {
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, `p${i}.yaml`), 'x'.repeat(30))
    await expect(readPolicyPaths([dir], { maxDirectoryBytes: 100 })).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: `${dir}: policy directory is larger than 100 bytes`,
    })
    expect(await readPolicyPaths([dir], { maxDirectoryBytes: 150 })).toHaveLength(5)
    await expect(readPolicyPaths([dir], { maxFileBytes: 29 })).rejects.toMatchObject({
      message: `${join(dir, 'p0.yaml')}: policy file is larger than 29 bytes`,
    })
  })

  it('readFileWithin stops one byte past the limit even when the size is not declared', async () => {
    // /proc files declare size 0 and still have content.
    const bytes = await readFileWithin('/proc/self/status', 1 << 20, 'status')
    expect(bytes.length).toBeGreaterThan(0)
    await expect(readFileWithin('/proc/self/status', 8, 'status', 'status')).rejects.toMatchObject({
      message: 'status: status is larger than 8 bytes',
    })
    await expect(readFileWithin(join(dir, 'nope'), 8, 'policy file')).rejects.toMatchObject({ code: 'ENOENT' })
  })
})

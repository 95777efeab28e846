/**
 * Reading policy files (and the trusted roots policies name) with size limits checked before anything is read in
 * full or parsed: per file, and per directory (a ConfigMap mount). Shared by the admission webhook and
 * `policy verify`; the limits are in docs/policy.md.
 *
 * @module
 */
import { type FileHandle, open, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CountersignError } from '../errors.js'

/**
 * Largest policy file read (4 MiB; a ConfigMap holds at most 1 MiB).
 *
 * @example
 * ```ts
 * const bytes = await readFileWithin(path, MAX_POLICY_FILE_BYTES, 'policy file')
 * ```
 */
export const MAX_POLICY_FILE_BYTES = 4 * 1024 * 1024
/**
 * Largest total of the files read from one policy directory (64 MiB).
 *
 * @example
 * ```ts
 * const files = await readPolicyPaths(['/policies'], { maxDirectoryBytes: MAX_POLICY_DIRECTORY_BYTES })
 * ```
 */
export const MAX_POLICY_DIRECTORY_BYTES = 64 * 1024 * 1024
/**
 * Largest trusted root file read for policy evaluation (4 MiB; the public-good root is about 10 KiB).
 *
 * @example
 * ```ts
 * const bytes = await readFileWithin(path, MAX_TRUSTED_ROOT_BYTES, 'trusted root')
 * ```
 */
export const MAX_TRUSTED_ROOT_BYTES = 4 * 1024 * 1024

const CHUNK_BYTES = 64 * 1024

/**
 * Size limits of {@link readPolicyPaths}.
 *
 * @example
 * ```ts
 * const limits: PolicyFileLimits = { maxFileBytes: 1024 * 1024 }
 * ```
 */
export interface PolicyFileLimits {
  /** Largest policy file (default {@link MAX_POLICY_FILE_BYTES}). */
  readonly maxFileBytes?: number
  /** Largest total of one directory's files (default {@link MAX_POLICY_DIRECTORY_BYTES}). */
  readonly maxDirectoryBytes?: number
}

/**
 * One policy file read: its path and its text (UTF-8).
 *
 * @example
 * ```ts
 * const file: ReadPolicyFile = { path: '/policies/a.yaml', content: 'apiVersion: …' }
 * ```
 */
export interface ReadPolicyFile {
  readonly path: string
  readonly content: string
}

function tooLarge(path: string, what: string, limit: number): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', `${path}: ${what} is larger than ${limit} bytes`, {
    details: { path, limit },
  })
}

/**
 * The bytes of `path`, refused with ERR_INVALID_INPUT (naming the file and the limit) when larger than `maxBytes`:
 * the declared size is checked before reading, and reading stops one byte past the limit (a file that grows, or one
 * whose size the file system does not tell).
 *
 * @param what - Names the kind of file in the error, e.g. `policy file`.
 * @param name - The file as the error names it (default `path`; e.g. the path as the user gave it).
 * @throws {CountersignError} ERR_INVALID_INPUT when too large; file system errors as is.
 * @example
 * ```ts
 * const bytes = await readFileWithin('/policies/a.yaml', MAX_POLICY_FILE_BYTES, 'policy file')
 * ```
 */
export async function readFileWithin(path: string, maxBytes: number, what: string, name = path): Promise<Buffer> {
  const handle = await open(path, 'r')
  try {
    if ((await handle.stat()).size > maxBytes) throw tooLarge(name, what, maxBytes)
    return await readAtMost(handle, maxBytes, () => tooLarge(name, what, maxBytes))
  } finally {
    await handle.close()
  }
}

async function readAtMost(handle: FileHandle, maxBytes: number, refuse: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, maxBytes + 1 - total))
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null)
    if (bytesRead === 0) return Buffer.concat(chunks, total)
    total += bytesRead
    if (total > maxBytes) throw refuse()
    chunks.push(chunk.subarray(0, bytesRead))
  }
}

/**
 * A directory member listed but removed before it was read is skipped, as if the listing had come a moment later: a
 * removal is what the next read would see anyway, and failing on it would report a failure nobody caused.
 */
function skipIfGone(e: unknown): undefined {
  if ((e as { code?: unknown } | null)?.code === 'ENOENT') return undefined
  throw e
}

/**
 * Read policy files and directories. A directory contributes its regular files whose names do not start with `.`
 * (which skips a ConfigMap mount's `..data` machinery), in name order. Sizes are checked before reading: a file
 * larger than `maxFileBytes`, or a directory whose files add up to more than `maxDirectoryBytes`, fails the whole
 * read (a partial policy set could allow what the full one denies).
 *
 * @throws {CountersignError} ERR_INVALID_INPUT naming the file or directory and the limit; file system errors as is.
 * @example
 * ```ts
 * const files = await readPolicyPaths(['/policies', '/etc/extra-policy.yaml'])
 * ```
 */
export async function readPolicyPaths(paths: readonly string[], limits?: PolicyFileLimits): Promise<ReadPolicyFile[]> {
  const maxFile = limits?.maxFileBytes ?? MAX_POLICY_FILE_BYTES
  const maxDirectory = limits?.maxDirectoryBytes ?? MAX_POLICY_DIRECTORY_BYTES
  const out: ReadPolicyFile[] = []
  for (const p of paths) {
    if (!(await stat(p)).isDirectory()) {
      out.push({ path: p, content: (await readFileWithin(p, maxFile, 'policy file')).toString('utf8') })
      continue
    }
    // Every size first, so an oversized directory is refused before any of it is read.
    const members: string[] = []
    let declared = 0
    for (const name of (await readdir(p)).sort()) {
      if (name.startsWith('.')) continue
      const full = join(p, name)
      const s = await stat(full).catch(skipIfGone)
      if (!s?.isFile()) continue
      if (s.size > maxFile) throw tooLarge(full, 'policy file', maxFile)
      declared += s.size
      if (declared > maxDirectory) throw tooLarge(p, 'policy directory', maxDirectory)
      members.push(full)
    }
    let read = 0
    for (const full of members) {
      const bytes = await readFileWithin(full, maxFile, 'policy file').catch(skipIfGone)
      if (bytes === undefined) continue
      // Files may grow between the listing and the read.
      read += bytes.length
      if (read > maxDirectory) throw tooLarge(p, 'policy directory', maxDirectory)
      out.push({ path: full, content: bytes.toString('utf8') })
    }
  }
  return out
}

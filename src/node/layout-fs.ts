/** Node file system adapter for the OCI image layout store. @module */
import { randomBytes } from 'node:crypto'
import { type Dirent, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, sep } from 'node:path'
import { CountersignError } from '../errors.js'
import {
  createLayoutStore,
  emptyLayoutIndexContent,
  type LayoutFileSystem,
  type LayoutStore,
  type LayoutStoreOptions,
  ociLayoutFileContent,
} from '../oci/layout.js'

function resolveInside(root: string, path: string): string {
  // The layout code only produces blobs/<alg>/<hex>, index.json and oci-layout; refuse anything else anyway.
  if (
    path === '' ||
    path.startsWith('/') ||
    path.includes('\\') ||
    path.split('/').some((c) => c === '' || c === '.' || c === '..')
  ) {
    throw new CountersignError('ERR_INVALID_INPUT', `invalid layout path ${JSON.stringify(path)}`)
  }
  return join(root, ...path.split('/'))
}

function isMissing(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/**
 * A {@link LayoutFileSystem} rooted at `dir`. Writes go to a temporary file in the same directory, are flushed,
 * then renamed over the target, so readers never see a partial file.
 *
 * @example
 * ```ts
 * import { createNodeLayoutFileSystem } from 'countersign/node'
 * import { createLayoutStore } from 'countersign/oci'
 * const layout = createLayoutStore(createNodeLayoutFileSystem('./image-layout'))
 * ```
 *
 * Exported from `countersign/node`.
 */
export function createNodeLayoutFileSystem(dir: string): LayoutFileSystem {
  return {
    async readFile(path) {
      try {
        return new Uint8Array(await readFile(resolveInside(dir, path)))
      } catch (e) {
        if (isMissing(e)) return undefined
        throw e
      }
    },
    async writeFile(path, data) {
      const target = resolveInside(dir, path)
      await mkdir(dirname(target), { recursive: true })
      const tmp = `${target}.tmp-${randomBytes(6).toString('hex')}`
      const fh = await open(tmp, 'wx', 0o644)
      try {
        await fh.writeFile(data)
        await fh.sync()
      } catch (e) {
        await fh.close().catch(() => {})
        await rm(tmp, { force: true })
        throw e
      }
      await fh.close()
      try {
        await rename(tmp, target)
      } catch (e) {
        await rm(tmp, { force: true })
        throw e
      }
    },
    async exists(path) {
      try {
        return (await stat(resolveInside(dir, path))).isFile()
      } catch (e) {
        if (isMissing(e)) return false
        throw e
      }
    },
    async listFiles(path) {
      const base = resolveInside(dir, path)
      let entries: Dirent[]
      try {
        entries = await readdir(base, { withFileTypes: true })
      } catch (e) {
        if (isMissing(e)) return []
        throw e
      }
      const out: { name: string; size: number }[] = []
      for (const entry of entries) {
        // Temporary files of interrupted writes (`<name>.tmp-…`) are not blobs; only plain files count.
        if (!entry.isFile() || entry.name.includes('.tmp-')) continue
        try {
          out.push({ name: entry.name, size: (await stat(join(base, entry.name))).size })
        } catch (e) {
          if (!isMissing(e)) throw e
        }
      }
      return out
    },
    async removeFile(path) {
      await rm(resolveInside(dir, path), { force: true })
    },
  }
}

/**
 * Options for {@link openLayout}.
 *
 * @example
 * ```ts
 * openLayout('./out', { create: true })
 * ```
 *
 * Exported from `countersign/node`.
 */
export interface OpenLayoutOptions extends LayoutStoreOptions {
  /** Create the directory, `oci-layout` and an empty `index.json` when missing. Default false. */
  readonly create?: boolean
}

/**
 * Open the OCI image layout in `dir` as an {@link countersign/oci!OCIStore | OCIStore}. Without `create`, a missing
 * directory or `index.json` is ERR_OCI_NOT_FOUND.
 *
 * @throws {CountersignError} ERR_OCI_NOT_FOUND when the layout does not exist and `create` is not set.
 * @example
 * ```ts
 * import { openLayout } from 'countersign/node'
 * const layout = openLayout('./signed-image', { create: true })
 * ```
 *
 * Exported from `countersign/node`.
 */
export function openLayout(dir: string, options: OpenLayoutOptions = {}): LayoutStore {
  const index = join(dir, 'index.json')
  if (options.create === true) {
    mkdirSync(dir, { recursive: true })
    const layoutFile = join(dir, 'oci-layout')
    if (!existsSync(layoutFile)) writeFileSync(layoutFile, ociLayoutFileContent(), { flag: 'wx' })
    if (!existsSync(index)) writeFileSync(index, emptyLayoutIndexContent(), { flag: 'wx' })
  } else {
    let ok = false
    try {
      ok = statSync(dir).isDirectory() && statSync(index).isFile()
    } catch (e) {
      if (!isMissing(e)) throw e
    }
    if (!ok) throw new CountersignError('ERR_OCI_NOT_FOUND', `no OCI image layout at ${dir}${sep}index.json`)
  }
  const { create: _create, ...storeOptions } = options
  return createLayoutStore(createNodeLayoutFileSystem(dir), storeOptions)
}

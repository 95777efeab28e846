/** An in-memory {@link LayoutFileSystem} for tests and browsers. @module */
import type { LayoutFileSystem } from './layout.js'

/**
 * A {@link LayoutFileSystem} kept in memory, with a listing for inspection.
 *
 * @example
 * ```ts
 * const fs: MemoryFileSystem = createMemoryFileSystem(); fs.paths()
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface MemoryFileSystem extends LayoutFileSystem {
  /** Every stored path, sorted. */
  paths(): string[]
}

/**
 * Create an empty in-memory file system for {@link createLayoutStore}. Data is copied in and out, so callers
 * cannot mutate what is stored.
 *
 * @example
 * ```ts
 * import { createLayoutStore, createMemoryFileSystem } from 'countersign/oci'
 * const layout = createLayoutStore(createMemoryFileSystem())
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function createMemoryFileSystem(): MemoryFileSystem {
  const files = new Map<string, Uint8Array>()
  return {
    async readFile(path) {
      const f = files.get(path)
      return f === undefined ? undefined : new Uint8Array(f)
    },
    async writeFile(path, data) {
      files.set(path, new Uint8Array(data))
    },
    async exists(path) {
      return files.has(path)
    },
    async listFiles(dir) {
      const prefix = `${dir}/`
      const out: { name: string; size: number }[] = []
      for (const [path, data] of files) {
        const name = path.slice(prefix.length)
        if (path.startsWith(prefix) && !name.includes('/')) out.push({ name, size: data.length })
      }
      return out.sort((a, b) => (a.name < b.name ? -1 : 1))
    },
    async removeFile(path) {
      files.delete(path)
    },
    paths() {
      return [...files.keys()].sort()
    },
  }
}

/**
 * The tag listing of the layout store: the ref names of `index.json` entries, in order, without repeats.
 *
 * @module
 */
import type { LayoutStore } from './layout.js'
import { checkSignal, type LayoutContext } from './layout-context.js'
import { refName } from './layout-index.js'

/**
 * The tag verb of a {@link LayoutStore}.
 *
 * @example
 * ```ts
 * const { listTags }: LayoutTagVerbs = layoutTags(ctx)
 * ```
 */
export type LayoutTagVerbs = Pick<LayoutStore, 'listTags'>

/**
 * The tag verb over a store's shared context.
 *
 * @example
 * ```ts
 * const tags = await layoutTags(createLayoutContext(createMemoryFileSystem(), {})).listTags(repo)
 * ```
 */
export function layoutTags(ctx: LayoutContext): LayoutTagVerbs {
  return {
    async listTags(_repo, o) {
      checkSignal(o)
      const index = await ctx.loadIndex()
      const tags: string[] = []
      for (const e of index.entries) {
        const name = refName(e)
        if (name !== undefined && !tags.includes(name)) tags.push(name)
      }
      return tags
    },
  }
}

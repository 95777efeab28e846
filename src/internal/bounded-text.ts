/**
 * Size bounds for text built from input: error messages, reasons and log lines that quote names or list problems.
 * Each quoted value is clipped and each list shows its first items then "… and K more", so a message stays a few
 * kilobytes whatever the input (a 50,000-character policy name repeated for 10,000 errors is half a gigabyte).
 * Never exported from the package.
 *
 * @module
 */

/**
 * Most items a list in a message shows before "… and K more".
 *
 * @example
 * ```ts
 * boundedJoin(problems, '; ') // at most MAX_LISTED_ITEMS of them
 * ```
 */
export const MAX_LISTED_ITEMS = 16
/**
 * Longest item of a listed message (a problem, a reason), in characters.
 *
 * @example
 * ```ts
 * clipText(reason, MAX_ITEM_LENGTH)
 * ```
 */
export const MAX_ITEM_LENGTH = 512
/**
 * Longest name or value quoted in a message; Kubernetes object names are at most 253 characters, so real names are
 * never clipped.
 *
 * @example
 * ```ts
 * `policy ${quoteClipped(name)}` // 'policy "p"'
 * ```
 */
export const MAX_QUOTED_LENGTH = 256

/**
 * `s`, cut to `max` characters with an ellipsis (which counts) when longer; a surrogate pair is never split.
 *
 * @example
 * ```ts
 * clipText('abcdef', 4) // 'abc…'
 * ```
 */
export function clipText(s: string, max: number): string {
  if (s.length <= max) return s
  let end = Math.max(0, max - 1)
  // Do not leave half of a surrogate pair before the ellipsis.
  if (end > 0 && /[\uD800-\uDBFF]/.test(s.charAt(end - 1))) end--
  return `${s.slice(0, end)}…`
}

/**
 * `v` as JSON for a message (a string in double quotes), clipped first so the result stays short. Values that are
 * not strings are serialized, then clipped; `undefined` reads `undefined`.
 *
 * @example
 * ```ts
 * quoteClipped('a'.repeat(1000), 8) // '"aaaaaaa…"'
 * ```
 */
export function quoteClipped(v: unknown, max: number = MAX_QUOTED_LENGTH): string {
  if (typeof v === 'string') return JSON.stringify(clipText(v, max))
  let text: string
  try {
    text = String(JSON.stringify(v))
  } catch {
    text = typeof v
  }
  return clipText(text, max)
}

/**
 * How {@link boundedJoin} lists.
 *
 * @example
 * ```ts
 * const limits: BoundedJoinOptions<string> = { maxItems: 4, maxItemLength: 100 }
 * ```
 */
export interface BoundedJoinOptions<T> {
  /** Items shown before "… and K more" (default {@link MAX_LISTED_ITEMS}). */
  readonly maxItems?: number
  /** Each shown item is clipped to this many characters (default {@link MAX_ITEM_LENGTH}). */
  readonly maxItemLength?: number
  /** Text of an item (default `String`); called only for the items shown. */
  readonly format?: (item: T, index: number) => string
  /** How many items there are in all, when `items` holds only the first of them (default `items.length`). */
  readonly total?: number
}

/**
 * The first items joined by `separator`, each clipped, then `… and K more` for the rest. Identical to
 * `items.join(separator)` while there are few short items.
 *
 * @example
 * ```ts
 * boundedJoin(['a', 'b', 'c'], '; ', { maxItems: 2 }) // 'a; b; … and 1 more'
 * ```
 */
export function boundedJoin<T>(items: readonly T[], separator: string, options?: BoundedJoinOptions<T>): string {
  const maxItems = Math.max(1, options?.maxItems ?? MAX_LISTED_ITEMS)
  const maxItemLength = options?.maxItemLength ?? MAX_ITEM_LENGTH
  const format = options?.format ?? ((item: T) => String(item))
  const shown = Math.min(items.length, maxItems)
  const parts: string[] = []
  for (let i = 0; i < shown; i++) parts.push(clipText(format(items[i]!, i), maxItemLength))
  const total = Math.max(items.length, options?.total ?? 0)
  if (total > shown) parts.push(`… and ${total - shown} more`)
  return parts.join(separator)
}

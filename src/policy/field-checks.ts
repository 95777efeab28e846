/**
 * Field-by-field checks of decoded policy documents (ClusterImagePolicy and Kyverno alike): every problem is
 * collected with its field path, bounded per document, so one pass reports them all.
 * @module
 */
import { clipText, MAX_ITEM_LENGTH, MAX_QUOTED_LENGTH } from '../internal/bounded-text.js'
import { isJSONObject } from '../internal/json.js'

/**
 * One invalid field: its path (`spec.authorities[0].keyless.identities`) and what is wrong.
 *
 * @example
 * ```ts
 * const e: PolicyFieldError = { field: 'spec.images', message: 'expected a list' }
 * ```
 */
export interface PolicyFieldError {
  readonly field: string
  readonly message: string
}

/**
 * Where one document's field errors and warnings are collected (bounded: see the limits below).
 *
 * @example
 * ```ts
 * const ctx = newFieldContext()
 * ```
 */
export interface Ctx {
  readonly errors: PolicyFieldError[]
  readonly warnings: string[]
  /** Errors and warnings past the bounds below: counted, not kept. */
  omittedErrors: number
  omittedWarnings: number
}

/**
 * Most field errors (and warnings) kept per document: a 4 MiB document can hold millions of bad entries, and each
 * kept one costs memory and a line somewhere; the rest are counted.
 */
export const MAX_FIELD_ERRORS = 100
export const MAX_WARNINGS = 100

/**
 * Record an invalid field (kept while under the bound, else counted).
 *
 * @example
 * ```ts
 * fail(ctx, 'spec.images', 'expected a list')
 * ```
 */
export function fail(ctx: Ctx, field: string, message: string): void {
  if (ctx.errors.length >= MAX_FIELD_ERRORS) ctx.omittedErrors++
  else ctx.errors.push({ field: clipText(field, MAX_ITEM_LENGTH), message: clipText(message, MAX_ITEM_LENGTH) })
}

/**
 * Record a warning (kept while under the bound, else counted).
 *
 * @example
 * ```ts
 * warn(ctx, 'spec.match: not applied')
 * ```
 */
export function warn(ctx: Ctx, message: string): void {
  if (ctx.warnings.length >= MAX_WARNINGS) ctx.omittedWarnings++
  else ctx.warnings.push(clipText(message, MAX_ITEM_LENGTH))
}

/**
 * An input value inside a message, clipped (the message names the field; the value only illustrates).
 *
 * @example
 * ```ts
 * fail(ctx, 'spec.type', `unsupported type ${shown(t)}`)
 * ```
 */
export function shown(v: string): string {
  return clipText(v, MAX_QUOTED_LENGTH)
}

/**
 * Warn about each field of `obj` not in `known`.
 *
 * @example
 * ```ts
 * unknownFields(ctx, spec, ['images', 'authorities'], 'spec')
 * ```
 */
export function unknownFields(ctx: Ctx, obj: Record<string, unknown>, known: readonly string[], path: string): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) warn(ctx, `${path}.${shown(k)}: unknown field, ignored`)
  }
}

/**
 * An optional string field (`""` and `null` count as absent); anything else is an error.
 *
 * @example
 * ```ts
 * const v = optString(ctx, doc, 'name', 'metadata')
 * ```
 */
export function optString(ctx: Ctx, obj: Record<string, unknown>, key: string, path: string): string | undefined {
  const v = obj[key]
  if (v === undefined || v === null || v === '') return undefined
  if (typeof v !== 'string') {
    fail(ctx, `${path}.${key}`, 'expected a string')
    return undefined
  }
  return v
}

/**
 * An optional object field.
 *
 * @example
 * ```ts
 * const v = optObject(ctx, doc, 'name', 'metadata')
 * ```
 */
export function optObject(ctx: Ctx, obj: Record<string, unknown>, key: string, path: string) {
  const v = obj[key]
  if (v === undefined || v === null) return undefined
  if (!isJSONObject(v)) {
    fail(ctx, `${path}.${key}`, 'expected an object')
    return undefined
  }
  return v
}

/**
 * An optional list field.
 *
 * @example
 * ```ts
 * const v = optArray(ctx, doc, 'name', 'metadata')
 * ```
 */
export function optArray(ctx: Ctx, obj: Record<string, unknown>, key: string, path: string): unknown[] | undefined {
  const v = obj[key]
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v)) {
    fail(ctx, `${path}.${key}`, 'expected a list')
    return undefined
  }
  return v
}

/**
 * An optional boolean field.
 *
 * @example
 * ```ts
 * const v = optBool(ctx, doc, 'name', 'metadata')
 * ```
 */
export function optBool(ctx: Ctx, obj: Record<string, unknown>, key: string, path: string): boolean | undefined {
  const v = obj[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') {
    fail(ctx, `${path}.${key}`, 'expected a boolean')
    return undefined
  }
  return v
}

/**
 * The objects of a list, with their paths; other items are errors.
 *
 * @example
 * ```ts
 * for (const [a, path] of objects(ctx, list, 'spec.authorities')) check(a, path)
 * ```
 */
export function objects(ctx: Ctx, list: unknown[] | undefined, path: string): [Record<string, unknown>, string][] {
  const out: [Record<string, unknown>, string][] = []
  for (const [i, v] of (list ?? []).entries()) {
    if (isJSONObject(v)) out.push([v, `${path}[${i}]`])
    else fail(ctx, `${path}[${i}]`, 'expected an object')
  }
  return out
}

/**
 * A fresh, empty context for one document.
 *
 * @example
 * ```ts
 * const ctx = newFieldContext()
 * ```
 */
export function newFieldContext(): Ctx {
  return { errors: [], warnings: [], omittedErrors: 0, omittedWarnings: 0 }
}

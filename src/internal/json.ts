/** Small JSON helpers shared by the parsers. Never exported from the package. @module */

/** True for a plain JSON object (not null, not an array). */
export function isJSONObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

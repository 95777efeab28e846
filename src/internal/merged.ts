/**
 * `{ ...base, ...extra }` for hot paths. Never exported from the package.
 *
 * Why: on Node 20 (V8 11.3) an object literal that begins with a spread and then adds properties
 * (`{ ...options, backend }`) gets a hidden class of its own every time once its function is optimised. Hidden
 * classes live in old space, so such a literal per call allocates there and keeps what it points to alive past
 * young-generation collections (measured on the admission webhook; docs/admission.md, "Latency"). `Object.assign`
 * onto a fresh `{}` shares one hidden class, with the same result: `extra` wins where both have a key.
 *
 * @example
 * ```ts
 * const call = merged(verifyOptionsFor(key), { backend }) // not { ...verifyOptionsFor(key), backend }
 * ```
 * @module
 */

/** `base`'s own enumerable properties, then `extra`'s over them, in a new object. */
export function merged<A extends object, B extends object>(base: A, extra: B): Omit<A, keyof B> & B {
  return Object.assign({}, base, extra)
}

/**
 * The Web platform types the public API names (AbortSignal, fetch and its Response, ReadableStream, URL), spelled
 * so that the emitted declarations compile without the DOM lib and without @types/node. Each is the host's own type
 * when the consumer's environment declares one (read off `typeof globalThis`: `lib: ["dom"]` and `@types/node` each
 * get exactly their AbortSignal, fetch, …), and otherwise a minimal structural stand-in saying what countersign
 * uses. src/ compiles with the DOM lib, so inside the SDK each is exactly the DOM type.
 *
 * Naming a global type directly (`signal?: AbortSignal`) would make every consumer's typecheck fail with "Cannot find
 * name" unless they add the DOM lib or @types/node; a plain structural interface instead would hand users who do
 * have them a type they cannot pass on to `fetch`.
 * @module
 */

/**
 * What countersign uses of an AbortSignal, for environments that declare none.
 *
 * @example
 * ```ts
 * const never: AbortSignalShape = { aborted: false, reason: undefined, addEventListener() {}, removeEventListener() {} }
 * ```
 */
export interface AbortSignalShape {
  readonly aborted: boolean
  readonly reason: unknown
  addEventListener(type: 'abort', listener: () => void, options?: { readonly once?: boolean }): void
  removeEventListener(type: 'abort', listener: () => void): void
  throwIfAborted?(): void
}

/**
 * An AbortSignal: the host's type (DOM lib or @types/node) where it declares one, else {@link AbortSignalShape}.
 * At run time countersign needs a real AbortSignal (it combines signals with `AbortSignal.any` and hands them to
 * `fetch`).
 *
 * @example
 * ```ts
 * const signal: AbortSignalLike = AbortSignal.timeout(30_000)
 * ```
 */
export type AbortSignalLike = typeof globalThis extends { AbortSignal: { prototype: infer S } } ? S : AbortSignalShape

/**
 * What countersign reads of a byte stream, for environments that declare no ReadableStream.
 *
 * @example
 * ```ts
 * const reader = (stream as ByteStreamShape).getReader()
 * ```
 */
export interface ByteStreamShape {
  getReader(): {
    read(): Promise<
      { readonly done: true; readonly value?: undefined } | { readonly done: false; readonly value: Uint8Array }
    >
    releaseLock(): void
    cancel(reason?: unknown): Promise<void>
  }
  cancel(reason?: unknown): Promise<void>
}

/**
 * A ReadableStream of bytes: the host's ReadableStream where it declares one (its element type is then `any`: a
 * generic cannot be read off `globalThis`), else {@link ByteStreamShape}.
 *
 * @example
 * ```ts
 * const stream: ReadableByteStream = new Blob([bytes]).stream()
 * ```
 */
export type ReadableByteStream = typeof globalThis extends { ReadableStream: { prototype: infer S } }
  ? S
  : ByteStreamShape

/**
 * What countersign reads of an HTTP response, for environments that declare no Response.
 *
 * @example
 * ```ts
 * const status = (res as ResponseShape).status
 * ```
 */
export interface ResponseShape {
  readonly status: number
  readonly statusText: string
  readonly ok: boolean
  readonly url: string
  readonly headers: { get(name: string): string | null }
  readonly body: ByteStreamShape | null
  readonly bodyUsed: boolean
  json(): Promise<unknown>
  text(): Promise<string>
  arrayBuffer(): Promise<ArrayBuffer>
}

/**
 * An HTTP response: the host's Response where it declares one, else {@link ResponseShape}.
 *
 * @example
 * ```ts
 * const res: ResponseLike = await fetch(url)
 * ```
 */
export type ResponseLike = typeof globalThis extends { Response: { prototype: infer R } } ? R : ResponseShape

/**
 * What countersign passes to fetch, for environments that declare none.
 *
 * @example
 * ```ts
 * const init: RequestInitShape = { method: 'GET', headers: { accept: 'application/json' } }
 * ```
 */
export interface RequestInitShape {
  method?: string
  headers?: Readonly<Record<string, string>>
  body?: Uint8Array | string
  signal?: AbortSignalLike
  redirect?: 'follow' | 'manual' | 'error'
}

/**
 * The second argument of fetch: the host's RequestInit where it declares fetch, else {@link RequestInitShape}.
 *
 * @example
 * ```ts
 * const init: RequestInitLike = { method: 'HEAD' }
 * ```
 */
export type RequestInitLike = typeof globalThis extends { fetch: (input: never, init?: infer I) => unknown }
  ? NonNullable<I>
  : RequestInitShape

/**
 * A fetch function: the host's `fetch` type where it declares one (so `globalThis.fetch`, undici's and
 * `countersign/node`'s fit), else one taking a URL string and {@link RequestInitShape}.
 *
 * @example
 * ```ts
 * const f: FetchFunction = (input, init) => globalThis.fetch(input, init)
 * ```
 */
export type FetchFunction = typeof globalThis extends { fetch: infer F }
  ? F
  : (input: string, init?: RequestInitShape) => Promise<ResponseShape>

/**
 * A URL: the host's URL where it declares one, else an object with its `href`.
 *
 * @example
 * ```ts
 * const u: URLLike = new URL('https://example.com/callback?code=x')
 * ```
 */
export type URLLike = typeof globalThis extends { URL: { prototype: infer U } } ? U : { readonly href: string }

/**
 * The secrets one process (the CLI, the admission webhook) or one client holds, and the replacement of each of them
 * in text: in every form a server may echo it (see `secret-forms.ts`), and every run of {@link REDACTION_WINDOW} or
 * more characters of such a form (a JWT's segment, a token a server cut short), by `[REDACTED]`. Windows are found
 * with a rolling hash against each secret's sorted window hashes, behind a bit filter that rules out most windows at
 * once, so a long error body is redacted quickly even with many secrets held. Internal; see `redact.ts`.
 *
 * @module
 */
import { secretForms } from './secret-forms.js'

/**
 * What replaces a secret.
 *
 * @example
 * ```ts
 * createSecretSet(['hunter2-secret']).redact('bad password hunter2-secret') // 'bad password [REDACTED]'
 * ```
 */
export const REDACTED = '[REDACTED]'

/** Values shorter than this are not treated as secrets: they would match ordinary words and protect nothing. */
const MIN_SECRET_LENGTH = 6
/**
 * A run of this many characters of a secret's form is enough to identify it (72 bits of a base64 token), so such
 * runs are redacted too: a server that echoes half a token, or a JWT's claims segment, still leaks nothing.
 *
 * @example
 * ```ts
 * createSecretSet([token]).redact(token.slice(0, REDACTION_WINDOW)) // '[REDACTED]'
 * ```
 */
export const REDACTION_WINDOW = 12
/** Short-lived secrets (tokens issued by servers) kept at once; the oldest are forgotten first. */
const MAX_TEMPORARY = 64

/**
 * The secrets one process (the CLI, the admission webhook) or one client holds, and the redaction against them.
 *
 * @example
 * ```ts
 * const secrets = createSecretSet()
 * secrets.add(flags.password, `${flags.user}:${flags.password}`)
 * throw new CountersignError('ERR_OCI_HTTP', secrets.redact(serverText))
 * ```
 */
export interface SecretSet {
  /** Remember long-lived secrets (configured credentials); `undefined` and values under 6 characters are ignored. */
  add(...secrets: readonly (string | undefined)[]): void
  /**
   * Remember short-lived secrets (tokens a server issued, per-request credentials): only the 64 most recently added
   * or repeated ones are kept, so a long-running process does not grow without bound.
   */
  addTemporary(...secrets: readonly (string | undefined)[]): void
  /** `text` with every known secret (any form, any identifying part) replaced by `[REDACTED]`. */
  redact(text: string): string
}

/** One secret: its forms and the sorted hashes of every {@link REDACTION_WINDOW}-character window of them. */
interface Entry {
  readonly forms: readonly string[]
  readonly windows: Uint32Array
}

const HASH_BASE = 0x01000193
const HASH_POW = (() => {
  let p = 1
  for (let i = 1; i < REDACTION_WINDOW; i++) p = Math.imul(p, HASH_BASE)
  return p >>> 0
})()
/** Bits of the filter that answers "no secret has this window" without a search (2^20 bits, 128 KiB). */
const FILTER_BITS = 20

/** Call `each(hash, start)` for every window of `s` (a polynomial rolling hash modulo 2^32). */
function eachWindow(s: string, each: (hash: number, start: number) => void): void {
  if (s.length < REDACTION_WINDOW) return
  let h = 0
  for (let i = 0; i < REDACTION_WINDOW; i++) h = (Math.imul(h, HASH_BASE) + s.charCodeAt(i)) >>> 0
  each(h, 0)
  for (let i = REDACTION_WINDOW; i < s.length; i++) {
    h = (h - Math.imul(s.charCodeAt(i - REDACTION_WINDOW), HASH_POW)) >>> 0
    h = (Math.imul(h, HASH_BASE) + s.charCodeAt(i)) >>> 0
    each(h, i - REDACTION_WINDOW + 1)
  }
}

function entryOf(secret: string): Entry {
  const forms = secretForms(secret)
  const hashes: number[] = []
  for (const f of forms) eachWindow(f, (h) => hashes.push(h))
  return { forms, windows: Uint32Array.from(hashes).sort() }
}

function hasHash(sorted: Uint32Array, h: number): boolean {
  let lo = 0
  let hi = sorted.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = sorted[mid]!
    if (v === h) return true
    if (v < h) lo = mid + 1
    else hi = mid - 1
  }
  return false
}

/**
 * Create a set holding `initial` (long-lived) secrets. No state is shared between sets: the CLI and the admission
 * webhook create one per process and hand it to every client; a client given none creates its own.
 *
 * @example
 * ```ts
 * const secrets = createSecretSet([process.env.VAULT_TOKEN])
 * secrets.redact(`denied: ${echoedHeader}`)
 * ```
 */
export function createSecretSet(initial: readonly (string | undefined)[] = []): SecretSet {
  const permanent = new Map<string, Entry>()
  const temporary = new Map<string, Entry>()
  let filter: Uint8Array | undefined
  let filterStale = false

  const mark = (f: Uint8Array, e: Entry) => {
    for (const h of e.windows) {
      const bit = h >>> (32 - FILTER_BITS)
      f[bit >>> 3] = (f[bit >>> 3] ?? 0) | (1 << (bit & 7))
    }
  }
  const currentFilter = (): Uint8Array => {
    if (filter === undefined || filterStale) {
      filter = new Uint8Array(1 << (FILTER_BITS - 3))
      for (const e of permanent.values()) mark(filter, e)
      for (const e of temporary.values()) mark(filter, e)
      filterStale = false
    }
    return filter
  }
  const usable = (s: string | undefined): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH

  const set: SecretSet = {
    add(...secrets) {
      for (const s of secrets) {
        if (!usable(s) || permanent.has(s)) continue
        const e = temporary.get(s) ?? entryOf(s)
        temporary.delete(s)
        permanent.set(s, e)
        if (filter !== undefined && !filterStale) mark(filter, e)
      }
    },
    addTemporary(...secrets) {
      for (const s of secrets) {
        if (!usable(s) || permanent.has(s)) continue
        const e = temporary.get(s) ?? entryOf(s)
        // Re-inserting moves it to the end: the oldest is the one not seen for longest.
        temporary.delete(s)
        temporary.set(s, e)
        if (filter !== undefined && !filterStale) mark(filter, e)
        if (temporary.size > MAX_TEMPORARY) {
          temporary.delete(temporary.keys().next().value!)
          filterStale = true
        }
      }
    },
    redact(text) {
      if (typeof text !== 'string' || text === '' || (permanent.size === 0 && temporary.size === 0)) return text
      const entries = [...permanent.values(), ...temporary.values()]
      const hidden = new Uint8Array(text.length)
      let any = false
      const hide = (start: number, length: number) => {
        hidden.fill(1, start, start + length)
        any = true
      }
      // Forms shorter than a window are found whole; longer ones window by window (which finds them whole too).
      for (const e of entries) {
        for (const form of e.forms) {
          if (form.length >= REDACTION_WINDOW) continue
          for (let at = text.indexOf(form); at >= 0; at = text.indexOf(form, at + 1)) hide(at, form.length)
        }
      }
      const f = currentFilter()
      eachWindow(text, (h, start) => {
        const bit = h >>> (32 - FILTER_BITS)
        if ((f[bit >>> 3]! & (1 << (bit & 7))) === 0) return
        const window = text.slice(start, start + REDACTION_WINDOW)
        for (const e of entries) {
          if (hasHash(e.windows, h) && e.forms.some((form) => form.includes(window))) {
            hide(start, REDACTION_WINDOW)
            return
          }
        }
      })
      if (!any) return text
      let out = ''
      for (let i = 0; i < text.length; ) {
        if (hidden[i] === 1) {
          while (i < text.length && hidden[i] === 1) i++
          out += REDACTED
        } else {
          const start = i
          while (i < text.length && hidden[i] !== 1) i++
          out += text.slice(start, i)
        }
      }
      return out
    },
  }
  set.add(...initial)
  return set
}

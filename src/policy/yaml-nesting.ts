/**
 * YAML parsing with bounds. The `yaml` package's composer and `toJS` recurse once per level of nesting and overflow
 * the stack somewhere under a thousand levels (a 100 KB document suffices), and the package has no depth option.
 * Its lexer and CST parser are iterative, though, and the parser keeps the collections it is inside on an explicit
 * stack: this runs lexer → parser → composer by hand, as `parseAllDocuments` does, and stops as soon as that stack
 * is deeper than allowed, before anything recursive sees the input (docs/formats.md §Input limits).
 *
 * Two more costs are bounded here. Resolving an alias in `toJS` scans every anchor and alias before it, so a text of
 * `&a x` / `*a` pairs costs time quadratic in their number (100 KB: 1.3 s, 400 KB: 17 s): anchors plus aliases are
 * counted while lexing and refused past {@link MAX_YAML_ANCHORS}. And parsing itself, linear, is slow for YAML
 * (2–6 s per MiB of hostile but shallow text): {@link parseYAMLDocumentsBoundedAsync} gives the event loop back
 * every few milliseconds so a server keeps answering while it reads a policy.
 * @module
 */
import { Composer, CST, type Document, Lexer, Parser } from 'yaml'

/**
 * Entries of the parser's stack besides the collections: the document. (A plain scalar in block context takes one
 * more entry, so the count may exceed the collections by one, never fall short.)
 */
const STACK_OVERHEAD = 1

/**
 * Most anchors (`&name`) and aliases (`*name`) in one text. Resolving aliases costs (anchors + aliases)² steps, so
 * this keeps that under a million; policies use a handful, if any.
 *
 * @example
 * ```ts
 * if (count > MAX_YAML_ANCHORS) throw new Error('too many anchors and aliases')
 * ```
 */
export const MAX_YAML_ANCHORS = 1000

/** Lexemes handled between checks of the clock in the yielding parse. */
const LEXEMES_PER_CHECK = 512
/** How long the yielding parse runs before it gives the event loop a turn. */
const SLICE_MS = 8

/**
 * Options passed on to the composer (those of `parseAllDocuments` that policies use).
 *
 * @example
 * ```ts
 * const options: BoundedYAMLOptions = { uniqueKeys: true }
 * ```
 */
export interface BoundedYAMLOptions {
  readonly uniqueKeys?: boolean
}

/**
 * What a bounded parse returns: the documents (each with its `errors`, as `parseAllDocuments` returns them), or why
 * it stopped early.
 *
 * @example
 * ```ts
 * const r: BoundedYAMLResult = 'too-deep'
 * ```
 */
export type BoundedYAMLResult = Document.Parsed[] | 'too-deep' | 'too-many-anchors'

/** The parse, as a sequence of steps: it yields between batches of lexemes and returns the result. */
function* parseSteps(
  text: string,
  maxDepth: number,
  options: BoundedYAMLOptions,
): Generator<void, BoundedYAMLResult, void> {
  const lexer = new Lexer()
  const parser = new Parser()
  // logLevel 'error': the package would otherwise print process warnings (e.g. for collection-valued keys) that
  // nothing reads; such documents fail validation instead.
  const composer = new Composer({ prettyErrors: false, logLevel: 'error', ...options })
  const docs: Document.Parsed[] = []
  const limit = maxDepth + STACK_OVERHEAD
  let anchors = 0
  // The lexeme after a SCALAR marker is a scalar's text, whatever its first character (the parser reads it so).
  let atScalar = false
  let sinceCheck = 0
  for (const lexeme of lexer.lex(text)) {
    if (atScalar) atScalar = false
    else if (lexeme === CST.SCALAR) atScalar = true
    else if (lexeme[0] === '&' || lexeme[0] === '*') {
      const type = CST.tokenType(lexeme)
      if ((type === 'anchor' || type === 'alias') && ++anchors > MAX_YAML_ANCHORS) return 'too-many-anchors'
    }
    for (const token of parser.next(lexeme)) docs.push(...composer.next(token))
    if (parser.stack.length > limit) return 'too-deep'
    if (++sinceCheck === LEXEMES_PER_CHECK) {
      sinceCheck = 0
      yield
    }
  }
  for (const token of parser.end()) docs.push(...composer.next(token))
  docs.push(...composer.end())
  return docs
}

/**
 * The documents of `text`, as `parseAllDocuments` returns them (each with its `errors`), or `'too-deep'` as soon as
 * collections nest more than `maxDepth` levels, or `'too-many-anchors'` past {@link MAX_YAML_ANCHORS} anchors and
 * aliases. Stopping early also keeps a hostile input cheap: the CST parser slows down as its stack grows.
 *
 * @example
 * ```ts
 * const docs = parseYAMLDocumentsBounded('a: [1, [2]]\n', 64, { uniqueKeys: true })
 * if (typeof docs === 'string') throw new Error(docs)
 * docs[0]?.toJS() // { a: [1, [2]] }
 * ```
 */
export function parseYAMLDocumentsBounded(
  text: string,
  maxDepth: number,
  options: BoundedYAMLOptions = {},
): BoundedYAMLResult {
  const steps = parseSteps(text, maxDepth, options)
  for (;;) {
    const step = steps.next()
    if (step.done) return step.value
  }
}

/**
 * {@link parseYAMLDocumentsBounded}, handing the event loop back every few milliseconds (a timer turn, so pending
 * I/O runs): for servers that must keep answering while a large policy is read.
 *
 * @example
 * ```ts
 * const docs = await parseYAMLDocumentsBoundedAsync(text, 64, { uniqueKeys: true })
 * ```
 */
export async function parseYAMLDocumentsBoundedAsync(
  text: string,
  maxDepth: number,
  options: BoundedYAMLOptions = {},
): Promise<BoundedYAMLResult> {
  const steps = parseSteps(text, maxDepth, options)
  let sliceStart = performance.now()
  for (;;) {
    const step = steps.next()
    if (step.done) return step.value
    if (performance.now() - sliceStart >= SLICE_MS) {
      await yieldToEventLoop()
      sliceStart = performance.now()
    }
  }
}

/**
 * One turn of the event loop. A timer, not a microtask: microtasks run before I/O callbacks, so they would not let a
 * waiting request in. (`setTimeout` exists in every runtime we support.)
 *
 * @example
 * ```ts
 * await yieldToEventLoop()
 * ```
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0))
}

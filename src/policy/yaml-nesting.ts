/**
 * YAML parsing with a nesting bound. The `yaml` package's composer and `toJS` recurse once per level of nesting and
 * overflow the stack somewhere under a thousand levels (a 100 KB document suffices), and the package has no depth
 * option. Its lexer and CST parser are iterative, though, and the parser keeps the collections it is inside on an
 * explicit stack: this runs lexer → parser → composer by hand, as `parseAllDocuments` does, and stops as soon as that
 * stack is deeper than allowed, before anything recursive sees the input (docs/formats.md §Input limits).
 * @module
 */
import { Composer, type Document, Lexer, Parser } from 'yaml'

/**
 * Entries of the parser's stack besides the collections: the document. (A plain scalar in block context takes one
 * more entry, so the count may exceed the collections by one, never fall short.)
 */
const STACK_OVERHEAD = 1

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
 * The documents of `text`, as `parseAllDocuments` returns them (each with its `errors`), or `'too-deep'` as soon as
 * collections nest more than `maxDepth` levels. Stopping early also keeps a hostile input cheap: the CST parser
 * slows down as its stack grows.
 *
 * @example
 * ```ts
 * const docs = parseYAMLDocumentsBounded('a: [1, [2]]\n', 64, { uniqueKeys: true })
 * if (docs === 'too-deep') throw new Error('nested too deeply')
 * docs[0]?.toJS() // { a: [1, [2]] }
 * ```
 */
export function parseYAMLDocumentsBounded(
  text: string,
  maxDepth: number,
  options: BoundedYAMLOptions = {},
): Document.Parsed[] | 'too-deep' {
  const lexer = new Lexer()
  const parser = new Parser()
  const composer = new Composer({ prettyErrors: false, ...options })
  const docs: Document.Parsed[] = []
  const limit = maxDepth + STACK_OVERHEAD
  for (const lexeme of lexer.lex(text)) {
    for (const token of parser.next(lexeme)) docs.push(...composer.next(token))
    if (parser.stack.length > limit) return 'too-deep'
  }
  for (const token of parser.end()) docs.push(...composer.next(token))
  docs.push(...composer.end())
  return docs
}

/**
 * Kyverno's JMESPath (`{{ … }}` in `verifyImages` attestation conditions), as countersign evaluates it.
 *
 * Parsing uses @jmespath-community/jmespath, an optional peer dependency loaded on first need (like @bufbuild/cel
 * for CEL conditions): only policies with `{{ }}` variables need it, so `loadJMESPathEngine` imports it
 * dynamically and a missing package fails closed with ERR_DEPENDENCY_MISSING. Evaluation is countersign's own
 * (jmespath-interpreter.ts), because Kyverno's dialect differs from the community one in ways that decide
 * verdicts:
 *
 * - a field missing from an object is an error (`Unknown key "x" in path`), not null (see jmespath-interpreter.ts
 *   for exactly where it propagates and where it reads as null);
 * - the functions are the original specification's plus Kyverno's (`regex_match`, `time_since`, `items`…), with
 *   Kyverno's meaning where the community library has a same-named built-in (`items`, `split`, `replace`, `trim`,
 *   `sum`); the community-only built-ins (`lower`, `upper`, `group_by`, …) do not exist;
 * - the community-only syntax (`$`, `let`, arithmetic operators, `? :`, variables) is refused: go-jmespath cannot
 *   parse it, so Kyverno never evaluates it;
 * - raw strings keep every backslash but the one before a quote (`'\d'` is the two characters `\d`, as in Go), and
 *   JSON literals are decoded as Go's `json.Unmarshal` decodes them.
 *
 * Kyverno's functions live in countersign's own table: nothing is registered in the library's process-wide
 * function registry, so loading twice, or other users of the library, are unaffected.
 * @module
 */
import type * as JMESPathPackage from '@jmespath-community/jmespath'
import { CountersignError } from '../../errors.js'
import { useRE2Engine } from '../../x509/re2.js'
import { useKyvernoRegexEngine } from './jmespath-functions-regex.js'
import { evaluateKyvernoJMESPath, type KyvernoJMESPathNode } from './jmespath-interpreter.js'

/** The part of @jmespath-community/jmespath countersign uses: its parser. */
type JMESPathEngine = Pick<typeof JMESPathPackage, 'compile'>
type CommunityNode = ReturnType<JMESPathEngine['compile']>

/** The optional peer dependency JMESPath conditions need, as users install it. */
const JMESPATH_PACKAGE = '@jmespath-community/jmespath'

let engine: JMESPathEngine | undefined
let loading: Promise<void> | undefined

/**
 * Load the JMESPath parser (the optional peer dependency `@jmespath-community/jmespath`) and the RE2 engine the
 * regular-expression functions use, so that {@link searchKyvernoJMESPath} (and Kyverno condition evaluation) can
 * run synchronously. Concurrent callers share one import; after a failure the next call tries again; once loaded,
 * further calls return at once.
 *
 * @returns Settles once Kyverno expressions can be evaluated.
 * @throws {CountersignError} ERR_DEPENDENCY_MISSING when `@jmespath-community/jmespath` is not installed
 *   (`details.package`, `details.reason: 'not-installed'`, or `'load-failed'` for a broken install); the message
 *   says what to install.
 * @example
 * ```ts
 * import { loadJMESPathEngine } from 'countersign/policy'
 * await loadJMESPathEngine() // once, before evaluating Kyverno conditions with {{ }} variables
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function loadJMESPathEngine(): Promise<void> {
  return loadJMESPathEngineWith(() => import('@jmespath-community/jmespath'))
}

/**
 * {@link loadJMESPathEngine} with the import supplied (tests simulate a missing package with it).
 *
 * @param importer - Imports `@jmespath-community/jmespath`.
 * @example
 * ```ts
 * await loadJMESPathEngineWith(() => import('@jmespath-community/jmespath'))
 * ```
 */
export function loadJMESPathEngineWith(importer: () => Promise<JMESPathEngine>): Promise<void> {
  if (engine !== undefined) return Promise.resolve()
  loading ??= Promise.all([
    importer().catch((cause: unknown) => {
      throw notInstalled(cause)
    }),
    // re2js is a regular dependency: it is loaded here only to keep it out of bundles that never see a regex.
    import('re2js'),
  ]).then(
    ([m, re2]) => {
      useRE2Engine(re2.RE2JS)
      useKyvernoRegexEngine(re2.RE2JS)
      engine ??= m
    },
    (cause: unknown) => {
      loading = undefined
      throw cause
    },
  )
  return loading
}

/**
 * Whether {@link loadJMESPathEngine} has completed.
 *
 * @example
 * ```ts
 * if (!isJMESPathEngineLoaded()) await loadJMESPathEngine()
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function isJMESPathEngineLoaded(): boolean {
  return engine !== undefined
}

function notInstalled(cause: unknown): CountersignError {
  const code = (cause as { code?: unknown } | null)?.code
  // Node's code for a package that cannot be resolved; anything else (a broken install) is shown as it came.
  const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
  const failure = missing ? 'it is not installed' : `loading it failed: ${(cause as Error)?.message ?? String(cause)}`
  return new CountersignError(
    'ERR_DEPENDENCY_MISSING',
    `Kyverno JMESPath conditions need the optional package ${JMESPATH_PACKAGE} (${failure}): run \`npm install ` +
      `${JMESPATH_PACKAGE}\` in your project, or \`npm install -g ${JMESPATH_PACKAGE}\` for a global countersign CLI`,
    { cause, details: { package: JMESPATH_PACKAGE, reason: missing ? 'not-installed' : 'load-failed' } },
  )
}

function jmespathEngine(): JMESPathEngine {
  if (engine !== undefined) return engine
  throw new CountersignError(
    'ERR_DEPENDENCY_MISSING',
    `Kyverno JMESPath conditions need ${JMESPATH_PACKAGE}, which is not loaded yet: call \`await ` +
      'loadJMESPathEngine()` (countersign/policy) before evaluating them',
    { details: { package: JMESPATH_PACKAGE, reason: 'not-loaded' } },
  )
}

/** Longer expressions are refused: a condition is configuration, not a program. */
const MAX_EXPRESSION_LENGTH = 16 * 1024

function syntaxError(expression: string, message: string, cause?: unknown): CountersignError {
  const shown = expression.length > 200 ? `${expression.slice(0, 200)}…` : expression
  return new CountersignError('ERR_INVALID_INPUT', `JMESPath expression ${JSON.stringify(shown)}: ${message}`, {
    cause,
    details: { reason: 'syntax' },
  })
}

/**
 * Rewrite raw strings (`'…'`) and JSON literals (`` `…` ``) into placeholders the community parser passes through
 * unchanged, decoding each as go-jmespath's lexer does: in a raw string only `\'` is an escape; in a JSON literal
 * `` \` `` is a backtick and the rest is Go JSON. Quoted identifiers (`"…"`) are left to the parser, which decodes
 * them as Go does (as JSON strings).
 */
function extractLiterals(expression: string): { text: string; literals: unknown[] } {
  const literals: unknown[] = []
  let text = ''
  let i = 0
  const placeholder = (value: unknown) => {
    literals.push(value)
    // A JSON string literal the parser keeps as is: NUL, then the index.
    return `\`"\\u0000${literals.length - 1}"\``
  }
  while (i < expression.length) {
    const c = expression[i]
    if (c === '"') {
      let j = i + 1
      while (j < expression.length && expression[j] !== '"') j += expression[j] === '\\' ? 2 : 1
      if (j >= expression.length) throw syntaxError(expression, 'unterminated quoted identifier')
      text += expression.slice(i, j + 1)
      i = j + 1
    } else if (c === "'") {
      let value = ''
      let j = i + 1
      for (;;) {
        if (j >= expression.length) throw syntaxError(expression, 'unterminated raw string literal')
        if (expression[j] === '\\' && expression[j + 1] === "'") {
          value += "'"
          j += 2
        } else if (expression[j] === "'") break
        else value += expression[j++]
      }
      text += placeholder(value)
      i = j + 1
    } else if (c === '`') {
      let j = i + 1
      while (j < expression.length && expression[j] !== '`') j += expression[j] === '\\' ? 2 : 1
      if (j >= expression.length) throw syntaxError(expression, 'unterminated JSON literal')
      const raw = expression.slice(i + 1, j).replaceAll('\\`', '`')
      let value: unknown
      try {
        value = JSON.parse(raw)
      } catch (cause) {
        throw syntaxError(expression, `invalid JSON literal ${JSON.stringify(raw)}`, cause)
      }
      text += placeholder(value)
      i = j + 1
    } else {
      text += c
      i++
    }
  }
  return { text, literals }
}

const COMPARATORS = new Set(['EQ', 'NE', 'LT', 'LTE', 'GT', 'GTE'])

/** Convert the community parser's tree, restoring literals and refusing what go-jmespath cannot parse. */
function convert(node: CommunityNode, literals: readonly unknown[], expression: string): KyvernoJMESPathNode {
  const c = (n: CommunityNode) => convert(n, literals, expression)
  const n = node as unknown as Record<string, unknown> & { type: string }
  const child = (key: string) => c(n[key] as CommunityNode)
  switch (n.type) {
    case 'Field':
      return { t: 'field', name: n.name as string }
    case 'Subexpression':
    case 'IndexExpression':
      return { t: 'sub', left: child('left'), right: child('right') }
    case 'Index':
      return { t: 'index', index: n.value as number }
    case 'Slice':
      return {
        t: 'slice',
        start: (n.start as number | null) ?? null,
        stop: (n.stop as number | null) ?? null,
        step: (n.step as number | null) ?? null,
      }
    case 'Projection':
      return { t: 'project', left: child('left'), right: child('right') }
    case 'ValueProjection':
      return { t: 'values', left: child('left'), right: child('right') }
    case 'FilterProjection':
      return { t: 'filter', left: child('left'), right: child('right'), condition: child('condition') }
    case 'Flatten':
      return { t: 'flatten', child: child('child') }
    case 'Identity':
    case 'Current':
      return { t: 'current' }
    case 'Literal': {
      // Every literal was replaced by a placeholder; anything else came from syntax go-jmespath lacks.
      const m = typeof n.value === 'string' ? /^\u0000(\d+)$/.exec(n.value) : null
      if (m === null) throw syntaxError(expression, 'unsupported literal')
      return { t: 'literal', value: literals[Number(m[1])] }
    }
    case 'MultiSelectList':
      return { t: 'list', children: (n.children as CommunityNode[]).map(c) }
    case 'MultiSelectHash':
      return {
        t: 'hash',
        entries: (n.children as { name: string; value: CommunityNode }[]).map((kv) => [kv.name, c(kv.value)] as const),
      }
    case 'OrExpression':
      return { t: 'or', left: child('left'), right: child('right') }
    case 'AndExpression':
      return { t: 'and', left: child('left'), right: child('right') }
    case 'Pipe':
      return { t: 'pipe', left: child('left'), right: child('right') }
    case 'NotExpression':
      return { t: 'not', child: child('child') }
    case 'Comparator':
      if (!COMPARATORS.has(n.name as string)) throw syntaxError(expression, `unknown comparator ${String(n.name)}`)
      return {
        t: 'compare',
        op: n.name as 'EQ',
        left: child('left'),
        right: child('right'),
      }
    case 'Function':
      return { t: 'call', name: n.name as string, args: (n.children as CommunityNode[]).map(c) }
    case 'ExpressionReference':
      return { t: 'expref', child: child('child') }
    default:
      // Root ($), variables, let, arithmetic, ternaries: JMESPath Community syntax go-jmespath cannot parse.
      throw syntaxError(expression, `${n.type} expressions are not part of Kyverno's JMESPath`)
  }
}

const compiled = new Map<string, KyvernoJMESPathNode>()
const MAX_CACHED = 512

function compileKyverno(expression: string): KyvernoJMESPathNode {
  const cached = compiled.get(expression)
  if (cached !== undefined) return cached
  const { compile } = jmespathEngine()
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw syntaxError(expression, `longer than ${MAX_EXPRESSION_LENGTH} characters`)
  }
  let tree: KyvernoJMESPathNode
  try {
    const { text, literals } = extractLiterals(expression)
    tree = convert(compile(text), literals, expression)
  } catch (cause) {
    if (cause instanceof CountersignError) throw cause
    // The parser's own words ("Syntax error: …"), or a tree nested beyond the stack.
    const message = cause instanceof RangeError ? 'nested too deeply' : (cause as Error)?.message
    throw syntaxError(expression, String(message), cause)
  }
  if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value as string)
  compiled.set(expression, tree)
  return tree
}

/**
 * Options of {@link searchKyvernoJMESPath}.
 *
 * @example
 * ```ts
 * const options: KyvernoJMESPathOptions = { now: new Date('2024-01-01T00:00:00Z') }
 * ```
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoJMESPathOptions {
  /** The clock `time_now`, `time_now_utc` and `time_since(…, '')` read; default the current time. */
  readonly now?: Date
}

/**
 * Evaluate a JMESPath expression over `data` the way Kyverno does (its go-jmespath fork and custom functions).
 * The engine must be loaded first ({@link loadJMESPathEngine}).
 *
 * @param expression - e.g. `builder.id`, `regex_match('^https://github\\.com/', builder.id)`.
 * @param data - JSON data (a Kyverno context: the predicate merged at the root).
 * @returns The result, a JSON value (null for nothing).
 * @throws {CountersignError} ERR_DEPENDENCY_MISSING (`details.reason: 'not-loaded'`) when the engine is not loaded;
 *   ERR_INVALID_INPUT with `details.reason` `syntax` (does not parse, or uses syntax Kyverno lacks), `unknown-key`
 *   (a field missing from an object, message `Unknown key "x" in path`, `details.key`), `evaluation` (a function's
 *   error, an unknown function, a wrong argument type), `too-costly` (past a million steps).
 * @example
 * ```ts
 * import { loadJMESPathEngine, searchKyvernoJMESPath } from 'countersign/policy'
 * await loadJMESPathEngine()
 * searchKyvernoJMESPath('repo.uri', { repo: { uri: 'https://github.com/acme/app' } }) // 'https://github.com/acme/app'
 * searchKyvernoJMESPath('repo.branch', { repo: {} }) // throws: Unknown key "branch" in path
 * searchKyvernoJMESPath("repo.branch || 'main'", { repo: {} }) // 'main'
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function searchKyvernoJMESPath(expression: string, data: unknown, options?: KyvernoJMESPathOptions): unknown {
  if (typeof expression !== 'string') throw new TypeError('"expression" must be a string')
  const tree = compileKyverno(expression)
  return evaluateKyvernoJMESPath(tree, data, options?.now ?? new Date())
}

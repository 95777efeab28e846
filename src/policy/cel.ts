/**
 * CEL conditions (the Common Expression Language Kubernetes uses for admission rules), evaluated over plain JSON
 * with @bufbuild/cel: parsed once, planned once, run per statement. A condition passes only when it evaluates to
 * `true`; any error (a missing field, a type mismatch) fails it with CEL's message.
 *
 * @bufbuild/cel (with the CEL spec tables and protobuf runtime it pulls in, about 9.6 MB installed) is an optional
 * peer dependency: only policies with CEL conditions need it, so it is imported on first need (`loadCELEngine`)
 * rather than statically, and a missing package fails closed with ERR_DEPENDENCY_MISSING.
 * @module
 */
import type * as CELPackage from '@bufbuild/cel'
import { CountersignError } from '../errors.js'
import { isJSONObject } from '../internal/json.js'

/** The part of @bufbuild/cel countersign uses. */
type CELEngine = Pick<typeof CELPackage, 'celEnv' | 'isCelError' | 'parse' | 'plan'>

/** The optional peer dependency CEL conditions need, as users install it. */
const CEL_PACKAGE = '@bufbuild/cel'

let engine: CELEngine | undefined
let loading: Promise<void> | undefined

/**
 * Load the CEL engine (the optional peer dependency `@bufbuild/cel`) so that CEL conditions can be compiled by the
 * synchronous APIs: {@link compileCELCondition}, `parsePolicies` and `evaluatePolicy`. `parsePoliciesAsync` and
 * `verifyImageAgainstPolicies` call it themselves when a policy has a CEL condition; policies without one never
 * load it. Concurrent callers share one import; after a failure the next call tries again.
 *
 * @returns Settles once CEL conditions can be compiled.
 * @throws {CountersignError} ERR_DEPENDENCY_MISSING when `@bufbuild/cel` is not installed (`details.package`,
 *   `details.reason: 'not-installed'`); the message says what to install.
 * @example
 * ```ts
 * import { loadCELEngine, parsePolicies } from 'countersign/policy'
 * await loadCELEngine() // once, at startup
 * const { policies } = parsePolicies(yamlText)
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function loadCELEngine(): Promise<void> {
  return loadCELEngineWith(() => import('@bufbuild/cel'))
}

/**
 * {@link loadCELEngine} with the import supplied (tests simulate a missing package with it).
 *
 * @param importer - Imports `@bufbuild/cel`.
 * @example
 * ```ts
 * await loadCELEngineWith(() => import('@bufbuild/cel'))
 * ```
 */
export function loadCELEngineWith(importer: () => Promise<CELEngine>): Promise<void> {
  if (engine !== undefined) return Promise.resolve()
  loading ??= importer().then(
    (m) => {
      engine ??= m
    },
    (cause: unknown) => {
      loading = undefined
      throw celNotInstalled(cause)
    },
  )
  return loading
}

/** Whether {@link loadCELEngine} has completed (the synchronous APIs can compile CEL). */
export function isCELEngineLoaded(): boolean {
  return engine !== undefined
}

function celNotInstalled(cause: unknown): CountersignError {
  const code = (cause as { code?: unknown } | null)?.code
  // Node's code for a package that cannot be resolved; anything else (a broken install) is shown as it came.
  const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
  const failure = missing ? 'it is not installed' : `loading it failed: ${(cause as Error)?.message ?? String(cause)}`
  return new CountersignError(
    'ERR_DEPENDENCY_MISSING',
    `CEL policy conditions need the optional package ${CEL_PACKAGE} (${failure}): run \`npm install ${CEL_PACKAGE}\` ` +
      `in your project, or \`npm install -g ${CEL_PACKAGE}\` for a global countersign CLI`,
    { cause, details: { package: CEL_PACKAGE, reason: missing ? 'not-installed' : 'load-failed' } },
  )
}

function celEngine(): CELEngine {
  if (engine !== undefined) return engine
  throw new CountersignError(
    'ERR_DEPENDENCY_MISSING',
    `CEL policy conditions need ${CEL_PACKAGE}, which is not loaded yet: call \`await loadCELEngine()\` ` +
      '(countersign/policy) before parsing or evaluating synchronously, or use parsePoliciesAsync',
    { details: { package: CEL_PACKAGE, reason: 'not-loaded' } },
  )
}

/** Longer expressions are refused: a policy is configuration, not a program to ship megabytes of. */
const MAX_EXPRESSION_LENGTH = 16 * 1024

/**
 * A compiled CEL condition.
 *
 * Exported from `countersign/policy`.
 */
export interface CELCondition {
  readonly expression: string
  /** Run over `bindings` (top-level variables); `ok` only when the result is the boolean `true`. */
  evaluate(bindings: Readonly<Record<string, unknown>>): { readonly ok: true } | { readonly ok: false; message: string }
}

/**
 * Compile a CEL expression. The CEL engine must be loaded first ({@link loadCELEngine}).
 *
 * @param expression - e.g. `predicate.builder.id == "https://github.com/actions/runner"`.
 * @throws {CountersignError} ERR_INVALID_INPUT when it does not parse (CEL's message, with line and column);
 *   ERR_DEPENDENCY_MISSING (`details.reason: 'not-loaded'`) when the engine is not loaded.
 * @example
 * ```ts
 * import { compileCELCondition, loadCELEngine } from 'countersign/policy'
 * await loadCELEngine()
 * const c = compileCELCondition('predicate.Data == "ok"')
 * c.evaluate({ predicate: { Data: 'ok' } }) // { ok: true }
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function compileCELCondition(expression: string): CELCondition {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new CountersignError('ERR_INVALID_INPUT', 'CEL expression is empty')
  }
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw new CountersignError('ERR_INVALID_INPUT', `CEL expression is longer than ${MAX_EXPRESSION_LENGTH} characters`)
  }
  const { celEnv, isCelError, parse, plan } = celEngine()
  let program: (bindings: Record<string, unknown>) => unknown
  try {
    const planned = plan(celEnv(), parse(expression))
    program = planned as unknown as (bindings: Record<string, unknown>) => unknown
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', `CEL expression does not parse: ${(cause as Error).message}`, {
      cause,
    })
  }
  return Object.freeze({
    expression,
    evaluate(bindings: Readonly<Record<string, unknown>>) {
      let result: unknown
      try {
        result = program({ ...bindings })
      } catch (e) {
        return { ok: false as const, message: `CEL evaluation failed: ${(e as Error).message}` }
      }
      if (isCelError(result)) return { ok: false as const, message: `CEL evaluation failed: ${result.message}` }
      if (result === true) return { ok: true as const }
      const shown = typeof result === 'boolean' ? 'false' : `a ${describe(result)}, not a bool`
      return { ok: false as const, message: `condition ${JSON.stringify(expression)} evaluated to ${shown}` }
    },
  })
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v) || (typeof v === 'object' && v !== null && Symbol.iterator in v)) return 'list'
  if (isJSONObject(v)) return 'map'
  return typeof v
}

const compiled = new WeakMap<object, CELCondition>()

/** Compile once per condition object (parsed policies are frozen and reused across evaluations). */
export function celConditionFor(owner: object, expression: string): CELCondition {
  let c = compiled.get(owner)
  if (!c || c.expression !== expression) {
    c = compileCELCondition(expression)
    compiled.set(owner, c)
  }
  return c
}

/**
 * Kyverno's attestation conditions (`attestations[].conditions` of a `verifyImages` rule), evaluated as Kyverno
 * evaluates them for one in-toto statement (`pkg/engine/internal/utils.go` `EvaluateConditions`,
 * `pkg/engine/variables/evaluate.go`):
 *
 * 1. the statement's predicate is merged at the root of the context ({@link kyvernoAttestationContext});
 * 2. every variable of the conditions (keys, values, operators, messages) is substituted, and the result goes through
 *    JSON as Kyverno's typed conditions do;
 * 3. the blocks are AND-ed, stopping at the first false one; in a block, `any` needs one true condition (stopping
 *    at it) and `all` needs every one (stopping at the first false); a block without `any` or `all` holds;
 * 4. each condition substitutes its key and value once more (Kyverno does), then applies its operator.
 *
 * A false block answers with the `message`s of its false conditions joined by "; ". Any error (a variable that
 * cannot be resolved, an unknown operator) fails the conditions with Kyverno's error text; nothing is thrown for
 * data problems. Only a missing JMESPath engine throws, so that callers load it
 * ({@link kyvernoConditionsUseJMESPath} says when) instead of failing every image.
 * @module
 */
import { CountersignError, isCountersignError } from '../../errors.js'
import { isJSONObject } from '../../internal/json.js'
import { goJSONMarshal } from './jmespath-go-json.js'
import { evaluateKyvernoOperator } from './operators.js'
import { MAX_VALUE_DEPTH, valueTooDeep } from './operators-go-values.js'
import type { KyvernoCondition, KyvernoConditionBlock } from './types.js'
import { type KyvernoSubstitutionOptions, kyvernoValueHasVariables, substituteKyvernoVariables } from './variables.js'

/**
 * The verdict on a statement: `ok`, or not with Kyverno's message (the false conditions' messages, or the error).
 *
 * @example
 * ```ts
 * const r: KyvernoConditionsResult = { ok: false, message: 'branch must be main' }
 * ```
 *
 * Exported from `countersign/policy`.
 */
export type KyvernoConditionsResult =
  | { readonly ok: true }
  | {
      readonly ok: false
      readonly message: string
      /** The conditions could not be evaluated (not merely false): a `deny` must then deny too. */
      readonly error?: true
    }

/**
 * Options of {@link evaluateKyvernoConditions}.
 *
 * @example
 * ```ts
 * const options: KyvernoConditionsOptions = { now: new Date('2024-01-01T00:00:00Z') }
 * ```
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoConditionsOptions extends KyvernoSubstitutionOptions {}

/** A condition after substitution and Kyverno's JSON round trip. */
interface TypedCondition {
  readonly key: unknown
  readonly operator: string
  readonly value: unknown
  readonly message: string
}

interface TypedBlock {
  readonly any?: readonly TypedCondition[]
  readonly all?: readonly TypedCondition[]
}

/** The conditions as Kyverno's `ConditionsToJSONObject` writes them: empty parts and absent fields left out. */
function conditionsToJSON(blocks: readonly KyvernoConditionBlock[]): unknown[] {
  const condition = (c: KyvernoCondition) => {
    const out: Record<string, unknown> = {}
    if (c.key !== undefined && c.key !== null) out.key = c.key
    if (c.operator !== undefined && c.operator !== '') out.operator = c.operator
    if (c.value !== undefined && c.value !== null) out.value = c.value
    if (c.message !== undefined && c.message !== '') out.message = c.message
    return out
  }
  return blocks.map((b) => {
    const out: Record<string, unknown> = {}
    if (b.any !== undefined && b.any.length > 0) out.any = b.any.map(condition)
    if (b.all !== undefined && b.all.length > 0) out.all = b.all.map(condition)
    return out
  })
}

function shapeError(message: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', message, { details: { reason: 'substitution' } })
}

/** Kyverno's `JSONObjectToConditions`: marshal and decode into its typed conditions (which checks their shape). */
function jsonToConditions(document: unknown): TypedBlock[] {
  const decoded: unknown = JSON.parse(goJSONMarshal(document))
  if (!Array.isArray(decoded)) throw shapeError('json: cannot unmarshal conditions into []v1.AnyAllConditions')
  const condition = (c: unknown): TypedCondition => {
    if (!isJSONObject(c)) throw shapeError('json: cannot unmarshal a condition that is not an object')
    if (c.operator !== undefined && c.operator !== null && typeof c.operator !== 'string') {
      throw shapeError('json: cannot unmarshal the operator of a condition into a string')
    }
    if (c.message !== undefined && c.message !== null && typeof c.message !== 'string') {
      throw shapeError('json: cannot unmarshal the message of a condition into a string')
    }
    return {
      key: c.key ?? null,
      operator: (c.operator as string | null | undefined) ?? '',
      value: c.value ?? null,
      message: (c.message as string | null | undefined) ?? '',
    }
  }
  const list = (v: unknown): TypedCondition[] | undefined => {
    if (v === undefined || v === null) return undefined
    if (!Array.isArray(v)) throw shapeError('json: cannot unmarshal conditions into []v1.Condition')
    return v.length === 0 ? undefined : v.map(condition)
  }
  return decoded.map((b) => {
    if (!isJSONObject(b)) throw shapeError('json: cannot unmarshal a condition block that is not an object')
    return { any: list(b.any), all: list(b.all) }
  })
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/** Kyverno's `DocumentToUntyped` then `SubstituteAllInPreconditions`: a JSON copy, substituted. */
function substituteOperand(v: unknown, context: unknown, options: KyvernoConditionsOptions | undefined): unknown {
  const copy = v === null || v === undefined ? null : JSON.parse(goJSONMarshal(v))
  return substituteKyvernoVariables(copy, context, options)
}

type Verdict = { readonly value: boolean; readonly message: string } | { readonly failure: string }

function evaluateCondition(
  c: TypedCondition,
  context: unknown,
  options: KyvernoConditionsOptions | undefined,
): Verdict {
  let key: unknown
  let value: unknown
  try {
    key = substituteOperand(c.key, context, options)
  } catch (e) {
    if (isCountersignError(e) && e.code === 'ERR_DEPENDENCY_MISSING') throw e
    return { failure: `failed to substitute variables in condition key: ${messageOf(e)}` }
  }
  try {
    value = substituteOperand(c.value, context, options)
  } catch (e) {
    if (isCountersignError(e) && e.code === 'ERR_DEPENDENCY_MISSING') throw e
    return { failure: `failed to substitute variables in condition value: ${messageOf(e)}` }
  }
  try {
    return { value: evaluateKyvernoOperator(key, c.operator, value), message: c.message }
  } catch (e) {
    if (isCountersignError(e) && e.details?.reason === 'unknown-operator') {
      return { failure: `failed to create handler for condition operator ${JSON.stringify(c.operator).slice(0, 80)}` }
    }
    return { failure: messageOf(e) }
  }
}

function joinNonEmpty(messages: readonly string[]): string {
  return messages.filter((m) => m !== '').join('; ')
}

function describe(c: TypedCondition): string {
  const shown = (v: unknown) => {
    const s = JSON.stringify(v) ?? 'null'
    return s.length > 120 ? `${s.slice(0, 120)}…` : s
  }
  return `${shown(c.key)} ${c.operator} ${shown(c.value)} is false`
}

function evaluateBlock(
  block: TypedBlock,
  context: unknown,
  options: KyvernoConditionsOptions | undefined,
): KyvernoConditionsResult | { readonly failure: string } {
  let anyResult = true
  let allResult = true
  const falseMessages: string[] = []
  let failedAll: TypedCondition | undefined
  if (block.any !== undefined) {
    anyResult = false
    for (const c of block.any) {
      const r = evaluateCondition(c, context, options)
      if ('failure' in r) return r
      if (r.value) {
        anyResult = true
        break
      }
      falseMessages.push(r.message)
    }
  }
  for (const c of block.all ?? []) {
    const r = evaluateCondition(c, context, options)
    if ('failure' in r) return r
    if (!r.value) {
      allResult = false
      falseMessages.push(r.message)
      failedAll = c
      break
    }
  }
  if (anyResult && allResult) return { ok: true }
  // Kyverno joins the messages of every false condition it met (false `any` ones too, even when another `any`
  // held); when none has a message, say which condition was false.
  const message = joinNonEmpty(falseMessages)
  return { ok: false, message: message !== '' ? message : describe(failedAll ?? block.any![0]!) }
}

/**
 * Evaluate a `verifyImages` attestation's `conditions` over one statement's context, as Kyverno does.
 *
 * @param blocks - The `conditions` list (`{any, all}` blocks of `{key, operator, value, message}`).
 * @param context - Usually `kyvernoAttestationContext(statement.predicate)`.
 * @param options - `now`: the clock for `time_now`/`time_since`.
 * @returns `{ ok: true }`, or `{ ok: false, message }`: the false block's condition messages joined by "; " (or,
 *   when they have none, the condition that was false), or Kyverno's error text, e.g. `failed to substitute
 *   variables in attestation conditions: failed to resolve builder.id at path /0/all/0/key: JMESPath query
 *   failed: Unknown key "builder" in path`.
 * @throws {CountersignError} ERR_DEPENDENCY_MISSING (`details.reason: 'not-loaded'`) when a condition holds a
 *   `{{ }}` variable and the JMESPath engine is not loaded (`loadJMESPathEngine`); never for data.
 * @example
 * ```ts
 * import { evaluateKyvernoConditions, kyvernoAttestationContext, loadJMESPathEngine } from 'countersign/policy'
 * await loadJMESPathEngine()
 * const context = kyvernoAttestationContext({ repo: { branch: 'main' } })
 * evaluateKyvernoConditions([{ all: [{ key: '{{ repo.branch }}', operator: 'Equals', value: 'main' }] }], context)
 * // { ok: true }
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function evaluateKyvernoConditions(
  blocks: readonly KyvernoConditionBlock[],
  context: unknown,
  options?: KyvernoConditionsOptions,
): KyvernoConditionsResult {
  if (blocks.length === 0) return { ok: true }
  let typed: TypedBlock[]
  try {
    typed = jsonToConditions(substituteKyvernoVariables(conditionsToJSON(blocks), context, options))
  } catch (e) {
    if (isCountersignError(e) && e.code === 'ERR_DEPENDENCY_MISSING') throw e
    return {
      ok: false,
      message: `failed to substitute variables in attestation conditions: ${messageOf(e)}`,
      error: true,
    }
  }
  for (const block of typed) {
    const r = evaluateBlock(block, context, options)
    if ('failure' in r) return { ok: false, message: r.failure, error: true }
    if (!r.ok) return r
  }
  return { ok: true }
}

/**
 * Whether conditions hold a `{{ }}` variable anywhere (key, value, operator or message), so that evaluating them
 * needs the JMESPath engine: callers `await loadJMESPathEngine()` only then.
 *
 * @example
 * ```ts
 * kyvernoConditionsUseJMESPath([{ all: [{ key: '{{ builder.id }}', operator: 'Equals', value: 'x' }] }]) // true
 * kyvernoConditionsUseJMESPath([{ all: [{ key: 'a', operator: 'Equals', value: 'a' }] }]) // false
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function kyvernoConditionsUseJMESPath(blocks: readonly KyvernoConditionBlock[]): boolean {
  return kyvernoValueHasVariables(conditionsToJSON(blocks))
}

function cloneJSON(v: unknown, depth: number): unknown {
  if (depth > MAX_VALUE_DEPTH) throw valueTooDeep()
  if (Array.isArray(v)) return v.map((e) => cloneJSON(e, depth + 1))
  if (isJSONObject(v)) return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, cloneJSON(e, depth + 1)]))
  return v
}

// Kyverno's mergeMaps(src, dest, false): objects merge key by key, anything else replaces.
function mergeInto(dest: Record<string, unknown>, src: Record<string, unknown>, depth: number): void {
  if (depth > MAX_VALUE_DEPTH) throw valueTooDeep()
  for (const [k, v] of Object.entries(src)) {
    const existing = Object.hasOwn(dest, k) ? dest[k] : undefined
    if (isJSONObject(v) && isJSONObject(existing)) mergeInto(existing, v, depth + 1)
    else
      Object.defineProperty(dest, k, {
        value: cloneJSON(v, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      })
  }
}

/**
 * The context Kyverno evaluates an attestation's conditions in: the statement's `predicate` merged at the root
 * (so conditions read `{{ builder.id }}`, not `{{ predicate.builder.id }}`), over whatever else the context holds
 * (`extra`: `request`, `image`, `images`…; a predicate key of the same name merges over it, objects key by key).
 * The statement's envelope (`subject`, `predicateType`) is not reachable, as in Kyverno.
 *
 * @param predicate - The in-toto statement's `predicate`; it must be an object.
 * @param extra - Other context entries; copied, never modified.
 * @returns A new context object.
 * @throws {CountersignError} ERR_INVALID_INPUT (`details.reason: 'predicate-not-object'`) when the predicate is not
 *   an object (Kyverno: "failed to extract predicate from statement").
 * @example
 * ```ts
 * import { kyvernoAttestationContext } from 'countersign/policy'
 * kyvernoAttestationContext({ builder: { id: 'https://github.com/actions/runner' } }, { image: { tag: 'v1' } })
 * // { image: { tag: 'v1' }, builder: { id: 'https://github.com/actions/runner' } }
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function kyvernoAttestationContext(predicate: unknown, extra?: object): Record<string, unknown> {
  if (!isJSONObject(predicate)) {
    throw new CountersignError('ERR_INVALID_INPUT', 'failed to extract predicate from statement: it is not an object', {
      details: { reason: 'predicate-not-object' },
    })
  }
  const context = (extra === undefined ? {} : cloneJSON(extra, 0)) as Record<string, unknown>
  if (!isJSONObject(context)) {
    throw new CountersignError('ERR_INVALID_INPUT', 'the extra context must be an object', {
      details: { reason: 'context-not-object' },
    })
  }
  mergeInto(context, predicate, 0)
  return context
}

/**
 * Kyverno's arithmetic (`pkg/engine/jmespath/arithmetic.go`): `add`, `subtract`, `multiply`, `divide`, `modulo`,
 * `sum` and `round` over numbers, Kubernetes quantities (`"1Gi"`) and Go durations (`"1h30m"`). A string operand is
 * a quantity if it parses as one (so `"5"` is a quantity and `add('5', \`3\`)` is a type mismatch, as in Kyverno),
 * else a duration. Quantities and durations come back as their canonical strings (`add('1Gi', '512Mi')` is
 * `"1536Mi"`). Quantity sums are exact; the two operations Kyverno does in floating point (quantity ÷ quantity,
 * and the integer check of `modulo`) are done in floating point here too, with Go's rounding.
 * @module
 */
import { formatGoDuration, goDurationSeconds, goInt64FromFloat, parseGoDuration, wrapInt64 } from './duration.js'
import { kyvernoFunctionError } from './jmespath-errors.js'
import type { JMESPathFunction } from './jmespath-functions.js'
import { formatGoFloat } from './operators-go-values.js'
import {
  addKubernetesQuantities,
  approximateKubernetesQuantity,
  divideKubernetesQuantities,
  formatKubernetesQuantity,
  type KubernetesQuantity,
  multiplyKubernetesQuantities,
  parseKubernetesQuantity,
} from './quantity.js'

type Operand =
  | { readonly kind: 'scalar'; readonly n: number }
  | { readonly kind: 'quantity'; readonly q: KubernetesQuantity }
  | { readonly kind: 'duration'; readonly d: bigint }

function operand(name: string, v: unknown): Operand {
  if (typeof v === 'number') return { kind: 'scalar', n: v }
  if (typeof v === 'string') {
    const q = parseKubernetesQuantity(v)
    if (q !== undefined) return { kind: 'quantity', q }
    const d = parseGoDuration(v)
    if (d !== undefined) return { kind: 'duration', d }
  }
  throw kyvernoFunctionError(name, 'invalid operand')
}

const mismatch = (name: string) => kyvernoFunctionError(name, 'Types mismatch')
const zeroDivisor = (name: string) => kyvernoFunctionError(name, 'Zero divisor passed')

/** `resource.ParseQuantity(fmt.Sprintf("%v", f))`: how Kyverno turns a number into a quantity factor. */
function quantityOf(name: string, f: number): KubernetesQuantity {
  const q = parseKubernetesQuantity(formatGoFloat(f))
  if (q === undefined) {
    throw kyvernoFunctionError(
      name,
      `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    )
  }
  return q
}

/** `time.Duration(seconds * float64(time.Second)).String()`. */
function durationFromSeconds(seconds: number): string {
  return formatGoDuration(goInt64FromFloat(seconds * 1e9))
}

function add(a: unknown, b: unknown, name: string, negate = false): unknown {
  const x = operand(name, a)
  const y = operand(name, b)
  if (x.kind === 'quantity' && y.kind === 'quantity')
    return formatKubernetesQuantity(addKubernetesQuantities(x.q, y.q, negate))
  if (x.kind === 'duration' && y.kind === 'duration') return formatGoDuration(wrapInt64(negate ? x.d - y.d : x.d + y.d))
  if (x.kind === 'scalar' && y.kind === 'scalar') return negate ? x.n - y.n : x.n + y.n
  throw mismatch(name)
}

function multiplyBy(x: Operand, f: number): unknown {
  if (x.kind === 'quantity') {
    return formatKubernetesQuantity(multiplyKubernetesQuantities(x.q, quantityOf('multiply', f)))
  }
  if (x.kind === 'duration') return durationFromSeconds(goDurationSeconds(x.d) * f)
  return x.n * f
}

function multiply(a: unknown, b: unknown): unknown {
  const x = operand('multiply', a)
  const y = operand('multiply', b)
  if (y.kind === 'scalar') return multiplyBy(x, y.n)
  if (x.kind === 'scalar') return multiplyBy(y, x.n)
  throw mismatch('multiply')
}

function divide(a: unknown, b: unknown): unknown {
  const x = operand('divide', a)
  const y = operand('divide', b)
  if (x.kind === 'quantity') {
    if (y.kind === 'quantity') {
      // Kyverno divides two quantities as floats.
      const divisor = approximateKubernetesQuantity(y.q)
      if (divisor === 0) throw zeroDivisor('divide')
      return approximateKubernetesQuantity(x.q) / divisor
    }
    if (y.kind !== 'scalar') throw mismatch('divide')
    if (y.n === 0) throw zeroDivisor('divide')
    return formatKubernetesQuantity(divideKubernetesQuantities(x.q, quantityOf('divide', y.n)))
  }
  if (x.kind === 'duration') {
    if (y.kind === 'duration') {
      const divisor = goDurationSeconds(y.d)
      if (divisor === 0) throw zeroDivisor('divide')
      return goDurationSeconds(x.d) / divisor
    }
    if (y.kind !== 'scalar') throw mismatch('divide')
    if (y.n === 0) throw zeroDivisor('divide')
    return durationFromSeconds(goDurationSeconds(x.d) / y.n)
  }
  if (y.kind !== 'scalar') throw mismatch('divide')
  if (y.n === 0) throw zeroDivisor('divide')
  return x.n / y.n
}

/** Go's `int64(f)` with Kyverno's check that it loses nothing. */
function wholeInt64(f: number): bigint | undefined {
  const i = goInt64FromFloat(f)
  return Number(i) === f ? i : undefined
}

function modulo(a: unknown, b: unknown): unknown {
  const x = operand('modulo', a)
  const y = operand('modulo', b)
  const nonInteger = () => kyvernoFunctionError('modulo', 'Non-integer argument(s) passed for modulo')
  if (x.kind === 'quantity' && y.kind === 'quantity') {
    const i1 = wholeInt64(approximateKubernetesQuantity(x.q))
    const i2 = wholeInt64(approximateKubernetesQuantity(y.q))
    if (i1 === undefined || i2 === undefined) throw nonInteger()
    if (i2 === 0n) throw zeroDivisor('modulo')
    return formatKubernetesQuantity({ unscaled: i1 % i2, scale: 0, format: x.q.format })
  }
  if (x.kind === 'duration' && y.kind === 'duration') {
    if (y.d === 0n) throw zeroDivisor('modulo')
    return formatGoDuration(x.d % y.d)
  }
  if (x.kind === 'scalar' && y.kind === 'scalar') {
    const i1 = wholeInt64(x.n)
    const i2 = wholeInt64(y.n)
    if (i1 === undefined || i2 === undefined) throw nonInteger()
    if (i2 === 0n) throw zeroDivisor('modulo')
    return Number(i1 % i2)
  }
  throw mismatch('modulo')
}

/** Go's `math.Round`: halves away from zero. */
function goRound(x: number): number {
  if (!Number.isFinite(x)) return x
  const t = Math.trunc(x)
  return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t
}

function round(n: number, places: number): number {
  if (!Number.isFinite(places) || Math.trunc(places) !== places || Number(goInt64FromFloat(places)) !== places) {
    throw kyvernoFunctionError('round', 'Non-integer argument(s) passed for round off')
  }
  if (places < 0) throw kyvernoFunctionError('round', 'argument #2 is out of bounds')
  // math.Pow(10, n): exact up to 10^22, as the literal is; beyond, the literal is the correctly rounded power.
  const shift = Number(`1e${places}`)
  return goRound(n * shift) / shift
}

/**
 * Kyverno's arithmetic functions.
 *
 * @example
 * ```ts
 * ARITHMETIC_FUNCTIONS.add.call(['1Gi', '512Mi'], context) // '1536Mi'
 * ```
 */
export const ARITHMETIC_FUNCTIONS: Readonly<Record<string, JMESPathFunction>> = {
  add: { args: [['any'], ['any']], call: ([a, b]) => add(a, b, 'add') },
  subtract: { args: [['any'], ['any']], call: ([a, b]) => add(a, b, 'subtract', true) },
  multiply: { args: [['any'], ['any']], call: ([a, b]) => multiply(a, b) },
  divide: { args: [['any'], ['any']], call: ([a, b]) => divide(a, b) },
  modulo: { args: [['any'], ['any']], call: ([a, b]) => modulo(a, b) },
  round: { args: [['number'], ['number']], call: ([n, places]) => round(n as number, places as number) },
  sum: {
    args: [['array']],
    call: ([items]) => {
      const list = items as unknown[]
      if (list.length === 0) throw kyvernoFunctionError('sum', 'at least one element in the array is required')
      // Kyverno folds with add, reparsing each partial result; a single element comes back as it is.
      return list.slice(1).reduce((total, item) => add(total, item, 'sum'), list[0])
    },
  },
}

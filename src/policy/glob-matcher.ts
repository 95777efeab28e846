/**
 * The linear-time engine behind image globs: a glob becomes a small NFA (one state per step) simulated bit-parallel
 * over the text, so matching costs O(text × glob / 32) whatever the input, with no backtracking. It reproduces the
 * anchored regular expression policy-controller builds (`pkg/apis/glob/glob.go` `Compile`, evaluated by Go's
 * linear RE2), which a backtracking JavaScript RegExp would take minutes on for inputs like `*.*.*.*.*.io/**`.
 * @module
 */

// A step is a character code (>= 0) to match once, or one of these two stars, each matching any run (possibly
// empty) of the characters its class admits.
/** `[^/]*`: one `*`. */
const STAR = -1
/** `.*`: a `**`. Without the `s` flag a JavaScript `.` excludes line terminators, so this one does too. */
const ANY = -2

const SLASH = 0x2f
// Character classes for the star self-loops: which stars may consume the character.
const OTHER = 0
const IS_SLASH = 1
const LINE_TERMINATOR = 2

/**
 * A compiled glob. Bit i of a state set means "steps before i are matched"; bit `steps` is the accepting state.
 * Sets span `words` 32-bit words. Immutable once built, so one program may serve any number of matches.
 *
 * @example
 * ```ts
 * const p: GlobProgram = compileGlobProgram('ghcr.io/**')
 * p.steps // 9: eight characters and one `.*`
 * ```
 */
export interface GlobProgram {
  readonly steps: number
  readonly words: number
  /** Char code (ASCII, as every glob character is) → row of `literal`, or -1 when no step is that character. */
  readonly rowOf: Int16Array
  /** Per row: the states whose step is that character. */
  readonly literal: Int32Array
  /** Per character class: the star states that may consume such a character (and stay). */
  readonly selfLoop: Int32Array
  /** The star states, which may also be left without consuming anything. */
  readonly star: Int32Array
  /** How many star steps follow each other at most: the epsilon passes a step needs. */
  readonly chain: number
  /** The states live before any character is read. */
  readonly start: Int32Array
}

/**
 * The steps of a valid glob, as the upstream string rewriting (`**` first, left to right, then the remaining `*`)
 * reads a run of k stars: ⌊k/2⌋ times `.*`, then `[^/]*` if k is odd. Repeated `.*` collapse into one, but `.*[^/]*`
 * stays two steps: `[^/]*` admits line terminators and `.*` admits `/`, so the pair is not the same as either.
 */
function globSteps(glob: string): number[] {
  const steps: number[] = []
  for (let i = 0; i < glob.length; ) {
    if (glob[i] !== '*') {
      steps.push(glob.charCodeAt(i++))
      continue
    }
    let k = 0
    for (; glob[i] === '*'; i++) k++
    if (k >= 2) steps.push(ANY)
    if (k % 2 === 1) steps.push(STAR)
  }
  return steps
}

/** Add to `set` the states reachable through stars matching nothing. */
function closeOverStars(set: Int32Array, p: GlobProgram): void {
  for (let pass = 0; pass < p.chain; pass++) {
    let carry = 0
    for (let w = 0; w < p.words; w++) {
      const e = set[w]! & p.star[w]!
      set[w] = set[w]! | (e << 1) | carry
      carry = e >>> 31
    }
  }
}

/**
 * Compile a glob (already validated: characters `[a-zA-Z0-9-_:/*.@]`, bare `*` and `*` `/` `*` already rewritten)
 * into a program for {@link runGlobProgram}.
 *
 * @example
 * ```ts
 * runGlobProgram(compileGlobProgram('ghcr.io/*'), 'ghcr.io/app:v1') // true
 * ```
 */
export function compileGlobProgram(glob: string): GlobProgram {
  const steps = globSteps(glob)
  const m = steps.length
  const words = (m >>> 5) + 1
  const rowOf = new Int16Array(128).fill(-1)
  let rows = 0
  for (const s of steps) if (s >= 0 && rowOf[s] === -1) rowOf[s] = rows++
  const literal = new Int32Array(rows * words)
  const selfLoop = new Int32Array(3 * words)
  const star = new Int32Array(words)
  let chain = 0
  let run = 0
  for (let i = 0; i < m; i++) {
    const s = steps[i]!
    const w = i >>> 5
    const bit = 1 << (i & 31)
    run = s < 0 ? run + 1 : 0
    chain = Math.max(chain, run)
    if (s >= 0) {
      literal[rowOf[s]! * words + w]! |= bit
      continue
    }
    star[w]! |= bit
    selfLoop[OTHER * words + w]! |= bit
    selfLoop[(s === ANY ? IS_SLASH : LINE_TERMINATOR) * words + w]! |= bit
  }
  const start = new Int32Array(words)
  start[0] = 1
  const program = { steps: m, words, rowOf, literal, selfLoop, star, chain, start }
  closeOverStars(start, program)
  return program
}

function charClass(c: number): number {
  if (c === SLASH) return IS_SLASH
  return c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029 ? LINE_TERMINATOR : OTHER
}

/** {@link runGlobProgram} for globs of fewer than 32 steps (nearly all): the state set is one number. */
function runOneWord(p: GlobProgram, text: string): boolean {
  const { rowOf, literal, chain } = p
  const loops = [p.selfLoop[OTHER]!, p.selfLoop[IS_SLASH]!, p.selfLoop[LINE_TERMINATOR]!]
  const star = p.star[0]!
  let live = p.start[0]!
  for (let j = 0; j < text.length; j++) {
    const c = text.charCodeAt(j)
    const row = c < 128 ? rowOf[c]! : -1
    let n = ((row >= 0 ? live & literal[row]! : 0) << 1) | (live & loops[charClass(c)]!)
    if (n === 0) return false
    for (let pass = 0; pass < chain; pass++) n |= (n & star) << 1
    live = n
  }
  return ((live >>> p.steps) & 1) === 1
}

/**
 * Whether the program's glob matches all of `text`: one pass over the text, each character advancing every live
 * state at once (shift-and over the literal steps, self-loops on the stars, then the empty-match closure).
 *
 * @example
 * ```ts
 * runGlobProgram(compileGlobProgram('*.*.*.*.*.io/**'), '.'.repeat(100_000)) // false, in milliseconds
 * ```
 */
export function runGlobProgram(p: GlobProgram, text: string): boolean {
  if (p.words === 1) return runOneWord(p, text)
  const { words, literal, selfLoop } = p
  let live = Int32Array.from(p.start)
  let next = new Int32Array(words)
  for (let j = 0; j < text.length; j++) {
    const c = text.charCodeAt(j)
    const row = c < 128 ? p.rowOf[c]! : -1
    const litBase = row * words
    const loopBase = charClass(c) * words
    let carry = 0
    let alive = 0
    for (let w = 0; w < words; w++) {
      const d = live[w]!
      const l = row >= 0 ? d & literal[litBase + w]! : 0
      const n = (l << 1) | carry | (d & selfLoop[loopBase + w]!)
      carry = l >>> 31
      next[w] = n
      alive |= n
    }
    if (alive === 0) return false
    if (p.chain > 0) closeOverStars(next, p)
    const spare = live
    live = next
    next = spare
  }
  return ((live[p.steps >>> 5]! >>> (p.steps & 31)) & 1) === 1
}

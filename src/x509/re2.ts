/**
 * Go RE2 (`regexp` package) patterns as JavaScript RegExps. Identity policies come from cosign flags written for
 * Go, so a pattern must mean the same here or be refused: constructs RE2 rejects (look-arounds, backreferences)
 * are errors, and RE2 syntax JavaScript spells differently is translated.
 *
 * @module
 */
import { CountersignError } from '../errors.js'

function refuse(pattern: string, reason: string): never {
  throw new CountersignError('ERR_INVALID_INPUT', `regular expression ${JSON.stringify(pattern)} ${reason}`, {
    details: { reason: 're2-incompatible', pattern },
  })
}

// Go's \s is ASCII-only ([\t\n\f\r ]); JavaScript's also matches \v and Unicode spaces.
const SPACE = '\\t\\n\\f\\r '
const PERL_IN_CLASS: Readonly<Record<string, string>> = { s: SPACE, d: '0-9', w: '0-9A-Za-z_' }

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7f',
  blank: '\\t ',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: SPACE + '\\v',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
}

/**
 * Compile a Go RE2 pattern into an equivalent JavaScript RegExp (unanchored, like Go's `MatchString`).
 *
 * Supported beyond the common syntax: a leading `(?i)`/`(?s)`/`(?m)` flag group, `(?P<name>…)`, `\A`, `\z`,
 * `[[:alpha:]]` classes, `\Q…\E`, `\x{HHHH}`. Refused with ERR_INVALID_INPUT (`details.reason` =
 * `re2-incompatible`): look-arounds, backreferences, `\p`/`\P` classes, `\C`, flag groups elsewhere.
 */
export function compileRE2(pattern: string): RegExp {
  if (typeof pattern !== 'string') throw new TypeError('pattern must be a string')
  let flags = ''
  let i = 0
  const lead = /^\(\?([imsU]+)\)/.exec(pattern)
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'U') refuse(pattern, 'uses the ungreedy flag, which JavaScript lacks')
      if (!flags.includes(f)) flags += f
    }
    i = lead[0].length
  }
  let out = ''
  let inClass = false
  while (i < pattern.length) {
    const c = pattern[i]!
    if (c === '\\') {
      const n = pattern[i + 1]
      if (n === undefined) refuse(pattern, 'ends with a backslash')
      if (/[1-9]/.test(n) || n === 'k') refuse(pattern, 'uses a backreference, which RE2 does not support')
      if (n === 'p' || n === 'P') refuse(pattern, 'uses a Unicode class, which countersign does not translate')
      if (n === 'C') refuse(pattern, 'uses \\C, which countersign does not support')
      if (n === 'A' && !inClass) {
        out += '(?<![\\s\\S])'
        i += 2
        continue
      }
      if (n === 'z' && !inClass) {
        out += '(?![\\s\\S])'
        i += 2
        continue
      }
      if (n === 'Q') {
        const end = pattern.indexOf('\\E', i + 2)
        const literal = pattern.slice(i + 2, end === -1 ? undefined : end)
        out += literal.replace(/[\\^$.*+?()[\]{}|/-]/g, (m) => `\\${m}`)
        i = end === -1 ? pattern.length : end + 2
        continue
      }
      if (n === 'x' && pattern[i + 2] === '{') {
        const m = /^\\x\{([0-9A-Fa-f]{1,6})\}/.exec(pattern.slice(i))
        if (!m) refuse(pattern, 'has a malformed \\x{…} escape')
        const cp = Number.parseInt(m[1]!, 16)
        if (cp > 0xffff) refuse(pattern, 'has a \\x{…} escape beyond the BMP')
        out += `\\u${cp.toString(16).padStart(4, '0')}`
        i += m[0].length
        continue
      }
      if (n === 's' || n === 'S') {
        out += inClass
          ? n === 's'
            ? SPACE
            : refuse(pattern, 'uses \\S inside a class')
          : n === 's'
            ? `[${SPACE}]`
            : `[^${SPACE}]`
        i += 2
        continue
      }
      if (inClass && (n === 'd' || n === 'w')) {
        out += PERL_IN_CLASS[n]
        i += 2
        continue
      }
      out += c + n
      i += 2
      continue
    }
    if (inClass) {
      if (c === '[' && pattern[i + 1] === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(pattern.slice(i))
        if (!m || POSIX_CLASSES[m[2]!] === undefined) refuse(pattern, 'has an unknown POSIX class')
        if (m[1] === '^') refuse(pattern, 'uses a negated POSIX class, which countersign does not translate')
        out += POSIX_CLASSES[m[2]!]
        i += m[0].length
        continue
      }
      if (c === '[') {
        out += '\\['
        i++
        continue
      }
      if (c === ']') inClass = false
      out += c
      i++
      continue
    }
    if (c === '[') {
      inClass = true
      out += c
      i++
      // A `]` right after `[` or `[^` is a literal in RE2; JavaScript would end the class there.
      if (pattern[i] === '^') {
        out += '^'
        i++
      }
      if (pattern[i] === ']') {
        out += '\\]'
        i++
      }
      continue
    }
    if (c === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2)
      if (/^(=|!|<=|<!)/.test(rest)) refuse(pattern, 'uses a look-around, which RE2 does not support')
      if (rest.startsWith('P<')) {
        out += '(?<'
        i += 4
        continue
      }
      if (rest.startsWith(':') || (rest.startsWith('<') && /^<[A-Za-z_]/.test(rest))) {
        out += '(?'
        i += 2
        continue
      }
      refuse(pattern, 'uses an inline flag group, which countersign only accepts at the start')
    }
    out += c
    i++
  }
  if (inClass) refuse(pattern, 'has an unterminated character class')
  try {
    return new RegExp(out, flags)
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', `regular expression ${JSON.stringify(pattern)} is invalid`, {
      cause,
      details: { reason: 'invalid-regexp', pattern },
    })
  }
}

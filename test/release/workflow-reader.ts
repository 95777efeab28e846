/**
 * The release workflow (.github/workflows/release.yml) as the release tests read it: the parsed YAML, and the
 * countersign command lines of its `run:` scripts, found with just enough of bash (no expansion, no substitution;
 * what this does not read is caught by the tests' own checks).
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse } from 'yaml'

/** The repository root. */
export const ROOT: string = resolve(import.meta.dirname, '../..')

/** A step of a job, as far as the tests read it. */
export interface Step {
  readonly name?: string
  readonly uses?: string
  readonly run?: string
  readonly with?: Record<string, unknown>
  readonly env?: Record<string, unknown>
}
/** A job, as far as the tests read it. */
export interface Job {
  readonly needs?: string | string[]
  readonly permissions?: Record<string, string>
  readonly container?: unknown
  readonly steps: Step[]
}
/** The workflow, as far as the tests read it. */
export interface Workflow {
  readonly on: Record<string, unknown>
  readonly permissions?: Record<string, string>
  readonly jobs: Record<string, Job>
}

/** The workflow file, parsed. */
export function readReleaseWorkflow(): Workflow {
  return parse(readFileSync(resolve(ROOT, '.github/workflows/release.yml'), 'utf8')) as Workflow
}

/** One countersign command line of a step: the verb and its arguments, as written (variables unexpanded). */
export interface CommandLine {
  readonly step: string
  readonly stepIndex: number
  readonly verb: string
  readonly argv: readonly string[]
}

/** The countersign command lines (`countersign VERB …` or `node dist/cli/main.js VERB …`) of `steps`, in order. */
export function countersignCommandLines(steps: readonly Step[]): CommandLine[] {
  const found: CommandLine[] = []
  steps.forEach((step, stepIndex) => {
    for (const words of shellCommands(step.run ?? '')) {
      let rest: string[]
      if (words[0] === 'countersign') rest = words.slice(1)
      else if (words[0] === 'node' && words[1] === 'dist/cli/main.js') rest = words.slice(2)
      else continue
      found.push({ step: step.name ?? '', stepIndex, verb: rest[0] ?? '', argv: rest.slice(1) })
    }
  })
  return found
}

/**
 * The simple commands of a bash script as word lists: line continuations joined, quotes removed (variables stay as
 * written, e.g. `$TGZ`), split at `;`, `&&`, `||`, `|` and newlines, redirections and comments dropped. Enough for
 * the workflow's plain command lines; an invocation hidden where this does not look (inside `$(…)`) is caught by
 * the count check in the test.
 */
export function shellCommands(script: string): string[][] {
  const commands: string[][] = []
  let words: string[] = []
  let word: string | undefined
  let redirect = false
  const endWord = () => {
    if (word === undefined) return
    if (redirect) redirect = false
    else words.push(word)
    word = undefined
  }
  const endCommand = () => {
    endWord()
    if (words.length > 0) commands.push(words)
    words = []
  }
  const text = script.replace(/\\\n/g, ' ')
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '\n' || c === ';' || c === '|' || c === '&') {
      endCommand()
      if ((c === '&' || c === '|') && text[i + 1] === c) i++
    } else if (c === ' ' || c === '\t') {
      endWord()
    } else if (c === '#' && word === undefined) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++
    } else if (c === '>' || c === '<') {
      // `2>` and `>>`: the descriptor digit was read as a word; the target is the next word, dropped too.
      if (word !== undefined && /^\d$/.test(word)) word = undefined
      endWord()
      if (text[i + 1] === c) i++
      redirect = true
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1)
      word = (word ?? '') + text.slice(i + 1, end)
      i = end
    } else if (c === '"') {
      let value = ''
      for (i++; text[i] !== '"'; i++) value += text[i] === '\\' && /["\\$`]/.test(text[i + 1]!) ? text[++i] : text[i]
      word = (word ?? '') + value
    } else {
      word = (word ?? '') + c
    }
  }
  endCommand()
  return commands
}

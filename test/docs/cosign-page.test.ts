/**
 * docs/cosign-compatibility.md keeps up with the CLI: every verb the top-level help lists has its own `### <verb>`
 * section, and every flag in a verb's flag table (the `*Command` objects the modules of src/cli/commands/ export) is
 * named on the page, in the verb's section or in a flag-group section that section links to, with its short form
 * when it has one. Links inside the page must land on a heading.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, test } from 'vitest'
import type { FlagSpec } from '../../src/cli/args.js'
import type { Command } from '../../src/cli/commands/command.js'
import { cli } from '../support/cli.js'

const root = resolve(import.meta.dirname, '../..')
const PAGE = join('docs', 'cosign-compatibility.md')
const COMMANDS_DIR = join(root, 'src', 'cli', 'commands')

interface Section {
  readonly level: number
  readonly title: string
  readonly anchor: string
  /** The heading's own text up to the next heading of the same or a higher level. */
  readonly body: string
}

/** GitHub's heading anchor: lower case, punctuation other than `-` and `_` dropped, spaces to hyphens. */
function anchorOf(title: string): string {
  return title
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

/** The headings of a Markdown page (outside code fences) with the text each one covers. */
function sections(markdown: string): Section[] {
  const lines = markdown.split('\n')
  const heads: { level: number; title: string; line: number }[] = []
  let fenced = false
  lines.forEach((line, i) => {
    if (/^\s*(?:```|~~~)/.test(line)) fenced = !fenced
    const m = fenced ? null : /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line)
    if (m) heads.push({ level: m[1]!.length, title: m[2]!, line: i })
  })
  return heads.map((h, i) => {
    const end = heads.slice(i + 1).find((n) => n.level <= h.level)?.line ?? lines.length
    return { level: h.level, title: h.title, anchor: anchorOf(h.title), body: lines.slice(h.line, end).join('\n') }
  })
}

/** The in-page anchors `text` links to (`[x](#anchor)`). */
function linkedAnchors(text: string): string[] {
  return [...text.matchAll(/\]\(#([^)\s]+)\)/g)].map((m) => m[1]!)
}

/** How the page must name a flag: `` `--name` ``, or `` `-s, --name` `` when it has a short form. */
function flagPattern(flag: Pick<FlagSpec, 'name' | 'short'>): RegExp {
  const name = flag.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return flag.short ? new RegExp(`\`-${flag.short}, --${name}\``) : new RegExp(`\`(?:-\\w, )?--${name}\``)
}

/**
 * The flags of `verb` the page does not name: its `### verb` section plus the sections that section links to are
 * searched. Undefined when the page has no such section.
 */
function missingFlags(page: readonly Section[], verb: string, flags: readonly FlagSpec[]): string[] | undefined {
  const own = page.find((s) => s.level === 3 && s.title === verb)
  if (!own) return undefined
  const linked = linkedAnchors(own.body).flatMap((a) => page.filter((s) => s.anchor === a).map((s) => s.body))
  const text = [own.body, ...linked].join('\n')
  return flags.filter((f) => !flagPattern(f).test(text)).map((f) => `${verb} --${f.name}`)
}

function isCommand(value: unknown): value is Command {
  const c = value as Partial<Command> | null
  return typeof c === 'object' && c !== null && typeof c.name === 'string' && Array.isArray(c.flags)
}

/** Every `*Command` exported by src/cli/commands/*.ts, by verb name (two modules may build the same verb). */
async function commandsByVerb(): Promise<Map<string, Command[]>> {
  const byVerb = new Map<string, Command[]>()
  for (const file of readdirSync(COMMANDS_DIR)
    .filter((f) => f.endsWith('.ts'))
    .sort()) {
    const mod = (await import(pathToFileURL(join(COMMANDS_DIR, file)).href)) as Record<string, unknown>
    for (const [name, value] of Object.entries(mod)) {
      if (!name.endsWith('Command') || !isCommand(value)) continue
      byVerb.set(value.name, [...(byVerb.get(value.name) ?? []), value])
    }
  }
  return byVerb
}

/** The verbs of the top-level help's `Commands:` list. */
function helpVerbs(help: string): string[] {
  const lines = help.split('\n')
  const start = lines.findIndex((l) => l.trim() === 'Commands:')
  const verbs: string[] = []
  for (const line of lines.slice(start + 1)) {
    const m = /^ {2}(\S+)\s/.exec(line)
    if (!m) break
    verbs.push(m[1]!)
  }
  return verbs
}

describe(`${PAGE} covers the CLI`, () => {
  const page = sections(readFileSync(join(root, PAGE), 'utf8'))

  test('every verb of the top-level help has a section, and every flag of its table is on the page', async () => {
    const help = await cli(['--help'], { cwd: root })
    expect(help.code, help.stderr).toBe(0)
    const verbs = helpVerbs(help.stdout)
    expect(verbs).toContain('sign')
    expect(verbs).toContain('verify-attestation')
    const commands = await commandsByVerb()

    const problems: string[] = []
    let flagsChecked = 0
    for (const verb of verbs) {
      const built = commands.get(verb) ?? []
      // `version` is answered by the dispatcher itself; every other verb has a flag table to check.
      if (built.length === 0 && verb !== 'version') problems.push(`${verb}: no *Command export in src/cli/commands`)
      const flags = built.flatMap((c) => c.flags)
      flagsChecked += flags.length
      const missing = missingFlags(page, verb, flags)
      if (missing === undefined) problems.push(`${verb}: no "### ${verb}" section in ${PAGE}`)
      else problems.push(...missing)
    }
    expect(problems).toEqual([])
    expect(flagsChecked).toBeGreaterThan(200)
  })

  test('every link inside the page lands on a heading', () => {
    const anchors = new Set(page.map((s) => s.anchor))
    const text = readFileSync(join(root, PAGE), 'utf8')
    const broken = linkedAnchors(text).filter((a) => !anchors.has(a))
    expect(broken).toEqual([])
    expect(linkedAnchors(text).length).toBeGreaterThan(40)
  })

  test('the checks catch a missing section, flag or short form', () => {
    const doc = sections(
      [
        '## Groups',
        '### Shared',
        '| `-d, --verbose` | |',
        '### sign',
        'Also: [shared](#shared).',
        '| `--key` | |',
        '| `--recursive` | |',
        '### verify',
        '| `--key` | |',
      ].join('\n'),
    )
    const key: FlagSpec = { name: 'key', type: 'string', help: '' }
    const verbose: FlagSpec = { name: 'verbose', short: 'd', type: 'bool', help: '' }
    const recursive: FlagSpec = { name: 'recursive', short: 'r', type: 'bool', help: '' }
    expect(missingFlags(doc, 'sign', [key, verbose])).toEqual([])
    expect(missingFlags(doc, 'sign', [recursive])).toEqual(['sign --recursive'])
    expect(missingFlags(doc, 'verify', [key, verbose])).toEqual(['verify --verbose'])
    expect(missingFlags(doc, 'tree', [key])).toBeUndefined()
    expect(anchorOf("countersign's own verbs")).toBe('countersigns-own-verbs')
    expect(helpVerbs('Usage:\n\nCommands:\n  sign     Sign\n  verify   Verify\n\nRun …')).toEqual(['sign', 'verify'])
  })
})

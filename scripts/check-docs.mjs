// Every public export (what the package.json subpaths expose) has TSDoc saying which subpath exports it
// ("Exported from `countersign/…`", our rule for public TSDoc, in the spirit of jose's `tools/check-subpaths.js`);
// functions also need an @example.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'

const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
// dist/<name>.js is built from the source tsup.config.ts names for <name> (e.g. dist/sign.js from src/image/sign.ts).
const sources = new Map(
  [...readFileSync('tsup.config.ts', 'utf8').matchAll(/['"]?([\w/-]+)['"]?\s*:\s*['"](src\/[^'"]+\.ts)['"]/g)].map(
    (m) => [m[1], m[2]],
  ),
)
const entries = Object.values(pkg.exports)
  .map((t) => (typeof t === 'string' ? t : (t.node ?? t).default))
  .filter((p) => p.endsWith('.js'))
  .map((p) => {
    const name = p.replace(/^\.\/dist\//, '').replace(/\.js$/, '')
    const source = sources.get(name)
    if (source === undefined)
      throw new Error(`tsup.config.ts builds no entry named ${name} (package.json exports ${p})`)
    return source
  })

const problems = []
const checked = new Set()

function check(file, name) {
  const key = `${file}#${name}`
  if (checked.has(key)) return
  checked.add(key)
  const text = readFileSync(file, 'utf8')
  const m = new RegExp(`^export (?:declare )?(?:async )?(function|const|class|interface|type) ${name}\\b`, 'm').exec(
    text,
  )
  if (!m) {
    // A module may pass a name on from where it is declared (`export { x } from './y.js'`): follow it there.
    for (const r of text.matchAll(/^export (?:type )?\{([^}]*)\} from '([^']+)'/gm)) {
      const names = r[1].split(',').map((n) =>
        n
          .trim()
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/),
      )
      const hit = names.find((n) => (n[1] ?? n[0]) === name)
      if (hit) return check(normalize(join(dirname(file), r[2].replace(/\.js$/, '.ts'))), hit[0])
    }
    return problems.push(`${file}: ${name} re-exported but not declared there`)
  }
  const before = text.slice(0, m.index).trimEnd()
  const doc = before.endsWith('*/') ? before.slice(before.lastIndexOf('/**')) : ''
  const where = `${file}:${text.slice(0, m.index).split('\n').length} ${name}`
  if (!doc) problems.push(`${where}: no TSDoc`)
  else if (!/Exported from `countersign(\/[a-z0-9-]+)*`/.test(doc))
    problems.push(`${where}: TSDoc lacks "Exported from \`countersign/…\`"`)
  else if (m[1] === 'function' && !doc.includes('@example')) problems.push(`${where}: function TSDoc lacks @example`)
}

for (const entry of entries) {
  const text = readFileSync(entry, 'utf8')
  for (const m of text.matchAll(/^export (?:async )?(?:function|const|class|interface|type) (\w+)/gm))
    check(entry, m[1])
  for (const m of text.matchAll(/^export (?:type )?\{([^}]*)\} from '([^']+)'/gm)) {
    const target = normalize(join(dirname(entry), m[2].replace(/\.js$/, '.ts')))
    if (target.endsWith('index.ts') || !existsSync(target)) continue // other entries are checked on their own
    for (const spec of m[1]
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const name = spec.replace(/^type\s+/, '').split(/\s+as\s+/)[0]
      check(target, name)
    }
  }
  for (const m of text.matchAll(/^export (?:type )?\* from '([^']+)'/gm)) {
    const target = normalize(join(dirname(entry), m[1].replace(/\.js$/, '.ts')))
    const body = readFileSync(target, 'utf8')
    for (const d of body.matchAll(/^export (?:async )?(?:function|const|class|interface|type) (\w+)/gm))
      check(target, d[1])
  }
}
if (problems.length) {
  console.error(problems.join('\n'))
  console.error(`${problems.length} public export(s) without complete TSDoc`)
  process.exit(1)
}
console.log(`TSDoc ok: ${checked.size} public exports documented with their subpath`)

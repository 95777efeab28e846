// The public surface of the built package, per subpath: the runtime export names (`Object.keys(await import(…))`)
// and the type-level export names of its `.d.ts` (TypeScript's checker). `--write` records it in
// scripts/api-surface.json; without it the build is compared with that record and any difference fails, so a
// subpath's API changes only on purpose (in the spirit of api-extractor's report).
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'

const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
const record = 'scripts/api-surface.json'
const surface = {}
for (const [subpath, target] of Object.entries(pkg.exports)) {
  if (typeof target === 'string') continue
  const t = target.node ?? target
  const runtime = Object.keys(await import(pathToFileURL(resolve(t.default)).href)).sort()
  const program = ts.createProgram([t.types], { noEmit: true, types: ['node'], skipLibCheck: true })
  const checker = program.getTypeChecker()
  const file = program.getSourceFile(resolve(t.types))
  const types = checker
    .getExportsOfModule(checker.getSymbolAtLocation(file))
    .map((s) => s.name)
    .sort()
  surface[subpath] = { runtime, types }
}
const text = `${JSON.stringify(surface, null, 2)}\n`
if (process.argv.includes('--write')) {
  writeFileSync(record, text)
  // Recorded in the project's format, so that lint passes on it as written.
  execFileSync(resolve('node_modules/.bin/biome'), ['format', '--write', record], { stdio: 'ignore' })
  console.log(`api surface written to ${record}`)
} else {
  const before = JSON.parse(readFileSync(record, 'utf8'))
  let failed = false
  for (const subpath of new Set([...Object.keys(before), ...Object.keys(surface)])) {
    for (const kind of ['runtime', 'types']) {
      const a = new Set(before[subpath]?.[kind] ?? [])
      const b = new Set(surface[subpath]?.[kind] ?? [])
      const gone = [...a].filter((n) => !b.has(n))
      const added = [...b].filter((n) => !a.has(n))
      if (gone.length || added.length) {
        failed = true
        console.error(`${subpath} ${kind}: removed [${gone.join(', ')}] added [${added.join(', ')}]`)
      }
    }
  }
  if (failed) {
    console.error(
      `the public API differs from ${record}; if that is intended, run node scripts/api-surface.mjs --write`,
    )
    process.exit(1)
  }
  const n = Object.values(surface).reduce((s, v) => s + v.types.length, 0)
  console.log(`api surface unchanged: ${Object.keys(surface).length} subpaths, ${n} exported names`)
}

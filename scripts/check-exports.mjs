// Every subpath in package.json "exports" must exist in dist with its types, and every subpath named in the
// README must be exported (in the spirit of jose's check-subpaths).
import { existsSync, readFileSync } from 'node:fs'

const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
let failed = false
const exported = new Set()
for (const [subpath, target] of Object.entries(pkg.exports)) {
  exported.add(subpath === '.' ? 'countersign' : `countersign/${subpath.slice(2)}`)
  if (typeof target === 'string') continue
  const t = target.node ?? target
  for (const file of [t.types, t.default]) {
    if (!existsSync(file)) {
      console.error(`exports[${subpath}] points at missing ${file}`)
      failed = true
    }
  }
}
const readme = readFileSync('README.md', 'utf8')
for (const m of readme.matchAll(/from '(countersign(?:\/[a-z0-9-]+)*)'/g)) {
  if (!exported.has(m[1])) {
    console.error(`README imports ${m[1]}, which package.json does not export`)
    failed = true
  }
}
if (failed) process.exit(1)
console.log(`exports ok: ${[...exported].join(', ')}`)

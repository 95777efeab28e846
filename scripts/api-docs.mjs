// The API reference in docs/api: TypeDoc (typedoc.json, typedoc-plugin-markdown) over every package.json subpath,
// one Markdown page per subpath, each named by its import path (`countersign/oci`), with TypeDoc warnings as errors.
// `--check` renders into a temporary directory and fails when docs/api differs (regenerate with this script).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { Application, Converter, ReflectionKind, TSConfigReader, TypeDocReader } from 'typedoc'

const root = resolve(import.meta.dirname, '..')
const OUT = join(root, 'docs', 'api')
const check = process.argv.includes('--check')

/**
 * Every subpath of package.json "exports" with the source tsup.config.ts builds it from (as scripts/check-docs.mjs
 * reads them): `[{ name: 'countersign/sign', source: '<root>/src/image/sign.ts' }, …]`.
 */
function subpathEntries() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const tsup = readFileSync(join(root, 'tsup.config.ts'), 'utf8')
  const sources = new Map(
    [...tsup.matchAll(/['"]?([\w/-]+)['"]?\s*:\s*['"](src\/[^'"]+\.ts)['"]/g)].map((m) => [m[1], m[2]]),
  )
  const entries = []
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue // ./package.json
    const dist = (target.node ?? target).default
    const built = dist.replace(/^\.\/dist\//, '').replace(/\.js$/, '')
    const source = sources.get(built)
    if (source === undefined) throw new Error(`tsup.config.ts builds no entry named ${built} (exports ${subpath})`)
    entries.push({
      name: subpath === '.' ? 'countersign' : `countersign/${subpath.slice(2)}`,
      source: join(root, source),
    })
  }
  return entries
}

/** Files under `dir`, relative to it, sorted. */
function listFiles(dir) {
  const files = []
  const walk = (path) => {
    for (const name of readdirSync(path).sort()) {
      const full = join(path, name)
      if (statSync(full).isDirectory()) walk(full)
      else files.push(relative(dir, full))
    }
  }
  walk(dir)
  return files
}

/**
 * A tsconfig whose program is the entry points and what they import, with Node's types for `countersign/node`:
 * tsconfig.node.json's options, but not its test and script files, whose type errors say nothing about the API.
 */
function entryTSConfig(dir, entries) {
  const path = join(dir, 'tsconfig.json')
  const config = {
    extends: join(root, 'tsconfig.node.json'),
    // Written outside the repository, so the default type roots (beside the config) would miss @types/node.
    compilerOptions: { typeRoots: [join(root, 'node_modules', '@types')] },
    files: entries.map((e) => e.source),
    include: [],
  }
  writeFileSync(path, JSON.stringify(config))
  return path
}

/** Render the reference into `out`; false when TypeDoc reported errors or warnings. */
async function render(out) {
  const entries = subpathEntries()
  const nameBySource = new Map(entries.map((e) => [e.source, e.name]))
  const configDir = mkdtempSync(join(tmpdir(), 'countersign-typedoc-'))
  try {
    return await renderWith(out, entries, nameBySource, entryTSConfig(configDir, entries))
  } finally {
    rmSync(configDir, { recursive: true, force: true })
  }
}

async function renderWith(out, entries, nameBySource, tsconfig) {
  const app = await Application.bootstrapWithPlugins(
    { options: join(root, 'typedoc.json'), tsconfig, entryPoints: entries.map((e) => e.source), out },
    [new TypeDocReader(), new TSConfigReader()],
  )
  // A module is named by its import path, not by its file (`image/sign` is `countersign/sign`).
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return
    const file = context.project.getSymbolIdFromReflection(reflection)?.fileName
    const name = file === undefined ? undefined : nameBySource.get(resolve(file))
    if (name === undefined) throw new Error(`no package subpath for module ${reflection.name} (${file})`)
    reflection.name = name
  })
  const failed = () => app.logger.hasErrors() || app.logger.hasWarnings()
  if (failed()) return false
  const project = await app.convert()
  if (!project || failed()) return false
  app.validate(project)
  if (failed()) return false
  await app.generateOutputs(project)
  return !failed()
}

const started = performance.now()
const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`
if (!check) {
  if (!(await render(OUT))) process.exit(1)
  console.log(`docs/api: ${listFiles(OUT).length} files written in ${seconds()}`)
} else {
  const tmp = mkdtempSync(join(tmpdir(), 'countersign-api-docs-'))
  let stale
  try {
    if (!(await render(tmp))) {
      process.exitCode = 1
    } else {
      const want = listFiles(tmp)
      const have = existsSync(OUT) ? listFiles(OUT) : []
      stale = [
        ...want.filter((f) => !have.includes(f)).map((f) => `missing: docs/api/${f}`),
        ...have.filter((f) => !want.includes(f)).map((f) => `not generated any more: docs/api/${f}`),
        ...want
          .filter((f) => have.includes(f) && !readFileSync(join(tmp, f)).equals(readFileSync(join(OUT, f))))
          .map((f) => `out of date: docs/api/${f}`),
      ]
      if (stale.length === 0) console.log(`docs/api is up to date (${want.length} files, ${seconds()})`)
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  if (stale?.length) {
    console.error(`${stale.join('\n')}\ndocs/api is stale: run \`node scripts/api-docs.mjs\` and commit the result`)
    process.exitCode = 1
  }
}

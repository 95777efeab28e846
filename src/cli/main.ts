#!/usr/bin/env node
/**
 * The `countersign` executable. A version request is answered before anything else loads; every other command
 * line loads the dispatcher, which loads only the verb it runs.
 * @module
 */
import module from 'node:module'
import { versionOutput } from './version.js'

// Node ≥ 22.1 can keep V8's compiled code between runs (as npm's own CLI asks for): a verb's modules then load
// without being parsed again. A no-op on Node 20, which has no compile cache.
;(module as { enableCompileCache?: () => unknown }).enableCompileCache?.()

const argv = process.argv.slice(2)
const version = versionOutput(argv)
if (version !== undefined) {
  process.stdout.write(version)
} else {
  const [{ createSecretSet }, { runCli }] = await Promise.all([import('../http/redact.js'), import('./run.js')])
  process.exitCode = await runCli(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    // One set for the process: every secret it reads or resolves is kept out of what it prints.
    secrets: createSecretSet(),
  })
}

#!/usr/bin/env node
/** The `countersign` executable. @module */
import { runCli } from './run.js'

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
})
process.exitCode = code

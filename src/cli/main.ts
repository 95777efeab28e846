#!/usr/bin/env node
/** The `countersign` executable. @module */
import { createSecretSet } from '../http/redact.js'
import { runCli } from './run.js'

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  // One set for the process: every secret it reads or resolves is kept out of what it prints.
  secrets: createSecretSet(),
})
process.exitCode = code

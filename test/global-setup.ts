/**
 * Once per test run: a TUF cache the in-process CLI runner (test/support/cli.ts) points `TUF_ROOT` at, so that verbs
 * needing trust material read it through TUF as an initialised user's would, with no network and no warning.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { createPublicGoodTUFCache } from './support/tuf-cache.js'

declare module 'vitest' {
  export interface ProvidedContext {
    tufRoot: string
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-tuf-root-'))
  await createPublicGoodTUFCache(dir)
  project.provide('tufRoot', dir)
  return () => rmSync(dir, { recursive: true, force: true })
}

/** Debian's Chromium, headless, driven by playwright-core: how the browser tests start it. */
import { existsSync } from 'node:fs'
import { type Browser, chromium, type Page } from 'playwright-core'

const CHROMIUM = '/usr/bin/chromium'
// Headless as root in a sandbox with a closed network: no GPU, no sandbox, and no background connections
// (updates, sync, QUIC) that this machine would refuse.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Launch headless Chromium; a clear error when it is not installed (scripts/test-all.sh installs it). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (scripts/test-all.sh installs it)`)
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
}

/**
 * What a page did that a test forbids: uncaught errors, and requests leaving `origin` (a page that verifies offline
 * must fetch nothing from elsewhere). The arrays fill as the page runs.
 */
export function watchPage(page: Page, origin: string): { readonly errors: string[]; readonly foreign: string[] } {
  const errors: string[] = []
  const foreign: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('request', (r) => {
    if (!r.url().startsWith(`${origin}/`)) foreign.push(r.url())
  })
  return { errors, foreign }
}

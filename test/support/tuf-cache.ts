/**
 * A TUF cache as `countersign initialize` leaves it, for tests of the CLI: a test TUF repository
 * (test/support/tuf-repo.ts) publishes the public-good trusted root and signing config countersign embeds, one
 * update fills the cache, and `remote.json` names that mirror. Its metadata stays current for a week, so verbs read
 * it without any network call (the repository is stopped afterwards), and their verdicts are those of the embedded
 * snapshot: CLI tests run as a user whose TUF repository publishes the public-good material.
 */
import { writeRemoteConfig } from '../../src/node/tuf/cache.js'
import { createTUFTrustProvider } from '../../src/node/tuf/provider.js'
import { PUBLIC_GOOD_TRUSTED_ROOT_JSON } from '../../src/trust/public-good.js'
import { PUBLIC_GOOD_SIGNING_CONFIG_JSON } from '../../src/trust/public-good-signing-config.js'
import { startTUFRepository } from './tuf-repo.js'

/** Fill `cacheRoot` (a `TUF_ROOT`) from a fresh test repository; returns the mirror URL it remembers. */
export async function createPublicGoodTUFCache(cacheRoot: string): Promise<string> {
  const repo = await startTUFRepository()
  try {
    repo.setTarget('trusted_root.json', PUBLIC_GOOD_TRUSTED_ROOT_JSON)
    repo.setTarget('signing_config.v0.2.json', PUBLIC_GOOD_SIGNING_CONFIG_JSON)
    repo.publish()
    await createTUFTrustProvider({ mirror: repo.url, root: repo.rootBytes(1), cacheDir: cacheRoot }).load()
    writeRemoteConfig(cacheRoot, { mirror: repo.url })
    return repo.url
  } finally {
    await repo.stop()
  }
}

/**
 * A TUF repository for tests, written here from the TUF specification (v1.0: canonical-JSON signing, ed25519 keys,
 * consistent snapshots with `N.root.json`, `N.snapshot.json`, `N.targets.json` and hash-prefixed target files, as
 * Sigstore's repository publishes them) — independent of the client under test — and served over loopback HTTP.
 *
 * Each call to {@link TestTUFRepository.publish} signs and publishes new timestamp, snapshot and targets metadata;
 * {@link TestTUFRepository.rotateRoot} publishes the next root version. Scenario knobs: expiry per role, signing with
 * fewer keys than the threshold, serving an older version (rollback), corrupting a target, taking the mirror down.
 */
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ed25519 } from '@noble/curves/ed25519.js'
import canonicalize from 'canonicalize'

export type Role = 'root' | 'timestamp' | 'snapshot' | 'targets'
const ROLES: readonly Role[] = ['root', 'timestamp', 'snapshot', 'targets']

export interface TestKey {
  readonly id: string
  readonly secret: Uint8Array
  /** The key as TUF metadata lists it. */
  readonly json: { keytype: 'ed25519'; scheme: 'ed25519'; keyval: { public: string } }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex')

/** A new ed25519 key; its id is the SHA-256 of its canonical JSON, as the spec suggests. */
export function newKey(): TestKey {
  const secret = ed25519.utils.randomSecretKey()
  const json = {
    keytype: 'ed25519' as const,
    scheme: 'ed25519' as const,
    keyval: { public: hex(ed25519.getPublicKey(secret)) },
  }
  return { id: sha256(canonicalize(json)!), secret, json }
}

/** `signed` wrapped with signatures by `keys` over its canonical JSON. */
export function signMetadata(signed: object, keys: readonly TestKey[]): Uint8Array {
  const message = new TextEncoder().encode(canonicalize(signed)!)
  const signatures = keys.map((k) => ({ keyid: k.id, sig: hex(ed25519.sign(message, k.secret)) }))
  return new TextEncoder().encode(JSON.stringify({ signatures, signed }, null, 1))
}

function isoIn(ms: number): string {
  return new Date(Math.floor((Date.now() + ms) / 1000) * 1000).toISOString().replace('.000Z', 'Z')
}
const DAY = 86_400_000

export interface RootOptions {
  /** Keys per role (default: the current ones). */
  readonly keys?: Partial<Record<Role, readonly TestKey[]>>
  /** Thresholds per role (default: the current ones, 1 at first). */
  readonly thresholds?: Partial<Record<Role, number>>
  /** Expiry from now (default 365 days). */
  readonly expiresInMs?: number
  /**
   * Who signs the new root (default: the previous root's keys and the new ones, as a rotation must be signed by
   * both thresholds). Give fewer to test refusals.
   */
  readonly signers?: readonly TestKey[]
}

export interface PublishOptions {
  /** Expiry from now per role (default 7 days for timestamp, 30 for snapshot and targets). */
  readonly expiresInMs?: Partial<Record<'timestamp' | 'snapshot' | 'targets', number>>
  /** Sign each role with these keys instead of the role's keys (threshold tests). */
  readonly signers?: Partial<Record<'timestamp' | 'snapshot' | 'targets', readonly TestKey[]>>
  /** Version numbers to use instead of the next ones (rollback tests). */
  readonly versions?: Partial<Record<'timestamp' | 'snapshot' | 'targets', number>>
}

export interface TestTUFRepository {
  /** `http://127.0.0.1:<port>` — metadata at the root, target files under `/targets/`. */
  readonly url: string
  /** The keys currently assigned to each role. */
  readonly keys: Record<Role, TestKey[]>
  /** The bytes of root version `n` (1 is what a client is initialised with). */
  rootBytes(n?: number): Uint8Array
  /** Current root version. */
  readonly rootVersion: number
  /** Set (or replace) a target's content; takes effect at the next {@link publish}. */
  setTarget(name: string, content: Uint8Array | string): void
  /** Sign and serve new targets, snapshot and timestamp metadata. */
  publish(options?: PublishOptions): void
  /** Sign and serve the next root version. */
  rotateRoot(options?: RootOptions): void
  /** Serve different bytes at a path (corruption tests); `undefined` removes it. */
  override(path: string, bytes: Uint8Array | undefined): void
  /** Take the mirror down (every request answers 503) or bring it back. */
  setDown(down: boolean): void
  /** Paths requested so far. */
  readonly requests: string[]
  stop(): Promise<void>
}

/** Start a repository with one key per role, root v1 and a first (empty) publication. */
export async function startTUFRepository(): Promise<TestTUFRepository> {
  const files = new Map<string, Uint8Array>()
  const targets = new Map<string, Uint8Array>()
  const keys = Object.fromEntries(ROLES.map((r) => [r, [newKey()]])) as Record<Role, TestKey[]>
  const thresholds: Record<Role, number> = { root: 1, timestamp: 1, snapshot: 1, targets: 1 }
  const versions = { root: 0, timestamp: 0, snapshot: 0, targets: 0 }
  const requests: string[] = []
  let down = false

  const rootSigned = (expiresInMs: number) => {
    const allKeys: Record<string, TestKey['json']> = {}
    for (const r of ROLES) for (const k of keys[r]) allKeys[k.id] = k.json
    return {
      _type: 'root',
      spec_version: '1.0.31',
      version: versions.root,
      expires: isoIn(expiresInMs),
      consistent_snapshot: true,
      keys: allKeys,
      roles: Object.fromEntries(ROLES.map((r) => [r, { keyids: keys[r].map((k) => k.id), threshold: thresholds[r] }])),
    }
  }

  const rotateRoot = (options: RootOptions = {}) => {
    const previous = keys.root.slice()
    for (const r of ROLES) if (options.keys?.[r]) keys[r] = options.keys[r]!.slice()
    for (const r of ROLES) if (options.thresholds?.[r] !== undefined) thresholds[r] = options.thresholds[r]!
    versions.root++
    const signers = options.signers ?? [...new Map([...previous, ...keys.root].map((k) => [k.id, k])).values()]
    files.set(`/${versions.root}.root.json`, signMetadata(rootSigned(options.expiresInMs ?? 365 * DAY), signers))
  }

  const publish = (options: PublishOptions = {}) => {
    const expires = { timestamp: 7 * DAY, snapshot: 30 * DAY, targets: 30 * DAY, ...options.expiresInMs }
    const next = (role: 'timestamp' | 'snapshot' | 'targets') => {
      versions[role] = options.versions?.[role] ?? versions[role] + 1
      return versions[role]
    }
    const targetEntries: Record<string, { length: number; hashes: { sha256: string } }> = {}
    for (const [name, content] of targets) {
      const digest = sha256(content)
      targetEntries[name] = { length: content.length, hashes: { sha256: digest } }
      files.set(`/targets/${digest}.${name}`, content)
    }
    const targetsVersion = next('targets')
    const targetsBytes = signMetadata(
      {
        _type: 'targets',
        spec_version: '1.0.31',
        version: targetsVersion,
        expires: isoIn(expires.targets),
        targets: targetEntries,
      },
      options.signers?.targets ?? keys.targets,
    )
    files.set(`/${targetsVersion}.targets.json`, targetsBytes)
    const snapshotVersion = next('snapshot')
    const snapshotBytes = signMetadata(
      {
        _type: 'snapshot',
        spec_version: '1.0.31',
        version: snapshotVersion,
        expires: isoIn(expires.snapshot),
        meta: { 'targets.json': { version: targetsVersion } },
      },
      options.signers?.snapshot ?? keys.snapshot,
    )
    files.set(`/${snapshotVersion}.snapshot.json`, snapshotBytes)
    files.set(
      '/timestamp.json',
      signMetadata(
        {
          _type: 'timestamp',
          spec_version: '1.0.31',
          version: next('timestamp'),
          expires: isoIn(expires.timestamp),
          meta: {
            'snapshot.json': {
              version: snapshotVersion,
              length: snapshotBytes.length,
              hashes: { sha256: sha256(snapshotBytes) },
            },
          },
        },
        options.signers?.timestamp ?? keys.timestamp,
      ),
    )
  }

  rotateRoot()
  publish()

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    requests.push(path)
    if (down) {
      res.writeHead(503).end('down')
      return
    }
    const body = files.get(path)
    if (!body) {
      res.writeHead(404).end('not found')
      return
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    keys,
    get rootVersion() {
      return versions.root
    },
    rootBytes: (n = 1) => {
      const b = files.get(`/${n}.root.json`)
      if (!b) throw new Error(`no root version ${n}`)
      return b
    },
    setTarget: (name, content) =>
      targets.set(name, typeof content === 'string' ? new TextEncoder().encode(content) : content),
    publish,
    rotateRoot,
    override: (path, bytes) => (bytes ? files.set(path, bytes) : files.delete(path)),
    setDown: (d) => {
      down = d
    },
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

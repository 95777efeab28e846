import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createDockerConfigCredentials } from '../../src/node/docker-config.js'
import { createPodmanAuthCredentials, matchPodmanKey, podmanAuthFiles } from '../../src/node/podman-auth.js'
import { chainCredentials } from '../../src/oci/auth.js'

const b64 = (s: string) => Buffer.from(s).toString('base64')
const entry = (user: string) => ({ auth: b64(`${user}:pw-${user}`) })
const cred = (user: string) => ({ username: user, password: `pw-${user}` })

describe('podman auth.json', () => {
  let dir: string
  const write = (path: string, auths: Record<string, unknown>) => {
    mkdirSync(join(path, '..'), { recursive: true })
    writeFileSync(path, JSON.stringify({ auths }))
  }
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-podman-'))
    write(join(dir, 'run/containers/auth.json'), {
      'quay.io': entry('host'),
      'quay.io/org': entry('org'),
      'quay.io/org/app': entry('app'),
      'registry.example:5000/team': entry('team'),
      'docker.io': entry('hub'),
      'ghcr.io': { identitytoken: 'idt' },
    })
    write(join(dir, 'config/containers/auth.json'), { 'example.com': entry('fromconfig'), 'quay.io': entry('second') })
    write(join(dir, 'explicit.json'), { 'quay.io': entry('explicit') })
  })
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  test('file order: REGISTRY_AUTH_FILE alone, else XDG_RUNTIME_DIR then XDG_CONFIG_HOME / ~/.config', () => {
    expect(podmanAuthFiles({ REGISTRY_AUTH_FILE: '/x/auth.json', XDG_RUNTIME_DIR: '/run/u' })).toEqual(['/x/auth.json'])
    expect(podmanAuthFiles({ XDG_RUNTIME_DIR: '/run/u', HOME: '/home/u' })).toEqual([
      '/run/u/containers/auth.json',
      '/home/u/.config/containers/auth.json',
    ])
    expect(podmanAuthFiles({ XDG_CONFIG_HOME: '/cfg', HOME: '/home/u' })).toEqual(['/cfg/containers/auth.json'])
  })

  test('longest namespace wins, host otherwise; never substrings', async () => {
    const env = { XDG_RUNTIME_DIR: join(dir, 'run'), XDG_CONFIG_HOME: join(dir, 'config') }
    const p = createPodmanAuthCredentials({ env })
    expect(await p('quay.io', { repository: 'org/app' })).toEqual(cred('app'))
    expect(await p('quay.io', { repository: 'org/app/sub' })).toEqual(cred('app'))
    expect(await p('quay.io', { repository: 'org/other' })).toEqual(cred('org'))
    expect(await p('quay.io', { repository: 'organisation/app' })).toEqual(cred('host'))
    expect(await p('quay.io', { repository: 'org' })).toEqual(cred('org'))
    expect(await p('quay.io')).toEqual(cred('host'))
    expect(await p('registry.example:5000', { repository: 'team/x' })).toEqual(cred('team'))
    expect(await p('registry.example:5000', { repository: 'teams/x' })).toBeUndefined()
    expect(await p('registry.example', { repository: 'team/x' })).toBeUndefined()
    expect(await p('index.docker.io', { repository: 'library/alpine' })).toEqual(cred('hub'))
    expect(await p('ghcr.io', { repository: 'a/b' })).toEqual({ identityToken: 'idt' })
    expect(await p('io')).toBeUndefined()
    expect(await p('evil-quay.io')).toBeUndefined()
    expect(await p('quay.io.evil.com', { repository: 'org/app' })).toBeUndefined()
    // Second file consulted when the first has no match.
    expect(await p('example.com', { repository: 'x' })).toEqual(cred('fromconfig'))
    expect(matchPodmanKey(['https://index.docker.io/v1/'], 'docker.io', 'x/y')).toBe('https://index.docker.io/v1/')
  })

  test('REGISTRY_AUTH_FILE and authFile; missing files mean anonymous; bad files are coded errors', async () => {
    const p = createPodmanAuthCredentials({
      env: { REGISTRY_AUTH_FILE: join(dir, 'explicit.json'), XDG_RUNTIME_DIR: join(dir, 'run') },
    })
    expect(await p('quay.io', { repository: 'org/app' })).toEqual(cred('explicit'))
    expect(await createPodmanAuthCredentials({ authFile: join(dir, 'nope.json') })('quay.io')).toBeUndefined()
    writeFileSync(join(dir, 'bad.json'), '{not json')
    await expect(createPodmanAuthCredentials({ authFile: join(dir, 'bad.json') })('quay.io')).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
    writeFileSync(join(dir, 'badauth.json'), JSON.stringify({ auths: { 'quay.io': { auth: b64('no-colon-secret') } } }))
    const err = await createPodmanAuthCredentials({ authFile: join(dir, 'badauth.json') })('quay.io').catch((e) => e)
    expect(err.code).toBe('ERR_INVALID_INPUT')
    expect(err.message).not.toContain('no-colon-secret')
  })

  test('a port is part of the host, and a key spelled exactly wins over one that normalises to it', async () => {
    const keys = ['https://quay.io/v1/', 'quay.io', 'http://quay.io/org', 'quay.io/org', 'quay.io:5000/org']
    expect(matchPodmanKey(keys, 'quay.io', 'x/y')).toBe('quay.io')
    expect(matchPodmanKey(keys, 'quay.io', 'org/app')).toBe('quay.io/org')
    expect(matchPodmanKey(keys, 'quay.io:5000', 'org/app')).toBe('quay.io:5000/org')
    expect(matchPodmanKey(keys, 'quay.io:5000', 'other/app')).toBeUndefined()
    expect(matchPodmanKey(keys, 'quay.io:5001', 'org/app')).toBeUndefined()
    // Docker Hub's names are one registry; a URL key names a host, its path is not a namespace.
    expect(matchPodmanKey(['docker.io/library'], 'index.docker.io', 'library/alpine')).toBe('docker.io/library')
    expect(matchPodmanKey(['registry-1.docker.io'], 'docker.io', 'library/alpine')).toBe('registry-1.docker.io')
    expect(matchPodmanKey(['https://quay.io/other'], 'quay.io', 'org/app')).toBe('https://quay.io/other')
  })

  test("credHelpers: per registry, run instead of the file's auths; nothing from the helper → the next file", async () => {
    const bin = join(dir, 'bin')
    mkdirSync(bin, { recursive: true })
    writeFileSync(
      join(bin, 'docker-credential-podtest'),
      `#!/bin/sh
read -r server || true
case "$server" in
  empty.example) echo "credentials not found"; exit 1 ;;
  *) printf '{"Username":"helper:%s","Secret":"hs"}' "$server" ;;
esac
`,
    )
    chmodSync(join(bin, 'docker-credential-podtest'), 0o755)
    const first = join(dir, 'helpers/run/containers/auth.json')
    mkdirSync(join(first, '..'), { recursive: true })
    writeFileSync(
      first,
      JSON.stringify({
        credHelpers: { 'helped.example': 'podtest', 'docker.io': 'podtest', 'empty.example': 'podtest' },
        auths: { 'helped.example': entry('shadowed'), 'empty.example': entry('shadowed') },
      }),
    )
    write(join(dir, 'helpers/config/containers/auth.json'), { 'empty.example': entry('second-file') })
    const p = createPodmanAuthCredentials({
      env: {
        XDG_RUNTIME_DIR: join(dir, 'helpers/run'),
        XDG_CONFIG_HOME: join(dir, 'helpers/config'),
        PATH: `${bin}:/usr/bin:/bin`,
      },
    })
    expect(await p('helped.example', { repository: 'a/b' })).toEqual({
      username: 'helper:helped.example',
      password: 'hs',
    })
    // podman names Docker Hub `docker.io` when it asks a helper.
    expect(await p('index.docker.io', { repository: 'library/alpine' })).toEqual({
      username: 'helper:docker.io',
      password: 'hs',
    })
    expect(await p('empty.example', { repository: 'a/b' })).toEqual(cred('second-file'))
    expect(await p('helped.example:5000', { repository: 'a/b' })).toBeUndefined()
  })

  test('chained with the Docker config: podman first, Docker as fallback', async () => {
    const docker = join(dir, 'docker')
    mkdirSync(docker, { recursive: true })
    writeFileSync(join(docker, 'config.json'), JSON.stringify({ auths: { 'docker-only.example': entry('docker') } }))
    const env = { XDG_RUNTIME_DIR: join(dir, 'run'), XDG_CONFIG_HOME: join(dir, 'config'), DOCKER_CONFIG: docker }
    const chain = chainCredentials(createPodmanAuthCredentials({ env }), createDockerConfigCredentials({ env }))
    expect(await chain('quay.io', { repository: 'org/app' })).toEqual(cred('app'))
    expect(await chain('docker-only.example', { repository: 'x' })).toEqual(cred('docker'))
    expect(await chain('nowhere.example')).toBeUndefined()
  })
})

import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  createDockerConfigCredentials,
  createStaticCredentials,
  normalizeRegistryHost,
} from '../../src/node/docker-config.js'

let tmp: string
let bin: string
const b64 = (s: string) => Buffer.from(s).toString('base64')

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'countersign-docker-config-'))
  bin = join(tmp, 'bin')
  mkdirSync(bin)
  // A fake credential helper: answers for a few server URLs and logs what it was asked.
  writeFileSync(
    join(bin, 'docker-credential-test'),
    `#!/bin/sh
[ "$1" = "get" ] || exit 3
read -r server || true
echo "$server" >> "${join(tmp, 'helper.log')}"
case "$server" in
  helper.example) echo '{"ServerURL":"helper.example","Username":"hu","Secret":"hs"}' ;;
  token.example) echo '{"ServerURL":"token.example","Username":"<token>","Secret":"refresh-me"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"x","Username":"hub","Secret":"hubsecret"}' ;;
  broken.example) echo 'super-secret-output'; exit 2 ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`,
  )
  chmodSync(join(bin, 'docker-credential-test'), 0o755)
  // Answers for every server with the server URL it was asked for as the user name; "nothing" for none.
  writeFileSync(
    join(bin, 'docker-credential-echo'),
    `#!/bin/sh
[ "$1" = "get" ] || exit 3
read -r server || true
case "$server" in
  nothing*) echo "credentials not found in native keychain"; exit 1 ;;
  *) printf '{"ServerURL":"%s","Username":"asked:%s","Secret":"s"}' "$server" "$server" ;;
esac
`,
  )
  chmodSync(join(bin, 'docker-credential-echo'), 0o755)
})
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

function writeConfig(name: string, config: unknown): string {
  const dir = join(tmp, name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config))
  return dir
}

const env = () => ({ PATH: `${bin}:/usr/bin:/bin` })

describe('createDockerConfigCredentials', () => {
  test('auths: base64 auth, username/password, identity and registry tokens, Docker Hub aliases', async () => {
    const dir = writeConfig('auths', {
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
        'ghcr.io': { username: 'gu', password: 'gp' },
        'https://id.example/v2/': { identitytoken: 'idt' },
        'rt.example': { registrytoken: 'rtt' },
        'localhost:5000': { auth: b64('l:p') },
        'empty.example': {},
      },
    })
    const creds = createDockerConfigCredentials({ env: { ...env(), DOCKER_CONFIG: dir } })
    for (const hub of ['index.docker.io', 'docker.io', 'registry-1.docker.io']) {
      expect(await creds(hub)).toEqual({ username: 'hubuser', password: 'hub:pass' })
    }
    expect(await creds('ghcr.io')).toEqual({ username: 'gu', password: 'gp' })
    expect(await creds('GHCR.IO')).toEqual({ username: 'gu', password: 'gp' })
    expect(await creds('id.example')).toEqual({ identityToken: 'idt' })
    expect(await creds('rt.example')).toEqual({ registryToken: 'rtt' })
    expect(await creds('localhost:5000')).toEqual({ username: 'l', password: 'p' })
    expect(await creds('localhost')).toBeUndefined()
    expect(await creds('localhost:5001')).toBeUndefined()
    expect(await creds('empty.example')).toBeUndefined()
    expect(await creds('quay.io')).toBeUndefined()
  })

  test('host matching is exact: no substring or suffix matches', async () => {
    const dir = writeConfig('exact', {
      auths: { 'example.com': { auth: b64('u:p') }, 'https://reg.example/': { auth: b64('r:p') } },
    })
    const creds = createDockerConfigCredentials({ configPath: join(dir, 'config.json'), env: env() })
    expect(await creds('example.com')).toEqual({ username: 'u', password: 'p' })
    for (const other of [
      'evil-example.com',
      'example.com.evil.net',
      'xample.com',
      'example.co',
      'sub.example.com',
      'example.com:443',
    ]) {
      expect(await creds(other)).toBeUndefined()
    }
    expect(await creds('reg.example')).toEqual({ username: 'r', password: 'p' })
    expect(await creds('reg.exampl')).toBeUndefined()
  })

  test('credHelpers and credsStore run docker-credential-<name> get', async () => {
    const dir = writeConfig('helpers', {
      credHelpers: {
        'helper.example': 'test',
        'token.example': 'test',
        'broken.example': 'test',
        'missing.example': 'test',
      },
      credsStore: 'test',
      auths: { 'inline.example': { auth: b64('i:p') } },
    })
    const creds = createDockerConfigCredentials({ env: { ...env(), DOCKER_CONFIG: dir } })
    expect(await creds('helper.example')).toEqual({ username: 'hu', password: 'hs' })
    expect(await creds('token.example')).toEqual({ identityToken: 'refresh-me' })
    expect(await creds('missing.example')).toBeUndefined()
    // credsStore serves Docker Hub with the canonical server URL.
    expect(await creds('docker.io')).toEqual({ username: 'hub', password: 'hubsecret' })
    // The store serves every registry without a helper of its own: it has nothing for this one, and the inline
    // entry is not used (the native store's answer replaces it in Docker).
    expect(await creds('inline.example')).toBeUndefined()
    const err = await creds('broken.example').catch((e) => e)
    expect(err.code).toBe('ERR_INVALID_INPUT')
    expect(err.message).not.toContain('super-secret-output')
  })

  test('missing helper, missing config, bad config', async () => {
    const dir = writeConfig('nohelper', { credsStore: 'nonexistent' })
    await expect(
      createDockerConfigCredentials({ env: { ...env(), DOCKER_CONFIG: dir } })('a.example'),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: expect.stringContaining('docker-credential-nonexistent'),
    })
    const badName = writeConfig('badname', { credsStore: '../../bin/sh' })
    await expect(
      createDockerConfigCredentials({ env: { ...env(), DOCKER_CONFIG: badName } })('a.example'),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
    expect(
      await createDockerConfigCredentials({ env: { ...env(), HOME: join(tmp, 'nohome') } })('a.example'),
    ).toBeUndefined()
    const bad = writeConfig('bad', '{"auths": ')
    await expect(createDockerConfigCredentials({ env: { ...env(), DOCKER_CONFIG: bad } })('a')).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
    const badAuth = writeConfig('badauth', { auths: { 'a.example': { auth: '!!!secret!!!' } } })
    const e = await createDockerConfigCredentials({ env: { ...env(), DOCKER_CONFIG: badAuth } })('a.example').catch(
      (x) => x,
    )
    expect(e.code).toBe('ERR_INVALID_INPUT')
    expect(e.message).not.toContain('secret')
  })

  test('HOME/.docker/config.json is the default location', async () => {
    const home = join(tmp, 'home')
    mkdirSync(join(home, '.docker'), { recursive: true })
    writeFileSync(
      join(home, '.docker', 'config.json'),
      JSON.stringify({ auths: { 'h.example': { auth: b64('h:p') } } }),
    )
    expect(await createDockerConfigCredentials({ env: { ...env(), HOME: home } })('h.example')).toEqual({
      username: 'h',
      password: 'p',
    })
  })
})

// Docker's rules for which registry gets which entry (docker/cli cli/config/configfile/file.go,
// cli/config/credentials/{file_store,native_store}.go, registry.GetAuthConfigKey), one test per rule.
describe("createDockerConfigCredentials follows Docker's host rules", () => {
  const auth = (user: string) => ({ auth: b64(`${user}:pw`) })
  const cred = (user: string) => ({ username: user, password: 'pw' })
  const provider = (name: string, config: unknown) =>
    createDockerConfigCredentials({ env: { ...env(), DOCKER_CONFIG: writeConfig(name, config) } })

  test('docker.io, index.docker.io and registry-1.docker.io all use the https://index.docker.io/v1/ key', async () => {
    const creds = provider('rule-hub', {
      auths: { 'https://index.docker.io/v1/': auth('hub'), 'ghcr.io': auth('gh') },
    })
    for (const hub of ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'DOCKER.IO']) {
      expect(await creds(hub), hub).toEqual(cred('hub'))
    }
    for (const notHub of ['docker.io.evil.com', 'evil-docker.io', 'index.docker.io:5000', 'hub.docker.com']) {
      expect(await creds(notHub), notHub).toBeUndefined()
    }
  })

  test('the exact key wins over another spelling of the same registry', async () => {
    const creds = provider('rule-exact', {
      auths: {
        'docker.io': auth('alias'),
        'https://index.docker.io/v1/': auth('canonical'),
        'https://reg.example/v2/': auth('url'),
        'reg.example': auth('host'),
      },
    })
    expect(await creds('docker.io')).toEqual(cred('canonical'))
    expect(await creds('reg.example')).toEqual(cred('host'))
  })

  test('keys with a scheme and a path match by host[:port] only', async () => {
    const creds = provider('rule-url', {
      auths: {
        'https://reg.example:5000/v1/': auth('five'),
        'http://plain.example/some/path': auth('plain'),
        'https://evil.example@reg2.example/': auth('userinfo'),
      },
    })
    expect(await creds('reg.example:5000')).toEqual(cred('five'))
    expect(await creds('plain.example')).toEqual(cred('plain'))
    expect(await creds('reg.example')).toBeUndefined()
    expect(await creds('evil.example')).toBeUndefined()
  })

  test('a port is part of the host: host:5000, host and host:5001 are three registries', async () => {
    const creds = provider('rule-port', { auths: { 'host.example:5000': auth('five'), 'host.example': auth('bare') } })
    expect(await creds('host.example:5000')).toEqual(cred('five'))
    expect(await creds('host.example')).toEqual(cred('bare'))
    expect(await creds('host.example:5001')).toBeUndefined()
    expect(await creds('host.example:443')).toBeUndefined()
  })

  test('credHelpers are per registry key: a host[:port], or the v1 URL for Docker Hub, never a URL or a prefix', async () => {
    const creds = provider('rule-helpers', {
      credHelpers: {
        'helped.example': 'echo',
        'helped.example:5000': 'echo',
        'https://url-key.example/': 'echo',
        'https://index.docker.io/v1/': 'echo',
      },
      auths: { 'url-key.example': auth('inline'), 'helped.example': auth('ignored') },
    })
    // The helper is asked for the registry's key, not for an auths spelling of it.
    expect(await creds('helped.example')).toEqual({ username: 'asked:helped.example', password: 's' })
    expect(await creds('helped.example:5000')).toEqual({ username: 'asked:helped.example:5000', password: 's' })
    expect(await creds('registry-1.docker.io')).toEqual({
      username: 'asked:https://index.docker.io/v1/',
      password: 's',
    })
    // A URL is not a credHelpers key: the inline entry applies.
    expect(await creds('url-key.example')).toEqual(cred('inline'))
    expect(await creds('sub.helped.example')).toBeUndefined()
    expect(await creds('helped.example:5001')).toBeUndefined()
  })

  test('credsStore is the default helper; an empty credHelpers entry keeps that registry on the file', async () => {
    const creds = provider('rule-store', {
      credsStore: 'echo',
      credHelpers: { 'file-only.example': '' },
      auths: {
        'file-only.example': auth('file'),
        'stored.example': auth('shadowed'),
        'nothing.example': auth('shadowed-too'),
        'tokened.example': { registrytoken: 'rt' },
      },
    })
    expect(await creds('anything.example:8443')).toEqual({ username: 'asked:anything.example:8443', password: 's' })
    expect(await creds('stored.example')).toEqual({ username: 'asked:stored.example', password: 's' })
    expect(await creds('nothing.example')).toBeUndefined()
    expect(await creds('file-only.example')).toEqual(cred('file'))
    // A registry token written in the file survives a helper, as in Docker's native store.
    expect(await creds('tokened.example')).toEqual({ registryToken: 'rt' })
  })
})

describe('createStaticCredentials / normalizeRegistryHost', () => {
  test('normalisation', () => {
    expect(normalizeRegistryHost('https://index.docker.io/v1/')).toBe('index.docker.io')
    expect(normalizeRegistryHost('docker.io')).toBe('index.docker.io')
    expect(normalizeRegistryHost('registry-1.docker.io')).toBe('index.docker.io')
    expect(normalizeRegistryHost('http://Reg.Example:5000/v2/')).toBe('reg.example:5000')
    expect(normalizeRegistryHost('quay.io/org/app')).toBe('quay.io')
  })
  test('static map', async () => {
    const creds = createStaticCredentials({
      'docker.io': { username: 'a', password: 'b' },
      'localhost:5000': { registryToken: 't' },
    })
    expect(await creds('index.docker.io')).toEqual({ username: 'a', password: 'b' })
    expect(await creds('localhost:5000')).toEqual({ registryToken: 't' })
    expect(await creds('localhost:50000')).toBeUndefined()
  })
})

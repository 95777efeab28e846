import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseReference } from '../../src/oci/reference.js'
import { compileImageGlob, matchImageGlob, qualifiedImageName } from '../../src/policy/glob.js'

interface GlobCase {
  image: string
  glob: string
  wantMatch: boolean
  wantErr: boolean
}
const cases: GlobCase[] = JSON.parse(
  readFileSync(new URL('../vectors/policy-controller/glob-cases.json', import.meta.url), 'utf8'),
)

describe('image globs (policy-controller pkg/apis/glob TestGlobMatch)', () => {
  it('has the whole upstream table', () => {
    expect(cases).toHaveLength(42)
  })

  it.each(cases.map((c) => [`${c.image} | ${c.glob}`, c] as const))('%s', (_n, c) => {
    if (c.wantErr) {
      expect(() => matchImageGlob(c.glob, c.image)).toThrow(expect.objectContaining({ code: expect.any(String) }))
    } else {
      expect(matchImageGlob(c.glob, c.image)).toBe(c.wantMatch)
    }
  })
})

describe('image glob details', () => {
  it('rewrites bare * and */* to Docker Hub', () => {
    expect(compileImageGlob('*').test('index.docker.io/library/foo:latest')).toBe(true)
    expect(compileImageGlob('*').test('index.docker.io/acme/foo:latest')).toBe(false)
    expect(matchImageGlob('*', 'ghcr.io/foo')).toBe(false)
    expect(matchImageGlob('*/*', 'myuser/app')).toBe(true)
  })

  it('needs :** to match any tag; * crosses ":" but not "/"', () => {
    expect(matchImageGlob('ghcr.io/acme/app', 'ghcr.io/acme/app:v1')).toBe(false)
    expect(matchImageGlob('ghcr.io/acme/app:**', 'ghcr.io/acme/app:v1')).toBe(true)
    expect(matchImageGlob('ghcr.io/acme/*', 'ghcr.io/acme/app:v1')).toBe(true)
    expect(matchImageGlob('ghcr.io/acme/*', 'ghcr.io/acme/team/app:v1')).toBe(false)
    expect(matchImageGlob('ghcr.io/acme/**', 'ghcr.io/acme/team/app:v1')).toBe(true)
  })

  it('digest references are matched as repo@digest (a tag beside the digest is dropped, as ggcr does)', () => {
    const d = `sha256:${'a'.repeat(64)}`
    expect(qualifiedImageName(parseReference(`ghcr.io/x/y:v1@${d}`))).toBe(`ghcr.io/x/y@${d}`)
    expect(matchImageGlob('ghcr.io/x/y@**', `ghcr.io/x/y:v1@${d}`)).toBe(true)
    expect(matchImageGlob('ghcr.io/x/y:**', `ghcr.io/x/y@${d}`)).toBe(false)
  })

  it('rejects characters outside the glob charset, and regexp syntax', () => {
    for (const g of ['.+', '[a-z]*', 'a?b', 'a b', '(x)', '^x$', '']) {
      expect(() => compileImageGlob(g)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
    }
  })
})

/**
 * `countersign verify-bundle` speaks the sigstore-conformance client protocol: every shared bundle case whose
 * options the protocol can express gives its case.json verdict through the CLI (exit 0 / 1).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'

const dir = fileURLToPath(new URL('../vectors/bundles/', import.meta.url))
const FLAGS: Record<string, string> = {
  tlogThreshold: '--tlog-threshold',
  ctlogThreshold: '--ctlog-threshold',
  signedTimestampThreshold: '--signed-timestamp-threshold',
  observerTimestampThreshold: '--observer-timestamp-threshold',
}

// biome-ignore lint/suspicious/noExplicitAny: case.json is free-form
function protocolArgs(c: any): string[] | undefined {
  if (c.keyValidFor || c.checkSubject === false || typeof c.artifactPolicy === 'string') return undefined
  if (Object.keys(c.verifierOptions ?? {}).some((k) => !(k in FLAGS))) return undefined
  const args = ['verify-bundle', '--bundle', 'bundle.sigstore.json', '--trusted-root', 'trusted_root.json']
  if (c.key) args.push('--key', c.key)
  else if (c.identity) args.push('--certificate-identity', c.identity)
  else if (c.identityRegex) args.push('--certificate-identity-regexp', c.identityRegex)
  else return undefined
  if (!c.key && c.issuer) args.push('--certificate-oidc-issuer', c.issuer)
  if (!c.key && c.issuerRegex) args.push('--certificate-oidc-issuer-regexp', c.issuerRegex)
  for (const [k, v] of Object.entries(c.verifierOptions ?? {})) args.push(FLAGS[k]!, String(v))
  args.push(c.artifact ?? c.artifactDigest)
  return args
}

describe('verify-bundle (conformance client protocol)', () => {
  const names = readdirSync(dir).filter((d) => existsSync(`${dir}${d}/case.json`))
  let driven = 0
  for (const name of names) {
    const c = JSON.parse(readFileSync(`${dir}${name}/case.json`, 'utf8'))
    const args = protocolArgs(c)
    if (!args || c.optional) continue
    driven++
    it(`${name} → exit ${c.expect === 'pass' ? 0 : 1}`, async () => {
      const r = await cli(args, { cwd: `${dir}${name}` })
      expect(r.code, r.stderr).toBe(c.expect === 'pass' ? 0 : 1)
      if (c.expect === 'pass') expect(r.stderr).toBe('Verified OK\n')
    })
  }

  it('drives most of the shared cases through the protocol', () => {
    expect(driven).toBeGreaterThan(60)
  })

  it('refuses a call without an identity or key', async () => {
    const r = await cli(['verify-bundle', '--bundle', 'b.json', 'sha256:00'], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('--key, --certificate-identity or --certificate-identity-regexp')
  })
})

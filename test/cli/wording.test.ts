/**
 * Our own name where cosign's messages name cosign as the program to run, and cosign's texts kept byte for byte
 * where scripts parse them (the list is in docs/cli-output.md, "Texts kept from cosign").
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SBOM_DEPRECATION } from '../../src/cli/commands/attach.js'
import { openLayout } from '../../src/node/layout-fs.js'
import { cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'

const CLI_DIR = new URL('../../src/cli/', import.meta.url).pathname
const VERB_WORDS =
  'sign|verify|attest|attest-blob|sign-blob|verify-blob|download|attach|tree|clean|save|load|triangulate|initialize|generate-key-pair|import-key-pair|public-key|completion|trusted-root'

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : []
  })
}

describe('wording', () => {
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cs-wording-'))
    await pushTinyImage(
      openLayout(join(dir, 'img'), { create: true }),
      { registry: 'localhost', repository: 'img', tag: 'v1' },
      'wording',
    )
    writeFileSync(join(dir, 'sbom.spdx.json'), '{"spdxVersion":"SPDX-2.3"}')
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('no message in src/cli tells the user to run a cosign command', () => {
    const found: string[] = []
    for (const file of sources(CLI_DIR)) {
      // Comments may cite cosign's commands (that is where a behaviour comes from); strings may not.
      const code = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|\s)\/\/.*$/gm, '$1')
      // An instruction: a quoted or prompted command line, or "use/run cosign …" ("like cosign trusted-root create"
      // only compares).
      const instruction = new RegExp(`(['\`]|\\$ ?|\\b(?:use|using|run|running) )cosign (${VERB_WORDS})\\b`, 'g')
      for (const m of code.matchAll(instruction)) found.push(`${file}: ${m[0]}`)
    }
    expect(found).toEqual([])
  })

  it('attach sbom and download sbom name countersign commands, keeping the first words of the warnings', async () => {
    const a = await cli(['attach', 'sbom', '--sbom', 'sbom.spdx.json', 'oci:img:v1'], { cwd: dir })
    expect(a.code, a.stderr).toBe(0)
    expect(a.stderr).toContain(`${SBOM_DEPRECATION}\n`)
    expect(SBOM_DEPRECATION.startsWith('WARNING: SBOM attachments are deprecated')).toBe(true)
    expect(a.stderr).toContain(
      "WARNING: Attaching SBOMs this way does not sign them. To sign them, use 'countersign attest --predicate sbom.spdx.json --key <key path>'.\n",
    )
    const d = await cli(['download', 'sbom', 'oci:img:v1'], { cwd: dir })
    expect(d.code, d.stderr).toBe(0)
    expect(d.stderr).toContain("download it using 'countersign download attestation <image uri>'.\n")
    expect(d.stderr + a.stderr).not.toMatch(/'cosign /)
  })

  it('keeps the texts scripts parse: exit-code messages, the summary lines, Verified OK, the Error: prefix', async () => {
    const env = { COSIGN_PASSWORD: 'wording' }
    expect((await cli(['generate-key-pair'], { cwd: dir, env })).code).toBe(0)
    const unsigned = await cli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', 'oci:img:v1'], { cwd: dir })
    expect(unsigned.code).toBe(10)
    expect(unsigned.stderr).toBe('Error: no signatures found\n')
    const signed = await cli(['sign', '--key', 'cosign.key', '--tlog-upload=false', 'oci:img:v1'], { cwd: dir, env })
    expect(signed.code, signed.stderr).toBe(0)
    const ok = await cli(['verify', '--key', 'cosign.pub', '--insecure-ignore-tlog', 'oci:img:v1'], { cwd: dir })
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stderr).toBe(
      '\nVerification for oci:img:v1 --\n' +
        'The following checks were performed on each of these signatures:\n' +
        '  - The cosign claims were validated\n' +
        '  - The signatures were verified against the specified public key\n',
    )
    const docs = readFileSync(new URL('../../docs/cli-output.md', import.meta.url), 'utf8')
    const kept = docs.slice(docs.indexOf('## Texts kept from cosign'))
    for (const text of [
      'no signatures found',
      'no matching signatures',
      'Verified OK',
      'The following checks were performed on each of these signatures:',
      '  - The cosign claims were validated',
      'unknown flag: ',
      'Error: ',
    ]) {
      expect(kept, text).toContain(text)
    }
  })
})

/**
 * `countersign completion bash|zsh|fish`: scripts generated from the verb registry and each verb's flag table. They
 * parse in their shell, name every verb and a sample of flags, and the bash
 * function, run in a real bash, completes verbs, flags, flag values and subcommands.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { VERBS } from '../../src/cli/registry.js'
import { cli } from '../support/cli.js'

const has = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0

let dir: string
const scripts: Record<string, string> = {}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cs-completion-'))
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = await cli(['completion', shell], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe('')
    scripts[shell] = r.stdout
    writeFileSync(join(dir, `countersign.${shell}`), r.stdout)
  }
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Flags every script must offer, by verb (a sample across flag groups: own, key, output, registry, keyless). */
const SAMPLE: Record<string, string[]> = {
  sign: ['--key', '--annotations', '--tlog-upload', '--output', '--registry-username'],
  verify: ['--certificate-identity', '--certificate-oidc-issuer', '--insecure-ignore-tlog'],
  'sign-blob': ['--bundle', '--output-format'],
  attach: ['--sbom', '--attestation'],
  'verify-bundle': ['--trusted-root', '--tlog-threshold'],
  completion: ['--no-descriptions'],
}

describe('completion scripts', () => {
  it('name every verb of the registry, version and help, and a sample of flags', () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const script = scripts[shell]!
      for (const verb of [...VERBS.map((v) => v.name), 'version', 'help']) {
        expect(script, `${shell}: ${verb}`).toMatch(new RegExp(`(^|[\\s'"(])${verb}([\\s:')]|$)`, 'm'))
      }
    }
    expect(scripts.bash).toContain('complete -o default -F _countersign countersign')
    expect(scripts.zsh!.startsWith('#compdef countersign\n')).toBe(true)
    for (const [verb, flags] of Object.entries(SAMPLE)) {
      for (const flag of flags) {
        expect(scripts.zsh).toContain(`'${flag}:`)
        expect(scripts.fish).toContain(`-n '__countersign_verb_is ${verb}'`)
        expect(scripts.fish).toMatch(new RegExp(`__countersign_verb_is ${verb}'( -s \\w)? -l ${flag.slice(2)}\\b`))
      }
    }
  })

  it('are valid bash, zsh and fish (scripts/test-all.sh installs zsh and fish)', () => {
    const bash = spawnSync('bash', ['-n', join(dir, 'countersign.bash')], { encoding: 'utf8' })
    expect(bash.status, bash.stderr).toBe(0)
    expect(has('zsh') && has('fish'), 'zsh and fish must be installed (apt-get install zsh fish)').toBe(true)
    const zsh = spawnSync('zsh', ['-n', join(dir, 'countersign.zsh')], { encoding: 'utf8' })
    expect(zsh.status, zsh.stderr).toBe(0)
    const fish = spawnSync('fish', ['--no-execute', join(dir, 'countersign.fish')], { encoding: 'utf8' })
    expect(fish.status, fish.stderr).toBe(0)
  })

  it('--no-descriptions leaves the descriptions out', async () => {
    const zsh = await cli(['completion', 'zsh', '--no-descriptions'], { cwd: dir })
    expect(zsh.stdout).toContain("'sign'")
    expect(zsh.stdout).not.toContain("'sign:")
    const fish = await cli(['completion', 'fish', '--no-descriptions'], { cwd: dir })
    expect(fish.stdout).not.toMatch(/ -d '/)
  })

  it('refuses a shell it has no script for', async () => {
    const r = await cli(['completion', 'powershell'], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('usage: countersign completion bash|zsh|fish')
  })
})

describe('the bash completion function, run in bash', () => {
  /** Source the script, set COMP_WORDS/COMP_CWORD for `line` (the last word is being completed), print COMPREPLY. */
  function complete(...words: string[]): string[] {
    const program = [
      `source ${JSON.stringify(join(dir, 'countersign.bash'))}`,
      `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
      `COMP_CWORD=${words.length - 1}`,
      '_countersign',
      `printf '%s\\n' "\${COMPREPLY[@]}"`,
      // The function is registered for the countersign command.
      'complete -p countersign >&2',
    ].join('\n')
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', program], { encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr).toContain('-F _countersign countersign')
    return r.stdout.split('\n').filter((l) => l !== '')
  }

  it('completes verbs', () => {
    expect(complete('countersign', 'verify-b')).toEqual(['verify-blob-attestation', 'verify-blob', 'verify-bundle'])
    expect(complete('countersign', '')).toEqual([...VERBS.map((v) => v.name), 'version', 'help'])
  })

  it("completes a verb's flags", () => {
    expect(complete('countersign', 'sign', '--ke')).toEqual(['--key'])
    expect(complete('countersign', 'verify', '--certificate-oidc-issuer')).toEqual([
      '--certificate-oidc-issuer',
      '--certificate-oidc-issuer-regexp',
    ])
    // Flags are per verb: sign-blob's --bundle is not offered to sign.
    expect(complete('countersign', 'sign', '--bund')).toEqual([])
    expect(complete('countersign', 'sign-blob', '--bund')).toEqual(['--bundle'])
  })

  it('completes fixed flag values, after a space or an =', () => {
    expect(complete('countersign', 'tree', '-o', '')).toEqual(['text', 'json'])
    expect(complete('countersign', 'tree', '--output', '=', 'j')).toEqual(['json'])
    expect(complete('countersign', 'tree', '--output', '=')).toEqual(['text', 'json'])
    expect(complete('countersign', 'clean', '--type', 'a')).toEqual(['attestation', 'all'])
    // A flag whose value is a file: nothing from us, so bash falls back to file names (-o default).
    expect(complete('countersign', 'sign', '--key', '')).toEqual([])
  })

  it('completes subcommands, skipping flags and their values', () => {
    expect(complete('countersign', 'attach', '')).toEqual(['sbom', 'signature', 'attestation'])
    expect(complete('countersign', 'download', '--platform', 'linux/amd64', 'a')).toEqual(['attestation'])
    expect(complete('countersign', 'completion', 'f')).toEqual(['fish'])
    // After the subcommand comes the image: file names (bash's default), not subcommands again.
    expect(complete('countersign', 'attach', 'sbom', '')).toEqual([])
  })
})

/** `completion bash|zsh|fish`: print a shell completion script, as `cosign completion` does. @module */
import { CountersignError } from '../../errors.js'
import type { FlagSpec } from '../args.js'
import { bashCompletion } from '../completion/bash.js'
import { fishCompletion } from '../completion/fish.js'
import { completionModel } from '../completion/model.js'
import { zshCompletion } from '../completion/zsh.js'
import type { Command } from './command.js'

const SHELLS = ['bash', 'zsh', 'fish'] as const

const flags: readonly FlagSpec[] = [
  { name: 'no-descriptions', type: 'bool', help: 'leave the verb and flag descriptions out (zsh, fish)' },
]

/** `completion`. */
export const completionCommand: Command = {
  name: 'completion',
  usage: 'countersign completion bash|zsh|fish',
  description: `Generate the shell completion script: verbs, each verb's flags, fixed flag values (-o json) and subcommands.

To load completions:
Bash:
  $ source <(countersign completion bash)
  # For every session (Linux): countersign completion bash > /etc/bash_completion.d/countersign
Zsh:
  # With completion enabled (autoload -U compinit; compinit in ~/.zshrc):
  $ countersign completion zsh > "\${fpath[1]}/_countersign"
  # then start a new shell.
fish:
  $ countersign completion fish | source
  # For every session: countersign completion fish > ~/.config/fish/completions/countersign.fish`,
  flags,
  subcommands: SHELLS,
  async run({ flags: f, args }, io) {
    const shell = args[0]
    if (args.length !== 1 || !SHELLS.includes(shell as (typeof SHELLS)[number])) {
      throw new CountersignError('ERR_INVALID_INPUT', 'usage: countersign completion bash|zsh|fish')
    }
    const verbs = await completionModel()
    const descriptions = f['no-descriptions'] !== true
    if (shell === 'bash') io.stdout.write(bashCompletion(verbs))
    else if (shell === 'zsh') io.stdout.write(zshCompletion(verbs, { descriptions }))
    else io.stdout.write(fishCompletion(verbs, { descriptions }))
    return 0
  },
}

/**
 * `admission-webhook` with the policy evaluator plugged in: ClusterImagePolicy files (a ConfigMap mount) become a
 * `createPolicyImageCheck`, rebuilt whenever the files change; a policy edit that does not parse keeps the previous
 * policies (the server only swaps in a check that was built).
 * @module
 */
import { CountersignError } from '../../errors.js'
import type { ClusterImagePolicy } from '../../policy/index.js'
import { createPolicyImageCheck, parsePolicies } from '../../policy/index.js'
import { loadTrustedRoot, registryStoreFromFlags } from '../context.js'
import { kmsVerificationKeys } from '../kms.js'
import { createAdmissionWebhookCommand } from './admission-webhook.js'
import type { Command } from './command.js'
import { loadNamedRoots, noMatchPolicyFlag } from './policy.js'

/** `admission-webhook`, deciding with ClusterImagePolicies. */
export const policyAdmissionWebhookCommand: Command = createAdmissionWebhookCommand({
  extraFlags: [
    {
      name: 'no-match-policy',
      type: 'string',
      default: 'deny',
      help: 'images matching no policy: deny, allow or warn',
    },
    {
      name: 'trusted-root',
      type: 'string',
      help: 'trusted root for authorities without trustRootRef (default: the embedded Sigstore public-good root)',
    },
    { name: 'trust-root', type: 'strings', noSplit: true, help: 'NAME=FILE: a trusted root for trustRootRef NAME' },
    {
      name: 'insecure-ignore-tlog',
      type: 'bool',
      help: 'skip transparency log checks for every authority (private infrastructure without Rekor)',
    },
  ],
  createCheck: async (files, io, flags) => {
    const policies: ClusterImagePolicy[] = []
    for (const file of files) {
      const parsed = parsePolicies(file.content, { source: file.path })
      for (const w of parsed.warnings) io.stderr.write(`WARNING: ${file.path}: ${w}\n`)
      for (const policy of parsed.policies) {
        if (policies.some((p) => p.name === policy.name)) {
          throw new CountersignError('ERR_INVALID_INPUT', `policy ${policy.name} is defined twice (${file.path})`)
        }
        policies.push(policy)
      }
    }
    // One registry client for every image the webhook sees; explicit registry credentials apply to all registries.
    const { store } = registryStoreFromFlags(flags, io)
    return createPolicyImageCheck(policies, {
      store,
      trustedRoot: await loadTrustedRoot(
        typeof flags['trusted-root'] === 'string' ? flags['trusted-root'] : undefined,
        io,
      ),
      trustedRoots: await loadNamedRoots((flags['trust-root'] as string[] | undefined) ?? [], io),
      noMatchPolicy: noMatchPolicyFlag(flags['no-match-policy']),
      ...(flags['insecure-ignore-tlog'] === true ? { insecureIgnoreTlog: true } : {}),
      resolveKMSKey: (uri) => kmsVerificationKeys(uri, io),
    })
  },
})

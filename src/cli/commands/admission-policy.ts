/**
 * `admission-webhook` with the policy evaluator plugged in: ClusterImagePolicy files (a ConfigMap mount) become a
 * `createPolicyImageCheck`, rebuilt whenever the files change; a policy edit that does not parse keeps the previous
 * policies (the server only swaps in a check that was built).
 * @module
 */
import { createPolicyImageCheck } from '../../policy/index.js'
import { loadTrustedRoot, registryStoreFromFlags } from '../context.js'
import { kmsVerificationKeys } from '../kms.js'
import { createAdmissionWebhookCommand } from './admission-webhook.js'
import type { Command } from './command.js'
import { loadNamedRoots, noMatchPolicyFlag, policiesFromFiles } from './policy.js'

/** `admission-webhook`, deciding with ClusterImagePolicies; `shutdownSignal` stops it like SIGTERM (tests). */
export function createPolicyAdmissionWebhookCommand(shutdownSignal?: AbortSignal): Command {
  return createAdmissionWebhookCommand({
    ...(shutdownSignal ? { shutdownSignal } : {}),
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
      const policies = policiesFromFiles(files, io)
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
}

/** `admission-webhook` as registered in the CLI. */
export const policyAdmissionWebhookCommand: Command = createPolicyAdmissionWebhookCommand()

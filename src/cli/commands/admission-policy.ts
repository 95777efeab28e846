/**
 * `admission-webhook` with the policy evaluator plugged in: ClusterImagePolicy and Kyverno policy files (a ConfigMap mount) become a
 * `createPolicyImageCheck`, rebuilt whenever the files change; a policy edit that does not parse keeps the previous
 * policies (the server only swaps in a check that was built).
 * @module
 */
import { createPolicyImageCheck, type NoMatchPolicy } from '../../policy/index.js'
import { stringFlag } from '../args.js'
import { loadNamedRoots, loadPolicyTrustedRoot, noMatchPolicyFlag, POLICY_FLAGS } from '../flags/policy.js'
import { registryStoreFromFlags } from '../flags/registry.js'
import { kmsVerificationKeys } from '../kms.js'
import { cliTrust } from '../trust-source.js'
import { createAdmissionWebhookCommand } from './admission-webhook.js'
import type { Command } from './command.js'
import { policiesFromFiles } from './policy.js'

/** `admission-webhook`, deciding with ClusterImagePolicies and Kyverno policies; `shutdownSignal` stops it like SIGTERM (tests). */
export function createPolicyAdmissionWebhookCommand(shutdownSignal?: AbortSignal): Command {
  return createAdmissionWebhookCommand({
    ...(shutdownSignal ? { shutdownSignal } : {}),
    extraFlags: POLICY_FLAGS,
    // Without --trusted-root the default root comes from TUF: when the repository publishes new targets (checked on
    // every poll, downloaded only after the cached timestamp expires), the check is rebuilt; until a refresh
    // succeeds, the last verified material keeps deciding.
    trustVersion: (io, flags) =>
      stringFlag(flags, 'trusted-root') === undefined ? async () => (await cliTrust(io)).version : undefined,
    createCheck: async (files, io, flags) => {
      const policies = await policiesFromFiles(files, io)
      // One registry client for every image the webhook sees. Pods name any registry they like, so explicit
      // credentials go only to the --registry-host registries (refused without them); the rest come per registry
      // from a Docker config or auth.json.
      const { store } = registryStoreFromFlags(flags, io, undefined)
      return createPolicyImageCheck(policies, {
        store,
        trustedRoot: await loadPolicyTrustedRoot(stringFlag(flags, 'trusted-root'), io),
        trustedRoots: await loadNamedRoots((flags['trust-root'] as string[] | undefined) ?? [], io),
        ...noMatchOption(noMatchPolicyFlag(flags['no-match-policy'])),
        ...(flags['insecure-ignore-tlog'] === true ? { insecureIgnoreTlog: true } : {}),
        resolveKMSKey: (uri) => kmsVerificationKeys(uri, io),
      })
    },
  })
}

function noMatchOption(v: NoMatchPolicy | undefined): { noMatchPolicy?: NoMatchPolicy } {
  return v !== undefined ? { noMatchPolicy: v } : {}
}

/** `admission-webhook` as registered in the CLI. */
export const policyAdmissionWebhookCommand: Command = createPolicyAdmissionWebhookCommand()

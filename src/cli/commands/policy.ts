/**
 * `policy verify`: check images against ClusterImagePolicy and Kyverno policy files, like policy-controller's policy-tester. Prints one
 * decision per image (every reason), `-o json` the full decisions; exits 1 when any image is denied.
 * @module
 */
import type { AdmissionResource } from '../../admission/types.js'
import { CountersignError } from '../../errors.js'
import { clipText, MAX_QUOTED_LENGTH } from '../../internal/bounded-text.js'
import { referenceToString } from '../../oci/reference.js'
import {
  type ClusterImagePolicy,
  formatPolicyReason,
  type KyvernoPolicy,
  type PolicyDecision,
  parsePoliciesAsync,
  verifyImageAgainstPolicies,
} from '../../policy/index.js'
import { type FlagSpec, stringFlag, withHelp } from '../args.js'
import type { CliIO } from '../context.js'
import {
  loadNamedRoots,
  loadPolicyTrustedRoot,
  NO_MATCH_POLICY_FLAG,
  noMatchPolicyFlag,
  POLICY_INSECURE_IGNORE_TLOG_FLAG,
  POLICY_TRUSTED_ROOT_FLAG,
  readPolicyFlagFiles,
  TRUST_ROOT_FLAG,
} from '../flags/policy.js'
import { LOCAL_IMAGE_FLAG, REGISTRY_FLAGS } from '../flags/registry.js'
import { openImage } from '../images.js'
import { kmsVerificationKeys } from '../kms.js'
import { workloadsOfManifests } from '../policy-resources.js'
import type { Command } from './command.js'

const flags: readonly FlagSpec[] = [
  {
    name: 'policy',
    type: 'strings',
    noSplit: true,
    help: 'ClusterImagePolicy or Kyverno ClusterPolicy/Policy file (YAML or JSON); repeat for more',
  },
  {
    name: 'output',
    short: 'o',
    type: 'string',
    default: 'text',
    help: 'output format: text or json',
    values: ['text', 'json'],
  },
  {
    name: 'resource',
    type: 'strings',
    noSplit: true,
    help: "Kubernetes manifest (YAML or JSON: Pods, Deployments, Jobs, …): each workload's images are checked with the workload as the resource, so Kyverno match/exclude apply; repeat for more",
  },
  POLICY_TRUSTED_ROOT_FLAG,
  withHelp(TRUST_ROOT_FLAG, 'NAME=FILE: a trusted root for trustRootRef NAME; repeat for more'),
  POLICY_INSECURE_IGNORE_TLOG_FLAG,
  NO_MATCH_POLICY_FLAG,
  LOCAL_IMAGE_FLAG,
  ...REGISTRY_FLAGS,
]

/** `policy` (one sub-verb: `verify`). */
export const policyCommand: Command = {
  name: 'policy',
  usage:
    'countersign policy verify --policy FILE [--policy FILE]... [--resource FILE]... [-o text|json] [--trusted-root FILE] [--trust-root NAME=FILE]... [IMAGE...]',
  subcommands: ['verify'],
  description:
    'Check images against sigstore policy-controller ClusterImagePolicy documents (v1alpha1/v1beta1) and Kyverno ClusterPolicy/Policy verifyImages rules (kyverno.io/v1, v2beta1), each kind with its own semantics. Exits 1 when an image is denied.',
  flags,
  async run({ flags: f, args }, io) {
    const [sub, ...images] = args
    if (sub !== 'verify') {
      throw new CountersignError('ERR_INVALID_INPUT', `unknown policy command ${JSON.stringify(sub ?? '')}: use verify`)
    }
    const resourcePaths = (f.resource as string[] | undefined) ?? []
    if (images.length === 0 && resourcePaths.length === 0) {
      throw new CountersignError('ERR_INVALID_INPUT', 'at least one image or --resource manifest is required')
    }
    const output = f.output
    if (output !== 'text' && output !== 'json') {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `unsupported output format ${JSON.stringify(output)}: text or json`,
      )
    }
    const noMatch = noMatchPolicyFlag(f['no-match-policy'])
    const policies = await loadPolicies(f.policy as string[], io)
    const trustedRoots = await loadNamedRoots(f['trust-root'] as string[], io)
    const trustedRoot = await loadPolicyTrustedRoot(stringFlag(f, 'trusted-root'), io)
    const decisions: (PolicyDecision & { resource?: { kind: string; namespace?: string; name: string } })[] = []
    const decide = async (image: string, resource?: AdmissionResource) => {
      const target = openImage(image, f, io)
      // A layout has no registry name of its own; its stable local name is what globs see.
      const name = target.layout ? referenceToString(target.ref) : image
      return verifyImageAgainstPolicies(target.layout ? target.ref : name, policies, {
        store: target.store,
        trustedRoot,
        trustedRoots,
        ...(noMatch !== undefined ? { noMatchPolicy: noMatch } : {}),
        ...(f['insecure-ignore-tlog'] === true ? { insecureIgnoreTlog: true } : {}),
        ...(resource ? { resource } : {}),
        resolveKMSKey: (uri) => kmsVerificationKeys(uri, io),
      })
    }
    for (const image of images) {
      const decision = await decide(image)
      decisions.push(decision)
      if (output === 'text') io.stdout.write(describe(decision))
    }
    if (resourcePaths.length > 0) {
      const files = await readPolicyFlagFiles(resourcePaths, io, { kind: 'manifest', what: 'resource manifest' })
      const { workloads, skipped } = await workloadsOfManifests(files)
      if (skipped.length > 0) io.stderr.write(`skipped (no images): ${skipped.join(', ')}\n`)
      for (const w of workloads) {
        if (output === 'text') io.stdout.write(`${w.label}:\n`)
        for (const image of w.images) {
          const decision = await decide(image, w.resource)
          const { kind, namespace, name } = w.resource
          decisions.push({ ...decision, resource: { kind, ...(namespace ? { namespace } : {}), name } })
          if (output === 'text') io.stdout.write(indent(describe(decision)))
        }
      }
    }
    if (output === 'json') io.stdout.write(`${JSON.stringify(decisions, null, 2)}\n`)
    return decisions.every((d) => d.allowed) ? 0 : 1
  },
}

async function loadPolicies(paths: readonly string[], io: CliIO): Promise<(ClusterImagePolicy | KyvernoPolicy)[]> {
  if (paths.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'at least one --policy file is required')
  return policiesFromFiles(await readPolicyFlagFiles(paths, io), io)
}

/**
 * The policies of several files (warnings to stderr), refusing a policy name defined twice, as policy-controller
 * refuses two ClusterImagePolicies of one name.
 */
export async function policiesFromFiles(
  files: readonly { readonly path: string; readonly content: Uint8Array | string }[],
  io: CliIO,
): Promise<(ClusterImagePolicy | KyvernoPolicy)[]> {
  const all: (ClusterImagePolicy | KyvernoPolicy)[] = []
  // A set, not a scan of `all`: one file may hold tens of thousands of policies.
  const names = new Set<string>()
  for (const file of files) {
    // The webhook reads policies while serving: the parse yields to the event loop.
    const parsed = await parsePoliciesAsync(file.content, { source: file.path })
    for (const w of parsed.warnings) io.stderr.write(`WARNING: ${file.path}: ${w}\n`)
    for (const policy of [...parsed.policies, ...parsed.kyverno]) {
      const key = 'rules' in policy ? `${policy.kind} ${policy.namespace ?? ''}/${policy.name}` : policy.name
      if (names.has(key)) {
        throw new CountersignError(
          'ERR_INVALID_INPUT',
          `policy ${clipText(policy.name, MAX_QUOTED_LENGTH)} is defined twice (${file.path})`,
        )
      }
      names.add(key)
      all.push(policy)
    }
  }
  return all
}

function indent(text: string): string {
  return text.replace(/^(?=.)/gm, '  ')
}

function describe(d: PolicyDecision): string {
  const at = d.digest ? ` (${d.digest})` : ''
  const lines = [`${d.image}${at}: ${d.allowed ? 'ALLOWED' : 'DENIED'}`]
  if (d.matched.length > 0) lines.push(`  policies: ${d.matched.join(', ')}`)
  for (const r of d.reasons) lines.push(`  denied: ${formatPolicyReason(r)}`)
  for (const w of d.warnings) lines.push(`  warning: ${formatPolicyReason(w)}`)
  return `${lines.join('\n')}\n`
}

#!/usr/bin/env node
// Check images against ClusterImagePolicy files the way sigstore policy-controller's admission webhook decides (and
// Kyverno ClusterPolicy verifyImages rules the way Kyverno decides), from a script: CI can refuse to deploy what the
// cluster would refuse to run. The CLI equivalent is
// `countersign policy verify --policy policy.yaml IMAGE...`.
//
//   node evaluate-policy.mjs --policy policy.yaml ghcr.io/acme/app:v1.2.0
//
// Prints one decision per image with every reason; `--json` prints the full decisions instead. Exit code 0 when
// every image is allowed, 1 when any is denied, 2 for bad usage or an invalid policy.
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { isCountersignError } from 'countersign/errors'
import { kmsPublicKey } from 'countersign/kms'
import {
  awsKMSProviderFromEnvironment,
  azureKMSProviderFromEnvironment,
  createDockerConfigCredentials,
  createNodeFetch,
  gcpKMSProviderFromEnvironment,
  hashiVaultKMSProviderFromEnvironment,
  nodeHasher,
} from 'countersign/node'
import { createRegistryClient } from 'countersign/oci'
import { formatPolicyReason, parsePoliciesAsync, verifyImageAgainstPolicies } from 'countersign/policy'
import { parseTrustedRoot } from 'countersign/trust'

const USAGE = `usage: node evaluate-policy.mjs --policy FILE [--policy FILE]... [--trusted-root FILE]
  [--no-match-policy deny|allow|warn] [--json] IMAGE...`

/**
 * @param {string} message
 * @returns {never}
 */
function usage(message) {
  console.error(`${message}\n${USAGE}`)
  process.exit(2)
}

const { values: opts, positionals: images } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        policy: { type: 'string', multiple: true, default: [] },
        'trusted-root': { type: 'string' },
        'no-match-policy': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    })
  } catch (e) {
    return usage(/** @type {Error} */ (e).message)
  }
})()
if (opts.policy.length === 0) usage('at least one --policy file is required')
if (images.length === 0) usage('at least one image is required')
// What to decide for an image no policy matches. Default: deny with a ClusterImagePolicy (policy-controller's
// default), allow with only Kyverno policies (Kyverno checks only the images its rules name).
const noMatchPolicy = /** @type {import('countersign/policy').NoMatchPolicy | undefined} */ (opts['no-match-policy'])
if (noMatchPolicy !== undefined && !['deny', 'allow', 'warn'].includes(noMatchPolicy)) {
  usage('--no-match-policy is deny, allow or warn')
}

/** Every policy of every file; parse warnings (fields countersign does not apply) go to stderr. */
async function loadPolicies() {
  const all = []
  for (const path of opts.policy) {
    // The async parse also loads the CEL engine (@bufbuild/cel) when a policy has a CEL condition.
    const { policies, kyverno, warnings } = await parsePoliciesAsync(await readFile(path, 'utf8'), { source: path })
    for (const w of warnings) console.error(`WARNING: ${path}: ${w}`)
    all.push(...policies, ...kyverno)
  }
  return all
}

let policies
try {
  policies = await loadPolicies()
} catch (e) {
  // An invalid policy lists every problem (field and reason) in its message.
  console.error(isCountersignError(e) ? `${e.code}: ${e.message}` : String(e))
  process.exit(2)
}

// Keys named as `key.kms: awskms:///alias/...` are read from the KMS, with credentials from the environment.
const kmsProviders = [
  awsKMSProviderFromEnvironment(),
  gcpKMSProviderFromEnvironment(),
  azureKMSProviderFromEnvironment(),
  hashiVaultKMSProviderFromEnvironment(),
]
const options = {
  store: createRegistryClient({
    fetch: createNodeFetch(),
    credentials: createDockerConfigCredentials(),
    hasher: nodeHasher,
  }),
  // For authorities without trustRootRef; default: the Sigstore public-good root shipped in the package.
  ...(opts['trusted-root'] ? { trustedRoot: parseTrustedRoot(await readFile(opts['trusted-root'])) } : {}),
  ...(noMatchPolicy !== undefined ? { noMatchPolicy } : {}),
  /** @param {string} uri */
  resolveKMSKey: (uri) => kmsPublicKey(uri, kmsProviders),
}

const decisions = []
for (const image of images) {
  try {
    decisions.push(await verifyImageAgainstPolicies(image, policies, options))
  } catch (e) {
    // Not a decision: the registry could not be asked (network, 5xx, 401). An admission webhook fails closed here.
    console.error(`${image}: cannot decide: ${isCountersignError(e) ? `${e.code}: ${e.message}` : e}`)
    process.exitCode = 1
  }
}
if (opts.json) {
  console.log(JSON.stringify(decisions, null, 2))
} else {
  for (const d of decisions) {
    console.log(`${d.image}${d.digest ? ` (${d.digest})` : ''}: ${d.allowed ? 'ALLOWED' : 'DENIED'}`)
    for (const r of d.reasons) console.log(`  denied: ${formatPolicyReason(r)}`)
    for (const w of d.warnings) console.log(`  warning: ${formatPolicyReason(w)}`)
  }
}
if (decisions.some((d) => !d.allowed)) process.exitCode = 1

/**
 * The CLI's verbs, loaded on demand. Each entry names a verb and says how to import it: a run of `countersign
 * verify` loads the verify verb's modules only, never the policy engine, the admission server, the KMS providers
 * or the TUF client another verb needs. Keep this file free of static imports of commands.
 * @module
 */
import type { Command } from './commands/command.js'

/** One verb: what the top-level help shows, and how to load its implementation. */
export interface VerbEntry {
  readonly name: string
  /** One line for the top-level help; the verb's own `--help` has the full description. */
  readonly summary: string
  readonly load: () => Promise<Command>
}

/** Every verb, in help order. */
export const VERBS: readonly VerbEntry[] = [
  {
    name: 'generate-key-pair',
    summary: 'Generate a key pair: <prefix>.key (encrypted) and <prefix>.pub',
    load: async () => (await import('./commands/keys.js')).generateKeyPairCommand,
  },
  {
    name: 'import-key-pair',
    summary: "Import a PEM private key into cosign's encrypted format",
    load: async () => (await import('./commands/keys.js')).importKeyPairCommand,
  },
  {
    name: 'public-key',
    summary: 'Print the public key of a private key',
    load: async () => (await import('./commands/keys.js')).publicKeyCommand,
  },
  {
    name: 'sign',
    summary: 'Sign container images (registry or oci:DIR)',
    load: async () => (await import('./commands/sign.js')).signCommand,
  },
  {
    name: 'verify',
    summary: 'Verify signatures on container images',
    load: async () => (await import('./commands/verify.js')).verifyCommand,
  },
  {
    name: 'attest',
    summary: 'Attest container images with an in-toto predicate',
    load: async () => (await import('./commands/attest.js')).attestCommand,
  },
  {
    name: 'verify-attestation',
    summary: 'Verify attestations on container images',
    load: async () => (await import('./commands/verify-attestation.js')).verifyAttestationCommand,
  },
  {
    name: 'sign-blob',
    summary: 'Sign a blob, writing a Sigstore bundle or printing the signature',
    load: async () => (await import('./commands/sign-blob.js')).signBlobCommand,
  },
  {
    name: 'attest-blob',
    summary: 'Attest a blob with an in-toto predicate, writing a Sigstore bundle',
    load: async () => (await import('./commands/attest-blob.js')).attestBlobCommand,
  },
  {
    name: 'verify-blob-attestation',
    summary: 'Verify an attestation bundle of a blob',
    load: async () => (await import('./commands/verify-blob-attestation.js')).verifyBlobAttestationCommand,
  },
  {
    name: 'policy',
    summary: 'Check images against ClusterImagePolicy documents',
    load: async () => (await import('./commands/policy.js')).policyCommand,
  },
  {
    name: 'rekor',
    summary: 'Read a Rekor v1 transparency log: entries, search, log head',
    load: async () => (await import('./commands/rekor.js')).rekorCommand,
  },
  {
    name: 'admission-webhook',
    summary: 'Run the Kubernetes admission webhook',
    load: async () => (await import('./commands/admission-policy.js')).policyAdmissionWebhookCommand,
  },
  {
    name: 'verify-blob',
    summary: 'Verify a signature on a blob',
    load: async () => (await import('./commands/verify-blob.js')).verifyBlobCommand,
  },
  {
    name: 'verify-bundle',
    summary: 'Verify a Sigstore bundle offline (sigstore-conformance protocol)',
    load: async () => (await import('./commands/verify-bundle.js')).verifyBundleCommand,
  },
  {
    name: 'attach',
    summary: 'Attach SBOMs, signatures and attestations to images',
    load: async () => (await import('./commands/attach.js')).attachCommand,
  },
  {
    name: 'download',
    summary: 'Download SBOMs, signatures and attestations of images',
    load: async () => (await import('./commands/download.js')).downloadCommand,
  },
  {
    name: 'tree',
    summary: 'Show the signatures, SBOMs and attestations of an image',
    load: async () => (await import('./commands/tree.js')).treeCommand,
  },
  {
    name: 'clean',
    summary: 'Remove signatures, attestations and SBOMs from an image',
    load: async () => (await import('./commands/clean.js')).cleanCommand,
  },
  {
    name: 'save',
    summary: 'Save an image and its signatures to an OCI layout on disk',
    load: async () => (await import('./commands/save.js')).saveCommand,
  },
  {
    name: 'load',
    summary: 'Load a signed image from disk to a registry',
    load: async () => (await import('./commands/load.js')).loadCommand,
  },
  {
    name: 'triangulate',
    summary: 'Print the reference where signatures of an image are stored',
    load: async () => (await import('./commands/triangulate.js')).triangulateCommand,
  },
  {
    name: 'initialize',
    summary: 'Initialize the TUF repository trust material comes from',
    load: async () => (await import('./commands/initialize.js')).initializeCommand,
  },
  {
    name: 'trusted-root',
    summary: 'Create a trusted root (trusted_root.json) for your own services',
    load: async () => (await import('./commands/trusted-root.js')).trustedRootCommand,
  },
  {
    name: 'completion',
    summary: 'Generate the shell completion script (bash, zsh or fish)',
    load: async () => (await import('./commands/completion.js')).completionCommand,
  },
]

/** The entry for a verb name, if there is one. */
export function findVerb(name: string): VerbEntry | undefined {
  return VERBS.find((v) => v.name === name)
}

/**
 * ClusterImagePolicy documents (policy-controller's v1beta1 YAML) for the admission tests and benchmarks: one image
 * glob and one authority, static or a public key.
 * @module
 */

/** `text` without its outer blank space, each line indented by `spaces` (a YAML block scalar's body). */
function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces)
  return text
    .trim()
    .split('\n')
    .map((l) => pad + l)
    .join('\n')
}

function policyYAML(name: string, glob: string, authority: readonly string[]): string {
  const head = ['apiVersion: policy.sigstore.dev/v1beta1', 'kind: ClusterImagePolicy', 'metadata:', `  name: ${name}`]
  return [...head, 'spec:', '  images:', `    - glob: "${glob}"`, '  authorities:', ...authority, ''].join('\n')
}

/**
 * A policy `name` whose one authority is `static: {action}`: every image `glob` matches passes, or fails.
 *
 * @example
 * writeFileSync(join(dir, 'policies', 'trusted.yaml'), staticPolicyYAML('trusted', 'registry.example.com/**', 'pass'))
 */
export function staticPolicyYAML(name: string, glob: string, action: 'pass' | 'fail'): string {
  return policyYAML(name, glob, ['    - static:', `        action: ${action}`])
}

/** Where a {@link keyPolicyYAML} applies and whom it trusts. */
export interface KeyPolicyOptions {
  readonly name: string
  readonly glob: string
  /** The public key, PEM. */
  readonly publicKeyPEM: string
  /** The authority's name (none when absent). */
  readonly authorityName?: string
}

/**
 * A policy whose one authority is a public key (`key.data`): an image `glob` matches must carry its signature.
 *
 * @example
 * const yaml = keyPolicyYAML({ name: 'shop', glob: `${reg.host}/shop/**`, publicKeyPEM: publicKeyToPEM(key.publicKey) })
 */
export function keyPolicyYAML(options: KeyPolicyOptions): string {
  const data = ['        data: |', indent(options.publicKeyPEM, 10)]
  const authority =
    options.authorityName === undefined
      ? ['    - key:', ...data]
      : [`    - name: ${options.authorityName}`, '      key:', ...data]
  return policyYAML(options.name, options.glob, authority)
}

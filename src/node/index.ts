/**
 * Node.js adapters: key files, password prompts, Docker credentials and OCI layouts on disk.
 * Only the `node` export condition resolves this subpath, so browser bundlers fail loudly instead of polyfilling.
 *
 * Exported from `countersign/node`.
 * @module
 */
export {
  createDockerConfigCredentials,
  createStaticCredentials,
  type DockerConfigCredentialsOptions,
  normalizeRegistryHost,
} from './docker-config.js'
export { createNodeFetch, type NodeFetchOptions } from './fetch.js'
export { nodeHasher } from './hasher.js'
export {
  loadPrivateKeyFile,
  loadPublicKeyFile,
  type WriteKeyPairOptions,
  type WriteKeyPairResult,
  writeKeyPair,
} from './key-files.js'
export { createNodeLayoutFileSystem, type OpenLayoutOptions, openLayout } from './layout-fs.js'
export { type ReadPasswordOptions, readPassword } from './password.js'
export { createPodmanAuthCredentials, type PodmanAuthCredentialsOptions } from './podman-auth.js'
export { nodeScrypt } from './scrypt.js'

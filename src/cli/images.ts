/**
 * Images named on the command line: OCI layouts on disk (`oci:DIR`) and registry references, opened as stores.
 * @module
 */
import { basename, resolve } from 'node:path'
import { openLayout } from '../node/layout-fs.js'
import { parseReference, parseRepository } from '../oci/reference.js'
import type { OCIStore, Reference, Repository } from '../oci/types.js'
import type { ParsedFlags } from './args.js'
import type { CliIO } from './context.js'
import { registryStoreFromFlags } from './flags/registry.js'

/** An image to work on: the store holding it, and its reference there. */
export interface ImageTarget {
  readonly store: OCIStore
  readonly ref: Reference
  /** Whether the image is an OCI layout on disk (named `localhost/<dir>` in payload identities). */
  readonly layout: boolean
  /** Count of HTTP requests made (registry stores only). */
  readonly requests: () => number
}

/**
 * Open `image`: `oci:DIR[:tag|@digest]` (or any path with --local-image) is an OCI layout on disk;
 * anything else is a registry reference.
 */
export function openImage(image: string, flags: ParsedFlags, io: CliIO, options?: { create?: boolean }): ImageTarget {
  const local = flags['local-image'] === true
  if (local || image.startsWith('oci:')) {
    const spec = local ? image : image.slice(4)
    const { dir, tag, digest } = splitLayoutSpec(spec)
    const path = resolve(io.cwd, dir)
    // A layout is one repository; it gets a stable local name for payload identities.
    const name =
      basename(path)
        .toLowerCase()
        .replace(/[^a-z0-9._-]+/g, '-')
        .replace(/^[^a-z0-9]+/, '') || 'image'
    const ref: Reference = {
      registry: 'localhost',
      repository: name,
      ...(digest ? { digest } : { tag: tag ?? 'latest' }),
    }
    return { store: openLayout(path, { create: options?.create === true }), ref, layout: true, requests: () => 0 }
  }
  const ref = parseReference(image)
  // Explicit registry credentials go to this image's registry only (or to the --registry-host ones).
  const { store, requests } = registryStoreFromFlags(flags, io, ref.registry)
  return { store, ref, layout: false, requests }
}

function splitLayoutSpec(spec: string): { dir: string; tag?: string; digest?: string } {
  const at = spec.lastIndexOf('@')
  if (at > 0 && /^sha(256|512):[0-9a-f]+$/.test(spec.slice(at + 1)))
    return { dir: spec.slice(0, at), digest: spec.slice(at + 1) }
  const colon = spec.lastIndexOf(':')
  const slash = spec.lastIndexOf('/')
  if (colon > 0 && colon > slash && /^[\w][\w.-]{0,127}$/.test(spec.slice(colon + 1))) {
    return { dir: spec.slice(0, colon), tag: spec.slice(colon + 1) }
  }
  return { dir: spec }
}

/** COSIGN_REPOSITORY, when set: signatures live in that repository instead of the image's. */
export function signatureRepository(io: CliIO): Repository | undefined {
  const v = io.env.COSIGN_REPOSITORY
  return v ? parseRepository(v) : undefined
}

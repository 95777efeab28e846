/** Shared helpers for the referrers tests: build and push small referrer artifacts. */
import { computeDigest } from '../../src/oci/digest.js'
import { EMPTY_JSON_DIGEST, OCI_EMPTY_MEDIA_TYPE, OCI_IMAGE_MANIFEST_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { pushReferrer } from '../../src/oci/referrers.js'
import type { Descriptor, OCIStore, PushedManifest, Repository } from '../../src/oci/types.js'

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json'
export const SBOM_TYPE = 'application/vnd.example.sbom.v1+json'
const enc = new TextEncoder()

export interface Artifact {
  readonly bytes: Uint8Array
  readonly digest: string
  readonly mediaType: string
  readonly layer: Descriptor
}

export interface ArtifactOptions {
  /** Top-level artifactType; omitted → readers use the config media type. */
  readonly artifactType?: string
  /** Config media type (default: the OCI empty type). */
  readonly configMediaType?: string
  readonly annotations?: Record<string, string>
  readonly payload?: string
  readonly layerMediaType?: string
}

/** Upload the blobs of a one-layer artifact whose subject is `subject`, and return its manifest (not pushed). */
export async function buildArtifact(
  store: OCIStore,
  repo: Repository,
  subject: Descriptor,
  o: ArtifactOptions = {},
): Promise<Artifact> {
  const payload = enc.encode(o.payload ?? `artifact ${Math.random()}`)
  const layerMediaType = o.layerMediaType ?? o.artifactType ?? BUNDLE_MEDIA_TYPE
  const layer = await store.pushBlob(repo, payload, layerMediaType)
  const configMediaType = o.configMediaType ?? OCI_EMPTY_MEDIA_TYPE
  const config = await store.pushBlob(repo, enc.encode('{}'), configMediaType)
  if (config.digest !== EMPTY_JSON_DIGEST) throw new Error('unexpected empty config digest')
  const doc = {
    schemaVersion: 2,
    mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
    ...(o.artifactType !== undefined ? { artifactType: o.artifactType } : {}),
    config: { mediaType: configMediaType, digest: config.digest, size: 2 },
    layers: [{ mediaType: layerMediaType, digest: layer.digest, size: layer.size }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    ...(o.annotations !== undefined ? { annotations: o.annotations } : {}),
  }
  const bytes = enc.encode(JSON.stringify(doc))
  return { bytes, digest: await computeDigest(bytes), mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE, layer }
}

/** {@link buildArtifact} then {@link pushReferrer}. */
export async function attach(
  store: OCIStore,
  repo: Repository,
  subject: Descriptor,
  o: ArtifactOptions & { readonly entryAnnotations?: Record<string, string> } = {},
): Promise<Artifact & { readonly pushed: PushedManifest }> {
  const a = await buildArtifact(store, repo, subject, o)
  const pushed = await pushReferrer(store, repo, a.bytes, a.mediaType, {
    subject,
    ...(o.entryAnnotations !== undefined ? { annotations: o.entryAnnotations } : {}),
  })
  return { ...a, pushed }
}

export const text = (b: Uint8Array): string => new TextDecoder().decode(b)

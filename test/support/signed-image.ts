/**
 * A tiny image pushed and, when a signer is given, signed where it lies: the fixture the admission tests and benchmarks
 * decide on.
 * @module
 */
import type { Signer } from '../../src/contracts/signer.js'
import { signImage } from '../../src/image/sign.js'
import { parseReference } from '../../src/oci/reference.js'
import type { OCIStore } from '../../src/oci/types.js'
import { pushTinyImage } from './oci-image.js'

/**
 * Push a {@link pushTinyImage} holding `text` to `image` in `store` and sign it there with `signer` if one is given
 * (offline: no transparency log); returns the image's digest.
 *
 * @example
 * const digest = await pushSignedImage(store, `${reg.host}/shop/web:v1`, createKeySigner(key), 'web')
 */
export async function pushSignedImage(
  store: OCIStore,
  image: string,
  signer: Signer | undefined,
  text: string,
): Promise<string> {
  const ref = parseReference(image)
  const digest = await pushTinyImage(store, ref, text)
  if (signer) await signImage(ref, signer, { store, tlogUpload: false })
  return digest
}

// Large blobs on disk for the registry benches: a random file written in bounded chunks, and a stream written to a
// file chunk by chunk (so neither side ever holds the whole blob).
import { createHash, randomFillSync } from 'node:crypto'
import { open } from 'node:fs/promises'

const CHUNK = 16 * 1024 * 1024

/** Write `size` random bytes to `path`, 16 MiB at a time; returns the file's digest (`sha256:<hex>`). */
export async function writeRandomFile(path: string, size: number): Promise<string> {
  const file = await open(path, 'w')
  const hash = createHash('sha256')
  const buf = new Uint8Array(CHUNK)
  try {
    for (let done = 0; done < size; ) {
      const n = Math.min(buf.length, size - done)
      randomFillSync(buf, 0, n)
      hash.update(buf.subarray(0, n))
      await file.write(buf, 0, n)
      done += n
    }
  } finally {
    await file.close()
  }
  return `sha256:${hash.digest('hex')}`
}

/** Write a stream to a file chunk by chunk. */
export async function streamToFile(stream: ReadableStream<Uint8Array>, path: string): Promise<void> {
  const file = await open(path, 'w')
  const reader = stream.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      await file.write(value)
    }
  } finally {
    await file.close()
  }
}

/**
 * SHA-256, SHA-384 and SHA-512 (FIPS 180-4), synchronous and dependency-free. The verification path hashes many
 * small inputs (Merkle nodes, Rekor bodies, key IDs, SET payloads) where a Web Crypto call costs a thread-pool
 * round trip; this module replaces @noble/hashes there so that importing the verifier loads no hashing package
 * (about 4 ms of a cold start) and a Merkle node is hashed without allocating a hash object. Every function is
 * checked against node:crypto over all lengths up to several blocks (test/internal/sha2.test.ts). Internal.
 *
 * @module
 */

// Round constants and initial values are the FIPS 180-4 ones (fractional parts of cube and square roots of primes).
const K256 = /* @__PURE__ */ Int32Array.of(
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
)
const IV256 = /* @__PURE__ */ Int32Array.of(
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
)
// SHA-512 words are kept as (high, low) 32-bit halves.
const K512 = /* @__PURE__ */ Int32Array.of(
  0x428a2f98,
  0xd728ae22,
  0x71374491,
  0x23ef65cd,
  0xb5c0fbcf,
  0xec4d3b2f,
  0xe9b5dba5,
  0x8189dbbc,
  0x3956c25b,
  0xf348b538,
  0x59f111f1,
  0xb605d019,
  0x923f82a4,
  0xaf194f9b,
  0xab1c5ed5,
  0xda6d8118,
  0xd807aa98,
  0xa3030242,
  0x12835b01,
  0x45706fbe,
  0x243185be,
  0x4ee4b28c,
  0x550c7dc3,
  0xd5ffb4e2,
  0x72be5d74,
  0xf27b896f,
  0x80deb1fe,
  0x3b1696b1,
  0x9bdc06a7,
  0x25c71235,
  0xc19bf174,
  0xcf692694,
  0xe49b69c1,
  0x9ef14ad2,
  0xefbe4786,
  0x384f25e3,
  0x0fc19dc6,
  0x8b8cd5b5,
  0x240ca1cc,
  0x77ac9c65,
  0x2de92c6f,
  0x592b0275,
  0x4a7484aa,
  0x6ea6e483,
  0x5cb0a9dc,
  0xbd41fbd4,
  0x76f988da,
  0x831153b5,
  0x983e5152,
  0xee66dfab,
  0xa831c66d,
  0x2db43210,
  0xb00327c8,
  0x98fb213f,
  0xbf597fc7,
  0xbeef0ee4,
  0xc6e00bf3,
  0x3da88fc2,
  0xd5a79147,
  0x930aa725,
  0x06ca6351,
  0xe003826f,
  0x14292967,
  0x0a0e6e70,
  0x27b70a85,
  0x46d22ffc,
  0x2e1b2138,
  0x5c26c926,
  0x4d2c6dfc,
  0x5ac42aed,
  0x53380d13,
  0x9d95b3df,
  0x650a7354,
  0x8baf63de,
  0x766a0abb,
  0x3c77b2a8,
  0x81c2c92e,
  0x47edaee6,
  0x92722c85,
  0x1482353b,
  0xa2bfe8a1,
  0x4cf10364,
  0xa81a664b,
  0xbc423001,
  0xc24b8b70,
  0xd0f89791,
  0xc76c51a3,
  0x0654be30,
  0xd192e819,
  0xd6ef5218,
  0xd6990624,
  0x5565a910,
  0xf40e3585,
  0x5771202a,
  0x106aa070,
  0x32bbd1b8,
  0x19a4c116,
  0xb8d2d0c8,
  0x1e376c08,
  0x5141ab53,
  0x2748774c,
  0xdf8eeb99,
  0x34b0bcb5,
  0xe19b48a8,
  0x391c0cb3,
  0xc5c95a63,
  0x4ed8aa4a,
  0xe3418acb,
  0x5b9cca4f,
  0x7763e373,
  0x682e6ff3,
  0xd6b2b8a3,
  0x748f82ee,
  0x5defb2fc,
  0x78a5636f,
  0x43172f60,
  0x84c87814,
  0xa1f0ab72,
  0x8cc70208,
  0x1a6439ec,
  0x90befffa,
  0x23631e28,
  0xa4506ceb,
  0xde82bde9,
  0xbef9a3f7,
  0xb2c67915,
  0xc67178f2,
  0xe372532b,
  0xca273ece,
  0xea26619c,
  0xd186b8c7,
  0x21c0c207,
  0xeada7dd6,
  0xcde0eb1e,
  0xf57d4f7f,
  0xee6ed178,
  0x06f067aa,
  0x72176fba,
  0x0a637dc5,
  0xa2c898a6,
  0x113f9804,
  0xbef90dae,
  0x1b710b35,
  0x131c471b,
  0x28db77f5,
  0x23047d84,
  0x32caab7b,
  0x40c72493,
  0x3c9ebe0a,
  0x15c9bebc,
  0x431d67c4,
  0x9c100d4c,
  0x4cc5d4be,
  0xcb3e42b6,
  0x597f299c,
  0xfc657e2a,
  0x5fcb6fab,
  0x3ad6faec,
  0x6c44198c,
  0x4a475817,
)
const IV512 = /* @__PURE__ */ Int32Array.of(
  0x6a09e667,
  0xf3bcc908,
  0xbb67ae85,
  0x84caa73b,
  0x3c6ef372,
  0xfe94f82b,
  0xa54ff53a,
  0x5f1d36f1,
  0x510e527f,
  0xade682d1,
  0x9b05688c,
  0x2b3e6c1f,
  0x1f83d9ab,
  0xfb41bd6b,
  0x5be0cd19,
  0x137e2179,
)
const IV384 = /* @__PURE__ */ Int32Array.of(
  0xcbbb9d5d,
  0xc1059ed8,
  0x629a292a,
  0x367cd507,
  0x9159015a,
  0x3070dd17,
  0x152fecd8,
  0xf70e5939,
  0x67332667,
  0xffc00b31,
  0x8eb44a87,
  0x68581511,
  0xdb0c2e0d,
  0x64f98fa7,
  0x47b5481d,
  0xbefa4fa4,
)

// Scratch space shared by all calls: hashing is synchronous, so no two calls ever use it at once.
const W256 = /* @__PURE__ */ new Int32Array(64)
const W512 = /* @__PURE__ */ new Int32Array(160)
const TAIL = /* @__PURE__ */ new Uint8Array(128)

function be32(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!
}

/** One SHA-256 compression of the 64 bytes of `b` at `o` into `s`. */
function block256(s: Int32Array, b: Uint8Array, o: number): void {
  const w = W256
  for (let i = 0; i < 16; i++, o += 4) w[i] = be32(b, o)
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15]!
    const y = w[i - 2]!
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0
  }
  let a = s[0]!
  let b1 = s[1]!
  let c = s[2]!
  let d = s[3]!
  let e = s[4]!
  let f = s[5]!
  let g = s[6]!
  let h = s[7]!
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K256[i]! + w[i]!) | 0
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
    const t2 = (S0 + ((a & b1) ^ (a & c) ^ (b1 & c))) | 0
    h = g
    g = f
    f = e
    e = (d + t1) | 0
    d = c
    c = b1
    b1 = a
    a = (t1 + t2) | 0
  }
  s[0] = (s[0]! + a) | 0
  s[1] = (s[1]! + b1) | 0
  s[2] = (s[2]! + c) | 0
  s[3] = (s[3]! + d) | 0
  s[4] = (s[4]! + e) | 0
  s[5] = (s[5]! + f) | 0
  s[6] = (s[6]! + g) | 0
  s[7] = (s[7]! + h) | 0
}

const TWO32 = 0x100000000

/** One SHA-512 compression of the 128 bytes of `b` at `o` into `s` (16 halves: high, low, high, low, …). */
function block512(s: Int32Array, b: Uint8Array, o: number): void {
  const w = W512
  for (let i = 0; i < 32; i++, o += 4) w[i] = be32(b, o)
  for (let i = 32; i < 160; i += 2) {
    let xh = w[i - 30]!
    let xl = w[i - 29]!
    // σ0 = ROTR1 ^ ROTR8 ^ SHR7
    const s0h = ((xh >>> 1) | (xl << 31)) ^ ((xh >>> 8) | (xl << 24)) ^ (xh >>> 7)
    const s0l = ((xl >>> 1) | (xh << 31)) ^ ((xl >>> 8) | (xh << 24)) ^ ((xl >>> 7) | (xh << 25))
    xh = w[i - 4]!
    xl = w[i - 3]!
    // σ1 = ROTR19 ^ ROTR61 ^ SHR6
    const s1h = ((xh >>> 19) | (xl << 13)) ^ ((xl >>> 29) | (xh << 3)) ^ (xh >>> 6)
    const s1l = ((xl >>> 19) | (xh << 13)) ^ ((xh >>> 29) | (xl << 3)) ^ ((xl >>> 6) | (xh << 26))
    const lo = (s0l >>> 0) + (s1l >>> 0) + (w[i - 13]! >>> 0) + (w[i - 31]! >>> 0)
    w[i] = (s0h + s1h + w[i - 14]! + w[i - 32]! + ((lo / TWO32) | 0)) | 0
    w[i + 1] = lo | 0
  }
  let ah = s[0]!
  let al = s[1]!
  let bh = s[2]!
  let bl = s[3]!
  let ch = s[4]!
  let cl = s[5]!
  let dh = s[6]!
  let dl = s[7]!
  let eh = s[8]!
  let el = s[9]!
  let fh = s[10]!
  let fl = s[11]!
  let gh = s[12]!
  let gl = s[13]!
  let hh = s[14]!
  let hl = s[15]!
  for (let i = 0; i < 160; i += 2) {
    // Σ1(e) = ROTR14 ^ ROTR18 ^ ROTR41
    const S1h = ((eh >>> 14) | (el << 18)) ^ ((eh >>> 18) | (el << 14)) ^ ((el >>> 9) | (eh << 23))
    const S1l = ((el >>> 14) | (eh << 18)) ^ ((el >>> 18) | (eh << 14)) ^ ((eh >>> 9) | (el << 23))
    const chh = (eh & fh) ^ (~eh & gh)
    const chl = (el & fl) ^ (~el & gl)
    const t1lo = (hl >>> 0) + (S1l >>> 0) + (chl >>> 0) + (K512[i + 1]! >>> 0) + (w[i + 1]! >>> 0)
    const t1h = (hh + S1h + chh + K512[i]! + w[i]! + ((t1lo / TWO32) | 0)) | 0
    const t1l = t1lo | 0
    // Σ0(a) = ROTR28 ^ ROTR34 ^ ROTR39
    const S0h = ((ah >>> 28) | (al << 4)) ^ ((al >>> 2) | (ah << 30)) ^ ((al >>> 7) | (ah << 25))
    const S0l = ((al >>> 28) | (ah << 4)) ^ ((ah >>> 2) | (al << 30)) ^ ((ah >>> 7) | (al << 25))
    const majh = (ah & bh) ^ (ah & ch) ^ (bh & ch)
    const majl = (al & bl) ^ (al & cl) ^ (bl & cl)
    const t2lo = (S0l >>> 0) + (majl >>> 0)
    const t2h = (S0h + majh + ((t2lo / TWO32) | 0)) | 0
    const t2l = t2lo | 0
    hh = gh
    hl = gl
    gh = fh
    gl = fl
    fh = eh
    fl = el
    const elo = (dl >>> 0) + (t1l >>> 0)
    eh = (dh + t1h + ((elo / TWO32) | 0)) | 0
    el = elo | 0
    dh = ch
    dl = cl
    ch = bh
    cl = bl
    bh = ah
    bl = al
    const alo = (t1l >>> 0) + (t2l >>> 0)
    ah = (t1h + t2h + ((alo / TWO32) | 0)) | 0
    al = alo | 0
  }
  add64(s, 0, ah, al)
  add64(s, 2, bh, bl)
  add64(s, 4, ch, cl)
  add64(s, 6, dh, dl)
  add64(s, 8, eh, el)
  add64(s, 10, fh, fl)
  add64(s, 12, gh, gl)
  add64(s, 14, hh, hl)
}

function add64(s: Int32Array, i: number, h: number, l: number): void {
  const lo = (s[i + 1]! >>> 0) + (l >>> 0)
  s[i] = (s[i]! + h + ((lo / TWO32) | 0)) | 0
  s[i + 1] = lo | 0
}

/**
 * Run the Merkle–Damgård construction over `parts` as if concatenated (no copy of the input: whole blocks are
 * compressed in place, only a partial block goes through the tail buffer), then pad with the bit length.
 */
function run(
  state: Int32Array,
  size: 64 | 128,
  block: (s: Int32Array, b: Uint8Array, o: number) => void,
  parts: readonly Uint8Array[],
): void {
  const tail = TAIL
  let fill = 0
  let total = 0
  for (const p of parts) {
    const n = p.length
    total += n
    let i = 0
    if (fill > 0) {
      while (i < n && fill < size) tail[fill++] = p[i++]!
      if (fill < size) continue
      block(state, tail, 0)
      fill = 0
    }
    for (; i + size <= n; i += size) block(state, p, i)
    while (i < n) tail[fill++] = p[i++]!
  }
  tail[fill++] = 0x80
  // The length field is 8 (SHA-256) or 16 (SHA-512) bytes; lengths here are below 2^53, so only the last 8 matter.
  if (fill > size - (size === 64 ? 8 : 16)) {
    tail.fill(0, fill, size)
    block(state, tail, 0)
    fill = 0
  }
  tail.fill(0, fill, size - 8)
  const hi = Math.floor(total / 0x20000000)
  const lo = (total * 8) >>> 0
  tail[size - 8] = hi >>> 24
  tail[size - 7] = hi >>> 16
  tail[size - 6] = hi >>> 8
  tail[size - 5] = hi
  tail[size - 4] = lo >>> 24
  tail[size - 3] = lo >>> 16
  tail[size - 2] = lo >>> 8
  tail[size - 1] = lo
  block(state, tail, 0)
}

function output(state: Int32Array, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes)
  for (let i = 0, o = 0; o < bytes; i++, o += 4) {
    const v = state[i]!
    out[o] = v >>> 24
    out[o + 1] = v >>> 16
    out[o + 2] = v >>> 8
    out[o + 3] = v
  }
  return out
}

/** SHA-256 of the concatenation of `parts` (without concatenating them). */
export function sha256Parts(parts: readonly Uint8Array[]): Uint8Array {
  const state = IV256.slice()
  run(state, 64, block256, parts)
  return output(state, 32)
}

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  return sha256Parts([data])
}

/** SHA-384 of `data`. */
export function sha384(data: Uint8Array): Uint8Array {
  const state = IV384.slice()
  run(state, 128, block512, [data])
  return output(state, 48)
}

/** SHA-512 of `data`. */
export function sha512(data: Uint8Array): Uint8Array {
  const state = IV512.slice()
  run(state, 128, block512, [data])
  return output(state, 64)
}

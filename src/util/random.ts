/**
 * Randomness as a parameter. Protocol code never calls `crypto.randomBytes` or `Math.random`;
 * it is handed a {@link Random}. Production passes {@link systemRandom} (the OS CSPRNG);
 * tests and the network simulator pass a {@link SeededRandom} so every run is reproducible.
 */
import { randomFillSync } from 'node:crypto';

export interface Random {
  /** Fills `buf` with random bytes. */
  fill(buf: Uint8Array): void;
}

/**
 * Small requests (CIDs, nonces, tokens, key shares: dozens per handshake) are served from a pool
 * refilled 8 KiB at a time, as Node's own randomUUID does: one system call instead of one each
 * (randomFillSync was 6 % of a server handshake's CPU; issue 13). Bytes are handed out once and
 * wiped from the pool as they go.
 */
const POOL_SIZE = 8192;
const POOLED_MAX = 256;
const pool = new Uint8Array(POOL_SIZE);
let poolAt = POOL_SIZE;

/** The operating system's CSPRNG. */
export const systemRandom: Random = {
  fill(buf: Uint8Array): void {
    const n = buf.length;
    if (n > POOLED_MAX) {
      randomFillSync(buf);
      return;
    }
    if (poolAt + n > POOL_SIZE) {
      randomFillSync(pool);
      poolAt = 0;
    }
    buf.set(pool.subarray(poolAt, poolAt + n));
    pool.fill(0, poolAt, poolAt + n);
    poolAt += n;
  },
};

/** `n` fresh random bytes. */
export function randomBytes(rng: Random, n: number): Uint8Array {
  const out = new Uint8Array(n);
  rng.fill(out);
  return out;
}

const scratch = new Uint8Array(4);
const scratchView = new DataView(scratch.buffer);

/** A uniformly random integer in `[0, bound)` for `bound` up to 2^32 (rejection sampling). */
export function randomInt(rng: Random, bound: number): number {
  if (!(bound > 0 && bound <= 0x1_0000_0000)) throw new RangeError(`bad bound ${bound}`);
  const limit = 0x1_0000_0000 - (0x1_0000_0000 % bound);
  for (;;) {
    rng.fill(scratch);
    const v = scratchView.getUint32(0);
    if (v < limit) return v % bound;
  }
}

/** A uniformly random float in `[0, 1)`. */
export function randomFloat(rng: Random): number {
  return randomInt(rng, 0x1_0000_0000) / 0x1_0000_0000;
}

/**
 * A small deterministic generator (xoshiro128**, seeded through splitmix32). Not for keys: for
 * tests, simulations and reproducible grease choices only.
 */
export class SeededRandom implements Random {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next() | 1;
  }

  /** Next 32-bit output. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.#s1 << 9) >>> 0;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  fill(buf: Uint8Array): void {
    let i = 0;
    while (i < buf.length) {
      let v = this.nextU32();
      for (let k = 0; k < 4 && i < buf.length; k++, i++) {
        buf[i] = v & 0xff;
        v >>>= 8;
      }
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

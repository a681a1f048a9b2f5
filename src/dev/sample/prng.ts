/**
 * Seeded pseudo-random numbers for the synthetic sample. Mulberry32 is tiny,
 * fast in V8 (pure int32 arithmetic) and good enough for synthetic data; it is
 * not for anything security related.
 */

/** Murmur3's 32-bit finaliser: spreads nearby inputs (seed, seed+1, block n, n+1) far apart. */
export function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Seed for one independent stream (e.g. one block of rows) derived from the user's seed. */
export function streamSeed(seed: number, stream: number, block: number): number {
  return mix32(mix32(seed ^ Math.imul(stream + 1, 0x9e3779b9)) ^ Math.imul(block + 1, 0x27d4eb2f));
}

export class Mulberry32 {
  private state: number;

  constructor(seed: number) {
    this.state = seed | 0;
  }

  reseed(seed: number): void {
    this.state = seed | 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /**
   * Approximately standard normal (Irwin–Hall sum of four uniforms, rescaled):
   * bounded at ±3.46, which suits physical quantities that must stay positive,
   * and much cheaper than Box–Muller in the hot loop.
   */
  normal(): number {
    return (this.next() + this.next() + this.next() + this.next() - 2) * 1.7320508075688772;
  }
}

// A seeded random source, so `--random-seed` reproduces the same inputs and the same arrival schedule.
// mulberry32 is tiny and good enough for workload synthesis (not for anything security related).

export class SeededRandom {
  private state: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    // Mix the seed so that nearby seeds (0, 1, 2) do not start from nearby states.
    this.state = (Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, bound). */
  nextInt(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  /** Normal(mean, stddev) by Box-Muller; the second value of each pair is kept for the next call. */
  normal(mean: number, stddev: number): number {
    if (stddev === 0) return mean;
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + stddev * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return mean + stddev * radius * Math.cos(2 * Math.PI * v);
  }

  /** Exponential with the given rate (events per unit): the gap between Poisson arrivals. */
  exponential(rate: number): number {
    let u = 0;
    while (u === 0) u = this.next();
    return -Math.log(u) / rate;
  }
}

/** A positive integer drawn from Normal(mean, stddev), rounded and clamped to at least `minimum`. */
export function sampleCount(rng: SeededRandom, mean: number, stddev: number, minimum = 1): number {
  return Math.max(minimum, Math.round(rng.normal(mean, stddev)));
}

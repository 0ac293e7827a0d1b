/** An Rng's state: xoshiro128**'s four words and the normal() spare. */
export interface RngState {
  s: [number, number, number, number];
  spare: number | null;
}

/**
 * Seeded pseudo-random numbers (xoshiro128**, seeded through splitmix32). Every random thing in
 * zerodl takes an Rng explicitly, so a run is reproducible from its seed.
 */
export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  #spare: number | null = null;

  constructor(readonly seed: number = 0) {
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
    this.#s3 = next();
  }

  /** A 32-bit unsigned integer. */
  nextUint32(): number {
    const s0 = this.#s0,
      s1 = this.#s1,
      s2 = this.#s2,
      s3 = this.#s3;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.#s2 = s2 ^ s0;
    this.#s3 = s3 ^ s1;
    this.#s1 = s1 ^ this.#s2;
    this.#s0 = s0 ^ this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** Uniform in [low, high). */
  uniform(low = 0, high = 1): number {
    // 53 random bits → a double in [0, 1).
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return low + ((hi * 67108864 + lo) / 9007199254740992) * (high - low);
  }

  /** Normal with the given mean and standard deviation (Box–Muller, the spare kept). */
  normal(mean = 0, std = 1): number {
    if (this.#spare !== null) {
      const z = this.#spare;
      this.#spare = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** A random ordering of 0 … n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** k integers from [0, n): with replacement (as `np.random.choice(n, k)`) or without. */
  choice(n: number, k: number, replace = true): Int32Array {
    if (!replace) {
      if (k > n) throw new RangeError(`cannot choose ${k} of ${n} without replacement`);
      return this.permutation(n).slice(0, k);
    }
    const out = new Int32Array(k);
    for (let i = 0; i < k; i++) out[i] = this.int(n);
    return out;
  }

  /** Fills `out` with normal(0, std) values. */
  fillNormal(out: Float32Array | Float64Array, std = 1, mean = 0): void {
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
  }

  /** Fills `out` with uniform [low, high) values. */
  fillUniform(out: Float32Array | Float64Array, low = 0, high = 1): void {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform(low, high);
  }

  /** The generator's whole state (JSON-serializable): `Rng.fromState` continues the same sequence. */
  getState(): RngState {
    return { s: [this.#s0 >>> 0, this.#s1 >>> 0, this.#s2 >>> 0, this.#s3 >>> 0], spare: this.#spare };
  }

  /** Continues the sequence of the generator whose `getState()` this was. */
  setState(state: RngState): void {
    const { s, spare } = state;
    if (
      !Array.isArray(s) ||
      s.length !== 4 ||
      !s.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32)
    ) {
      throw new RangeError(`Rng state must hold four 32-bit unsigned words, got ${JSON.stringify(s)}`);
    }
    if (s.every((w) => w === 0)) throw new RangeError("Rng state must not be all zeros");
    [this.#s0, this.#s1, this.#s2, this.#s3] = s;
    this.#spare = spare ?? null;
  }

  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.setState(state);
    return rng;
  }

  /** An independent generator derived from this one (for parallel or nested use). */
  split(): Rng {
    return new Rng(this.nextUint32());
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

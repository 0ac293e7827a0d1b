/**
 * Mutations of a file's bytes for the fuzz tests: the generic ones of byte-level fuzzers (bit
 * flips, interesting values, cuts, deletions, insertions, copies, splices with another file), each
 * returning the new bytes and a short description for the report. Format-aware mutations (a PNG's
 * CRCs fixed, a safetensors header edited as text) live with their targets (./targets.ts).
 */
import { concatBytes } from "../../src/data/bytes.js";
import type { Rng } from "../../src/rng.js";

export interface Mutant {
  bytes: Uint8Array;
  what: string;
}

export type Mutator = (bytes: Uint8Array, rng: Rng, others: readonly Uint8Array[]) => Mutant;

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x20, 0x2c, 0x0a, 0x22, 0x7b, 0x7d];
const INTERESTING_U32 = [0, 1, 0x7f, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

export const genericMutators: readonly Mutator[] = [
  function flipBits(bytes, rng) {
    const out = Uint8Array.from(bytes);
    const k = 1 + rng.int(8);
    for (let i = 0; i < k && out.length > 0; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
    return { bytes: out, what: `${k} bit flips` };
  },
  function setBytes(bytes, rng) {
    const out = Uint8Array.from(bytes);
    const k = 1 + rng.int(4);
    for (let i = 0; i < k && out.length > 0; i++) {
      out[rng.int(out.length)] =
        rng.uniform() < 0.5 ? INTERESTING_BYTES[rng.int(INTERESTING_BYTES.length)] : rng.int(256);
    }
    return { bytes: out, what: `${k} bytes set` };
  },
  function setWord(bytes, rng) {
    const out = Uint8Array.from(bytes);
    if (out.length < 4) return { bytes: out, what: "no word to set" };
    const at = rng.int(out.length - 3);
    const value = INTERESTING_U32[rng.int(INTERESTING_U32.length)] + (rng.int(3) - 1);
    new DataView(out.buffer).setUint32(at, value >>> 0, rng.uniform() < 0.5);
    return { bytes: out, what: `32-bit word at ${at} set to ${value >>> 0}` };
  },
  function truncate(bytes, rng) {
    const at = rng.uniform() < 0.3 ? Math.max(0, bytes.length - 1 - rng.int(16)) : rng.int(bytes.length + 1);
    return { bytes: bytes.slice(0, at), what: `cut to ${at} of ${bytes.length} bytes` };
  },
  function deleteRange(bytes, rng) {
    const at = rng.int(bytes.length + 1);
    const n = 1 + rng.int(64);
    return {
      bytes: join(bytes.subarray(0, at), bytes.subarray(at + n)),
      what: `${n} bytes deleted at ${at}`,
    };
  },
  function insertBytes(bytes, rng) {
    const at = rng.int(bytes.length + 1);
    const inserted = Array.from({ length: 1 + rng.int(16) }, () => rng.int(256));
    return {
      bytes: join(bytes.subarray(0, at), Uint8Array.from(inserted), bytes.subarray(at)),
      what: `${inserted.length} bytes inserted at ${at}`,
    };
  },
  function copyRange(bytes, rng) {
    const from = rng.int(bytes.length + 1);
    const part = bytes.subarray(from, from + 1 + rng.int(128));
    const to = rng.int(bytes.length + 1);
    return {
      bytes: join(bytes.subarray(0, to), part, bytes.subarray(to)),
      what: `${part.length} bytes from ${from} copied to ${to}`,
    };
  },
  function splice(bytes, rng, others) {
    const other = others[rng.int(others.length)];
    const a = rng.int(bytes.length + 1);
    const b = rng.int(other.length + 1);
    return {
      bytes: join(bytes.subarray(0, a), other.subarray(b)),
      what: `first ${a} bytes + another seed from byte ${b}`,
    };
  },
];

/** The parts one after another, in a new array. */
export const join = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

/** One to three mutations in a row, drawn from `mutators`. */
export function mutate(
  seed: Uint8Array,
  rng: Rng,
  mutators: readonly Mutator[],
  others: readonly Uint8Array[],
): Mutant {
  let bytes = seed;
  const what: string[] = [];
  const k = 1 + rng.int(3);
  for (let i = 0; i < k; i++) {
    const m = mutators[rng.int(mutators.length)](bytes, rng, others);
    bytes = m.bytes;
    what.push(m.what);
  }
  return { bytes, what: what.join("; ") };
}

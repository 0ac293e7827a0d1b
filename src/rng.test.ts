import { describe, expect, it } from "vitest";
import { Rng } from "./rng.js";

describe("Rng state", () => {
  it("a generator restored from getState() continues the same sequence, normal() spare included", () => {
    const a = new Rng(42);
    for (let i = 0; i < 1000; i++) a.nextUint32(); // words with the high bit set occur on the way
    a.normal(); // leaves a spare
    const state = a.getState();
    expect(state.spare).not.toBeNull();
    const b = Rng.fromState(JSON.parse(JSON.stringify(state)));
    for (let i = 0; i < 100; i++) expect(b.normal()).toBe(a.normal());
    for (let i = 0; i < 100; i++) expect(b.nextUint32()).toBe(a.nextUint32());
    expect(Array.from(b.permutation(50))).toEqual(Array.from(a.permutation(50)));
  });

  it("rejects a state that is not four 32-bit words, or all zeros", () => {
    const rng = new Rng(1);
    expect(() => rng.setState({ s: [1, 2, 3] as never, spare: null })).toThrow(/four 32-bit unsigned words/);
    expect(() => rng.setState({ s: [1, 2, 3, -1], spare: null })).toThrow(/four 32-bit unsigned words/);
    expect(() => rng.setState({ s: [0, 0, 0, 0], spare: null })).toThrow(/all zeros/);
  });
});

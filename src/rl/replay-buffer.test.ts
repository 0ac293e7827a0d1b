import { describe, expect, it } from "vitest";
import { Rng } from "../rng.js";
import { ReplayBuffer } from "./replay-buffer.js";
import { checkSchedule, epsilonAt } from "./schedule.js";

/** Transition k: s = [k, −k], a = k mod 3, r = k/10, s′ = [k + 1, −k − 1], terminal every 5th. */
function fill(buffer: ReplayBuffer, from: number, to: number): void {
  for (let k = from; k < to; k++) {
    buffer.add(Float32Array.of(k, -k), k % 3, k / 10, Float32Array.of(k + 1, -k - 1), k % 5 === 4);
  }
}

describe("ReplayBuffer", () => {
  it("keeps the last `capacity` transitions, oldest first", () => {
    const buffer = new ReplayBuffer(4, [2]);
    fill(buffer, 0, 3);
    expect(buffer.size).toBe(3);
    fill(buffer, 3, 7); // 0, 1, 2 overwritten
    expect(buffer.size).toBe(4);
    const all = buffer.gather([0, 1, 2, 3]);
    expect(all.observations.shape).toEqual([4, 2]);
    expect([...all.observations.data]).toEqual([3, -3, 4, -4, 5, -5, 6, -6]);
    expect([...all.nextObservations.data]).toEqual([4, -4, 5, -5, 6, -6, 7, -7]);
    expect([...all.actions]).toEqual([0, 1, 2, 0]);
    expect([...all.rewards]).toEqual([0.3, 0.4, 0.5, 0.6]);
    expect([...all.terminals]).toEqual([0, 1, 0, 0]);
    expect(() => buffer.gather([4])).toThrow(/index 4 is not in \[0, 4\)/);
  });

  it("gives the last steps in order without replay", () => {
    const buffer = new ReplayBuffer(5, [2]);
    fill(buffer, 0, 8);
    expect([...buffer.recent(3).actions]).toEqual([5 % 3, 6 % 3, 7 % 3]);
    expect([...buffer.recent(3).observations.data]).toEqual([5, -5, 6, -6, 7, -7]);
    expect(buffer.recent(10).actions.length).toBe(5);
  });

  it("samples uniformly over what it holds, from the seeded generator", () => {
    const buffer = new ReplayBuffer(100, [2]);
    fill(buffer, 0, 150); // holds transitions 50 … 149
    const counts = new Map<number, number>();
    const rng = new Rng(3);
    let torn = 0; // transitions whose parts come from different slots
    for (let i = 0; i < 200; i++) {
      const batch = buffer.sample(50, rng);
      for (let j = 0; j < 50; j++) {
        const k = batch.observations.data[2 * j];
        const same =
          batch.nextObservations.data[2 * j] === k + 1 &&
          batch.actions[j] === k % 3 &&
          Math.abs(batch.rewards[j] - k / 10) < 1e-12;
        if (!same) torn++;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
    }
    expect(torn).toBe(0);
    // 10,000 draws over 100 transitions: each about 100 times; χ² with 99 degrees of freedom is
    // below 150 with probability > 0.999.
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => 50 + i));
    const chi2 = [...counts.values()].reduce((s, c) => s + (c - 100) ** 2 / 100, 0);
    expect(chi2).toBeLessThan(150);
    // The same seed draws the same batch.
    expect(buffer.sample(8, new Rng(9)).actions).toEqual(buffer.sample(8, new Rng(9)).actions);
  });

  it("refuses wrong sizes and an empty sample", () => {
    const buffer = new ReplayBuffer(3, [1, 2, 2]);
    expect(() => buffer.sample(1, new Rng(0))).toThrow(/empty/);
    expect(() => buffer.add(new Float32Array(3), 0, 0, new Float32Array(4), false)).toThrow(
      /observations of 4 values expected \(shape \[1, 2, 2\]\), got 3 and 4/,
    );
    expect(() => new ReplayBuffer(0, [1])).toThrow(/capacity/);
    buffer.add(new Float32Array(4), 0, 0, new Float32Array(4), false);
    expect(buffer.sample(2, new Rng(0)).observations.shape).toEqual([2, 1, 2, 2]);
  });
});

describe("ε schedule", () => {
  it("falls linearly from start to end, then stays", () => {
    const s = { start: 1, end: 0.1, steps: 1000 };
    expect(epsilonAt(s, 0)).toBe(1);
    expect(epsilonAt(s, 500)).toBeCloseTo(0.55, 12);
    expect(epsilonAt(s, 900)).toBeCloseTo(0.19, 12);
    expect(epsilonAt(s, 1000)).toBe(0.1);
    expect(epsilonAt(s, 10 ** 6)).toBe(0.1);
    expect(epsilonAt({ start: 0.5, end: 0.5, steps: 0 }, 0)).toBe(0.5);
    expect(() => checkSchedule({ start: 1.5, end: 0, steps: 1 })).toThrow(/start must be in \[0, 1\]/);
    expect(() => checkSchedule({ start: 1, end: 0, steps: 1.5 })).toThrow(/steps/);
  });
});

import { describe, expect, it } from "vitest";
import { convFanIn, he, initStd, initWeights, initializer, xavier, type WeightInit } from "./init.js";
import { Rng } from "./rng.js";

function meanAndStd(data: ArrayLike<number>): [number, number] {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i];
  const mean = sum / data.length;
  let sq = 0;
  for (let i = 0; i < data.length; i++) sq += (data[i] - mean) ** 2;
  return [mean, Math.sqrt(sq / data.length)];
}

describe("initializers", () => {
  it("give the book's standard deviations", () => {
    expect(initStd(0.01)(784)).toBe(0.01);
    expect(xavier(100)).toBeCloseTo(0.1, 12);
    expect(he(50)).toBeCloseTo(0.2, 12);
  });

  it("read the book's weight_init_std forms", () => {
    const forms: [WeightInit, number][] = [
      [0.05, 0.05],
      ["relu", Math.sqrt(2 / 8)],
      ["he", Math.sqrt(2 / 8)],
      ["sigmoid", Math.sqrt(1 / 8)],
      ["xavier", Math.sqrt(1 / 8)],
    ];
    for (const [init, std] of forms) expect(initializer(init)(8)).toBeCloseTo(std, 12);
  });

  it("reject an unknown form or a bad std, naming the valid ones", () => {
    expect(() => initializer("glorot" as WeightInit)).toThrow(
      /unknown weight init "glorot"; valid: a positive number, relu, he, sigmoid, xavier/,
    );
    expect(() => initStd(0)).toThrow(/positive finite number, got 0/);
  });

  it("draw N(0, std²) weights of the requested shape and dtype", () => {
    // A conv filter bank (FN, C, FH, FW) = (64, 3, 5, 5): fan-in 3·5·5 = 75.
    const w = initWeights([64, 3, 5, 5], "he", convFanIn(3, 5, 5), new Rng(1), "float64");
    expect(w.shape).toEqual([64, 3, 5, 5]);
    expect(w.dtype).toBe("float64");
    const [mean, std] = meanAndStd(w.data);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(std).toBeGreaterThan(Math.sqrt(2 / 75) * 0.95);
    expect(std).toBeLessThan(Math.sqrt(2 / 75) * 1.05);
  });

  it("are reproducible from the seed", () => {
    const a = initWeights([10, 10], 0.01, 10, new Rng(7));
    const b = initWeights([10, 10], 0.01, 10, new Rng(7));
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});

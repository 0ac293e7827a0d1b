// The chapter 1–5 experiments that need no MNIST: each asserts what the book's figure shows.
import { describe, expect, it } from "vitest";
import { renderSvg } from "../src/plot/render.js";
import { activationFunctions } from "./activation-functions.js";
import { ACTIVATIONS, activationHistograms, type LayerStats } from "./activation-histograms.js";
import type { RunOptions } from "./experiment.js";
import { smoothCurve } from "./experiment.js";
import { gradientDescentExperiment, type Trajectory } from "./gradient-descent.js";
import { gradientField, type Arrow } from "./gradient-field.js";
import { numericalDerivative } from "./numerical-derivative.js";
import { optimizerPaths, type Path } from "./optimizer-paths.js";
import { perceptronGates } from "./perceptron-gates.js";
import { experiments } from "./registry.js";

const quick: RunOptions = { quick: true, seed: 0, log: () => {} };

describe("registry", () => {
  it("has unique, file-safe names", () => {
    const names = experiments.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-z0-9-]+$/);
    expect(names).not.toContain("all");
  });
});

describe("chapter 1–4", () => {
  it("perceptron gates: the book's truth tables, XOR only from two layers", async () => {
    const out = await perceptronGates.run(quick);
    expect(out.data.truthTable).toEqual({
      AND: [0, 0, 0, 1],
      NAND: [1, 1, 1, 0],
      OR: [0, 1, 1, 1],
      XOR: [0, 1, 1, 0],
    });
    // Every figure renders (a spec vega-lite rejects is a bug).
    expect(await renderSvg(out.figures[0].spec)).toContain("<svg");
  });

  it("activation functions: step jumps at 0, sigmoid(0) = 0.5, ReLU is max(0, x)", async () => {
    const d = (await activationFunctions.run(quick)).data as Record<string, number[]>;
    expect(d.step[49]).toBe(0);
    expect(d.step[51]).toBe(1);
    expect(d.sigmoid[50]).toBeCloseTo(0.5, 12);
    expect(d.relu[100]).toBeCloseTo(5, 12);
    expect(d.relu[0]).toBe(0);
  });

  it("numerical derivative: slopes 0.2 and 0.3 to 1e-8", async () => {
    const { tangents } = (await numericalDerivative.run(quick)).data as {
      tangents: { slope: number; exact: number }[];
    };
    for (const t of tangents) expect(Math.abs(t.slope - t.exact)).toBeLessThan(1e-8);
  });

  it("gradient field: −∇f = −2x points to the origin everywhere", async () => {
    const { arrows } = (await gradientField.run(quick)).data as { arrows: Arrow[] };
    for (const a of arrows) {
      expect(a.d0).toBeCloseTo(-2 * a.x0, 6);
      expect(a.d1).toBeCloseTo(-2 * a.x1, 6);
    }
  });

  it("gradient descent: lr 0.1 converges, lr 10 diverges, lr 1e-10 stays put", async () => {
    const out = await gradientDescentExperiment.run(quick);
    const [good, big, tiny] = (out.data as { trajectories: Trajectory[] }).trajectories;
    expect(Math.hypot(...good.final)).toBeLessThan(1e-8);
    expect(Math.hypot(...big.final)).toBeGreaterThan(1e10);
    expect(Math.hypot(tiny.final[0] + 3, tiny.final[1] - 4)).toBeLessThan(1e-6);
    expect(await renderSvg(out.figures[0].spec)).toContain("<svg");
  });
});

describe("chapter 5 without MNIST", () => {
  it("optimizer paths: all approach the minimum; SGD zigzags in y, AdaGrad does not", async () => {
    const out = await optimizerPaths.run(quick);
    const { paths, ySignFlips } = out.data as { paths: Path[]; ySignFlips: Record<string, number> };
    const f = ([x, y]: [number, number]) => (x * x) / 20 + y * y;
    for (const p of paths) expect(f(p.points[30])).toBeLessThan(f([-7, 2]) / 10);
    expect(ySignFlips.SGD).toBeGreaterThanOrEqual(20); // bounces across the valley every step
    expect(ySignFlips.AdaGrad).toBe(0); // its y step shrinks at once
    // SGD advances slowest along x, where the slope is gentle.
    const sgdX = paths.find((p) => p.name === "SGD")!.points[30][0];
    expect(Math.abs(sgdX)).toBeGreaterThan(Math.abs(paths.find((p) => p.name === "Adam")!.points[30][0]));
    expect(await renderSvg(out.figures[0].spec)).toContain("<svg");
  });

  it("activation histograms: sigmoid std 1 saturates, std 0.01 collapses, Xavier spreads; ReLU He keeps its scale", async () => {
    const out = await activationHistograms.run(quick);
    const stats = (out.data as { stats: LayerStats[] }).stats;
    const at = (a: keyof typeof ACTIVATIONS, init: string, layer: number) =>
      stats.find((s) => s.activation === a && s.init === init && s.layer === layer)!;
    expect(at("sigmoid", "std=1", 5).saturated).toBeGreaterThan(0.4);
    expect(at("sigmoid", "std=0.01", 5).std).toBeLessThan(0.02); // all near 0.5
    expect(at("sigmoid", "Xavier", 5).std).toBeGreaterThan(0.1);
    expect(at("sigmoid", "Xavier", 5).saturated).toBeLessThan(0.05);
    // ReLU: std 0.01 and Xavier shrink with depth, He keeps the spread of layer 1.
    expect(at("relu", "std=0.01", 5).std).toBeLessThan(1e-4);
    expect(at("relu", "Xavier", 5).std).toBeLessThan(at("relu", "Xavier", 1).std / 2);
    const he = at("relu", "He", 5).std / at("relu", "He", 1).std;
    expect(he).toBeGreaterThan(0.5);
    expect(he).toBeLessThan(2);
    for (const f of out.figures) expect(await renderSvg(f.spec)).toContain("<svg");
  });

  it("smoothCurve: the book's Kaiser smoothing keeps the length and a constant", () => {
    const flat = new Array(50).fill(2);
    const s = smoothCurve(flat);
    expect(s).toHaveLength(50);
    for (const v of s) expect(v).toBeCloseTo(2, 12);
    // A step is smoothed: values just before and after move toward each other.
    const step = Array.from({ length: 40 }, (_, i) => (i < 20 ? 0 : 1));
    const t = smoothCurve(step);
    expect(t[19]).toBeGreaterThan(0.05);
    expect(t[20]).toBeLessThan(0.95);
    expect(t[0]).toBeCloseTo(0, 12);
  });

  it("smoothCurve matches the book's NumPy smooth_curve (np.kaiser(11, 2), reflected ends)", () => {
    const x = Array.from({ length: 30 }, (_, i) => Math.sin(i) + i * 0.1);
    const s = smoothCurve(x);
    // Computed with NumPy 2.4 from the book's common/util.py smooth_curve.
    expect(s[0]).toBeCloseTo(0.4361931934, 9);
    expect(s[10]).toBeCloseTo(1.0495742391, 9);
    expect(s[29]).toBeCloseTo(2.8674225929, 9);
  });
});

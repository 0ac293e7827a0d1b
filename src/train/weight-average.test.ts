import { describe, expect, it } from "vitest";
import { Affine } from "../layers/affine.js";
import { BatchNormalization } from "../layers/batch-normalization.js";
import type { Layer } from "../layers/layer.js";
import { numberedParams } from "../models/sequential.js";
import { NDArray } from "../ndarray.js";
import { WeightAverage } from "./weight-average.js";

/** Affine (2 → 2) then batch norm (2), its weights set to `w` and its running mean to `mean`. */
function net(w: number[], mean: number[]) {
  const affine = new Affine(NDArray.from(w, [2, 2], "float64"), NDArray.zeros([2], "float64"));
  const bn = new BatchNormalization(NDArray.full([2], 1, "float64"), NDArray.zeros([2], "float64"));
  bn.runningMean = NDArray.from(mean, [2], "float64");
  const layers: Layer[] = [affine, bn];
  return { layers, params: numberedParams(layers), affine, bn };
}

describe("WeightAverage", () => {
  it("starts as a copy, then follows avg ← d·avg + (1 − d)·w with d = min(decay, (1 + t)/(10 + t))", () => {
    const source = net([1, 2, 3, 4], [0.5, -0.5]);
    const average = net([0, 0, 0, 0], [0, 0]);
    const updater = new WeightAverage(source, average, { decay: 0.5 });
    expect([...average.affine.params[0].value.data]).toEqual([1, 2, 3, 4]);
    expect([...average.bn.runningMean.data]).toEqual([0.5, -0.5]);

    source.affine.params[0].value.data.set([3, 2, 1, 0]);
    source.bn.runningMean = NDArray.from([1.5, 0.5], [2], "float64"); // a new array, as a loaded file gives
    updater.update(); // t = 0: d = min(0.5, 1/10) = 0.1
    let expected = [0.1 * 1 + 0.9 * 3, 0.1 * 2 + 0.9 * 2, 0.1 * 3 + 0.9 * 1, 0.1 * 4 + 0.9 * 0];
    average.affine.params[0].value.data.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 14));
    expect(average.bn.runningMean.data[0]).toBeCloseTo(0.1 * 0.5 + 0.9 * 1.5, 14);

    for (let t = 1; t < 20; t++) updater.update();
    expect(updater.updates).toBe(20);
    // From t = 8 on, (1 + t)/(10 + t) ≥ 0.5: d is the decay, and a constant w is approached geometrically.
    source.affine.params[0].value.data.set([10, 10, 10, 10]);
    const before = average.affine.params[0].value.data[3];
    updater.update();
    expected = [0.5 * before + 0.5 * 10];
    expect(average.affine.params[0].value.data[3]).toBeCloseTo(expected[0], 14);
  });

  it("continues from a restored update count", () => {
    const a = net([1, 1, 1, 1], [0, 0]);
    const avg = net([0, 0, 0, 0], [0, 0]);
    const updater = new WeightAverage(a, avg, { decay: 0.999 });
    updater.restore(990);
    avg.affine.params[0].value.data.fill(0);
    updater.update(); // d = min(0.999, 991/1000) = 0.991
    expect(avg.affine.params[0].value.data[0]).toBeCloseTo(0.009, 14);
    expect(() => updater.restore(-1)).toThrow(/updates must be an integer ≥ 0, got -1/);
  });

  it("refuses networks that differ, and a decay outside [0, 1)", () => {
    const a = net([1, 2, 3, 4], [0, 0]);
    const small = { params: a.params.slice(0, 1) };
    expect(() => new WeightAverage(a, small)).toThrow(/the networks differ: 6 tensors to average into 1/);
    const wrong = {
      params: [a.params[1], a.params[0], ...a.params.slice(2)],
      layers: a.layers,
    };
    expect(() => new WeightAverage(a, wrong)).toThrow(
      /tensor 0 is \(2, 2\) in the network, \(2,\) in its average/,
    );
    expect(() => new WeightAverage(a, net([0, 0, 0, 0], [0, 0]), { decay: 1 })).toThrow(
      /decay must lie in \[0, 1\)/,
    );
  });
});

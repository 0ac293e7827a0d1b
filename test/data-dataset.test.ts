import { describe, expect, it } from "vitest";
import {
  batches,
  classCounts,
  fromOneHot,
  sliceSamples,
  splitValidation,
  subset,
  takeSamples,
  toOneHot,
  type Dataset,
} from "../src/data/dataset.js";
import { NDArray } from "../src/ndarray.js";
import { Rng } from "../src/rng.js";

/** Sample i has inputs [i, 10 + i] and label i mod 3. */
function numbered(n: number): Dataset {
  const x = NDArray.zeros([n, 2]);
  for (let i = 0; i < n; i++) x.data.set([i, 10 + i], 2 * i);
  return { x, labels: Int32Array.from({ length: n }, (_, i) => i % 3), classNames: ["a", "b", "c"] };
}

/** Which samples a dataset holds, read from its inputs. */
const ids = (ds: Dataset) => Array.from({ length: ds.labels.length }, (_, i) => ds.x.data[2 * i]);

describe("dataset helpers", () => {
  it("subset takes the first n, or n distinct random samples", () => {
    const ds = numbered(10);
    expect(ids(subset(ds, 3))).toEqual([0, 1, 2]);
    const random = subset(ds, 5, new Rng(1));
    const picked = ids(random);
    expect(new Set(picked).size).toBe(5);
    picked.forEach((id, i) => expect(random.labels[i]).toBe(id % 3)); // inputs and labels stay paired
    expect(random.classNames).toEqual(["a", "b", "c"]);
    expect(() => subset(ds, 11)).toThrow("subset of 11 samples: the dataset has 10");
  });

  it("splitValidation holds out a shuffled fraction, disjoint and complete", () => {
    const ds = numbered(20);
    const { train, validation } = splitValidation(ds, 0.25, new Rng(7));
    expect(validation.labels.length).toBe(5);
    expect(train.labels.length).toBe(15);
    expect([...ids(train), ...ids(validation)].sort((a, b) => a - b)).toEqual(ids(ds));
    expect(ids(validation)).not.toEqual([0, 1, 2, 3, 4]);
    expect(ids(splitValidation(ds, 0.25, new Rng(7)).validation)).toEqual(ids(validation));
    expect(() => splitValidation(ds, 1, new Rng(0))).toThrow("validation fraction 1: must be in (0, 1)");
  });

  it("toOneHot and fromOneHot are inverse", () => {
    const labels = Int32Array.from([2, 0, 1]);
    const t = toOneHot(labels, 3);
    expect(t.toArray()).toEqual([
      [0, 0, 1],
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(fromOneHot(t)).toEqual(labels);
    expect(() => toOneHot(Int32Array.from([3]), 3)).toThrow("label 3 at index 0 is out of range 0..2");
  });

  it("batches cover every sample once, in order or shuffled", () => {
    const ds = numbered(7);
    const inOrder = [...batches(ds, 3)];
    expect(inOrder.map((b) => b.labels.length)).toEqual([3, 3, 1]);
    expect(inOrder.flatMap(ids)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const shuffled = [...batches(ds, 3, new Rng(2))].flatMap(ids);
    expect([...shuffled].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(shuffled).not.toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("takeSamples, sliceSamples and classCounts check their inputs", () => {
    const ds = numbered(4);
    expect(ids(takeSamples(ds, [3, 0]))).toEqual([3, 0]);
    expect(ids(sliceSamples(ds, 1, 3))).toEqual([1, 2]);
    expect(() => takeSamples(ds, [4])).toThrow("sample index 4 out of range 0..3");
    expect(classCounts(ds.labels, 3)).toEqual([2, 1, 1]);
    expect(() => subset({ x: NDArray.zeros([3, 2]), labels: new Int32Array(2) }, 1)).toThrow(
      "dataset has 3 inputs (3, 2) but 2 labels",
    );
  });
});

import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { dot, randomUpstream } from "../testing/gradcheck.js";
import { checkGradients } from "../testing/layer-gradcheck.js";
import { Embedding } from "./embedding.js";

describe("Embedding", () => {
  it("looks up rows by id for ids of any shape", () => {
    const W = NDArray.from(
      [
        [0, 1],
        [10, 11],
        [20, 21],
      ],
      undefined,
      "float64",
    );
    const ids = NDArray.from([[2, 0, 2]], undefined, "float64"); // (1, 3)
    const out = new Embedding(W).forward(ids);
    expect(out.shape).toEqual([1, 3, 2]);
    expect(Array.from(out.data)).toEqual([20, 21, 0, 1, 20, 21]);
  });

  it("is gradient-checked on W with repeated ids (their rows add up) and random dout", () => {
    const rng = new Rng(1);
    const emb = new Embedding(randomUpstream([5, 3], rng));
    const ids = NDArray.from([1, 4, 1, 0, 1, 3], [2, 3], "float64");
    const dy = randomUpstream([2, 3, 3], rng);
    emb.forward(ids);
    const dx = emb.backward(dy);
    expect(dx.shape).toEqual([2, 3]);
    expect(Array.from(dx.data).every((v) => v === 0)).toBe(true);
    checkGradients(() => dot(emb.forward(ids), dy), [{ name: "W", value: emb.W.value, grad: emb.W.grad }]);
    // Row 2 is never looked up: no gradient.
    expect(Array.from(emb.W.grad!.data.subarray(6, 9))).toEqual([0, 0, 0]);
  });

  it("rejects ids that are not whole numbers in [0, V)", () => {
    const emb = new Embedding(NDArray.zeros([4, 2]));
    expect(() => emb.forward(NDArray.from([1, 4]))).toThrow(
      /id 4 at 1 of \(2,\) is not a whole number in \[0, 4\)/,
    );
    expect(() => emb.forward(NDArray.from([1.5]))).toThrow(/id 1.5 at 0/);
    expect(() => new Embedding(NDArray.zeros([4]))).toThrow(/W must be \(V, D\), got \(4,\)/);
  });
});

import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { frechetDistance, gaussianStats, symmetricEigen } from "./frechet.js";

const X = [
  [2.040919, -2.555665, 0.418099, -0.56777],
  [-0.452649, -0.215597, -2.019986, -0.231932],
  [-0.865213, 3.323, 0.225787, -0.352631],
  [-0.281287, -0.668046, -1.055151, -0.390801],
  [0.481945, -0.238554, 0.957759, -0.199802],
  [0.02426, 1.545821, 0.545106, -0.505229],
  [-0.182839, 0.540525, 1.935088, -0.26962],
];
const Y = [
  [0.256441, 2.004627, -0.44323, -1.29172],
  [1.382539, 1.1607, 0.045758, -0.329896],
  [-2.328162, 2.042614, -0.479822, -2.66862],
  [0.776446, 1.40109, -0.222384, -2.076406],
  [0.526125, -0.105495, 0.702799, -0.252592],
  [0.693816, 2.223266, -0.102762, -1.9259],
  [1.084058, 1.165077, -0.107414, -1.782809],
  [0.729154, -4.987789, 0.345062, -0.508632],
  [-1.138857, 0.122707, -0.48205, -0.242779],
];
const rows = (r: number[][]) => NDArray.from(r, undefined, "float64");

describe("Fréchet distance", () => {
  it("agrees with NumPy (np.cov, and the square roots through np.linalg.eigh)", () => {
    // NumPy 1.x: ((ma-mb)**2).sum() + tr(ca) + tr(cb) - 2·tr(sqrt(sqrt(ca)·cb·sqrt(ca))) = 3.4616453515605414
    expect(frechetDistance(gaussianStats(rows(X)), gaussianStats(rows(Y)))).toBeCloseTo(
      3.4616453515605414,
      10,
    );
  });

  it("is the closed form for diagonal covariances and zero for identical statistics", () => {
    const rng = new Rng(2);
    const a = NDArray.zeros([400, 3], "float64");
    rng.fillNormal(a.data);
    const sa = gaussianStats(a);
    expect(frechetDistance(sa, sa)).toBeLessThan(1e-9);
    const diag = (mean: number[], variances: number[]) => {
      const d = mean.length;
      const cov = new Float64Array(d * d);
      variances.forEach((v, i) => (cov[i * d + i] = v));
      return { mean: Float64Array.from(mean), cov, dim: d, count: 100 };
    };
    // |μa − μb|² + Σ (σa − σb)² = 1 + 4 + (2 − 1)² + (3 − 1)² = 10
    expect(frechetDistance(diag([1, 0], [4, 9]), diag([0, 2], [1, 1]))).toBeCloseTo(10, 12);
  });

  it("decomposes a symmetric matrix: S·v = λ·v for every eigenpair", () => {
    const rng = new Rng(4);
    const d = 6;
    const s = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) s[i * d + j] = s[j * d + i] = rng.normal();
    const { values, vectors } = symmetricEigen(s, d);
    for (let k = 0; k < d; k++) {
      for (let i = 0; i < d; i++) {
        let sv = 0;
        for (let j = 0; j < d; j++) sv += s[i * d + j] * vectors[j * d + k];
        expect(sv).toBeCloseTo(values[k] * vectors[i * d + k], 12);
      }
    }
  });

  it("names features that cannot be fitted", () => {
    expect(() => gaussianStats(NDArray.zeros([1, 3], "float64"))).toThrow(
      /\(N ≥ 2, d\) features, got \(1, 3\)/,
    );
  });
});

import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { param, type Param } from "../layers/layer.js";
import { assertAllClose } from "../testing/gradcheck.js";
import { AdaGrad } from "./adagrad.js";
import { Adam } from "./adam.js";
import { Momentum } from "./momentum.js";
import { Nesterov } from "./nesterov.js";
import { createOptimizer, optimizerNames, type Optimizer, type OptimizerName } from "./optimizer.js";
import { RMSprop } from "./rmsprop.js";
import { SGD } from "./sgd.js";

/** A param w = [1, −2] whose gradient is always g = [0.5, −1]. */
function fixedGradParam(): Param {
  const p = param("W", NDArray.from([1, -2], [2], "float64"));
  p.grad = NDArray.from([0.5, -1], [2], "float64");
  return p;
}

/** Runs two steps with the constant gradient and returns w after each. */
function twoSteps(opt: Optimizer): [number[], number[]] {
  const p = fixedGradParam();
  opt.step([p]);
  const first = Array.from(p.value.data);
  opt.step([p]);
  return [first, Array.from(p.value.data)];
}

// ε is set to 1e-12 where the formula has one, so the hand arithmetic below can ignore it.
describe("one hand-computed step (and a second, to exercise the state)", () => {
  it("SGD: w − lr·g", () => {
    const [w1, w2] = twoSteps(new SGD({ lr: 0.1 }));
    assertAllClose(w1, [1 - 0.05, -2 + 0.1], 1e-12, 0);
    assertAllClose(w2, [1 - 0.1, -2 + 0.2], 1e-12, 0);
  });

  it("Momentum: v = 0.9v − 0.1g, w += v", () => {
    const [w1, w2] = twoSteps(new Momentum({ lr: 0.1, momentum: 0.9 }));
    // v1 = [−0.05, 0.1]; v2 = 0.9·v1 − [0.05, −0.1] = [−0.095, 0.19]
    assertAllClose(w1, [0.95, -1.9], 1e-12, 0);
    assertAllClose(w2, [0.95 - 0.095, -1.9 + 0.19], 1e-12, 0);
  });

  it("Nesterov: w += 0.81v − 1.9·0.1g, then v = 0.9v − 0.1g", () => {
    const [w1, w2] = twoSteps(new Nesterov({ lr: 0.1, momentum: 0.9 }));
    // step 1 (v = 0): w += −0.19g = [−0.095, 0.19]; v1 = [−0.05, 0.1]
    // step 2: w += 0.81·[−0.05, 0.1] − 0.19g = [−0.0405 − 0.095, 0.081 + 0.19]
    assertAllClose(w1, [0.905, -1.81], 1e-12, 0);
    assertAllClose(w2, [0.905 - 0.1355, -1.81 + 0.271], 1e-12, 0);
  });

  it("AdaGrad: h += g², w −= lr·g/(√h + ε)", () => {
    const [w1, w2] = twoSteps(new AdaGrad({ lr: 0.1, eps: 1e-12 }));
    // step 1: h = [0.25, 1] → each weight moves lr against its gradient's sign
    // step 2: h = [0.5, 2] → moves 0.1·0.5/√0.5 and 0.1·1/√2, both 0.1/√2
    assertAllClose(w1, [0.9, -1.9], 1e-9, 0);
    assertAllClose(w2, [0.9 - 0.1 / Math.SQRT2, -1.9 + 0.1 / Math.SQRT2], 1e-9, 0);
  });

  it("RMSprop: h = 0.99h + 0.01g², w −= lr·g/(√h + ε)", () => {
    const [w1, w2] = twoSteps(new RMSprop({ lr: 0.1, decayRate: 0.99, eps: 1e-12 }));
    // step 1: h = [0.0025, 0.01], √h = [0.05, 0.1] → w −= 0.1·[10, −10]
    // step 2: h = 0.99·[0.0025, 0.01] + 0.01·[0.25, 1] = [0.004975, 0.0199]
    assertAllClose(w1, [0, -1], 1e-9, 0);
    assertAllClose(w2, [-0.05 / Math.sqrt(0.004975), -1 + 0.1 / Math.sqrt(0.0199)], 1e-9, 0);
  });

  it("Adam: a constant gradient moves each weight by lr per step (bias correction)", () => {
    const [w1, w2] = twoSteps(new Adam({ lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-12 }));
    // step 1: lr_t = 0.1·√0.001/0.1; m = 0.1g; v = 0.001g² → lr_t·m/√v = 0.1·sign(g)
    // step 2: m = 0.19g, v = 0.001999g², lr_t = 0.1·√0.001999/0.19 → again 0.1·sign(g)
    assertAllClose(w1, [0.9, -1.9], 1e-9, 0);
    assertAllClose(w2, [0.8, -1.8], 1e-9, 0);
  });

  it("Adam's step count is per step() call, not per param", () => {
    const adam = new Adam();
    adam.step([fixedGradParam(), fixedGradParam()]);
    expect(adam.t).toBe(1);
  });
});

describe("the book's descent of f(x, y) = x²/20 + y² from (−7, 2), 30 steps", () => {
  const start = Math.hypot(-7, 2);

  function descend(opt: Optimizer): [number, number] {
    const p = param("xy", NDArray.from([-7, 2], [2], "float64"));
    for (let i = 0; i < 30; i++) {
      const [x, y] = p.value.data;
      p.grad = NDArray.from([x / 10, 2 * y], [2], "float64"); // ∇f
      opt.step([p]);
    }
    return [p.value.data[0], p.value.data[1]];
  }

  // The book's learning rates for Figs. 6-3, 6-5, 6-6 and 6-8; Nesterov and RMSprop take Momentum's.
  const cases: [OptimizerName, number, number][] = [
    ["sgd", 0.95, 5],
    ["momentum", 0.1, 5],
    ["nesterov", 0.1, 5],
    ["adagrad", 1.5, 30],
    ["rmsprop", 0.1, 5],
    ["adam", 0.3, 10],
  ];
  for (const [name, lr, factor] of cases) {
    it(`${name} (lr ${lr}) ends at least ${factor}× nearer the minimum`, () => {
      const [x, y] = descend(createOptimizer(name, { lr }));
      expect(Math.hypot(x, y)).toBeLessThan(start / factor);
    });
  }

  it("SGD zigzags along y, as in the book's figure", () => {
    const opt = new SGD({ lr: 0.95 });
    const p = param("xy", NDArray.from([-7, 2], [2], "float64"));
    const ys: number[] = [];
    for (let i = 0; i < 4; i++) {
      p.grad = NDArray.from([p.value.data[0] / 10, 2 * p.value.data[1]], [2], "float64");
      opt.step([p]);
      ys.push(p.value.data[1]);
    }
    // y ← y − 0.95·2y = −0.9y
    assertAllClose(ys, [-1.8, 1.62, -1.458, 1.3122], 1e-12, 0);
  });
});

describe("createOptimizer", () => {
  it("builds every named optimizer with the book's defaults", () => {
    expect(optimizerNames).toEqual(["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]);
    expect(createOptimizer("sgd")).toMatchObject({ lr: 0.01 });
    expect(createOptimizer("momentum")).toMatchObject({ lr: 0.01, momentum: 0.9 });
    expect(createOptimizer("nesterov")).toMatchObject({ lr: 0.01, momentum: 0.9 });
    expect(createOptimizer("adagrad")).toMatchObject({ lr: 0.01, eps: 1e-7 });
    expect(createOptimizer("rmsprop")).toMatchObject({ lr: 0.01, decayRate: 0.99 });
    expect(createOptimizer("adam")).toMatchObject({ lr: 0.001, beta1: 0.9, beta2: 0.999 });
    expect(createOptimizer("adam", { lr: 0.3 })).toBeInstanceOf(Adam);
  });

  it("rejects an unknown name, listing the valid ones", () => {
    expect(() => createOptimizer("adamw" as OptimizerName)).toThrow(
      /unknown optimizer "adamw"; valid: sgd, momentum, nesterov, adagrad, rmsprop, adam/,
    );
  });

  it("rejects an option the optimizer does not take", () => {
    expect(() => createOptimizer("sgd", { momentum: 0.9 } as never)).toThrow(
      /optimizer sgd has no option "momentum"; valid: lr/,
    );
  });

  it("rejects bad values", () => {
    expect(() => new SGD({ lr: -1 })).toThrow(/SGD lr must be a finite number > 0, got -1/);
    expect(() => new Momentum({ momentum: 1 })).toThrow(/momentum must lie in \[0, 1\), got 1/);
  });

  it("needs backward() to have filled the gradient", () => {
    const p = param("W", NDArray.zeros([2, 3], "float64"));
    expect(() => new SGD().step([p])).toThrow(/param "W" \(2, 3\) has no gradient/);
  });

  it("updates float32 params with float32 state", () => {
    const p = param("W", NDArray.from([1, -2], [2]));
    p.grad = NDArray.from([0.5, -1], [2]);
    new Adam({ lr: 0.1 }).step([p]);
    expect(p.value.dtype).toBe("float32");
    assertAllClose(p.value.data, [0.9, -1.9], 1e-6, 0);
  });

  it("keeps separate state per param", () => {
    const opt = new Momentum({ lr: 0.1 });
    const a = fixedGradParam();
    const b = fixedGradParam();
    opt.step([a]);
    opt.step([a, b]);
    // b's first step has no velocity yet, a's second has.
    assertAllClose(b.value.data, [0.95, -1.9], 1e-12, 0);
    assertAllClose(a.value.data, [0.855, -1.71], 1e-12, 0);
  });
});

describe("state and setState: a restored optimizer continues exactly", () => {
  const makeParams = (): Param[] => [
    param("W1", NDArray.from([0.5, -1.5, 2, 0.25], [2, 2])),
    param("b1", NDArray.from([0.1, -0.2], [2])),
  ];
  const gradsAt = (step: number): number[][] => [
    [0.3 * step, -0.2, 0.1 / step, 0.7],
    [-0.05 * step, 0.4],
  ];
  const stepWith = (opt: Optimizer, ps: Param[], step: number) => {
    gradsAt(step).forEach((g, i) => (ps[i].grad = NDArray.from(g, ps[i].value.shape)));
    opt.step(ps);
  };
  for (const name of optimizerNames) {
    it(`${name}: 3 steps, save, 3 more on a fresh optimizer = 6 steps on one`, () => {
      const straight = makeParams();
      const one = createOptimizer(name, { lr: 0.1 });
      for (let s = 1; s <= 6; s++) stepWith(one, straight, s);

      const resumed = makeParams();
      const first = createOptimizer(name, { lr: 0.1 });
      for (let s = 1; s <= 3; s++) stepWith(first, resumed, s);
      const saved = first.state!(resumed);
      const second = createOptimizer(name, { lr: 0.1 });
      second.setState!(resumed, saved);
      for (let s = 4; s <= 6; s++) stepWith(second, resumed, s);

      resumed.forEach((p, i) => expect(Array.from(p.value.data)).toEqual(Array.from(straight[i].value.data)));
      // Without the state the continuation differs (except for stateless SGD).
      const fresh = makeParams();
      const a = createOptimizer(name, { lr: 0.1 });
      for (let s = 1; s <= 3; s++) stepWith(a, fresh, s);
      const b = createOptimizer(name, { lr: 0.1 });
      for (let s = 4; s <= 6; s++) stepWith(b, fresh, s);
      const same = fresh.every((p, i) => p.value.data.every((v, k) => v === straight[i].value.data[k]));
      expect(same).toBe(name === "sgd");
    });
  }

  it("rejects state for a param or slot the optimizer does not have, or of the wrong size", () => {
    const ps = makeParams();
    const adam = new Adam();
    expect(() => adam.setState(ps, { step: 1, buffers: { "W9/m": new Float32Array(4) } })).toThrow(
      /"W9\/m" matches no param\/slot \(params: W1, b1; slots: m, v\)/,
    );
    expect(() => adam.setState(ps, { step: 1, buffers: { "W1/m": new Float32Array(3) } })).toThrow(
      /"W1\/m" has 3 values, param W1 has 4/,
    );
    expect(() => adam.setState(ps, { step: -1, buffers: {} })).toThrow(/step count/);
  });
});

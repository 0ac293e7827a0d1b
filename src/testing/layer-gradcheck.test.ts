import { describe, expect, it } from "vitest";
import { Affine } from "../layers/affine.js";
import { BatchNormalization } from "../layers/batch-normalization.js";
import { Dropout } from "../layers/dropout.js";
import type { Layer } from "../layers/layer.js";
import { Relu } from "../layers/relu.js";
import { Sigmoid } from "../layers/sigmoid.js";
import { SoftmaxWithLoss } from "../layers/softmax-with-loss.js";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { randomUpstream } from "./gradcheck.js";
import { checkGradients, checkLayerGradients } from "./layer-gradcheck.js";

/** Sigmoid with a subtly wrong backward: y(1 − y) replaced by y·(1 − y)·1.01. */
class SlightlyWrongSigmoid implements Layer {
  readonly params = [];
  #inner = new Sigmoid();
  forward(x: NDArray): NDArray {
    return this.#inner.forward(x);
  }
  backward(dout: NDArray): NDArray {
    const dx = this.#inner.backward(dout);
    for (let i = 0; i < dx.size; i++) dx.data[i] *= 1.01;
    return dx;
  }
}

/** Affine whose backward forgets the bias gradient's sum over rows (uses row 0 only). */
class WrongBiasAffine implements Layer {
  #inner: Affine;
  constructor(rng: Rng) {
    this.#inner = new Affine(randomUpstream([3, 2], rng), randomUpstream([2], rng));
  }
  get params() {
    return this.#inner.params;
  }
  forward(x: NDArray): NDArray {
    return this.#inner.forward(x);
  }
  backward(dout: NDArray): NDArray {
    const dx = this.#inner.backward(dout);
    this.#inner.b.grad = NDArray.from([dout.get(0, 0), dout.get(0, 1)], undefined, "float64");
    return dx;
  }
}

/** A layer whose backward scales dout in place: the check must notice. */
class MutatingSigmoid extends Sigmoid {
  override backward(dout: NDArray): NDArray {
    const dx = super.backward(dout);
    dout.data[0] = 0;
    return dx;
  }
}

/** Backward returns zeros: passes a check scalarized with Σ y when d(Σy)/dx = 0, not ours. */
class ZeroBackward implements Layer {
  readonly params = [];
  forward(x: NDArray): NDArray {
    return x.clone();
  }
  backward(dout: NDArray): NDArray {
    return NDArray.zeros(dout.shape, dout.dtype);
  }
}

describe("checkLayerGradients can fail", () => {
  const x = () => randomUpstream([3, 3], new Rng(30));

  it("passes a correct layer", () => {
    expect(() => checkLayerGradients(new Sigmoid(), x(), new Rng(31))).not.toThrow();
  });

  it("rejects a 1% error in dx", () => {
    expect(() => checkLayerGradients(new SlightlyWrongSigmoid(), x(), new Rng(31))).toThrow(
      /gradient check failed[\s\S]*x\[/,
    );
  });

  it("rejects a wrong parameter gradient and names it", () => {
    expect(() => checkLayerGradients(new WrongBiasAffine(new Rng(32)), x(), new Rng(33))).toThrow(
      /\n {2}b\[/,
    );
  });

  it("rejects a backward that mutates dout", () => {
    expect(() => checkLayerGradients(new MutatingSigmoid(), x(), new Rng(34))).toThrow(
      /backward mutated its dout/,
    );
  });

  it("rejects a backward that returns zeros", () => {
    expect(() => checkLayerGradients(new ZeroBackward(), x(), new Rng(35))).toThrow(/gradient check failed/);
  });

  it("refuses float32 inputs", () => {
    expect(() => checkLayerGradients(new Sigmoid(), NDArray.zeros([2, 2]), new Rng(36))).toThrow(
      /use float64/,
    );
  });
});

describe("checkGradients", () => {
  it("checks any scalar function against given gradients", () => {
    const w = NDArray.from([1, -2, 3], undefined, "float64");
    const loss = () => Array.from(w.data).reduce((s, v) => s + v ** 3, 0);
    const grad = NDArray.from([3, 12, 27], undefined, "float64");
    const [report] = checkGradients(loss, [{ name: "w", value: w, grad }]);
    expect(report.ok).toBe(true);
    grad.data[1] = 12.1;
    expect(() => checkGradients(loss, [{ name: "w", value: w, grad }])).toThrow(/w\[1\]: analytic 12.1/);
  });
});

describe("checkGradients on a composed network", () => {
  it("checks every parameter of Affine → BatchNorm → ReLU → Dropout → Affine → SoftmaxWithLoss", () => {
    const rng = new Rng(40);
    const x = randomUpstream([4, 5], rng);
    const t = Int32Array.from([0, 2, 1, 2]);
    const mask = NDArray.from(
      [1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1],
      [4, 6],
    );
    const dropout = new Dropout(rng, { ratio: 0.3, inverted: true });
    dropout.fixMask(mask);
    const layers: Layer[] = [
      new Affine(randomUpstream([5, 6], rng), randomUpstream([6], rng)),
      new BatchNormalization(randomUpstream([6], rng), randomUpstream([6], rng)),
      new Relu(),
      dropout,
      new Affine(randomUpstream([6, 3], rng), randomUpstream([3], rng)),
    ];
    const lastLayer = new SoftmaxWithLoss();
    const loss = () =>
      lastLayer.forward(
        layers.reduce((h, layer) => layer.forward(h, "train"), x),
        t,
      );

    loss();
    layers.reduceRight((dout, layer) => layer.backward(dout), lastLayer.backward());
    const params = layers.flatMap((layer, i) => layer.params.map((p) => ({ ...p, name: `${i}.${p.name}` })));
    const reports = checkGradients(loss, params);
    expect(reports.map((r) => r.name)).toEqual(["0.W", "0.b", "1.gamma", "1.beta", "4.W", "4.b"]);
  });
});

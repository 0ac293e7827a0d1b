import { ShapeError, formatShape } from "../errors.js";
import type { Layer, MergeLayer, Mode } from "../layers/layer.js";
import { NDArray } from "../ndarray.js";
import { sameShape } from "../ops/check.js";
import type { Rng } from "../rng.js";
import { compareClose, dot, numericalGradient, randomUpstream } from "./gradcheck.js";

/** Something with an analytic gradient to check: an input, or a layer's or model's Param. */
export interface GradientTarget {
  readonly name: string;
  value: NDArray;
  grad: NDArray | null;
}

export interface GradientCheckOptions {
  /** Central-difference step. */
  h?: number;
  atol?: number;
  rtol?: number;
}

export interface GradientReport {
  name: string;
  ok: boolean;
  /** Largest |analytic − numeric| − (atol + rtol·|numeric|); ≤ 0 when ok. */
  worstExcess: number;
  worstIndex: number;
  analytic: number;
  numeric: number;
}

/**
 * Compares each target's analytic `grad` (already filled by a backward pass) with the central
 * difference of `loss` over its `value`, |analytic − numeric| ≤ atol + rtol·|numeric|.
 * Throws naming every target that fails; returns one report per target.
 *
 * For a whole model: `model.loss(x, t); model.backward(); checkGradients(() => model.loss(x, t), model.params)`.
 */
export function checkGradients(
  loss: () => number,
  targets: readonly GradientTarget[],
  { h = 1e-4, atol = 1e-5, rtol = 1e-4 }: GradientCheckOptions = {},
): GradientReport[] {
  const reports = targets.map((target) => {
    if (target.value.dtype !== "float64") {
      throw new TypeError(
        `gradient check of ${target.name}: use float64 (float32 round-off swamps h = ${h})`,
      );
    }
    if (target.grad === null) throw new Error(`gradient check of ${target.name}: backward left no grad`);
    const analytic = target.grad;
    const numeric = numericalGradient(loss, target.value, h);
    const r = compareClose(analytic.data, numeric.data, atol, rtol);
    return {
      name: target.name,
      ok: r.ok,
      worstExcess: r.worstExcess,
      worstIndex: r.worstIndex,
      analytic: r.actual,
      numeric: r.expected,
    };
  });
  const failed = reports.filter((r) => !r.ok);
  if (failed.length > 0) {
    const lines = failed.map(
      (r) => `${r.name}[${r.worstIndex}]: analytic ${r.analytic}, numeric ${r.numeric}`,
    );
    throw new Error(`gradient check failed (atol ${atol}, rtol ${rtol}):\n  ${lines.join("\n  ")}`);
  }
  return reports;
}

export interface LayerGradientCheckOptions extends GradientCheckOptions {
  /** The mode every forward runs in ("train" by default: batch norm's batch statistics). */
  mode?: Mode;
}

/**
 * Gradient-checks a layer on its input and every parameter, the way DESIGN.md asks: float64,
 * scalarized with a seeded random upstream gradient, L = Σ y ⊙ dy (never Σ y, whose gradient
 * vanishes for softmax and batch norm). Also checks that `backward` leaves `dout` untouched.
 *
 * Keep inputs off kinks (ReLU away from 0, max-pool without ties) and fix any randomness (a
 * dropout mask): each numeric evaluation runs `forward` again.
 */
export function checkLayerGradients(
  layer: Layer,
  x: NDArray,
  rng: Rng,
  { mode = "train", ...options }: LayerGradientCheckOptions = {},
): GradientReport[] {
  if (x.dtype !== "float64") {
    throw new TypeError(`checkLayerGradients: use float64 inputs and params (got ${x.dtype})`);
  }
  const y = layer.forward(x, mode);
  const dy = randomUpstream(y.shape, rng);
  const dyBefore = dy.clone();
  const dx = layer.backward(dy);
  assertUnchanged(dy, dyBefore, "backward mutated its dout");
  if (!sameShape(dx.shape, x.shape)) {
    throw new ShapeError(`backward returned dx ${formatShape(dx.shape)} for x ${formatShape(x.shape)}`);
  }
  // Snapshot the analytic gradients: the numeric forwards below must not be able to change them.
  const targets: GradientTarget[] = [
    { name: "x", value: x, grad: dx.clone() },
    ...layer.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad && p.grad.clone() })),
  ];
  return checkGradients(() => dot(layer.forward(x, mode), dy), targets, options);
}

/**
 * `checkLayerGradients` for a layer of several inputs (Add, Concat): every input and parameter,
 * L = Σ y ⊙ dy with a seeded random dy.
 */
export function checkMergeLayerGradients(
  layer: MergeLayer,
  xs: readonly NDArray[],
  rng: Rng,
  { mode = "train", ...options }: LayerGradientCheckOptions = {},
): GradientReport[] {
  if (xs.some((x) => x.dtype !== "float64")) {
    throw new TypeError("checkMergeLayerGradients: use float64 inputs and params");
  }
  const y = layer.forward(xs, mode);
  const dy = randomUpstream(y.shape, rng);
  const dyBefore = dy.clone();
  const dxs = layer.backward(dy);
  assertUnchanged(dy, dyBefore, "backward mutated its dout");
  if (dxs.length !== xs.length)
    throw new Error(`backward returned ${dxs.length} gradients for ${xs.length} inputs`);
  dxs.forEach((dx, i) => {
    if (!sameShape(dx.shape, xs[i].shape)) {
      throw new ShapeError(
        `backward returned dx${i} ${formatShape(dx.shape)} for x${i} ${formatShape(xs[i].shape)}`,
      );
    }
  });
  const targets: GradientTarget[] = [
    ...xs.map((x, i) => ({ name: `x${i}`, value: x, grad: dxs[i].clone() })),
    ...layer.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad && p.grad.clone() })),
  ];
  return checkGradients(() => dot(layer.forward(xs, mode), dy), targets, options);
}

/** Throws unless `a` holds exactly the values of `before`. */
export function assertUnchanged(a: NDArray, before: NDArray, what: string): void {
  for (let i = 0; i < a.size; i++) {
    if (!Object.is(a.data[i], before.data[i])) {
      throw new Error(`${what}: element ${i} changed from ${before.data[i]} to ${a.data[i]}`);
    }
  }
}

/** A float64 array of normal values away from 0 by at least `margin` (ReLU inputs off the kink). */
export function randomOffKink(shape: readonly number[], rng: Rng, margin = 1e-2): NDArray {
  const x = NDArray.zeros(shape, "float64");
  for (let i = 0; i < x.size; i++) {
    const v = rng.normal();
    x.data[i] = Math.sign(v || 1) * (Math.abs(v) + margin);
  }
  return x;
}

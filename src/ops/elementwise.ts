import { kernels } from "../backend/index.js";
import { NDArray } from "../ndarray.js";
import { assertSameShape } from "./check.js";

/** New arrays of x's shape and dtype; every op here returns a fresh array and leaves its inputs alone. */
function like(x: NDArray): NDArray {
  return NDArray.zeros(x.shape, x.dtype);
}

export function relu(x: NDArray): NDArray {
  const out = like(x);
  kernels().relu(out.data, x.data);
  return out;
}

/** dout where the forward input was positive. `out` may be relu's output: out > 0 ⇔ x > 0. */
export function reluBackward(dout: NDArray, x: NDArray): NDArray {
  assertSameShape("reluBackward", dout, x);
  const dx = like(dout);
  kernels().reluBackward(dx.data, dout.data, x.data);
  return dx;
}

export function sigmoid(x: NDArray): NDArray {
  const out = like(x);
  kernels().sigmoid(out.data, x.data);
  return out;
}

/** dout · y(1 − y), y the forward output. */
export function sigmoidBackward(dout: NDArray, y: NDArray): NDArray {
  assertSameShape("sigmoidBackward", dout, y);
  const dx = like(dout);
  kernels().sigmoidBackward(dx.data, dout.data, y.data);
  return dx;
}

export function tanh(x: NDArray): NDArray {
  const out = like(x);
  kernels().tanh(out.data, x.data);
  return out;
}

/** dout · (1 − y²), y the forward output. */
export function tanhBackward(dout: NDArray, y: NDArray): NDArray {
  assertSameShape("tanhBackward", dout, y);
  const dx = like(dout);
  kernels().tanhBackward(dx.data, dout.data, y.data);
  return dx;
}

/** x where x > 0, else alpha·x. */
export function leakyRelu(x: NDArray, alpha: number): NDArray {
  const out = like(x);
  kernels().leakyRelu(out.data, x.data, alpha);
  return out;
}

/** dout where the forward input was positive, else alpha·dout. For alpha ≥ 0, `x` may be the output. */
export function leakyReluBackward(dout: NDArray, x: NDArray, alpha: number): NDArray {
  assertSameShape("leakyReluBackward", dout, x);
  const dx = like(dout);
  kernels().leakyReluBackward(dx.data, dout.data, x.data, alpha);
  return dx;
}

/** a·x + b·y */
export function axpby(a: number, x: NDArray, b: number, y: NDArray): NDArray {
  return combine("axpby", a, x, b, y);
}

export function add(x: NDArray, y: NDArray): NDArray {
  return combine("add", 1, x, 1, y);
}

export function sub(x: NDArray, y: NDArray): NDArray {
  return combine("sub", 1, x, -1, y);
}

/** s·x */
export function scale(x: NDArray, s: number): NDArray {
  return combine("scale", s, x, 0, x);
}

function combine(what: string, a: number, x: NDArray, b: number, y: NDArray): NDArray {
  assertSameShape(what, x, y);
  const out = like(x);
  kernels().axpby(out.data, a, x.data, b, y.data);
  return out;
}

/** x ⊙ y */
export function mul(x: NDArray, y: NDArray): NDArray {
  assertSameShape("mul", x, y);
  const out = like(x);
  kernels().mul(out.data, x.data, y.data);
  return out;
}

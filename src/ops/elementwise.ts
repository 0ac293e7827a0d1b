import { kernels } from "../backend/index.js";
import { NDArray } from "../ndarray.js";
import { assertSameShape } from "./check.js";

/** New arrays of x's shape and dtype; every op here returns a fresh array and leaves its inputs alone. */
function like(x: NDArray): NDArray {
  return NDArray.zeros(x.shape, x.dtype);
}

export function relu(x: NDArray): NDArray {
  const out = like(x);
  kernels().relu(out.buf, x.buf);
  return out;
}

/** dout where the forward input was positive. `out` may be relu's output: out > 0 ⇔ x > 0. */
export function reluBackward(dout: NDArray, x: NDArray): NDArray {
  assertSameShape("reluBackward", dout, x);
  const dx = like(dout);
  kernels().reluBackward(dx.buf, dout.buf, x.buf);
  return dx;
}

export function sigmoid(x: NDArray): NDArray {
  const out = like(x);
  kernels().sigmoid(out.buf, x.buf);
  return out;
}

/** dout · y(1 − y), y the forward output. */
export function sigmoidBackward(dout: NDArray, y: NDArray): NDArray {
  assertSameShape("sigmoidBackward", dout, y);
  const dx = like(dout);
  kernels().sigmoidBackward(dx.buf, dout.buf, y.buf);
  return dx;
}

export function tanh(x: NDArray): NDArray {
  const out = like(x);
  kernels().tanh(out.buf, x.buf);
  return out;
}

/** dout · (1 − y²), y the forward output. */
export function tanhBackward(dout: NDArray, y: NDArray): NDArray {
  assertSameShape("tanhBackward", dout, y);
  const dx = like(dout);
  kernels().tanhBackward(dx.buf, dout.buf, y.buf);
  return dx;
}

/** x where x > 0, else alpha·x. */
export function leakyRelu(x: NDArray, alpha: number): NDArray {
  const out = like(x);
  kernels().leakyRelu(out.buf, x.buf, alpha);
  return out;
}

/** dout where the forward input was positive, else alpha·dout. For alpha ≥ 0, `x` may be the output. */
export function leakyReluBackward(dout: NDArray, x: NDArray, alpha: number): NDArray {
  assertSameShape("leakyReluBackward", dout, x);
  const dx = like(dout);
  kernels().leakyReluBackward(dx.buf, dout.buf, x.buf, alpha);
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
  kernels().axpby(out.buf, a, x.buf, b, y.buf);
  return out;
}

/** x ⊙ y */
export function mul(x: NDArray, y: NDArray): NDArray {
  assertSameShape("mul", x, y);
  const out = like(x);
  kernels().mul(out.buf, x.buf, y.buf);
  return out;
}

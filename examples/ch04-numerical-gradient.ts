// Chapter 4 of the book: numerical differentiation, the gradient and gradient descent.
// Run: npx tsx examples/ch04-numerical-gradient.ts
import { NDArray, gradientDescent, numericalDiff, numericalGradient } from "../src/index.js";

// 4.3.2: f(x) = 0.01x² + 0.1x, whose true derivative is 0.02x + 0.1.
const function1 = (x: number) => 0.01 * x ** 2 + 0.1 * x;
console.log("numerical_diff(function_1, 5) ", numericalDiff(function1, 5)); // 0.1999999999990898
console.log("numerical_diff(function_1, 10)", numericalDiff(function1, 10)); // 0.2999999999986347

// 4.4: f(x0, x1) = x0² + x1², whose gradient is (2x0, 2x1).
const function2 = (x: NDArray) => x.data[0] ** 2 + x.data[1] ** 2;
const point = (values: number[]) => NDArray.from(values, undefined, "float64");
const show = (a: NDArray) => `[${Array.from(a.data, (v) => Number(v.toPrecision(10))).join(", ")}]`;
for (const p of [
  [3, 4],
  [0, 2],
  [3, 0],
]) {
  console.log(`numerical_gradient(function_2, [${p}])`, show(numericalGradient(function2, point(p)))); // [6, 8], [0, 4], [6, 0]
}

// 4.4.1: gradient descent from (−3, 4), lr 0.1, 100 steps.
const { x } = gradientDescent(function2, point([-3, 4]), 0.1, 100);
console.log("gradient_descent(function_2, [-3, 4], lr=0.1, step_num=100)", show(x)); // [-6.1e-10, 8.1e-10]
for (const lr of [10, 1e-10]) {
  // Too large diverges; too small barely moves.
  console.log(`  with lr=${lr}`, show(gradientDescent(function2, point([-3, 4]), lr, 100).x));
}

// Chapter 3 of the book: the step function, sigmoid, ReLU and softmax.
// Run: npx tsx examples/ch03-activation-functions.ts
import { NDArray, relu, sigmoid, softmax, stepFunction } from "../src/index.js";

const show = (a: NDArray) => `[${Array.from(a.data, (v) => Number(v.toPrecision(8))).join(", ")}]`;
const x = NDArray.from([-1.0, 1.0, 2.0], undefined, "float64");

console.log("x               ", show(x));
console.log("step_function(x)", show(stepFunction(x))); // [0, 1, 1]
console.log("sigmoid(x)      ", show(sigmoid(x))); // [0.26894142, 0.73105858, 0.88079708]
console.log("relu(x)         ", show(relu(x))); // [0, 1, 2]
console.log("sigmoid(-1000)  ", show(sigmoid(NDArray.from([-1000], undefined, "float64")))); // 0, not NaN

// 3.5: softmax, and why the maximum is subtracted first.
const a = NDArray.from([0.3, 2.9, 4.0], undefined, "float64");
const y = softmax(a);
console.log("softmax([0.3, 2.9, 4.0])   ", show(y)); // [0.01821127, 0.24519181, 0.73659691]
console.log(
  "sum                        ",
  Array.from(y.data).reduce((s, v) => s + v, 0),
); // 1
const big = NDArray.from([1010, 1000, 990], undefined, "float64");
const naive = [1010, 1000, 990].map((v) => Math.exp(v) / (3 * Math.exp(1010)));
console.log("naive exp([1010, 1000, 990])", naive.map(String).join(", ")); // NaN: exp overflows
console.log("softmax([1010, 1000, 990]) ", show(softmax(big))); // [9.99954600e-01, 4.53978686e-05, 2.06106005e-09]

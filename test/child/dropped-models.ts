/**
 * Run by test/wasm-memory.test.ts as `node --expose-gc --import tsx`: trains and drops one small
 * convolutional network after another on the WASM backend, collecting garbage in between, and
 * prints the WASM memory's size after each as JSON.
 */
import { useFastBackend } from "../../src/backend/index.js";
import { wasmMemoryBytes } from "../../src/backend/wasm.js";
import { SimpleConvNet } from "../../src/models/simple-conv-net.js";
import { NDArray } from "../../src/ndarray.js";
import { Rng } from "../../src/rng.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");
await useFastBackend({ threads: 1 });
const models = Number(process.argv[2] ?? 12);
const batch = 200; // a step's activations: about 200 × 30 × 24 × 24 floats per layer output, megabytes
const rng = new Rng(1);
const x = NDArray.zeros([batch, 1, 28, 28]);
for (let i = 0; i < x.data.length; i++) x.data[i] = rng.uniform();
const t = Int32Array.from({ length: batch }, (_, i) => i % 10);
const sizes: number[] = [];
for (let i = 0; i < models; i++) {
  const net = new SimpleConvNet({}, new Rng(i));
  net.loss(x, t);
  net.backward();
  // Drop it; finalizers run in a later task after the collection.
  gc();
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc();
  await new Promise((resolve) => setTimeout(resolve, 20));
  sizes.push(await wasmMemoryBytes());
}
console.log(JSON.stringify(sizes));

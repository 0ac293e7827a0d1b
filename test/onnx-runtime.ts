/** ONNX Runtime (its WebAssembly build, onnxruntime-web, running in Node) as the judge of exported files. */
import * as ort from "onnxruntime-web";
import type { NDArray } from "../src/index.js";

// One thread: no worker files to locate, and the tests already share the machine's 2 cores.
ort.env.wasm.numThreads = 1;

/** Runs an ONNX model on x and returns its first output. */
export async function runOnnx(
  bytes: Uint8Array,
  x: NDArray,
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const input = new ort.Tensor("float32", Float32Array.from(x.data), [...x.shape]);
    const result = await session.run({ [session.inputNames[0]]: input });
    const out = result[session.outputNames[0]];
    return { data: out.data as Float32Array, dims: out.dims };
  } finally {
    await session.release();
  }
}

/** The largest |a − b| and the rows whose argmax differs, for (N, classes) scores. */
export function compareScores(a: ArrayLike<number>, b: ArrayLike<number>, classes: number) {
  let maxDiff = 0;
  const differentClasses: number[] = [];
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
  for (let row = 0; row * classes < a.length; row++) {
    if (argmax(a, row * classes, classes) !== argmax(b, row * classes, classes)) differentClasses.push(row);
  }
  return { maxDiff, differentClasses };
}

function argmax(v: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (v[offset + j] > v[offset + best]) best = j;
  return best;
}

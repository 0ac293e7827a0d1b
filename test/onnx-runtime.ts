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
    return await runSession(session, { [session.inputNames[0]]: x });
  } finally {
    await session.release();
  }
}

/** Runs a session on named inputs (float arrays, or int64 ids as BigInt64Array) and returns its first output. */
export async function runSession(
  session: ort.InferenceSession,
  inputs: Record<string, NDArray | { ids: BigInt64Array; dims: number[] }>,
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const feeds = Object.fromEntries(
    Object.entries(inputs).map(([name, v]) => [
      name,
      "ids" in v
        ? new ort.Tensor("int64", v.ids, v.dims)
        : new ort.Tensor("float32", Float32Array.from(v.data), [...v.shape]),
    ]),
  );
  const result = await session.run(feeds);
  const out = result[session.outputNames[0]];
  return { data: out.data as Float32Array, dims: out.dims };
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

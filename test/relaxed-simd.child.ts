/**
 * Run by test/relaxed-simd.test.ts in a Node started with --experimental-wasm-relaxed-simd (Node 20
 * has relaxed SIMD only behind that flag): the WASM kernels built with relaxed SIMD against the
 * float64 reference on every shared parity case, on 1, 2 and 3 threads, and bit-identical across
 * those thread counts. Prints one JSON line.
 */
import { initWasm, relaxedSimdSupported, setParallelMinWork, setWasmThreads } from "../src/backend/wasm.js";
import { cases, check } from "./kernel-cases.js";

const k = await initWasm({ threads: 1 });
setParallelMinWork(0);
const outputs: string[][] = [];
for (const threads of [1, 2, 3]) {
  await setWasmThreads(threads);
  for (const c of cases) await check(k, c);
  outputs.push(
    cases.map((c) =>
      c
        .run(k, "float32")
        .map((o) =>
          typeof o === "number"
            ? String(o)
            : Buffer.from(o.buffer, o.byteOffset, o.byteLength).toString("base64"),
        )
        .join("|"),
    ),
  );
}
const differing = cases.filter((_, i) => outputs[1][i] !== outputs[0][i] || outputs[2][i] !== outputs[0][i]);
process.stdout.write(
  `${JSON.stringify({ relaxed: relaxedSimdSupported(), cases: cases.length, differing: differing.map((c) => c.name) })}\n`,
);
process.exit(0);

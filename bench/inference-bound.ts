/**
 * `npx tsx bench/inference-bound.ts [--rounds N] [--passes P] [--json FILE]`: what bounds SimpleConvNet's
 * inference (batch 100) against ONNX Runtime Web. Each round runs, each in its own process and in
 * this order: zerodl with plain SIMD on 1 and 2 threads, zerodl with relaxed SIMD (fused multiply-add;
 * Node 20 needs `--experimental-wasm-relaxed-simd`, skipped where this Node cannot) on 1 and 2, and
 * ONNX Runtime Web on 1 and 2 (zerodl's own ONNX export of the same seeded network, as
 * `npm run bench -- --peers` runs it). A zerodl process alternates passes of plain `predict` (its
 * whole time) with passes that time every WASM job inside `predict` (profileWasmJobs): the
 * convolution (im2col, the 30×25·25×576 product per image, bias, ReLU and 2×2 max pooling, fused in one
 * job), the Affine product 100×4320·4320×100 (and the sum of its two k-halves), and the rest.
 * Ratios are taken within a round. Not part of `npm test`.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { initWasm, profileWasmJobs, relaxedSimdChosen, relaxedSimdSupported } from "../src/backend/wasm.js";
import { setKernels } from "../src/backend/index.js";
import { RELAXED_SIMD_FLAG } from "../src/backend/node-relaxed.js";
import { exportOnnx } from "../src/io/onnx/export.js";
import { SimpleConvNet } from "../src/models/simple-conv-net.js";
import { NDArray } from "../src/ndarray.js";
import { Rng } from "../src/rng.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const B = 100;
/** Batches of 100 per timed pass. */
const BATCHES = 20;
/** FLOPs per 100 images: the convolution's products (30 filters × 25 taps × 24·24 pixels) and the Affines'. */
const FLOP = { conv: 2 * B * 576 * 25 * 30, affine: 2 * B * 4320 * 100, affine2: 2 * B * 100 * 10 };

interface Result {
  who: string;
  threads: number;
  /** Wall ms per 100 images: median pass, and the fastest. */
  ms: number;
  best: number;
  /** CPU ms per 100 images (every thread of the process). */
  cpu: number;
  /** zerodl only: wall ms per 100 images in the WASM jobs of the profiled passes (median pass). */
  conv?: number;
  affine?: number;
  other?: number;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const input = () => new Float32Array(B * 784).map((_, i) => ((i * 7919) % 256) / 255);

async function zerodlChild(threads: number, passes: number): Promise<Result> {
  setKernels(await initWasm({ threads }));
  const model = new SimpleConvNet({}, new Rng(42));
  const x = new NDArray(input(), [B, 1, 28, 28]);
  for (let i = 0; i < 5; i++) model.predict(x);
  const wall: number[] = [];
  const conv: number[] = [];
  const affine: number[] = [];
  const other: number[] = [];
  let cpuMs = 0;
  for (let p = 0; p < passes; p++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < BATCHES; i++) model.predict(x);
    wall.push((performance.now() - t0) / BATCHES);
    const c = process.cpuUsage(c0);
    cpuMs += (c.user + c.system) / 1000 / BATCHES;
    profileWasmJobs(true);
    const t1 = performance.now();
    for (let i = 0; i < BATCHES; i++) model.predict(x);
    const profiled = (performance.now() - t1) / BATCHES;
    const jobs = profileWasmJobs(false);
    const ms = (name: string) => (jobs.get(name)?.ms ?? 0) / BATCHES;
    conv.push(ms("convForward"));
    // The Affine 4320 → 100's product: its two k-halves and their sum. The rest: the Affine
    // 100 → 10 (a "matmul" job), biases, the ReLU, JavaScript and the copy of x in.
    affine.push(ms("matmulHalf") + ms("matmulReduce"));
    other.push(profiled - ms("convForward") - ms("matmulHalf") - ms("matmulReduce"));
  }
  return {
    who: relaxedSimdChosen() ? "zerodl-relaxed" : "zerodl-plain",
    threads,
    ms: median(wall),
    best: Math.min(...wall),
    cpu: cpuMs / passes,
    conv: median(conv),
    affine: median(affine),
    other: median(other),
  };
}

interface Ort {
  env: { wasm: { numThreads: number } };
  Tensor: new (type: "float32", data: Float32Array, dims: number[]) => unknown;
  InferenceSession: {
    create(
      model: Uint8Array,
      options: Record<string, unknown>,
    ): Promise<{ inputNames: readonly string[]; run(feeds: Record<string, unknown>): Promise<unknown> }>;
  };
}

async function ortChild(threads: number, passes: number): Promise<Result> {
  const ort = createRequire(import.meta.url)("onnxruntime-web") as Ort;
  ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(exportOnnx(new SimpleConvNet({}, new Rng(42))), {
    graphOptimizationLevel: "all",
    executionProviders: ["wasm"],
  });
  const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", input(), [B, 1, 28, 28]) };
  for (let i = 0; i < 5; i++) await session.run(feeds);
  const wall: number[] = [];
  const c0 = process.cpuUsage();
  for (let p = 0; p < passes; p++) {
    const t0 = performance.now();
    for (let i = 0; i < BATCHES; i++) await session.run(feeds);
    wall.push((performance.now() - t0) / BATCHES);
  }
  const c = process.cpuUsage(c0);
  return {
    who: "ort-web",
    threads,
    ms: median(wall),
    best: Math.min(...wall),
    cpu: (c.user + c.system) / 1000 / passes / BATCHES,
  };
}

function parent(): void {
  const rounds = Number(option("--rounds", "3"));
  const passes = option("--passes", "5");
  const json = args.includes("--json") ? option("--json", "") : null;
  const script = fileURLToPath(import.meta.url);
  const relaxedFlags = relaxedSimdSupported()
    ? []
    : spawnSync(process.execPath, [RELAXED_SIMD_FLAG, "-e", "0"]).status === 0
      ? [RELAXED_SIMD_FLAG]
      : null;
  const configs: { who: string; flags: string[]; env: Record<string, string> }[] = [
    { who: "zerodl-plain", flags: [], env: { ZERODL_RELAXED_SIMD: "0" } },
    ...(relaxedFlags ? [{ who: "zerodl-relaxed", flags: relaxedFlags, env: {} }] : []),
    { who: "ort-web", flags: [], env: {} },
  ];
  const results: (Result & { round: number })[] = [];
  console.log(`node ${process.version}; ${rounds} rounds × ${passes} passes of ${BATCHES} batches of 100`);
  for (let round = 1; round <= rounds; round++) {
    for (const c of configs) {
      for (const threads of [1, 2]) {
        const child = spawnSync(
          process.execPath,
          [...c.flags, ...process.execArgv, script, "--child", c.who, String(threads), passes],
          { encoding: "utf8", env: { ...process.env, ...c.env } },
        );
        const line = (child.stdout ?? "").split("\n").find((l) => l.startsWith("{"));
        if (child.status !== 0 || !line) throw new Error(`${c.who} ×${threads} failed:\n${child.stderr}`);
        const r = JSON.parse(line) as Result;
        if (r.who !== c.who) throw new Error(`asked for ${c.who}, the child ran ${r.who}`);
        results.push({ ...r, round });
        const split =
          r.conv === undefined
            ? ""
            : `  conv ${r.conv.toFixed(2)} (${(FLOP.conv / r.conv / 1e6).toFixed(1)} GFLOP/s)` +
              `  affine ${r.affine!.toFixed(2)} (${(FLOP.affine / r.affine! / 1e6).toFixed(1)} GFLOP/s)` +
              `  rest ${r.other!.toFixed(2)}`;
        console.log(
          `round ${round} ${`${r.who} ×${threads}`.padEnd(18)} ${r.ms.toFixed(2)} ms/100 (best ${r.best.toFixed(2)}, cpu ${r.cpu.toFixed(2)})${split}`,
        );
      }
    }
  }
  console.log("\nzerodl's speed over ORT Web's, per round (ORT ms / zerodl ms):");
  for (const who of configs.map((c) => c.who).filter((w) => w !== "ort-web")) {
    for (const threads of [1, 2]) {
      const ratios = results
        .filter((r) => r.who === who && r.threads === threads)
        .map((r) => {
          const ort = results.find(
            (o) => o.who === "ort-web" && o.threads === threads && o.round === r.round,
          )!;
          return (ort.ms / r.ms).toFixed(2);
        });
      console.log(`  ${who} ×${threads}: ${ratios.join(", ")}`);
    }
  }
  if (json) writeFileSync(json, `${JSON.stringify({ flop: FLOP, batches: BATCHES, results }, null, 1)}\n`);
}

if (args[0] === "--child") {
  const [, who, threads, passes] = args;
  const r =
    who === "ort-web"
      ? await ortChild(Number(threads), Number(passes))
      : await zerodlChild(Number(threads), Number(passes));
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0);
} else {
  parent();
}

/**
 * `npm run bench -- --peers`: zerodl against the libraries a user would pick instead, interleaved
 * in one run so that they share the machine's moods: PyTorch on the CPU (bench/pytorch_peer.py, run
 * by the Python in ZERODL_TORCH_PYTHON or /usr/bin/python3 when it has torch), ONNX Runtime Web
 * (WebAssembly SIMD, its threads on worker_threads; a dev dependency) and ONNX Runtime Node (native;
 * only when installed by hand, see bench/README.md).
 *
 * The networks are the book's SimpleConvNet and DeepConvNet at batch 100. ONNX Runtime runs zerodl's
 * own ONNX export (src/io/onnx/export.ts) of the very networks the zerodl rows time, with the same
 * seeded weights (inference only: ONNX Runtime does not train). Each round runs every contestant once per thread count, each in its own
 * process, in the same order; ratios are taken within a round, and the tables give the median over
 * rounds with the slowest and fastest. On a shared machine the CPU time per step (all threads of
 * the process) moves less than the wall time; both are reported.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RELAXED_PROBE, relaxedSimdSupported } from "../src/backend/wasm.js";
import { RELAXED_SIMD_FLAG } from "../src/backend/node-relaxed.js";
import { exportOnnx } from "../src/io/onnx/export.js";
import { DeepConvNet } from "../src/models/deep-conv-net.js";
import { SimpleConvNet } from "../src/models/simple-conv-net.js";
import { Rng } from "../src/rng.js";

/** What every contestant reports for one (model, threads); training fields absent for ORT. */
export interface PeerResult {
  peer: string;
  model: string;
  threads: number;
  secondsPerEpoch?: number;
  cpuMsPerIteration?: number;
  imagesPerSecond?: number;
  inferenceCpuMsPer100?: number;
}

/** The networks as bench/run.ts builds them (seed 42), exported to ONNX by zerodl. */
const EXPORTED: Record<string, () => Uint8Array> = {
  "simple-conv": () => exportOnnx(new SimpleConvNet({}, new Rng(42))),
  "deep-conv": () => exportOnnx(new DeepConvNet({}, new Rng(42))),
};
/** Inference images per timed pass, as bench/run.ts and bench/pytorch_peer.py use. */
const INFERENCE: Record<string, number> = { "simple-conv": 10000, "deep-conv": 2000 };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface OrtModule {
  env: { wasm: { numThreads: number; simd?: boolean } };
  Tensor: new (type: "float32", data: Float32Array, dims: number[]) => unknown;
  InferenceSession: {
    create(
      model: Uint8Array | string,
      options: Record<string, unknown>,
    ): Promise<{ inputNames: readonly string[]; run(feeds: Record<string, unknown>): Promise<unknown> }>;
  };
}

/** The installed ONNX Runtime package, or null: "onnxruntime-web" or "onnxruntime-node". */
function loadOrt(name: string): OrtModule | null {
  try {
    return createRequire(import.meta.url)(name) as OrtModule;
  } catch {
    return null;
  }
}

/** Child: ONNX Runtime inference of one fixture at batch 100; prints one JSON line. */
export async function runOrtChild(
  peer: string,
  model: string,
  threads: number,
  quick: boolean,
): Promise<void> {
  const ort = loadOrt(peer === "ort-web" ? "onnxruntime-web" : "onnxruntime-node");
  if (!ort) throw new Error(`${peer}: package not installed`);
  const options: Record<string, unknown> = { graphOptimizationLevel: "all" };
  if (peer === "ort-web") {
    ort.env.wasm.numThreads = threads;
    options.executionProviders = ["wasm"];
  } else {
    Object.assign(options, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential" });
  }
  const session = await ort.InferenceSession.create(EXPORTED[model](), options);
  const B = 100;
  const images = quick ? INFERENCE[model] / 5 : INFERENCE[model];
  const x = new Float32Array(B * 784).map((_, i) => ((i * 7919) % 256) / 255);
  const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", x, [B, 1, 28, 28]) };
  for (let r = 0; r < 2; r++) await session.run(feeds);
  const passes = quick ? 1 : 5;
  const seconds: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let p = 0; p < passes; p++) {
    const t0 = performance.now();
    for (let s = 0; s < images; s += B) await session.run(feeds);
    seconds.push((performance.now() - t0) / 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  const result: PeerResult = {
    peer,
    model,
    threads,
    imagesPerSecond: images / median(seconds),
    inferenceCpuMsPer100: (cpu.user + cpu.system) / 1000 / passes / (images / 100),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

/** The Python with torch that runs bench/pytorch_peer.py, or null. */
function torchPython(): string | null {
  const python = process.env.ZERODL_TORCH_PYTHON ?? "/usr/bin/python3";
  if (!existsSync(python)) return null;
  const probe = spawnSync(python, ["-c", "import torch"], { encoding: "utf8" });
  return probe.status === 0 ? python : null;
}

/** Whether this Node accepts RELAXED_SIMD_FLAG and then validates a relaxed-SIMD module. */
function relaxedFlagWorks(): boolean {
  const check = "process.exit(WebAssembly.validate(new Uint8Array(JSON.parse(process.argv[1]))) ? 0 : 1)";
  const probe = spawnSync(process.execPath, [
    RELAXED_SIMD_FLAG,
    "-e",
    check,
    JSON.stringify([...RELAXED_PROBE]),
  ]);
  return probe.status === 0;
}

/** Every JSON line a child printed, or an error with its stderr. */
function childLines(what: string, child: ReturnType<typeof spawnSync>): Record<string, unknown>[] {
  const out = String(child.stdout ?? "");
  if (child.status !== 0)
    throw new Error(`bench peer ${what} failed (status ${child.status}):\n${child.stderr}`);
  return out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export interface PeersOptions {
  /** bench/run.ts, whose `--child` and `--peer-child` modes run zerodl and ONNX Runtime. */
  script: string;
  quick: boolean;
  models: string[];
  threads: number[];
  rounds: number;
  /** False skips PyTorch even where it is installed. */
  pytorch: boolean;
  /** False skips the `zerodl train` contestant. */
  cli: boolean;
  log: (line: string) => void;
}

/** Runs the rounds and prints the tables; returns every result, tagged with its round. */
export function peersSection(o: PeersOptions): (PeerResult & { round: number })[] {
  const python = o.pytorch ? torchPython() : null;
  const ortNode = loadOrt("onnxruntime-node") !== null;
  // zerodl as this bench runs it (relaxed SIMD's fused multiply-add wherever the engine has it, as
  // the CLI does; plain SIMD with ZERODL_RELAXED_SIMD=0), and its other SIMD build.
  const other = relaxedSimdSupported() ? "zerodl-plain" : relaxedFlagWorks() ? "zerodl-relaxed" : null;
  const peers = [
    "zerodl",
    ...(o.cli ? ["zerodl-cli"] : []),
    ...(other ? [other] : []),
    ...(python ? ["pytorch"] : []),
    "ort-web",
    ...(ortNode ? ["ort-node"] : []),
  ];
  o.log(
    `\npeers: ${peers.join(", ")}${python || !o.pytorch ? "" : " (PyTorch: no python3 with torch; set ZERODL_TORCH_PYTHON)"}` +
      `${ortNode ? "" : " (ONNX Runtime Node: not installed, see bench/README.md)"}; ${o.rounds} round(s)`,
  );
  const node = [...process.execArgv, o.script];
  const quick = o.quick ? ["--quick"] : [];
  const results: (PeerResult & { round: number })[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    for (const model of o.models) {
      for (const threads of o.threads) {
        for (const peer of peers) {
          let lines: Record<string, unknown>[];
          if (peer === "zerodl-cli") {
            lines = [{ ...cliEpoch(model, threads, o.quick) }];
          } else if (peer.startsWith("zerodl")) {
            const flags = peer === "zerodl-relaxed" ? [RELAXED_SIMD_FLAG] : [];
            const relaxed = { "zerodl-plain": "0", "zerodl-relaxed": "1" }[peer];
            const env = relaxed ? { ...process.env, ZERODL_RELAXED_SIMD: relaxed } : process.env;
            const child = spawnSync(
              process.execPath,
              [...flags, ...node, "--child", model, "wasm", String(threads), ...quick],
              { encoding: "utf8", maxBuffer: 1 << 24, env },
            );
            lines = childLines(`${peer} ${model}`, child).map((r) => ({ ...r, peer }));
          } else if (peer === "pytorch") {
            const script = fileURLToPath(new URL("pytorch_peer.py", import.meta.url));
            const args = [script, "--models", model, "--threads", String(threads), ...quick];
            lines = childLines(`pytorch ${model}`, spawnSync(python as string, args, { encoding: "utf8" }));
          } else {
            const child = spawnSync(
              process.execPath,
              [...node, "--peer-child", peer, model, String(threads), ...quick],
              { encoding: "utf8", maxBuffer: 1 << 24 },
            );
            lines = childLines(`${peer} ${model}`, child);
          }
          for (const r of lines) results.push({ ...(r as unknown as PeerResult), round });
        }
      }
    }
  }
  printTables(o, peers, results);
  return results;
}

/**
 * `zerodl train` itself (the CLI as a user runs it: shuffled batches, the Trainer's per-step checks,
 * its per-epoch evaluation on 100 + 100 images, no progress bar since stderr is not a terminal): the
 * seconds of its first epoch, projected to 600 iterations when `quick` trains on 3,000 images.
 */
function cliEpoch(model: string, threads: number, quick: boolean): PeerResult {
  const dir = mkdtempSync(join(tmpdir(), "zerodl-bench-cli-"));
  const images = quick ? 3000 : 60000;
  const perEpoch = images / 100;
  const cli = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
  // Stops (as if interrupted, saving a checkpoint: exit status 130) one step into epoch 2, so that
  // epoch 1's line, with its time, has been printed.
  const args = [
    ...process.execArgv,
    cli,
    "train",
    ...["--model", model, "--data", "mnist", "--epochs", "2", "--threads", String(threads)],
    ...["--eval-samples", "100", "--stop-after", String(perEpoch + 1), "--out", join(dir, "m.safetensors")],
    ...(quick ? ["--limit", String(images)] : []),
  ];
  try {
    const child = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 24 });
    const seconds = /^epoch\s+1\/2 .*\(([\d.]+) s\)$/m.exec(child.stdout ?? "")?.[1];
    if (child.status !== 130 || seconds === undefined) {
      throw new Error(
        `bench peer zerodl train ${model} failed (status ${child.status}):\n${child.stdout}${child.stderr}`,
      );
    }
    return { peer: "zerodl-cli", model, threads, secondsPerEpoch: (Number(seconds) * 600) / perEpoch };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const NAMES: Record<string, string> = {
  "simple-conv": "SimpleConvNet",
  "deep-conv": "DeepConvNet",
  zerodl: "zerodl",
  "zerodl-cli": "zerodl train (CLI)",
  "zerodl-relaxed": "zerodl relaxed SIMD",
  "zerodl-plain": "zerodl plain SIMD",
  pytorch: "PyTorch",
  "ort-web": "ORT Web",
  "ort-node": "ORT Node",
};

function printTables(o: PeersOptions, peers: string[], results: (PeerResult & { round: number })[]): void {
  const pick = (peer: string, model: string, threads: number, key: keyof PeerResult) =>
    results
      .filter((r) => r.peer === peer && r.model === model && r.threads === threads && r[key] !== undefined)
      .map((r) => ({ round: r.round, value: r[key] as number }));
  const cell = (values: number[], digits: number) =>
    values.length === 0
      ? "—"
      : values.length === 1
        ? values[0].toFixed(digits)
        : `${median(values).toFixed(digits)} [${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}]`;
  const rows: [string, keyof PeerResult, number][] = [
    ["training s/epoch", "secondsPerEpoch", 2],
    ["training cpu ms/step", "cpuMsPerIteration", 1],
    ["inference img/s", "imagesPerSecond", 0],
    ["inference cpu ms/100 img", "inferenceCpuMsPer100", 1],
  ];
  const width = 28;
  o.log(`median over rounds [slowest–fastest], batch 100`);
  o.log(`${"".padEnd(44)}${peers.map((p) => NAMES[p].padEnd(width)).join("")}`);
  for (const model of o.models) {
    for (const [label, key, digits] of rows) {
      for (const threads of o.threads) {
        const cells = peers.map((p) =>
          cell(
            pick(p, model, threads, key).map((v) => v.value),
            digits,
          ).padEnd(width),
        );
        o.log(`${`${NAMES[model]} ${label} ×${threads}`.padEnd(44)}${cells.join("")}`);
      }
    }
  }
  // Ratios within each round: how many times faster zerodl is (above 1: zerodl ahead).
  o.log(`\nzerodl's speed over each peer's, per round (median [min–max]; > 1: zerodl faster)`);
  const ratio = (
    model: string,
    threads: number,
    peer: string,
    key: keyof PeerResult,
    higherIsFaster: boolean,
  ) => {
    const ours = pick("zerodl", model, threads, key);
    const theirs = pick(peer, model, threads, key);
    return ours.flatMap(({ round, value }) => {
      const t = theirs.find((x) => x.round === round);
      return t ? [higherIsFaster ? value / t.value : t.value / value] : [];
    });
  };
  for (const model of o.models) {
    for (const threads of o.threads) {
      for (const peer of peers.slice(1)) {
        const parts: string[] = [];
        const train = ratio(model, threads, peer, "secondsPerEpoch", false);
        if (train.length) parts.push(`training ${cell(train, 2)}×`);
        const trainCpu = ratio(model, threads, peer, "cpuMsPerIteration", false);
        if (trainCpu.length) parts.push(`(cpu ${cell(trainCpu, 2)}×)`);
        const infer = ratio(model, threads, peer, "imagesPerSecond", true);
        if (infer.length) parts.push(`inference ${cell(infer, 2)}×`);
        o.log(`  ${NAMES[model]} ×${threads} vs ${NAMES[peer]}: ${parts.join("  ")}`);
      }
    }
  }
  const [one, many] = [Math.min(...o.threads), Math.max(...o.threads)];
  if (one !== many) {
    o.log(`\n${many} threads over ${one}, per round (median [min–max])`);
    for (const peer of peers) {
      for (const model of o.models) {
        const scaling = (key: keyof PeerResult, higherIsFaster: boolean) => {
          const a = pick(peer, model, one, key);
          const b = pick(peer, model, many, key);
          return a.flatMap(({ round, value }) => {
            const t = b.find((x) => x.round === round);
            return t ? [higherIsFaster ? t.value / value : value / t.value] : [];
          });
        };
        const train = scaling("secondsPerEpoch", false);
        const infer = scaling("imagesPerSecond", true);
        o.log(
          `  ${NAMES[peer]} ${NAMES[model]}: ${[train.length ? `training ${cell(train, 2)}×` : "", infer.length ? `inference ${cell(infer, 2)}×` : ""].filter(Boolean).join("  ")}`,
        );
      }
    }
  }
}

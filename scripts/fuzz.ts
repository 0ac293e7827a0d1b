/**
 * The long fuzz run of the file readers (the default test suite runs 2,000 cases per kind):
 *
 *   npm run fuzz                              # 100,000 cases of each kind, seed 1
 *   npm run fuzz -- --cases 20000 --seed 7 safetensors png
 *
 * Each kind runs in a child process watched from here: a child that reports no progress for
 * --hang-seconds (default 60; a case takes milliseconds) is stopped and the case it was on is
 * reported as a hang, and a child that dies (out of memory, say) is reported with its last case.
 * Exits 1 if any case failed, hung or crashed.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { describeReport, fuzz, type FuzzReport } from "../test/fuzz/run.js";
import { fuzzTargets, type FuzzTargetName } from "../test/fuzz/targets.js";

interface Job {
  name: FuzzTargetName;
  cases: number;
  seed: number;
}

type Message = { type: "progress"; done: number } | { type: "report"; report: FuzzReport };

if (process.send === undefined) {
  await main();
} else {
  // A child: one kind, reporting over IPC.
  const job = JSON.parse(process.argv[2]) as Job;
  const send = (m: Message) => new Promise<void>((resolve) => process.send!(m, () => resolve()));
  const report = await fuzz(fuzzTargets[job.name](), {
    cases: job.cases,
    seed: job.seed,
    onProgress: (done) => void send({ type: "progress", done }),
  });
  await send({ type: "report", report });
  process.disconnect();
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      cases: { type: "string", default: "100000" },
      seed: { type: "string", default: "1" },
      "hang-seconds": { type: "string", default: "60" },
    },
    allowPositionals: true,
  });
  const names = (positionals.length ? positionals : Object.keys(fuzzTargets)) as FuzzTargetName[];
  for (const n of names) {
    if (!(n in fuzzTargets))
      throw new Error(`unknown kind "${n}"; kinds: ${Object.keys(fuzzTargets).join(", ")}`);
  }
  const cases = Number(values.cases);
  const seed = Number(values.seed);
  const hangMs = Number(values["hang-seconds"]) * 1000;
  let bad = 0;
  for (const name of names) {
    const started = performance.now();
    const outcome = await runInChild({ name, cases, seed }, hangMs);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if ("report" in outcome) {
      for (const line of describeReport(outcome.report)) console.log(line);
      console.log(`  (${seconds} s, seed ${seed})`);
      bad += outcome.report.failures.length;
    } else {
      console.log(`${name}: ${outcome.problem} at case ${outcome.lastCase} or soon after (seed ${seed})`);
      bad++;
    }
  }
  process.exitCode = bad > 0 ? 1 : 0;
}

function runInChild(
  job: Job,
  hangMs: number,
): Promise<{ report: FuzzReport } | { problem: string; lastCase: number }> {
  return new Promise((resolve) => {
    const child = fork(fileURLToPath(import.meta.url), [JSON.stringify(job)], {
      execArgv: ["--import", "tsx"],
    });
    let lastCase = 0;
    let settled = false;
    const settle = (outcome: { report: FuzzReport } | { problem: string; lastCase: number }) => {
      clearTimeout(timer);
      if (!settled) resolve(outcome);
      settled = true;
    };
    const hung = () => {
      settle({ problem: `no progress for ${hangMs / 1000} s (a hang)`, lastCase });
      child.kill("SIGKILL");
    };
    let timer = setTimeout(hung, hangMs);
    child.on("message", (m: Message) => {
      clearTimeout(timer);
      if (m.type === "report") return settle({ report: m.report });
      lastCase = m.done;
      timer = setTimeout(hung, hangMs);
    });
    child.on("exit", (code, signal) =>
      settle({ problem: `the child process ended (code ${code}, ${signal ?? "no signal"})`, lastCase }),
    );
  });
}

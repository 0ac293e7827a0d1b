/**
 * The fuzz loop: `cases` mutants of a target's seed files, each read by the target's reader. A
 * case passes when the file loads and what it gave back is sound, or when the reader throws one of
 * the target's error classes with a message that starts with the file's name. Anything else (a
 * TypeError or RangeError from deep inside, an error without the file name, a bad result) is a
 * failure, reported with the case's number so that `mutant(target, seed, i)` rebuilds it exactly.
 */
import { Rng } from "../../src/rng.js";
import { mutate, type Mutant } from "./mutate.js";
import type { FuzzTarget } from "./targets.js";

export interface FuzzFailure {
  case: number;
  what: string;
  problem: string;
}

export interface FuzzReport {
  target: string;
  cases: number;
  loaded: number;
  rejected: number;
  /** Rejections by the start of their message (after the file name), most frequent first. */
  reasons: [string, number][];
  failures: FuzzFailure[];
}

/** Case `i` of a run with `seed`: the same bytes on every machine. */
export function mutant(target: FuzzTarget, seed: number, i: number): Mutant {
  const rng = new Rng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0);
  const k = rng.int(target.seeds.length);
  const others = target.seeds.filter((_, j) => j !== k);
  const m = mutate(target.seeds[k], rng, target.mutators, others.length ? others : target.seeds);
  return { bytes: m.bytes, what: `seed file ${k}: ${m.what}` };
}

export async function fuzz(
  target: FuzzTarget,
  options: { cases: number; seed: number; from?: number; onProgress?: (done: number) => void },
): Promise<FuzzReport> {
  const report: FuzzReport = {
    target: target.name,
    cases: 0,
    loaded: 0,
    rejected: 0,
    reasons: [],
    failures: [],
  };
  const reasons = new Map<string, number>();
  const prefix = `${target.fileName}:`; // "name: …", or "name:line: …" for a text file
  const first = options.from ?? 0;
  for (let i = first; i < first + options.cases; i++) {
    // Let the event loop run now and then: a worker that never yields cannot answer its test runner.
    if (i % 32 === 0) {
      options.onProgress?.(i - first);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const m = mutant(target, options.seed, i);
    report.cases++;
    try {
      const problem = await target.read(m.bytes, target.fileName);
      if (problem === null) report.loaded++;
      else report.failures.push({ case: i, what: m.what, problem: `loaded, but ${problem}` });
    } catch (e) {
      const error = e as Error;
      const typed = target.errors.some((E) => error instanceof E);
      if (typed && error.message.startsWith(prefix)) {
        report.rejected++;
        const reason = error.message
          .slice(prefix.length)
          .replace(/^\d+: /, "") // a text file's line number
          .split(/[(\n]/)[0]
          .replace(/\d+/g, "N")
          .replace(/"[^"]*"/g, '"…"')
          .slice(0, 70)
          .trim();
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      } else {
        const where = error.stack?.split("\n")[1]?.trim() ?? "";
        report.failures.push({
          case: i,
          what: m.what,
          problem: `${typed ? "message without the file name" : "untyped error"}: ${error.name}: ${error.message.split("\n")[0]} ${where}`,
        });
      }
    }
  }
  report.reasons = [...reasons].sort((a, b) => b[1] - a[1]);
  return report;
}

/** A report as lines for a log. */
export function describeReport(r: FuzzReport): string[] {
  const lines = [
    `${r.target}: ${r.cases} cases: ${r.loaded} loaded, ${r.rejected} rejected, ${r.failures.length} failures`,
  ];
  for (const [reason, count] of r.reasons.slice(0, 12))
    lines.push(`  ${String(count).padStart(6)}  ${reason}`);
  if (r.reasons.length > 12) lines.push(`  … ${r.reasons.length - 12} more kinds of rejection`);
  for (const f of r.failures.slice(0, 20)) lines.push(`  FAILURE case ${f.case} (${f.what}): ${f.problem}`);
  return lines;
}

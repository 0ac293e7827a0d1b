import { OptionError } from "../errors.js";

/** `value` when it is a positive integer; otherwise an OptionError that names `owner` and `name`. */
export function positiveInteger(owner: string, name: string, value: number | undefined): number {
  if (value === undefined || !Number.isInteger(value) || value < 1) {
    throw new OptionError(`${owner}: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * A training run's length, as Trainer and GanTrainer take it: `iterations` in all (and the epochs
 * they reach into), or else `epochs` whole passes of `iterationsPerEpoch` iterations each.
 */
export function runLength(
  owner: string,
  iterationsPerEpoch: number,
  options: { iterations?: number; epochs?: number },
): { iterations: number; epochs: number } {
  if (options.iterations !== undefined) {
    const iterations = positiveInteger(owner, "iterations", options.iterations);
    return { iterations, epochs: Math.ceil(iterations / iterationsPerEpoch) };
  }
  const epochs = positiveInteger(owner, "epochs", options.epochs);
  return { iterations: epochs * iterationsPerEpoch, epochs };
}

/** The counts of where a run stands, common to Trainer's and GanTrainer's resume positions. */
export interface RunCounts {
  iteration: number;
  epoch: number;
  batchesDone: number;
  count: number;
}

/**
 * Refuses a resume position whose counts are not non-negative integers (the epoch from 1) or whose
 * running `sums` are not finite: what a hand-edited or corrupt checkpoint would hold.
 */
export function checkResumeCounts(owner: string, position: RunCounts, sums: readonly number[]): void {
  const { iteration, epoch, batchesDone, count } = position;
  if (
    ![iteration, epoch, batchesDone, count].every((n) => Number.isInteger(n) && n >= 0) ||
    epoch < 1 ||
    !sums.every(Number.isFinite)
  ) {
    throw new OptionError(`${owner}: resume position is not valid: ${JSON.stringify(position)}`);
  }
}

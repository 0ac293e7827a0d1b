import { describe, expect, it } from "vitest";
import { checkResumeCounts, runLength } from "./run-length.js";

describe("runLength", () => {
  it("counts iterations from epochs, or the epochs that iterations reach into", () => {
    expect(runLength("T", 7, { epochs: 3 })).toEqual({ iterations: 21, epochs: 3 });
    expect(runLength("T", 7, { iterations: 15 })).toEqual({ iterations: 15, epochs: 3 });
    expect(runLength("T", 7, { iterations: 14, epochs: 9 })).toEqual({ iterations: 14, epochs: 2 });
  });

  it("refuses a length that is not a positive integer, naming its owner", () => {
    expect(() => runLength("GanTrainer", 7, {})).toThrow(
      "GanTrainer: epochs must be a positive integer, got undefined",
    );
    expect(() => runLength("Trainer", 7, { iterations: 2.5 })).toThrow(
      "Trainer: iterations must be a positive integer, got 2.5",
    );
  });
});

describe("checkResumeCounts", () => {
  const position = { iteration: 5, epoch: 2, batchesDone: 1, count: 1 };

  it("takes counts that are non-negative integers (the epoch from 1) and finite sums", () => {
    expect(() => checkResumeCounts("T", position, [0.5, 3])).not.toThrow();
  });

  it.each([
    ["a negative count", { ...position, batchesDone: -1 }, [0]],
    ["a fractional count", { ...position, iteration: 4.5 }, [0]],
    ["epoch 0", { ...position, epoch: 0 }, [0]],
    ["a sum that is not finite", position, [0, Number.NaN]],
  ])("refuses %s, showing the position", (_, bad, sums) => {
    expect(() => checkResumeCounts("Trainer", bad, sums)).toThrow(
      `Trainer: resume position is not valid: ${JSON.stringify(bad)}`,
    );
  });
});

import { describe, expect, it } from "vitest";
import { AND, NAND, OR, XOR } from "./perceptron.js";

const inputs = [
  [0, 0],
  [1, 0],
  [0, 1],
  [1, 1],
] as const;

describe("perceptron gates (chapter 2)", () => {
  it.each([
    ["AND", AND, [0, 0, 0, 1]],
    ["NAND", NAND, [1, 1, 1, 0]],
    ["OR", OR, [0, 1, 1, 1]],
    ["XOR", XOR, [0, 1, 1, 0]],
  ] as const)("%s has its truth table", (_name, gate, table) => {
    expect(inputs.map(([x1, x2]) => gate(x1, x2))).toEqual(table);
  });
});

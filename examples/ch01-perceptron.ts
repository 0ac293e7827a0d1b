// Chapter 2 of the book (perceptrons): AND, NAND and OR gates with the book's weights, and XOR as
// a 2-layer perceptron.  Run: npx tsx examples/ch01-perceptron.ts
import { AND, AND_GATE, NAND, NAND_GATE, OR, OR_GATE, XOR } from "../src/index.js";

const inputs = [
  [0, 0],
  [1, 0],
  [0, 1],
  [1, 1],
] as const;

const gates = [
  ["AND", AND, `w = (${AND_GATE.w}), b = ${AND_GATE.b}`],
  ["NAND", NAND, `w = (${NAND_GATE.w}), b = ${NAND_GATE.b}`],
  ["OR", OR, `w = (${OR_GATE.w}), b = ${OR_GATE.b}`],
  ["XOR", XOR, "NAND and OR, then AND"],
] as const;

for (const [name, gate, how] of gates) {
  console.log(`${name} (${how})`);
  for (const [x1, x2] of inputs) console.log(`  ${x1} ${x2} -> ${gate(x1, x2)}`);
}

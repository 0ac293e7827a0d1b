/**
 * Chapter 1: logic gates as perceptrons. Each fires (1) when w·x + b > 0, with the book's weights
 * and biases; XOR, which no single line separates, is two layers of them.
 */
export type Bit = 0 | 1;

interface Gate {
  readonly w: readonly [number, number];
  readonly b: number;
}

export const AND_GATE: Gate = { w: [0.5, 0.5], b: -0.7 };
export const NAND_GATE: Gate = { w: [-0.5, -0.5], b: 0.7 };
export const OR_GATE: Gate = { w: [0.5, 0.5], b: -0.2 };

/** A perceptron with two inputs: 1 when w1·x1 + w2·x2 + b > 0, else 0. */
export function perceptron({ w, b }: Gate, x1: number, x2: number): Bit {
  return w[0] * x1 + w[1] * x2 + b > 0 ? 1 : 0;
}

export function AND(x1: number, x2: number): Bit {
  return perceptron(AND_GATE, x1, x2);
}

export function NAND(x1: number, x2: number): Bit {
  return perceptron(NAND_GATE, x1, x2);
}

export function OR(x1: number, x2: number): Bit {
  return perceptron(OR_GATE, x1, x2);
}

/** The 2-layer perceptron of figure 2-13: s1 = NAND, s2 = OR, y = AND(s1, s2). */
export function XOR(x1: number, x2: number): Bit {
  const s1 = NAND(x1, x2);
  const s2 = OR(x1, x2);
  return AND(s1, s2);
}

import { describe, expect, it } from "vitest";
import { numericalDiff } from "../functions.js";
import { AddLayer } from "./add-layer.js";
import { MulLayer } from "./mul-layer.js";

describe("MulLayer (buying apples, book 5.4.1)", () => {
  it("prices 2 apples at 100 with 10% tax: 220; gradients 2.2, 110, 200", () => {
    const [apple, appleNum, tax] = [100, 2, 1.1];
    const mulAppleLayer = new MulLayer();
    const mulTaxLayer = new MulLayer();
    const applePrice = mulAppleLayer.forward(apple, appleNum);
    const price = mulTaxLayer.forward(applePrice, tax);
    expect(price).toBeCloseTo(220, 10);

    const [dApplePrice, dTax] = mulTaxLayer.backward(1);
    const [dApple, dAppleNum] = mulAppleLayer.backward(dApplePrice);
    expect(dApple).toBeCloseTo(2.2, 12);
    expect(dAppleNum).toBeCloseTo(110, 10);
    expect(dTax).toBe(200);
  });
});

describe("MulLayer and AddLayer gradients", () => {
  it("match central differences of their forward", () => {
    const [x, y, dout] = [1.7, -0.4, 2.5];
    const mul = new MulLayer();
    const add = new AddLayer();
    mul.forward(x, y);
    add.forward(x, y);
    const [mdx, mdy] = mul.backward(dout);
    const [adx, ady] = add.backward(dout);
    expect(mdx).toBeCloseTo(dout * numericalDiff((v) => new MulLayer().forward(v, y), x), 8);
    expect(mdy).toBeCloseTo(dout * numericalDiff((v) => new MulLayer().forward(x, v), y), 8);
    expect(adx).toBeCloseTo(dout * numericalDiff((v) => new AddLayer().forward(v, y), x), 8);
    expect(ady).toBeCloseTo(dout * numericalDiff((v) => new AddLayer().forward(x, v), y), 8);
  });
});

import { describe, expect, it } from "vitest";
import { AddLayer } from "./add-layer.js";
import { MulLayer } from "./mul-layer.js";

describe("AddLayer (apples and oranges, book 5.4.2)", () => {
  it("passes dout to both inputs", () => {
    const add = new AddLayer();
    expect(add.forward(2, 3)).toBe(5);
    expect(add.backward(1.5)).toEqual([1.5, 1.5]);
  });

  it("prices 2 apples and 3 oranges with tax: 715; gradients 2.2, 110, 3.3, 165, 650", () => {
    const [apple, appleNum, orange, orangeNum, tax] = [100, 2, 150, 3, 1.1];
    const mulAppleLayer = new MulLayer();
    const mulOrangeLayer = new MulLayer();
    const addAppleOrangeLayer = new AddLayer();
    const mulTaxLayer = new MulLayer();

    const applePrice = mulAppleLayer.forward(apple, appleNum);
    const orangePrice = mulOrangeLayer.forward(orange, orangeNum);
    const allPrice = addAppleOrangeLayer.forward(applePrice, orangePrice);
    const price = mulTaxLayer.forward(allPrice, tax);
    expect(price).toBeCloseTo(715, 10);

    const [dAllPrice, dTax] = mulTaxLayer.backward(1);
    const [dApplePrice, dOrangePrice] = addAppleOrangeLayer.backward(dAllPrice);
    const [dOrange, dOrangeNum] = mulOrangeLayer.backward(dOrangePrice);
    const [dApple, dAppleNum] = mulAppleLayer.backward(dApplePrice);
    expect(dApple).toBeCloseTo(2.2, 12);
    expect(dAppleNum).toBeCloseTo(110, 10);
    expect(dOrange).toBeCloseTo(3.3, 12);
    expect(dOrangeNum).toBeCloseTo(165, 10);
    expect(dTax).toBe(650);
  });
});

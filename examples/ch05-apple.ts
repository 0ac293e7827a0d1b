// Chapter 5 of the book: backpropagation through a computational graph, buying apples (5.4).
// Run: npx tsx examples/ch05-apple.ts
// As the book prints them: prices and counts through int() (Math.trunc), the rest as they are.
import { AddLayer, MulLayer } from "../src/index.js";

const apple = 100;
const appleNum = 2;
const orange = 150;
const orangeNum = 3;
const tax = 1.1;

{
  // Buy 2 apples: price = apple · appleNum · tax.
  const mulAppleLayer = new MulLayer();
  const mulTaxLayer = new MulLayer();

  const applePrice = mulAppleLayer.forward(apple, appleNum);
  const price = mulTaxLayer.forward(applePrice, tax);

  const [dApplePrice, dTax] = mulTaxLayer.backward(1);
  const [dApple, dAppleNum] = mulAppleLayer.backward(dApplePrice);

  console.log("buy apple");
  console.log("  price:", Math.trunc(price)); // 220
  console.log("  dApple:", dApple); // 2.2
  console.log("  dAppleNum:", Math.trunc(dAppleNum)); // 110
  console.log("  dTax:", dTax); // 200
}

{
  // Buy 2 apples and 3 oranges: price = (apple · appleNum + orange · orangeNum) · tax.
  const mulAppleLayer = new MulLayer();
  const mulOrangeLayer = new MulLayer();
  const addAppleOrangeLayer = new AddLayer();
  const mulTaxLayer = new MulLayer();

  const applePrice = mulAppleLayer.forward(apple, appleNum);
  const orangePrice = mulOrangeLayer.forward(orange, orangeNum);
  const allPrice = addAppleOrangeLayer.forward(applePrice, orangePrice);
  const price = mulTaxLayer.forward(allPrice, tax);

  const [dAllPrice, dTax] = mulTaxLayer.backward(1);
  const [dApplePrice, dOrangePrice] = addAppleOrangeLayer.backward(dAllPrice);
  const [dOrange, dOrangeNum] = mulOrangeLayer.backward(dOrangePrice);
  const [dApple, dAppleNum] = mulAppleLayer.backward(dApplePrice);

  console.log("buy apple and orange");
  console.log("  price:", Math.trunc(price)); // 715
  console.log("  dApple:", dApple); // 2.2
  console.log("  dAppleNum:", Math.trunc(dAppleNum)); // 110
  console.log("  dOrange:", dOrange); // 3.3
  console.log("  dOrangeNum:", Math.trunc(dOrangeNum)); // 165
  console.log("  dTax:", dTax); // 650
}

import { describe, expect, it } from "vitest";
import { Rng } from "../rng.js";
import { randomUpstream } from "../testing/gradcheck.js";
import { checkLayerGradients } from "../testing/layer-gradcheck.js";
import { Flatten } from "./flatten.js";

describe("Flatten", () => {
  it("keeps the batch axis and restores the shape in backward", () => {
    const f = new Flatten();
    const x = randomUpstream([2, 3, 4, 5], new Rng(4));
    const y = f.forward(x);
    expect(y.shape).toEqual([2, 60]);
    expect(y.data).toEqual(x.data);
    expect(f.backward(y).shape).toEqual([2, 3, 4, 5]);
  });

  it("gradient-checks", () => {
    const rng = new Rng(5);
    checkLayerGradients(new Flatten(), randomUpstream([2, 2, 3], rng), rng);
  });
});

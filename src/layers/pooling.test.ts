import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { im2col } from "../ops/conv.js";
import { Rng } from "../rng.js";
import { assertAllClose } from "../testing/gradcheck.js";
import { checkLayerGradients } from "../testing/layer-gradcheck.js";
import { Pooling } from "./pooling.js";

/** Distinct values 0.01 apart in random order: no ties, and h = 1e-4 never changes a window's max. */
function distinct(shape: number[], rng: Rng): NDArray {
  const x = NDArray.zeros(shape, "float64");
  const order = rng.permutation(x.size);
  for (let i = 0; i < x.size; i++) x.data[i] = (order[i] - x.size / 2) * 0.01;
  return x;
}

const image = () =>
  NDArray.from(
    [
      [
        [
          [1, 2, 0, 2],
          [3, 4, 1, 0],
          [0, 1, 8, 2],
          [5, 1, 3, 6],
        ],
      ],
    ],
    undefined,
    "float64",
  );

/** The naive twin, the book's way: im2col, then the max or mean of each channel's window. */
function poolViaIm2col(x: NDArray, ph: number, pw: number, stride: number, kind: "max" | "avg"): NDArray {
  const [N, C, H, W] = x.shape;
  const OH = (H - ph) / stride + 1;
  const OW = (W - pw) / stride + 1;
  const col = im2col(x, ph, pw, stride, 0); // (N·OH·OW, C·PH·PW)
  const out = NDArray.zeros([N, C, OH, OW], x.dtype);
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let c = 0; c < C; c++) {
          const start = ((n * OH + oy) * OW + ox) * C * ph * pw + c * ph * pw;
          const window = Array.from(col.data.subarray(start, start + ph * pw));
          const value = kind === "max" ? Math.max(...window) : window.reduce((a, b) => a + b) / window.length;
          out.set(value, n, c, oy, ox);
        }
  return out;
}

describe("Pooling", () => {
  for (const kind of ["max", "avg"] as const) {
    it(`${kind} pooling matches the book's im2col pooling`, () => {
      const rng = new Rng(7);
      const x = NDArray.zeros([2, 3, 7, 7], "float64");
      rng.fillNormal(x.data);
      const y = new Pooling({ ph: 3, pw: 3, stride: 2, kind }).forward(x, "train");
      assertAllClose(y.data, poolViaIm2col(x, 3, 3, 2, kind).data, 1e-12, 0);
    });
  }

  it("max-pools 2×2 windows with stride 2 (hand-worked)", () => {
    const pool = new Pooling({ ph: 2, pw: 2, stride: 2 });
    expect(pool.forward(image(), "train").toArray()).toEqual([
      [
        [
          [4, 2],
          [5, 8],
        ],
      ],
    ]);
    // dout goes to each window's winner only
    const dx = pool.backward(
      NDArray.from(
        [
          [
            [
              [1, 2],
              [3, 4],
            ],
          ],
        ],
        undefined,
        "float64",
      ),
    );
    expect(dx.toArray()).toEqual([
      [
        [
          [0, 0, 0, 2],
          [0, 1, 0, 0],
          [0, 0, 4, 0],
          [3, 0, 0, 0],
        ],
      ],
    ]);
  });

  it("average-pools, counting padded cells as zeros (hand-worked)", () => {
    const avg = new Pooling({ ph: 2, pw: 2, stride: 2, kind: "avg" });
    expect(avg.forward(image(), "train").toArray()).toEqual([
      [
        [
          [2.5, 0.75],
          [1.75, 4.75],
        ],
      ],
    ]);
    // pad 1, 2×2 windows, stride 2 on 4×4 → 3×3; the corner window holds only x[0, 0] = 1
    const padded = new Pooling({ ph: 2, pw: 2, stride: 2, pad: 1, kind: "avg" }).forward(image(), "train");
    expect(padded.shape).toEqual([1, 1, 3, 3]);
    expect(padded.get(0, 0, 0, 0)).toBe(0.25);
    expect(padded.get(0, 0, 1, 1)).toBe((4 + 1 + 1 + 8) / 4);
  });

  for (const kind of ["max", "avg"] as const) {
    const cases: [number, number, number, number, number[]][] = [
      [2, 2, 2, 0, [2, 3, 4, 6]],
      [3, 3, 1, 1, [2, 3, 5, 6]], // overlapping windows
      [3, 2, 2, 1, [2, 3, 5, 6]],
      [2, 2, 2, 0, [1, 2, 5, 7]], // sizes that do not divide: the last row and column are left out
    ];
    for (const [ph, pw, stride, pad, shape] of cases) {
      it(`${kind} pooling passes the gradient check (${ph}×${pw}, stride ${stride}, pad ${pad})`, () => {
        const rng = new Rng(4);
        checkLayerGradients(new Pooling({ ph, pw, stride, pad, kind }), distinct(shape, rng), rng);
      });
    }
  }

  it("rejects an input that is not (N, C, H, W) and windows larger than the padded input", () => {
    const pool = new Pooling({ ph: 2, pw: 2, stride: 2 });
    expect(() => pool.forward(NDArray.zeros([2, 16]), "train")).toThrow(
      /expected an \(N, C, H, W\) input, got \(2, 16\)/,
    );
    expect(pool.forward(NDArray.zeros([1, 1, 5, 5]), "train").shape).toEqual([1, 1, 2, 2]);
    expect(() => new Pooling({ ph: 6, pw: 2 }).forward(NDArray.zeros([1, 1, 5, 5]), "train")).toThrow(
      /H=5, FH=6, P=0, S=1/,
    );
    expect(() => new Pooling({ ph: 2, pw: 2, kind: "min" as "max" })).toThrow(
      /unknown pooling kind "min"; valid: max, avg/,
    );
  });
});

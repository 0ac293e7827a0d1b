/**
 * Book half_float_network.py (§8.3.4): storing a
 * trained DeepConvNet's weights as float16 — half the bytes — leaves its accuracy unchanged. The
 * weights go through the library's own float16 model-file encoding (encodeModel with `half`) and
 * back, as a saved half-precision model would.
 *
 * Quick form: the first 500 test images (and, without a pretrained model, the slim net).
 */
import { subset } from "../src/data/dataset.js";
import { decodeModel, encodeModel, type SavableModel } from "../src/io/model-file.js";
import { createModel, type Model, type ModelSpec } from "../src/models/model.js";
import { Rng } from "../src/rng.js";
import { mnistImages } from "./common.js";
import { trainedDeepConvNet } from "./deep-convnet-model.js";
import { VEGA_LITE_SCHEMA, fmt, type Experiment } from "./experiment.js";
import { chartConfig, type ChartSpec } from "../src/plot/render.js";

export const halfPrecision: Experiment = {
  name: "half-precision",
  title: "float16 vs float32 weights",
  book: "§8.3.4 (half_float_network.py: float64 0.9935, float16 0.9935)",
  setup:
    "The DeepConvNet of the misclassified experiment; weights rounded to float16 through a model file; accuracy on the test set",
  quickForm: "500 test images; without a pretrained model a slim DeepConvNet trained on 2,000 images",
  async run({ quick, seed, log }) {
    const { model, source } = await trainedDeepConvNet({ quick, seed, log });
    const test = quick ? subset((await mnistImages()).test, 500) : (await mnistImages()).test;
    const build = (spec: SavableModel["spec"], dtype: "float32" | "float64") =>
      createModel(spec as ModelSpec, new Rng(0), dtype);
    const full = encodeModel(model as Model & SavableModel);
    const half = encodeModel(model as Model & SavableModel, {}, { half: true });
    const halfModel = decodeModel(half, "float16 weights", build).model;
    const acc32 = model.accuracy(test.x, test.labels);
    const acc16 = halfModel.accuracy(test.x, test.labels);
    // How far float16 rounding moved the weights, relative to their size.
    let maxRel = 0;
    model.params.forEach((p, k) => {
      const q = halfModel.params[k].value.data;
      for (let i = 0; i < p.value.size; i++) {
        const v = p.value.data[i];
        if (Math.abs(v) > 1e-4) maxRel = Math.max(maxRel, Math.abs(q[i] - v) / Math.abs(v));
      }
    });
    return {
      data: {
        source,
        testImages: test.labels.length,
        float32: acc32,
        float16: acc16,
        bytes: { float32: full.length, float16: half.length },
        maxRelativeWeightChange: maxRel,
      },
      figures: [
        {
          caption: "Accuracy is unchanged with float16 weights, stored in half the bytes.",
          spec: chart(acc32, acc16, full.length, half.length),
        },
      ],
      comparison: [
        { what: "accuracy with float32 weights", book: "0.9935 (float64)", ours: fmt(acc32) },
        { what: "accuracy with float16 weights", book: "0.9935", ours: fmt(acc16) },
        {
          what: "model file size float32 → float16",
          book: "half",
          ours: `${full.length} → ${half.length} bytes`,
        },
      ],
      summary: `float32 ${fmt(acc32)} vs float16 ${fmt(acc16)} on ${test.labels.length} test images (${source}).`,
    };
  },
};

function chart(acc32: number, acc16: number, bytes32: number, bytes16: number): ChartSpec {
  const bars = (
    field: string,
    title: string,
    values: { weights: string; value: number }[],
    format: string,
  ) => ({
    title,
    width: 200,
    height: 200,
    data: { values },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          x: {
            field: "weights",
            type: "nominal",
            title: null,
            axis: { labelAngle: 0 },
            sort: ["float32", "float16"],
          },
          y: { field: "value", type: "quantitative", title: field },
          color: {
            field: "weights",
            type: "nominal",
            legend: null,
            scale: { domain: ["float32", "float16"], range: ["#1f77b4", "#ff7f0e"] },
          },
        },
      },
      {
        mark: { type: "text", dy: -8 },
        encoding: {
          x: { field: "weights", type: "nominal", sort: ["float32", "float16"] },
          y: { field: "value", type: "quantitative" },
          text: { field: "value", type: "quantitative", format },
        },
      },
    ],
  });
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: "float16 vs float32 weights",
    config: chartConfig,
    hconcat: [
      bars(
        "accuracy",
        "Test accuracy",
        [
          { weights: "float32", value: acc32 },
          { weights: "float16", value: acc16 },
        ],
        ".4f",
      ),
      bars(
        "bytes",
        "Model file size",
        [
          { weights: "float32", value: bytes32 },
          { weights: "float16", value: bytes16 },
        ],
        ",",
      ),
    ],
  } as ChartSpec;
}

/** The pretrained model files in models/, sorted into classifiers (createModel's kinds) and the rest. */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readModelInfo } from "../src/io/model-file.js";
import { modelKinds, type ModelKind } from "../src/models/model.js";

export const modelsDir = fileURLToPath(new URL("../models/", import.meta.url));

/** Each shipped file with its model kind, and whether that kind is a classifier `loadModel` builds. */
export async function shippedModels(): Promise<{ file: string; kind: string; classifier: boolean }[]> {
  const files = readdirSync(modelsDir).filter((f) => f.endsWith(".safetensors"));
  return Promise.all(
    files.map(async (file) => {
      const { kind } = (await readModelInfo(modelsDir + file)).spec;
      return { file, kind, classifier: modelKinds.includes(kind as ModelKind) };
    }),
  );
}

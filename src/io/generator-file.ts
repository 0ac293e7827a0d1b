/**
 * A GAN's generator saved as a model file (safetensors with its architecture, as every zerodl
 * model): its spec has kind "generator" (a LayerChain), its input is a latent vector z ~ N(0, I)
 * and its output images in the spec's outputRange. Node only.
 */
import { LayerChain, type ChainSpec } from "../models/layer-chain.js";
import { Rng } from "../rng.js";
import { ModelFileError, loadModelWith, type LoadedModel } from "./model-file.js";

/** Reads a generator file; another kind of model file is refused (the message names its kind). */
export async function loadGenerator(path: string): Promise<LoadedModel<LayerChain>> {
  return loadModelWith(path, (spec, dtype) => {
    if (spec.kind !== "generator") {
      throw new ModelFileError(`it is not an image generator (zerodl gan trains one)`);
    }
    // The rng only initializes weights that are overwritten at once.
    return LayerChain.fromSpec(spec as ChainSpec, new Rng(0), dtype);
  });
}

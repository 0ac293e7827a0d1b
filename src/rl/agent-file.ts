/**
 * A trained agent's file (Node): the Q-network as a zerodl model file (safetensors; its spec of kind
 * "q-network"), with the recipe it was trained by (the environment, frames stacked, DQN settings,
 * seed) in the training record, so `zerodl rl play` needs nothing but the file.
 */
import { Rng } from "../rng.js";
import {
  ModelFileError,
  loadModelWith,
  saveModel,
  type ModelFileInfo,
  type ModelRecord,
} from "../io/model-file.js";
import { environmentNames, type EnvironmentSpec } from "./environments.js";
import { QNetwork, type QNetworkSpec } from "./q-network.js";
import type { AgentHistory, AgentRecipe } from "./train-agent.js";

export interface AgentRecord extends ModelRecord {
  training: AgentRecipe & Record<string, unknown>;
  history?: AgentHistory;
}

export async function saveAgent(path: string, network: QNetwork, record: AgentRecord): Promise<void> {
  await saveModel(path, network, record);
}

export interface LoadedAgent {
  network: QNetwork;
  /** The environment it was trained on (frames stacked included). */
  env: EnvironmentSpec;
  info: ModelFileInfo;
}

/** Reads an agent file; a classifier's model file (or any other) is a clear error. */
export async function loadAgent(path: string): Promise<LoadedAgent> {
  const { model, info } = await loadModelWith(path, (spec, dtype) => {
    if (spec.kind !== "q-network") {
      throw new ModelFileError(`it is a "${spec.kind}" model, not a DQN agent's Q-network ("q-network")`);
    }
    return new QNetwork(spec as QNetworkSpec, new Rng(0), dtype);
  });
  const env = (info.training as Partial<AgentRecipe> | undefined)?.env;
  if (!env || !environmentNames.includes(env.name)) {
    throw new ModelFileError(
      `${path}: its training record names no environment (one of ${environmentNames.join(", ")})`,
    );
  }
  return { network: model, env, info };
}

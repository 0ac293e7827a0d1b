/**
 * A GAN training checkpoint (`zerodl gan --resume`): one safetensors file holding everything that
 * continues a run exactly — both networks (weights and batch norm statistics), the generator's
 * weight average, both optimizers' buffers and step counts, the trainer's position (batch order and
 * latent generator), the run's settings, its history so far and the time each session took.
 * Written atomically and read back (`writeSafetensorsVerified`), so an interrupted save never
 * leaves a broken checkpoint under the real name. Node only.
 *
 * Tensors: `generator/<name>`, `discriminator/<name>`, `average/<name>` (names as in a model file:
 * W1, b1, …, running_mean1, …) and `optimizer/generator/<param>/<slot>` (e.g. "optimizer/generator/W1/m").
 */
import { readFile } from "node:fs/promises";
import type { LayerChain } from "../models/layer-chain.js";
import type { DType, Floats } from "../ndarray.js";
import { NDArray, allocFloats } from "../ndarray.js";
import type { Optimizer } from "../optimizers/optimizer.js";
import type { GanHistory, GanPosition } from "../train/gan.js";
import type { WeightAverage } from "../train/weight-average.js";
import { ModelFileError, storedTensors, writeSafetensorsVerified } from "./model-file.js";
import { decodeSafetensors, encodeSafetensors, type TensorToEncode } from "./safetensors.js";

const MARKER = "zerodl-gan-checkpoint";
const FORMAT = "1";

/** The time one session of a run took (a run split by interruptions has several). */
export interface GanSession {
  /** The iterations it trained: from (exclusive) … to (inclusive). */
  from: number;
  to: number;
  /** Wall time and CPU time (every thread of the process) in seconds. */
  seconds: number;
  cpuSeconds: number;
  /** The lowest and highest 1-minute load average seen during it (the machine's other work). */
  load: [number, number];
}

/** The JSON part of a checkpoint. */
export interface GanCheckpointRecord {
  /** The run's settings, as `zerodl gan` records them in the generator file. */
  settings: Record<string, unknown>;
  position: GanPosition;
  history: GanHistory;
  sessions: GanSession[];
}

/** The live objects a checkpoint is taken from and restored into. */
export interface GanTrainingState {
  generator: LayerChain;
  discriminator: LayerChain;
  generatorOptimizer: Optimizer;
  discriminatorOptimizer: Optimizer;
  /** The generator's weight average, if the run keeps one. */
  average?: { generator: LayerChain; updater: WeightAverage };
}

type Role = "generator" | "discriminator" | "average";
type OptimizerRole = "generator" | "discriminator";
const optimizerRoles: readonly OptimizerRole[] = ["generator", "discriminator"];

function networks(state: GanTrainingState): [Role, LayerChain][] {
  const list: [Role, LayerChain][] = [
    ["generator", state.generator],
    ["discriminator", state.discriminator],
  ];
  if (state.average) list.push(["average", state.average.generator]);
  return list;
}

function optimizerOf(state: GanTrainingState, role: OptimizerRole): Optimizer {
  return role === "generator" ? state.generatorOptimizer : state.discriminatorOptimizer;
}

/** Writes the checkpoint of `state` at `record`'s position to `path` (atomically, verified). */
export async function saveGanCheckpoint(
  path: string,
  state: GanTrainingState,
  record: GanCheckpointRecord,
): Promise<void> {
  const tensors: TensorToEncode[] = [];
  for (const [role, net] of networks(state)) {
    for (const t of storedTensors(net)) {
      tensors.push({ name: `${role}/${t.name}`, data: t.value.data, shape: t.value.shape });
    }
  }
  const steps: Record<string, number> = {};
  for (const role of optimizerRoles) {
    const net = role === "generator" ? state.generator : state.discriminator;
    const optimizer = optimizerOf(state, role);
    if (!optimizer.state) throw new Error(`saveGanCheckpoint: the ${role}'s optimizer cannot save its state`);
    const saved = optimizer.state(net.params);
    steps[role] = saved.step;
    for (const [key, data] of Object.entries(saved.buffers)) {
      tensors.push({ name: `optimizer/${role}/${key}`, data, shape: [data.length] });
    }
  }
  const metadata: Record<string, string> = {
    [MARKER]: FORMAT,
    dtype: state.generator.params[0]?.value.dtype ?? "float32",
    specs: JSON.stringify(Object.fromEntries(networks(state).map(([role, net]) => [role, net.spec]))),
    optimizerSteps: JSON.stringify(steps),
    averageUpdates: JSON.stringify(state.average?.updater.updates ?? null),
    settings: JSON.stringify(record.settings),
    position: JSON.stringify(record.position),
    history: JSON.stringify(record.history),
    sessions: JSON.stringify(record.sessions),
  };
  await writeSafetensorsVerified(path, encodeSafetensors(tensors, metadata));
}

/** A checkpoint read back: its record, and a way to put its tensors into a freshly built run. */
export interface LoadedGanCheckpoint extends GanCheckpointRecord {
  /** The precision the run computes in. */
  dtype: DType;
  /** Whether it holds a generator weight average. */
  hasAverage: boolean;
  /**
   * Fills `state` (networks built from the same settings) from the checkpoint: every tensor checked
   * by name and shape, the optimizers' buffers and step counts, the average's update count.
   */
  restore(state: GanTrainingState): void;
}

export async function loadGanCheckpoint(path: string): Promise<LoadedGanCheckpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT")
      throw new ModelFileError(`checkpoint ${path} not found`);
    throw e;
  }
  const { metadata, tensors } = decodeSafetensors(bytes, path, { finite: true });
  if (metadata[MARKER] === undefined) {
    throw new ModelFileError(
      `${path}: not a GAN checkpoint (zerodl gan writes one as OUT.checkpoint.safetensors)`,
    );
  }
  if (metadata[MARKER] !== FORMAT) {
    throw new ModelFileError(
      `${path}: GAN checkpoint format ${metadata[MARKER]} is not readable (this zerodl reads ${FORMAT})`,
    );
  }
  const json = <T>(key: string): T => {
    if (metadata[key] === undefined) throw new ModelFileError(`${path}: the checkpoint lacks "${key}"`);
    try {
      return JSON.parse(metadata[key]) as T;
    } catch (e) {
      throw new ModelFileError(
        `${path}: the checkpoint's "${key}" is not valid JSON: ${(e as Error).message}`,
      );
    }
  };
  const dtype = (metadata.dtype ?? "float32") as DType;
  const steps = json<Record<OptimizerRole, number>>("optimizerSteps");
  const averageUpdates = json<number | null>("averageUpdates");
  const byName = new Map(tensors.map((t) => [t.name, t]));
  return {
    settings: json("settings"),
    position: json("position"),
    history: json("history"),
    sessions: json("sessions"),
    dtype,
    hasAverage: averageUpdates !== null,
    restore(state: GanTrainingState): void {
      if ((averageUpdates !== null) !== (state.average !== undefined)) {
        throw new ModelFileError(
          `${path}: the checkpoint ${averageUpdates !== null ? "has" : "has no"} generator average, the run to restore ${state.average ? "has" : "has none"}`,
        );
      }
      const used = new Set<string>();
      for (const [role, net] of networks(state)) {
        for (const target of storedTensors(net)) {
          const name = `${role}/${target.name}`;
          const t = byName.get(name);
          if (!t) throw new ModelFileError(`${path}: the checkpoint lacks tensor "${name}"`);
          const shape = target.value.shape;
          if (t.shape.length !== shape.length || t.shape.some((d, k) => d !== shape[k])) {
            throw new ModelFileError(
              `${path}: tensor "${name}" has shape [${t.shape.join(", ")}], the run's ${role} expects [${shape.join(", ")}]`,
            );
          }
          const value = NDArray.zeros(shape, target.value.dtype);
          value.data.set(t.data);
          target.set(value);
          used.add(name);
        }
      }
      for (const role of optimizerRoles) {
        const net = role === "generator" ? state.generator : state.discriminator;
        const optimizer = optimizerOf(state, role);
        if (!optimizer.setState) throw new Error(`the ${role}'s optimizer cannot restore its state`);
        const prefix = `optimizer/${role}/`;
        const buffers: Record<string, Floats> = {};
        for (const t of tensors) {
          if (!t.name.startsWith(prefix)) continue;
          const data = allocFloats(dtype, t.data.length);
          data.set(t.data);
          buffers[t.name.slice(prefix.length)] = data;
          used.add(t.name);
        }
        optimizer.setState(net.params, { step: steps[role], buffers });
      }
      const extra = tensors.map((t) => t.name).filter((n) => !used.has(n));
      if (extra.length > 0) {
        throw new ModelFileError(
          `${path}: tensors that fit nothing in the run: ${extra.slice(0, 5).join(", ")}`,
        );
      }
      if (state.average && averageUpdates !== null) state.average.updater.restore(averageUpdates);
    },
  };
}

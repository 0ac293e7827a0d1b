/** `zerodl info MODEL`: what a model file holds, without building the model. */
import { readModelInfo, type ModelFileInfo } from "../io/model-file.js";
import { formatShape } from "../errors.js";
import type { GraphSpec } from "../models/graph.js";
import { percent, type CliIo } from "./common.js";

export interface InfoOptions {
  json?: boolean;
}

export async function infoCommand(path: string, options: InfoOptions, io: CliIo): Promise<void> {
  const info = await readModelInfo(path);
  if (options.json) {
    io.out(JSON.stringify(infoJson(path, info), null, 2));
    return;
  }
  for (const line of describeModel(path, info)) io.out(line);
}

export function infoJson(path: string, info: ModelFileInfo): Record<string, unknown> {
  return {
    file: path,
    spec: info.spec,
    format: info.format,
    graph: info.graph ?? null,
    dtype: info.dtype,
    storage: info.storage,
    parameterCount: info.parameterCount,
    tensors: info.tensors,
    training: info.training ?? null,
    results: info.results ?? null,
    history: info.history ?? null,
  };
}

export function describeModel(path: string, info: ModelFileInfo): string[] {
  const {
    kind,
    inputShape,
    outputSize,
    graph: _graph,
    ...options
  } = info.spec as {
    kind: string;
    inputShape?: number[];
    outputSize?: number;
    graph?: unknown;
  };
  const lines = [path];
  const outputs = kind === "q-network" ? "action values" : "classes";
  const io = inputShape
    ? `input ${formatShape(inputShape)}` + (outputSize !== undefined ? ` → ${outputSize} ${outputs}` : "")
    : "";
  lines.push(`  architecture  ${kind}  ${io}`);
  if (Object.keys(options).length > 0) lines.push(`  options       ${JSON.stringify(options)}`);
  if (info.graph) lines.push(...describeGraph(info.graph));
  lines.push(
    `  parameters    ${info.parameterCount.toLocaleString("en-US")} in ${info.tensors.length} tensors, ` +
      `stored as ${info.storage} (${info.dtype} model)`,
  );
  for (const t of info.tensors) lines.push(`    ${t.name.padEnd(12)} ${formatShape(t.shape)}`);
  if (info.training) {
    const settings = Object.entries(info.training)
      .filter(([, v]) => v !== undefined && v !== null && typeof v !== "object")
      .map(([k, v]) => `${k} ${v}`);
    lines.push(`  training      ${settings.join(", ")}`);
  }
  if (info.results) {
    const r = info.results;
    const parts = Object.entries(r).map(([k, v]) =>
      typeof v === "number" && /acc/i.test(k) ? `${k} ${percent(v)}` : `${k} ${JSON.stringify(v)}`,
    );
    lines.push(`  results       ${parts.join(", ")}`);
  }
  const h = info.history as { loss?: number[]; trainAcc?: number[] } | undefined;
  if (h?.loss && h.trainAcc) {
    lines.push(
      `  history       ${h.trainAcc.length} epochs, ${h.loss.length} iterations` +
        (h.loss.length ? `, last loss ${h.loss[h.loss.length - 1].toFixed(4)}` : ""),
    );
  }
  return lines;
}

/** The graph a format-2 file carries: one line per node (name, type, what it reads, its settings). */
function describeGraph(graph: GraphSpec): string[] {
  const loss = graph.loss === undefined ? "softmax-cross-entropy" : (graph.loss?.type ?? "none");
  const inputs = graph.inputs.map((i) => `${i.name} ${formatShape(i.shape)}`).join(", ");
  const lines = [
    `  graph         ${graph.nodes.length} nodes; inputs ${inputs}; outputs ${(graph.outputs ?? [graph.nodes.at(-1)?.name]).join(", ")}; loss ${loss}`,
  ];
  const width = Math.max(...graph.nodes.map((n) => n.name.length));
  for (const node of graph.nodes) {
    const { name, type, inputs: reads, params: _params, ...settings } = node;
    const values = Object.entries(settings).map(([k, v]) => `${k} ${JSON.stringify(v)}`);
    lines.push(
      `    ${name.padEnd(width)}  ${type} ← ${reads.join(", ")}${values.length ? `  (${values.join(", ")})` : ""}`,
    );
  }
  return lines;
}

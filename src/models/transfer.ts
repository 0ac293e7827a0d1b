import { OptionError } from "../errors.js";
import type { NDArray } from "../ndarray.js";
import type { Graph, NamedTensor } from "./graph.js";

/** What `copyMatchingWeights` did, tensor by tensor. */
export interface TransferReport {
  /** Tensors copied (name and shape agreed). */
  copied: string[];
  /** Tensors of the target left as they were, and why. */
  kept: { name: string; reason: string }[];
}

export interface TransferOptions {
  /**
   * "replace" (default): the head — the node that produces the first output, when it has weights —
   * keeps its fresh weights even where the shapes agree, as transfer learning does when the new
   * task has its own classes (book §8.2.3). "copy": copy it too.
   */
  head?: "replace" | "copy";
}

/**
 * Transfer learning (book §8.2.3): copies into `target` every tensor of `source` (a model's
 * tensors, or a loaded file's) whose name and shape agree — weights and batch norm statistics — so
 * the new network starts from what the old one learned; the head is replaced (see `head`).
 * Returns what was copied and what was not, and why.
 */
export function copyMatchingWeights(
  target: Graph,
  source: readonly { name: string; value: NDArray }[] | { tensors(): NamedTensor[] },
  options: TransferOptions = {},
): TransferReport {
  const from = new Map(("tensors" in source ? source.tensors() : source).map((t) => [t.name, t.value]));
  const head = options.head === "copy" ? undefined : headNode(target);
  const headTensors = new Set(
    head ? Object.values(target.architecture().nodes.find((n) => n.name === head)?.params ?? {}) : [],
  );
  const report: TransferReport = { copied: [], kept: [] };
  for (const t of target.tensors()) {
    const value = from.get(t.name);
    if (headTensors.has(t.name)) {
      report.kept.push({ name: t.name, reason: `the head ("${head}") is replaced` });
    } else if (value === undefined) {
      report.kept.push({ name: t.name, reason: "not in the source" });
    } else if (
      value.shape.length !== t.value.shape.length ||
      value.shape.some((d, i) => d !== t.value.shape[i])
    ) {
      report.kept.push({
        name: t.name,
        reason: `shape (${value.shape.join(", ")}) in the source, (${t.value.shape.join(", ")}) here`,
      });
    } else {
      const copy = t.value.clone();
      copy.data.set(value.data);
      t.set(copy);
      report.copied.push(t.name);
    }
  }
  if (report.copied.length === 0) {
    throw new OptionError(
      `no tensor of the source fits this network (none with the same name and shape); its names: ${[...from.keys()].slice(0, 6).join(", ")}${from.size > 6 ? ", …" : ""}`,
    );
  }
  return report;
}

/**
 * The classifier: the last node with weights before the first output, reached back through nodes
 * without weights (a final Dropout, as in the book's DeepConvNet); undefined if there is none.
 */
function headNode(graph: Graph): string | undefined {
  let node = graph.nodes.find((n) => n.name === graph.outputNames[0]);
  while (node && node.layer.params.length === 0 && node.inputs.length === 1) {
    const input = node.inputs[0];
    node = graph.nodes.find((n) => n.name === input);
  }
  return node && node.layer.params.length > 0 ? node.name : undefined;
}

/**
 * The PyTorch hand-off for the image captioner (book §8.4.3; src/models/captioner.ts): the same
 * folder as for a classifier (pytorch.ts), with the captioner's network and training.
 *
 *   model.py             `Captioner(nn.Module)`: `encoder` (an nn.Sequential: the convolutional
 *                        encoder, then fc → tanh, the LSTM's initial state), `embedding`
 *                        (nn.Embedding), `lstm` (nn.LSTM, batch_first), `output` (nn.Linear);
 *                        forward(image, words) → next-word scores; caption(image) decodes greedily;
 *                        a peeky captioner (PEEKY = True) concatenates h0 after the word vectors and
 *                        after the LSTM's output at every step, as zerodl's
 *   weights.safetensors  PyTorch's names and layouts; metadata `zerodl_spec`
 *   train.py             the captioner's training under torchrun/DDP: canvases of 1–4 MNIST digits
 *                        made afresh each epoch, teacher forcing, Adam, gradients clipped
 *   check.json           an image batch and word ids anyone can make, and zerodl's scores for them
 *
 * Conventions converted: zerodl's LSTM keeps its gate blocks as columns of Wx (D, 4H) and Wh
 * (H, 4H) in the sequel's order f, g, i, o with one bias; nn.LSTM keeps them as rows of
 * weight_ih_l0 (4H, D) and weight_hh_l0 (4H, H) in the order i, f, g, o with two biases (bias_ih,
 * bias_hh). The export writes bias_hh as zeros; the import adds the two (PyTorch's training moves
 * both). The Embedding's W (V, D) is nn.Embedding's weight as it is; Affine/TimeAffine W (in, out)
 * is nn.Linear's weight transposed.
 */
import { Captioner, type CaptionerSpec } from "../models/captioner.js";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import {
  PY_DDP_SETUP,
  PY_READ_IDX,
  PY_TORCHRUN_USAGE,
  PY_TRAIN_ARGS,
  PY_WEIGHTS_IO,
  PYTORCH_WEIGHTS,
  checkInput,
  encodeWeights,
  generatedHeader,
  matchTensors,
  paramTensor,
  pyFloat,
  pySelfCheck,
  pytorchTraining,
  transposed,
  torchModules,
  type PytorchExportOptions,
  type TorchTensor,
} from "./pytorch.js";
import { decodeSafetensors } from "./safetensors.js";

/** PyTorch's LSTM gates i, f, g, o as zerodl's gate blocks (f = 0, g = 1, i = 2, o = 3). */
const TORCH_GATES = [2, 0, 1, 3];

/** The word ids of check.json: two prefixes beginning with <start> (0). */
const CHECK_WORDS = [
  [0, 2, 3, 4, 5],
  [0, 11, 10, 9, 1],
];

/** zerodl's (K, 4H) gate columns as PyTorch's (4H, K) gate rows, and back. */
function gateRows(name: string, get: () => NDArray, H: number): TorchTensor {
  const K = get().shape[0];
  return {
    name,
    shape: [4 * H, K],
    get: () => {
      const w = get().data;
      const out = new Float32Array(4 * H * K);
      TORCH_GATES.forEach((block, k) => {
        for (let j = 0; j < H; j++)
          for (let r = 0; r < K; r++) out[(k * H + j) * K + r] = w[r * 4 * H + block * H + j];
      });
      return out;
    },
    set: (data) => {
      const w = get().data;
      TORCH_GATES.forEach((block, k) => {
        for (let j = 0; j < H; j++)
          for (let r = 0; r < K; r++) w[r * 4 * H + block * H + j] = data[(k * H + j) * K + r];
      });
    },
  };
}

/** The captioner's tensors under PyTorch's names, in the state dict's order. */
function captionerTensors(model: Captioner): TorchTensor[] {
  const H = model.spec.hiddenSize;
  const encoder = torchModules({ spec: { inputShape: model.spec.inputShape }, layers: model.encoder });
  const { lstm, embedding, output } = model;
  const bias = gateRows("lstm.bias_ih_l0", () => lstm.b.value.reshape(1, 4 * H), H);
  return [
    ...encoder.flatMap((m) => m.tensors.map((t) => ({ ...t, name: `encoder.${t.name}` }))),
    paramTensor("embedding.weight", embedding.W),
    gateRows("lstm.weight_ih_l0", () => lstm.Wx.value, H),
    gateRows("lstm.weight_hh_l0", () => lstm.Wh.value, H),
    { ...bias, shape: [4 * H] },
    {
      name: "lstm.bias_hh_l0",
      shape: [4 * H],
      get: () => new Float32Array(4 * H),
      set: () => {
        throw new Error("bias_hh is added to bias_ih on import");
      },
    },
    transposed("output.weight", output),
    paramTensor("output.bias", output.b),
  ];
}

/** The folder's files by name: model.py, train.py, weights.safetensors, check.json. */
export function exportCaptionerPytorch(
  model: Captioner,
  options: PytorchExportOptions = {},
): Record<string, string | Uint8Array> {
  const spec = model.spec;
  const name = options.name ?? spec.kind;
  const header = generatedHeader(name, options.version);
  const weights = encodeWeights(captionerTensors(model), {
    format: "pt",
    zerodl_spec: JSON.stringify(spec),
    name,
    tokens: JSON.stringify(spec.tokens),
  });
  const image = checkInput(2, spec.inputShape);
  const words = NDArray.from(CHECK_WORDS.flat(), [2, CHECK_WORDS[0].length]);
  const check = {
    note: "image[i] = ((i * 7919) % 1000) / 1000 over the flattened (2, ...input_shape) batch; scores from zerodl",
    input_shape: [2, ...spec.inputShape],
    words: CHECK_WORDS,
    scores: Array.from(captionerScores(model, image, words).data),
  };
  const encoder = torchModules({ spec: { inputShape: spec.inputShape }, layers: model.encoder });
  return {
    "model.py": modelPy(
      spec,
      header,
      encoder.map((m) => `                ("${m.name}", ${m.code}),`),
    ),
    "train.py": trainPy(header, options.training ?? {}),
    [PYTORCH_WEIGHTS]: weights,
    "check.json": JSON.stringify(check, null, 1) + "\n",
  };
}

/** The teacher-forced scores (N, T, V) for images and word ids: what model.py's forward computes. */
export function captionerScores(model: Captioner, images: NDArray, words: NDArray): NDArray {
  return model.scores(images, words);
}

/** Whether a safetensors file's metadata says it holds a captioner (PyTorch weights from this export). */
export function isCaptionerWeights(bytes: Uint8Array, fileName: string): boolean {
  const spec = decodeSafetensors(bytes, fileName).metadata.zerodl_spec;
  try {
    return spec !== undefined && (JSON.parse(spec) as { kind?: unknown }).kind === "captioner";
  } catch {
    return false;
  }
}

/** Reads captioner weights in PyTorch's names (exported, or written back by train.py). */
export function importCaptionerPytorchWeights(
  bytes: Uint8Array,
  fileName: string,
): { model: Captioner; training: Record<string, unknown> } {
  const { tensors, metadata } = decodeSafetensors(bytes, fileName);
  const model = new Captioner(JSON.parse(metadata.zerodl_spec) as CaptionerSpec, new Rng(0));
  const expected = captionerTensors(model);
  const byName = matchTensors(expected, tensors, fileName, "the captioner");
  const biasHh = byName.get("lstm.bias_hh_l0")!.data;
  for (const e of expected) {
    if (e.name === "lstm.bias_hh_l0") continue;
    const data = byName.get(e.name)!.data;
    // zerodl's LSTM has one bias: PyTorch's two are added.
    e.set(e.name === "lstm.bias_ih_l0" ? data.map((v, i) => v + biasHh[i]) : data);
  }
  return { model, training: pytorchTraining(metadata) };
}

function modelPy(spec: CaptionerSpec, header: string, encoderLines: readonly string[]): string {
  const V = spec.tokens.length;
  const peek = spec.peeky === true ? spec.hiddenSize : 0;
  return `"""Captioner: the zerodl image captioner in plain torch.nn.

${header}
Weights: ${PYTORCH_WEIGHTS} beside this file, under PyTorch's names (load_weights).
Input: images float32 (N, ${spec.inputShape.join(", ")}) in [0, 1], digits white on black as MNIST's;
words (N, T) int64 token ids beginning with <start> (0). forward gives (N, T, ${V}) next-word scores;
caption(images) decodes greedily (as zerodl's beam width 1). Tokens by id: TOKENS.
zerodl's LSTM gate columns (f, g, i, o) are nn.LSTM's gate rows (i, f, g, o); bias_hh starts at 0.
\`python3 model.py\` checks this file against zerodl's own scores (check.json).
"""
import json
import os
import struct
from collections import OrderedDict

import torch
from torch import nn

INPUT_SHAPE = (${spec.inputShape.join(", ")})
TOKENS = ${JSON.stringify(spec.tokens)}
START, END = 0, 1
MAX_LENGTH = ${spec.maxLength}
# Peeky decoder: h0 also enters the LSTM (after the word vector) and the output layer (after h) at every step.
PEEKY = ${spec.peeky === true ? "True" : "False"}


class Captioner(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            OrderedDict([
${encoderLines.join("\n")}
            ])
        )
        self.embedding = nn.Embedding(${V}, ${spec.wordvecSize})
        self.lstm = nn.LSTM(${spec.wordvecSize + peek}, ${spec.hiddenSize}, batch_first=True)
        self.output = nn.Linear(${spec.hiddenSize + peek}, ${V})

    @staticmethod
    def peek(x, h0):
        """x (N, T, K) with h0 (N, H) after it at every step when PEEKY: (N, T, K + H)."""
        return torch.cat([x, h0.unsqueeze(1).expand(-1, x.shape[1], -1)], 2) if PEEKY else x

    def forward(self, image, words):
        """Teacher-forced next-word scores (N, T, V): the encoder's result starts the LSTM (cell at 0)."""
        h0 = self.encoder(image)
        state = (h0.unsqueeze(0), torch.zeros_like(h0).unsqueeze(0))
        hs, _ = self.lstm(self.peek(self.embedding(words), h0), state)
        return self.output(self.peek(hs, h0))

    @torch.no_grad()
    def caption(self, image):
        """Greedy captions as token-id lists (<end> left off): never <start>; after MAX_LENGTH words, <end>."""
        h0 = self.encoder(image)
        state = (h0.unsqueeze(0), torch.zeros_like(h0).unsqueeze(0))
        word = torch.full((image.shape[0], 1), START, dtype=torch.long, device=image.device)
        captions, done = [[] for _ in range(image.shape[0])], [False] * image.shape[0]
        for step in range(MAX_LENGTH + 1):
            y, state = self.lstm(self.peek(self.embedding(word), h0), state)
            scores = self.output(self.peek(y, h0))[:, -1]
            scores[:, START] = float("-inf")
            if step == MAX_LENGTH:
                scores[:, END + 1 :] = float("-inf")
            word = scores.argmax(1, keepdim=True)
            for n, w in enumerate(word.flatten().tolist()):
                if not done[n]:
                    if w == END:
                        done[n] = True
                    else:
                        captions[n].append(w)
        return captions


Net = Captioner
${PY_WEIGHTS_IO}
${pySelfCheck("Captioner", "scores", ', torch.tensor(check["words"])')}`;
}

function trainPy(header: string, training: Record<string, unknown>): string {
  const num = (key: string, fallback: number) =>
    typeof training[key] === "number" ? (training[key] as number) : fallback;
  return `"""Train the captioner with PyTorch DistributedDataParallel, then hand the weights back to zerodl.

${header}
${PY_TORCHRUN_USAGE}
DIR holds the MNIST-format files (train-/t10k- images and labels, gzipped or not), e.g. zerodl's
data/mnist. As zerodl train-captioner: each epoch makes fresh canvases of 1 to 4 training digits
side by side at random gaps, captioned in words; teacher forcing, Adam, gradients clipped to a
global norm; greedy exact-caption accuracy on canvases of test digits. The canvases come from
PyTorch's generator, so they are others than zerodl's (the same kind). --batch-size is global.
Then: zerodl import trained.safetensors --out captioner.safetensors
"""
import argparse
import gzip
import json
import os
import struct
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from model import END, INPUT_SHAPE, MAX_LENGTH, START, Captioner, load_weights, save_weights

HERE = os.path.dirname(os.path.abspath(__file__))
WIDTH = INPUT_SHAPE[2]
${PY_READ_IDX}

class Canvases(Dataset):
    """count canvases of 1..MAX_LENGTH distinct digits, left to right at random gaps (seeded)."""

    def __init__(self, images, labels, count, seed):
        g = torch.Generator().manual_seed(seed)
        self.images, self.labels, self.layouts = images, labels, []
        for _ in range(count):
            k = int(torch.randint(1, MAX_LENGTH + 1, (1,), generator=g))
            digits = []
            while len(digits) < k:
                d = int(torch.randint(len(labels), (1,), generator=g))
                if d not in digits:
                    digits.append(d)
            cuts = sorted(torch.randint(0, WIDTH - 28 * k + 1, (k,), generator=g).tolist())
            self.layouts.append((digits, [c + 28 * j for j, c in enumerate(cuts)]))

    def __len__(self):
        return len(self.layouts)

    def __getitem__(self, i):
        digits, lefts = self.layouts[i]
        canvas = torch.zeros(1, 28, WIDTH)
        for d, left in zip(digits, lefts):
            canvas[0, :, left : left + 28] = self.images[d].float() / 255.0
        words = [int(self.labels[d]) + 2 for d in digits]
        inputs = torch.full((MAX_LENGTH + 1,), END, dtype=torch.long)
        targets = torch.full((MAX_LENGTH + 1,), -1, dtype=torch.long)  # -1: padding, ignored
        inputs[0] = START
        inputs[1 : 1 + len(words)] = torch.tensor(words)
        targets[: len(words)] = torch.tensor(words)
        targets[len(words)] = END
        return canvas, inputs, targets


def exact(model, canvases, device, limit=None):
    """The fraction of canvases whose greedy caption is right word for word."""
    n = min(len(canvases), limit or len(canvases))
    right = 0
    model.eval()
    for start in range(0, n, 500):
        batch = [canvases[i] for i in range(start, min(n, start + 500))]
        got = model.caption(torch.stack([b[0] for b in batch]).to(device))
        for (_, _, targets), caption in zip(batch, got):
            right += caption == [t for t in targets.tolist() if t > END]
    model.train()
    return right / n


def main():
${PY_TRAIN_ARGS}    p.add_argument("--epochs", type=int, default=${num("epochs", 4)})
    p.add_argument("--train-canvases", type=int, default=${num("trainCanvases", 60000)}, help="fresh canvases per epoch")
    p.add_argument("--test-canvases", type=int, default=${num("testCanvases", 10000)})
    p.add_argument("--eval-canvases", type=int, default=${num("evalCanvases", 2000)}, help="test canvases measured after each epoch")
    p.add_argument("--batch-size", type=int, default=${num("batchSize", 100)}, help="global batch, split across processes")
    p.add_argument("--lr", type=float, default=${pyFloat(num("lr", 0.002))})
    p.add_argument("--max-grad-norm", type=float, default=${pyFloat(num("maxGradNorm", 5))})
    p.add_argument("--seed", type=int, default=${num("seed", 1)})
    args = p.parse_args()

${PY_DDP_SETUP}    torch.manual_seed(args.seed)

    model = Captioner()
    metadata = load_weights(model, args.weights)
    model.to(device)
    ddp = DistributedDataParallel(model, device_ids=[local_rank] if cuda else None)
    images = read_idx(os.path.join(args.data, "train-images-idx3-ubyte"))
    labels = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte"))
    test = Canvases(
        read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte")),
        read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte")),
        args.test_canvases,
        0,
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss(ignore_index=-1)  # zerodl's TimeSoftmaxWithLoss, padding ignored
    if rank == 0:
        print(f"{world} process(es) on {'cuda' if cuda else 'cpu'}, {args.train_canvases} canvases per epoch, global batch {args.batch_size}, adam lr {args.lr}")

    history = []
    for epoch in range(1, args.epochs + 1):
        # Every process makes the same canvases (seeded by epoch); the sampler splits them.
        train = Canvases(images, labels, args.train_canvases, args.seed * 1000 + epoch)
        sampler = DistributedSampler(train, num_replicas=world, rank=rank, shuffle=False)
        loader = DataLoader(train, batch_size=args.batch_size // world, sampler=sampler)
        start, total, batches = time.time(), torch.zeros(1, device=device), 0
        for x, inputs, targets in loader:
            x, inputs, targets = x.to(device), inputs.to(device), targets.to(device)
            scores = ddp(x, inputs)
            loss = loss_fn(scores.reshape(-1, scores.shape[-1]), targets.reshape(-1))
            optimizer.zero_grad()
            loss.backward()  # DDP averages the gradients over every process here
            nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
            optimizer.step()
            total += loss.detach()
            batches += 1
        dist.all_reduce(total)
        mean_loss = total.item() / (batches * world)
        if rank == 0:
            acc = exact(model, test, device, args.eval_canvases)
            history.append({"epoch": epoch, "loss": mean_loss, "testExact": acc, "seconds": time.time() - start})
            print(f"epoch {epoch}/{args.epochs}  loss {mean_loss:.4f}  test exact {100 * acc:.2f} %  ({time.time() - start:.1f} s)")

    if rank == 0:
        final = exact(model, test, device)
        print(f"greedy exact captions on {len(test)} test canvases: {100 * final:.2f} %")
        metadata = dict(metadata)
        metadata["training"] = json.dumps({
            "engine": f"pytorch {torch.__version__} DistributedDataParallel",
            "processes": world,
            "device": "cuda" if cuda else "cpu",
            "epochs": args.epochs,
            "trainCanvases": args.train_canvases,
            "batchSize": args.batch_size,
            "lr": args.lr,
            "maxGradNorm": args.max_grad_norm,
            "history": history,
            "testExact": final,
        })
        save_weights(model.cpu(), args.out, metadata)
        print(f"wrote {args.out}; back to zerodl: zerodl import {args.out} --out captioner.safetensors")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
`;
}

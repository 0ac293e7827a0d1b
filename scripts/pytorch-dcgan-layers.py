#!/usr/bin/python3
# Writes test/fixtures/pytorch-dcgan-layers.json (a cross-check, not a dependency: run it with
# Debian's python3-torch, /usr/bin/python3 scripts/pytorch-dcgan-layers.py).
# Records PyTorch's ConvTranspose2d, LeakyReLU and BCEWithLogitsLoss on small seeded inputs.
import json, os, torch
torch.manual_seed(0)
cases = []
for (n, c, h, w, fn, fh, fw, s, p, op) in [(2, 3, 3, 4, 2, 4, 3, 2, 1, 1), (1, 2, 4, 4, 3, 3, 3, 1, 1, 0), (2, 2, 2, 3, 1, 5, 5, 3, 2, 2)]:
    x = torch.randn(n, c, h, w, dtype=torch.float64, requires_grad=True)
    m = torch.nn.ConvTranspose2d(c, fn, (fh, fw), stride=s, padding=p, output_padding=op).double()
    y = m(x)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    r = lambda t: [round(v, 12) for v in t.detach().flatten().tolist()]
    cases.append(dict(n=n, c=c, h=h, w=w, fn=fn, fh=fh, fw=fw, stride=s, pad=p, outputPadding=op,
        x=r(x), W=r(m.weight), b=r(m.bias), y=r(y), yShape=list(y.shape), dy=r(dy), dx=r(x.grad), dW=r(m.weight.grad), db=r(m.bias.grad)))
x = torch.tensor([-1000., -30., -2., -0.5, 0., 0.5, 2., 30., 1000.], dtype=torch.float64, requires_grad=True)
t = torch.tensor([1., 0., 1., 0.3, 1., 0., 0.9, 1., 0.], dtype=torch.float64)
loss = torch.nn.functional.binary_cross_entropy_with_logits(x.view(9, 1), t.view(9, 1), reduction="mean")
loss.backward()
bce = dict(x=x.tolist(), t=t.tolist(), loss=loss.item(), dx=x.grad.tolist())
xl = torch.tensor([-3., -0.5, 0.25, 2.], dtype=torch.float64)
leaky = dict(x=xl.tolist(), alpha=0.2, y=torch.nn.functional.leaky_relu(xl, 0.2).tolist())
json.dump(dict(generator="PyTorch " + torch.__version__ + " by scripts/pytorch-dcgan-layers.py", deconvolution=cases, bce=bce, leakyRelu=leaky), open(os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "pytorch-dcgan-layers.json"), "w"), indent=None)

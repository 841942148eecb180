"""The default job's recipe on a PyTorch twin, to rank cheaper recipes on a GPU.

Issue #25 asks for the main job in half its time on the slowest CPU
measured. Each full run there takes 20 minutes, too slow to search with; this
script trains the same recipe (``alexnet.config.SMALL_RECIPE``, the
``small`` network, its input pipeline) in PyTorch on one GPU, many runs at
once, so that candidates (narrower layers, fewer epochs) can be ranked in
minutes. It stands alone (no TensorFlow or Keras needed, as on the lent GPU
machine) and mirrors, by hand:

- data: Fashion-MNIST's IDX files, 5% of the training images held out
  (validation), standardized by the training images' mean and std;
- input: a random horizontal flip; half the images get the round trip of a
  user's picture (enlarged bilinearly by a factor drawn per batch in
  [1.25, 4], brought back with bilinear antialiasing, rounded);
- network: ``small``'s plan (conv 5x5 then 3x3, ReLU, 3x3/2 "same" max
  pooling before LRN at conv1-2, dropout 0.5, Glorot-uniform weights, zero
  biases) with conv1 fixed to PCA-whitening filters (epsilon 5e-3, both
  signs) of 2,048 x 64 training patches;
- training: SGD, Nesterov momentum 0.9, L2 2e-4 on kernels entering the
  gradient, batch 256, one epoch of linear warm-up to 0.1 then cosine decay
  to 0, label smoothing 0.1.

What it reports per run: test accuracy (centre, 28 px) and a proxy of
``resized_agreement``: the test images enlarged 2x and 4x bilinearly,
rounded to 8 bits (a PNG), shrunk back by area averaging as ``predict``
does, and the share of the same answers. It ranks; it does not decide. A
candidate becomes the default only through ``time_to_accuracy.py`` runs of
the real job on the CPU (BENCHMARKS.md says which).

    python benchmarks/recipe_sweep_gpu.py --data DIR --out results.json [--workers 8]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import math
import os
import time

import numpy as np

WIDTHS = {  # conv1..conv5 filters, fc6/fc7 units
    "small": ((32, 96, 128, 128, 96), 1024),
    "w64": ((32, 64, 96, 96, 64), 1024),
    "w96": ((32, 96, 96, 96, 64), 1024),
    "w64x": ((32, 64, 64, 64, 64), 512),
    "half": ((16, 48, 64, 64, 48), 512),
}
# torch.nn.LocalResponseNorm divides alpha by the window: the paper's layer
# (TensorFlow's depth_radius=2, bias=2, alpha=1e-4, beta=0.75) is this.
LRN_TORCH = dict(size=5, alpha=5e-4, beta=0.75, k=2.0)
RECIPE = dict(batch=256, lr=0.1, momentum=0.9, l2=2e-4, warmup=1.0, smoothing=0.1, resample=0.5,
              dropout=0.5, epsilon=5e-3)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(folder):
    return tuple(read_idx(os.path.join(folder, name)) for name in FILES)


def multiply_adds(convs, fc, classes=10):
    """Multiply-adds of one 28x28 image's forward pass."""
    sizes, channels, total = (28, 14, 7, 7, 7), 1, 0
    for (filters, size, kernel) in zip(convs, sizes, (5, 3, 3, 3, 3)):
        total += size * size * filters * kernel * kernel * channels
        channels = filters
    flat = 4 * 4 * convs[-1]
    return total + flat * fc + fc * fc + fc * classes


def whitening_kernel(patches, filters, epsilon):
    """conv1's ``(filters, 1, 5, 5)`` kernel (PyTorch's layout) from ``(N,
    25)`` flattened 5x5 patches: the ``filters / 2`` strongest principal
    directions over ``sqrt(eigenvalue + epsilon)``, with both signs."""
    values, vectors = np.linalg.eigh(np.cov(patches, rowvar=False))
    keep = np.argsort(values)[::-1][: filters // 2]
    directions = vectors[:, keep] / np.sqrt(np.maximum(values[keep], 0) + epsilon)
    return np.concatenate([directions, -directions], 1).T.reshape(filters, 1, 5, 5)


def train_one(job):
    import torch
    import torch.nn.functional as F
    from torch import nn

    key, width, epochs, seed, overrides, data_dir, device, smoke = job
    recipe = {**RECIPE, **overrides}
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x_train, y_train, x_test, y_test = load(data_dir)
    order = rng.permutation(len(x_train))
    held = int(round(0.05 * len(x_train)))
    train_idx = order[held:]
    xt = torch.tensor(x_train[train_idx], device=device)[:, None].float()
    yt = torch.tensor(y_train[train_idx].astype(np.int64), device=device)
    xs = torch.tensor(x_test, device=device)[:, None].float()
    ys = torch.tensor(y_test.astype(np.int64), device=device)
    mean, std = xt.mean().item(), xt.std().item()

    convs, fc = WIDTHS[width]

    def same_pool(x):
        def pads(n):
            out = math.ceil(n / 2)
            total = max((out - 1) * 2 + 3 - n, 0)
            return total // 2, total - total // 2
        t, b = pads(x.shape[-2])
        l, r = pads(x.shape[-1])
        return F.max_pool2d(F.pad(x, (l, r, t, b), value=float("-inf")), 3, 2)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            chans = (1,) + convs
            kernels = (5, 3, 3, 3, 3)
            self.convs = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], kernels[i], padding=kernels[i] // 2)
                                       for i in range(5))
            self.lrn = nn.LocalResponseNorm(**LRN_TORCH)
            self.fc6 = nn.Linear(16 * convs[-1], fc)
            self.fc7 = nn.Linear(fc, fc)
            self.out = nn.Linear(fc, 10)
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.xavier_uniform_(m.weight)
                    nn.init.zeros_(m.bias)

        def forward(self, x):
            x = (x - mean) / std
            x = self.lrn(same_pool(F.relu(self.convs[0](x))))
            x = self.lrn(same_pool(F.relu(self.convs[1](x))))
            x = F.relu(self.convs[2](x))
            x = F.relu(self.convs[3](x))
            x = same_pool(F.relu(self.convs[4](x)))
            x = torch.flatten(x.permute(0, 2, 3, 1), 1)
            x = F.dropout(F.relu(self.fc6(x)), recipe["dropout"], self.training)
            x = F.dropout(F.relu(self.fc7(x)), recipe["dropout"], self.training)
            return self.out(x)

    net = Net().to(device)
    # conv1: PCA-whitening filters of training patches, fixed.
    sample = xt[torch.tensor(rng.choice(len(xt), 2048, replace=False), device=device)]
    patches = F.unfold((sample - mean) / std, 5)  # (n, 25, positions)
    pick = torch.randint(0, patches.shape[-1], (len(sample), 64), device=device,
                         generator=torch.Generator(device=device).manual_seed(seed))
    patches = torch.gather(patches, 2, pick[:, None, :].expand(-1, 25, -1)).permute(0, 2, 1).reshape(-1, 25)
    kernel = whitening_kernel(patches.double().cpu().numpy(), convs[0], recipe["epsilon"])
    with torch.no_grad():
        net.convs[0].weight.copy_(torch.tensor(kernel, dtype=torch.float32))
    net.convs[0].weight.requires_grad_(False)
    net.convs[0].bias.requires_grad_(False)

    decayed = [p for n, p in net.named_parameters() if p.requires_grad and n.endswith("weight")]
    others = [p for n, p in net.named_parameters() if p.requires_grad and not n.endswith("weight")]
    opt = torch.optim.SGD([dict(params=decayed, weight_decay=recipe["l2"]), dict(params=others, weight_decay=0)],
                          lr=recipe["lr"], momentum=recipe["momentum"], nesterov=True)
    batch = recipe["batch"]
    steps_per_epoch = 3 if smoke else math.ceil(len(xt) / batch)
    total = epochs * steps_per_epoch
    warmup = int(recipe["warmup"] * steps_per_epoch)

    def lr_at(step):
        if step < warmup:
            return recipe["lr"] * step / warmup
        return recipe["lr"] * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

    started = time.time()
    step = 0
    for _ in range(epochs):
        net.train()
        perm = torch.randperm(len(xt), device=device)
        for i in range(steps_per_epoch):
            idx = perm[i * batch:(i + 1) * batch]
            x, y = xt[idx], yt[idx]
            flip = torch.rand(len(x), 1, 1, 1, device=device) < 0.5
            x = torch.where(flip, x.flip(-1), x)
            if recipe["resample"]:
                size = int(round(float(np.random.uniform(1.25, 4.0)) * 28))
                up = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
                back = F.interpolate(up, size=(28, 28), mode="bilinear", align_corners=False, antialias=True)
                back = back.round().clamp(0, 255)
                chosen = torch.rand(len(x), 1, 1, 1, device=device) < recipe["resample"]
                x = torch.where(chosen, back, x)
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            loss = F.cross_entropy(net(x), y, label_smoothing=recipe["smoothing"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
    net.eval()
    with torch.no_grad():
        def answers(images):
            return torch.cat([net(images[i:i + 2000]).argmax(1) for i in range(0, len(images), 2000)])
        base = answers(xs)
        result = dict(key=key, width=width, epochs=epochs, seed=seed, overrides=overrides,
                      multiply_adds=multiply_adds(convs, fc), seconds=round(time.time() - started, 1),
                      test=round(100 * (base == ys).float().mean().item(), 2))
        for factor in (2, 4):
            up = F.interpolate(xs, scale_factor=factor, mode="bilinear", align_corners=False).round().clamp(0, 255)
            back = F.avg_pool2d(up, factor)
            other = answers(back)
            result[f"same_{28 * factor}"] = round(100 * (other == base).float().mean().item(), 2)
            result[f"test_{28 * factor}"] = round(100 * (other == ys).float().mean().item(), 2)
    return result


GRID = [  # (width, epochs, overrides)
    ("small", 12, {}), ("small", 8, {}), ("small", 6, {}),
    ("w96", 8, {}), ("w96", 10, {}),
    ("w64", 8, {}), ("w64", 10, {}), ("w64", 12, {}),
    ("w64x", 10, {}), ("w64x", 14, {}),
    ("half", 14, {}), ("half", 20, {}),
    ("small", 8, {"lr": 0.2}), ("small", 6, {"smoothing": 0.0, "dropout": 0.25}),
]
GRID_RECIPE = [  # the recipe's knobs at 6 epochs, the budget of the slowest CPU
    ("small", 6, {"batch": 128, "lr": 0.05}), ("small", 6, {"batch": 128, "lr": 0.1}),
    ("small", 8, {"batch": 128, "lr": 0.05}), ("small", 6, {"warmup": 0.3}),
    ("small", 6, {"resample": 0.25}), ("small", 6, {"smoothing": 0.0}), ("small", 6, {"dropout": 0.25}),
    ("small", 10, {}), ("small", 6, {"batch": 128, "lr": 0.05, "warmup": 0.3}), ("small", 6, {"l2": 5e-4}),
]
GRID_MARGIN = [  # the best of those knobs at the default's 12 epochs
    ("small", 12, {}), ("small", 12, {"batch": 128}), ("small", 12, {"resample": 0.25}),
    ("small", 12, {"dropout": 0.25}), ("small", 12, {"batch": 128, "resample": 0.25}),
    ("small", 12, {"resample": 0.25, "dropout": 0.25}),
]
GRIDS = {"widths": GRID, "recipe": GRID_RECIPE, "margin": GRID_MARGIN}


FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz")


def integers(text):
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"must be comma-separated integers >= 0, got {text!r}")
    return values


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder of Fashion-MNIST's four .gz IDX files "
                        "(Debian's dataset-fashion-mnist: /usr/share/datasets/fashion-mnist)")
    parser.add_argument("--out", required=True, help="JSON file of the results, rewritten after each run")
    parser.add_argument("--seeds", type=integers, default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=8, help="runs at once (processes sharing the GPU)")
    parser.add_argument("--grid", choices=tuple(GRIDS), default="widths")
    parser.add_argument("--only", type=integers, help="indices into the grid (default: all of it)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--smoke", action="store_true", help="3 steps an epoch: checks the script runs")
    args = parser.parse_args()
    missing = [name for name in FILES if not os.path.isfile(os.path.join(args.data, name))]
    if missing:
        parser.error(f"--data {args.data!r} lacks {', '.join(missing)}")
    grid = GRIDS[args.grid]
    if args.only and max(args.only) >= len(grid):
        parser.error(f"--only: the {args.grid} grid has {len(grid)} entries (0-{len(grid) - 1})")
    if args.workers < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    import torch
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("no CUDA device here: use --device cpu (slow; with --smoke to check the script)")
    grid = [grid[i] for i in args.only] if args.only else grid
    jobs = [(f"{w}-e{e}" + "".join(f"-{k}{v}" for k, v in o.items()), w, e, s, o, args.data, args.device, args.smoke)
            for (w, e, o), s in itertools.product(grid, args.seeds)]
    import multiprocessing as mp
    results = []
    with mp.get_context("spawn").Pool(args.workers) as pool:
        for result in pool.imap_unordered(train_one, jobs):
            results.append(result)
            print(json.dumps(result), flush=True)
            with open(args.out, "w") as f:
                json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()

"""The ``reproduce``, ``filters``, ``activations``, ``neighbors`` and ``top5`` commands (see :mod:`alexnet.cli`)."""

from __future__ import annotations

import json
import os

from alexnet.config import LIMITS, POSITIVE_INT, Limit
from alexnet.errors import UserError

EXPERIMENT_NAMES = ("relu-vs-tanh", "lrn", "overlapping-pooling", "dropout", "two-tower", "all")


def add_reproduce(sub):
    p = sub.add_parser(
        "reproduce", help="reproduce the paper's claims with the pre-registered protocol (REPRODUCTION.md)",
        description="Trains both arms of each comparison (the paper's idea and its control, paired by seed; "
                    "learning rates chosen by a search on validation data), one small in-memory run per arm "
                    "and seed, each saved under OUT/runs/<arm>/seed<k>.json as it ends (rerun the same command "
                    "to resume), then gives each claim its effect, 95%% interval and verdict. 'all' writes "
                    "OUT/summary.json, OUT/summary.md and OUT/<experiment>.png. See REPRODUCTION.md.")
    p.add_argument("experiment", choices=EXPERIMENT_NAMES)
    p.add_argument("--data", default="fashion_mnist",
                   help="fashion_mnist (default), cifar10 or the path of either (a dataset held in memory)")
    p.add_argument("--seeds", type=Limit(int, 2).parse,
                   help="seeds per arm: 0..N-1 (default 5, the protocol's; 2 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="smoke test: 256 images, 2 epochs, 2 seeds per arm (numbers meaningless)")
    p.add_argument("--threshold", type=Limit(float, 0, 100, low_open=True, high_open=True).parse,
                   help="relu-vs-tanh: the training error in percent to reach (default 12 for fashion_mnist, "
                        "25 for cifar10 as in the paper)")
    p.add_argument("--out", default="runs/reproduce", help="output folder (default runs/reproduce)")
    p.set_defaults(run=run_reproduce)


def run_reproduce(args):
    from alexnet.reproduce.experiments import fmt_effect, run_experiment, verdict_text

    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UserError(f"--out must be a folder, got the file {args.out}.")
    summary = run_experiment(args.experiment, args.data, out=args.out, seeds=args.seeds, quick=args.quick,
                             threshold=args.threshold)
    for name, entry in summary["experiments"].items():
        for result in [entry, *entry.get("secondary", {}).values()]:
            print(f"{name} ({result['setting']}): {result['measure']}: {fmt_effect(result)}: "
                  f"{verdict_text(result, upper=True)} (paper: {entry['paper']})")
    if args.experiment == "all":
        print(f"summary: {os.path.join(args.out, 'summary.md')}; figures: {args.out}/<experiment>.png")
    else:
        print(f"figure: {os.path.join(args.out, summary['experiments'][args.experiment]['figure'])}")


def add_filters(sub):
    p = sub.add_parser("filters", help="conv1's kernels as an image grid (the paper's Figure 3)")
    p.add_argument("model", help="a .keras file or a run directory")
    p.add_argument("-o", "--out", help="PNG to write (default filters.png beside the model)")
    p.set_defaults(run=run_filters)


def run_filters(args):
    from alexnet.figures import plot_filters

    _png(args.out)
    result = plot_filters(args.model, args.out)
    towers = f", {result['towers']} towers shown apart" if result["towers"] > 1 else ""
    print(f"{result['png']}: {result['kernels']} conv1 kernels of {'x'.join(map(str, result['kernel_shape']))}"
          f"{towers}")


def add_activations(sub):
    p = sub.add_parser("activations", help="feature maps of one image at conv1..conv5, with its top-5 classes",
                       description="Draws what one image becomes at each convolution (after its activation), "
                                   "one grid of maps per layer, under the input as the model sees it and its "
                                   "top classes. The image is prepared as `alexnet predict` prepares it.")
    p.add_argument("model", help="a .keras file or a run directory")
    p.add_argument("image", help="an image file (JPEG, PNG, GIF or BMP)")
    p.add_argument("-o", "--out", help="PNG to write (default activations.png beside the model)")
    p.add_argument("--top", type=POSITIVE_INT.parse, default=5, help="classes to show (default 5)")
    p.add_argument("--max-maps", type=POSITIVE_INT.parse, default=256,
                   help="maps drawn per layer at most (default 256)")
    p.set_defaults(run=run_activations)


def run_activations(args):
    from alexnet.activations import plot_activations

    _png(args.out)
    result = plot_activations(args.model, args.image, args.out, top=args.top, max_maps=args.max_maps)
    layers = ", ".join(f"{layer['name']} {layer['shape'][2]}x{layer['shape'][0]}x{layer['shape'][1]}"
                       for layer in result["layers"])
    best = f"; top-1 {result['top'][0]['class']} {100 * result['top'][0]['probability']:.1f}%" if result["top"] else ""
    note = f" ({result['note']})" if result.get("note") else ""
    print(f"{result['png']}: {layers}{best}{note}")


def add_neighbors(sub):
    p = sub.add_parser("neighbors", help="training images nearest in fc7 space (the paper's Figure 4, right)")
    p.add_argument("model", help="a .keras file or a run directory")
    p.add_argument("--query", nargs="+", required=True, metavar="IMAGE", help="query image files")
    p.add_argument("--data", help="the dataset whose training images are searched (default: the run's own, "
                                  "split as in training)")
    p.add_argument("-k", type=POSITIVE_INT.parse, default=6, help="neighbours per query (default 6)")
    p.add_argument("--max-images", type=POSITIVE_INT.parse, default=10000,
                   help="search the first N training images (default 10000)")
    p.add_argument("-o", "--out", help="PNG to write (default neighbors.png beside the model)")
    p.add_argument("--json", action="store_true", help="print the neighbours as JSON")
    p.set_defaults(run=run_neighbors)


def run_neighbors(args):
    from alexnet.figures import nearest_neighbors

    _png(args.out)
    result = nearest_neighbors(args.model, args.query, args.data, k=args.k, max_images=args.max_images,
                               out=args.out)
    if args.json:
        print(json.dumps(result, indent=1))
        return
    for answer in result["queries"]:
        near = ", ".join(f"#{n['index']} {n['class']} ({n['distance']:.3g})" for n in answer["neighbors"])
        print(f"{answer['query']}: {near}")
    print(f"figure: {result['png']}")


def add_top5(sub):
    p = sub.add_parser("top5", help="test images with their top-5 predictions (the paper's Figure 4, left)")
    p.add_argument("model", help="a .keras file or a run directory")
    p.add_argument("--data", help="default: the run's own dataset, split as in training")
    p.add_argument("-n", type=POSITIVE_INT.parse, default=8, help="images in the panel (default 8)")
    p.add_argument("--seed", type=LIMITS["seed"].parse, default=0, help="which test images (default 0)")
    p.add_argument("-o", "--out", help="PNG to write (default top5.png beside the model)")
    p.set_defaults(run=run_top5)


def run_top5(args):
    from alexnet.figures import plot_top5

    _png(args.out)
    result = plot_top5(args.model, args.data, n=args.n, out=args.out, seed=args.seed)
    right = sum(a["top5"][0]["class"] == a["class"] for a in result["images"])
    print(f"{result['png']}: {len(result['images'])} test images, {right} with the true class first")


def _png(path):
    if path is not None and not path.lower().endswith(".png"):
        raise UserError(f"-o/--out must be a .png file, got {path}.")
    if path is not None and os.path.isdir(path):
        raise UserError(f"-o/--out must be a .png file, got the folder {path}.")

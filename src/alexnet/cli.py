"""The ``alexnet`` command: a thin layer over the library.

Every problem with the user's input ends in one line on stderr and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

from alexnet.cli_reproduce import add_activations, add_filters, add_neighbors, add_reproduce, add_top5
from alexnet.cli_weights import add_export, add_import_weights
from alexnet.config import (CONV1_INITS, DEVICES_HELP, FREEZE_PARTS, LIMITS, OPTIMIZERS, POSITIVE_INT, PRECISIONS, SCHEDULES,
                            STRATEGIES, STRATEGY_HELP, Config, Limit)
from alexnet.errors import UserError, native_stderr_silenced, plural
from alexnet.variants import ACTIVATIONS, VARIANTS, base_variant

DEFAULTS = Config()  # the CLI's defaults are the config's


class Parser(argparse.ArgumentParser):
    """argparse with the package's error format: one line, exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _number(name):
    """The ``type=`` of the config field ``name``'s flag."""
    return LIMITS[name].parse


def _quiet_tensorflow():
    """Imports TensorFlow with its C++ start-up chatter (CUDA probes, oneDNN
    notices, written straight to file descriptor 2 before its log settings
    apply) sent to /dev/null. Setting TF_CPP_MIN_LOG_LEVEL yourself keeps it."""
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    with native_stderr_silenced():
        try:
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")  # the CUDA probe logs here
        except Exception:
            pass  # a broken install reports itself on first real use, with stderr back


def _shape(text):
    try:
        parts = tuple(int(p) for p in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3 or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"must be H,W,C (three integers >= 1), got {text!r}")
    return parts


def _bool_flag(parser, name, help_text):
    parser.add_argument(f"--{name}", dest=name.replace("-", "_"), action=argparse.BooleanOptionalAction,
                        default=None, help=help_text)


def default_run_dir(data, variant):
    base = os.path.basename(os.path.normpath(data)) if os.path.exists(data) else data
    return os.path.join("runs", re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{base}-{variant}"))


def add_train(sub):
    p = sub.add_parser("train", help="train a model (default: small on Fashion-MNIST)",
                       description="Train AlexNet. Run the same command again to resume an interrupted run.")
    p.add_argument("--data", default="fashion_mnist",
                   help="fashion_mnist (default), cifar10, tfds:NAME, or a path: CIFAR-10 archive, "
                        "IDX folder, image folder (train/ val/ or class folders), TFRecord folder")
    p.add_argument("--variant", choices=sorted(VARIANTS), help="default small; with --weights, the source's")
    p.add_argument("--out", help="run directory (default runs/<data>-<variant>)")
    p.add_argument("--epochs", type=_number("epochs"))
    p.add_argument("--batch-size", type=_number("batch_size"))
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--lr", "--learning-rate", dest="learning_rate", type=_number("learning_rate"))
    p.add_argument("--schedule", choices=SCHEDULES,
                   help="plateau: lr /10 when validation accuracy stops improving (the paper)")
    p.add_argument("--momentum", type=_number("momentum"), default=DEFAULTS.momentum)
    _bool_flag(p, "nesterov", "Nesterov momentum (default: on for small, off for the paper's recipe)")
    p.add_argument("--weight-decay", type=_number("weight_decay"))
    p.add_argument("--warmup-epochs", type=_number("warmup_epochs"))
    p.add_argument("--label-smoothing", type=_number("label_smoothing"),
                   help="spread this share of each training target over all classes (default: 0.1 for small, "
                        "0 for the paper's recipe)")
    p.add_argument("--patience", type=_number("patience"), default=DEFAULTS.patience)
    p.add_argument("--conv1-init", choices=CONV1_INITS,
                   help="random: conv1 is initialized like every layer and trained; whitened: fixed "
                        "PCA-whitening filters of the training images' patches, not trained (default: "
                        "whitened for small, random for the paper's recipe)")
    p.add_argument("--activation", choices=ACTIVATIONS, help=f"default {DEFAULTS.activation}")
    _bool_flag(p, "lrn", "local response normalization after conv1 and conv2 (variant default)")
    p.add_argument("--overlapping-pooling", action=argparse.BooleanOptionalAction,
                   help="3x3 stride-2 pooling (default) or, with --no-overlapping-pooling, 2x2 stride 2")
    p.add_argument("--dropout", type=_number("dropout"), help=f"default {DEFAULTS.dropout}")
    p.add_argument("--image-size", type=_number("image_size"),
                   help="model input (crop) size (with --weights: the source's)")
    p.add_argument("--resize", type=_number("resize"),
                   help="shorter side before cropping; 0 keeps images as they are")
    _bool_flag(p, "pca-noise", "the paper's PCA colour noise (default: on for RGB ImageNet-scale data)")
    p.add_argument("--flip", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--pad", type=_number("pad"),
                   help="28-32 px data: random shifts of up to N pixels (pad and crop; default 0)")
    p.add_argument("--resample", type=_number("resample"),
                   help="28-32 px data: share of training images enlarged (1.25-4x) and brought back as predict "
                        "does with a picture of another size, so answers survive resizing (default: 0.5 for "
                        "small, 0 for the paper's recipe)")
    p.add_argument("--val-fraction", type=_number("val_fraction"), default=DEFAULTS.val_fraction,
                   help="held out for validation when the data has no validation split")
    p.add_argument("--strict", action="store_true", help="fail on bad image files instead of skipping them")
    p.add_argument("--precision", default=DEFAULTS.precision, choices=PRECISIONS)
    p.add_argument("--seed", type=_number("seed"), default=DEFAULTS.seed)
    p.add_argument("--deterministic", action="store_true", help="deterministic ops (slower)")
    p.add_argument("--max-steps-per-epoch", type=_number("max_steps_per_epoch"),
                   help="cap steps per epoch (quick runs)")
    p.add_argument("--strategy", default=DEFAULTS.strategy.value, choices=STRATEGIES, help=STRATEGY_HELP)
    p.add_argument("--devices", help=f"{DEVICES_HELP}: logical CPU devices to try the strategies without GPUs, "
                                     "or the GPUs to use")
    g = p.add_argument_group(
        "fine-tuning", "Start from a trained AlexNet: its variant, input size, colour mode and preprocessing "
                       "are kept, its classifier is replaced by one for --data's classes. The first "
                       "--head-epochs epochs train the new classifier alone (the rest frozen) at --lr, the "
                       "others every layer outside --freeze at --finetune-lr. Defaults: 10 epochs, batch 32, "
                       "lr 0.01, cosine.")
    g.add_argument("--weights", metavar="SOURCE",
                   help="a .keras file, a run directory or a model written by `alexnet import-weights`")
    g.add_argument("--head-epochs", type=_number("head_epochs"),
                   help="epochs that train the new classifier alone (default: 30%% of --epochs, rounded up)")
    g.add_argument("--freeze", choices=FREEZE_PARTS,
                   help="what stays frozen after the head epochs: none (default), convs (conv1-conv5), or "
                        "features (every layer below the classifier: a linear probe on fc7, at --lr)")
    g.add_argument("--finetune-lr", type=_number("finetune_lr"),
                   help="learning rate after the head epochs (default --lr / 10)")
    p.set_defaults(run=run_train)


def run_train(args):
    from alexnet.config import Config
    from alexnet.training.run import train

    if args.strategy != "default" or args.devices is not None:
        from alexnet.backend import require_tensorflow

        require_tensorflow(f"--strategy {args.strategy}" if args.strategy != "default" else "--devices")
    # Flags left out are None: the config's defaults, or with --weights the source's.
    fields = {k: v for k, v in vars(args).items() if k not in ("command", "run") and v is not None}
    if args.weights:
        stem = os.path.splitext(os.path.basename(os.path.normpath(args.weights)))[0]
        for name in ("variant", "activation", "lrn", "overlapping_pooling", "dropout"):
            fields.setdefault(name, None)  # the source's
        fields["out"] = fields.get("out") or default_run_dir(args.data, stem)
    else:
        fields["out"] = fields.get("out") or default_run_dir(args.data, args.variant or DEFAULTS.variant)
    if os.path.exists(fields["out"]) and not os.path.isdir(fields["out"]):
        raise UserError(f"--out must be a folder (the run directory), got the file {fields['out']}.")
    metrics = train(Config(**fields))
    ten = metrics.get("test_accuracy_ten_crop")
    ten = f", {100 * ten:.2f}% with the paper's ten-crop averaging" if ten is not None else ""
    what = "test accuracy" if metrics.get("test_split", "test") == "test" else \
        "held-out validation accuracy (the data has no test split)"
    print(f"{what}: {100 * metrics['test_accuracy']:.2f}% centre crop{ten} "
          f"(top-5 {100 * metrics['test_top5_accuracy']:.2f}%) after {plural(metrics['epochs'], 'epoch')}, "
          f"{metrics['train_seconds']:.0f} s of training; run directory {fields['out']}")


def add_evaluate(sub):
    p = sub.add_parser("evaluate", help="top-1/top-5 accuracy of a saved model")
    p.add_argument("model", help="a .keras file or a run directory")
    p.add_argument("--data", help="default: the run's own dataset, split as in training (a run directory's "
                                  "config.json and split.json); needed for a bare .keras file")
    p.add_argument("--ten-crop", action="store_true", help="average the paper's ten crops")
    p.add_argument("--batch-size", type=POSITIVE_INT.parse, default=128)
    p.add_argument("--out", help="folder for the confusion-matrix PNG (default: beside the model)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_evaluate)


def run_evaluate(args):
    from alexnet.evaluate import evaluate, format_report, to_json

    if args.out and os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UserError(f"--out must be a folder (for the confusion-matrix PNG), got the file {args.out}.")
    result = evaluate(args.model, args.data, ten_crop=args.ten_crop, batch_size=args.batch_size, out=args.out)
    print(to_json(result) if args.json else format_report(result))


def add_predict(sub):
    p = sub.add_parser("predict", help="top-k classes of images")
    p.add_argument("model", help="a .keras file or a run directory")
    p.add_argument("images", nargs="+", help="image files or folders")
    p.add_argument("--top", type=POSITIVE_INT.parse, help="classes per image, 1..the model's classes (default 5)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_predict)


def run_predict(args):
    """Answers every readable image; exit status 2 if any could not be read."""
    from alexnet.predict import predict

    failures = 0
    for answer in predict(args.model, args.images, top_k=args.top):
        if "error" in answer:
            failures += 1
            print(f"alexnet: error: {answer['error']}", file=sys.stderr, flush=True)
            if not args.json:
                continue
        if args.json:
            print(json.dumps(answer), flush=True)
        else:
            best = ", ".join(f"{p['class']} {100 * p['probability']:.1f}%" for p in answer["predictions"])
            note = f"  ({answer['note']})" if answer.get("note") else ""
            print(f"{answer['file']}: {best}{note}", flush=True)
    return 2 if failures else 0


def add_features(sub):
    p = sub.add_parser("features", help="one layer's output (default fc7) for images, to an .npz file",
                       description="Writes one row per image (the layer's output, flattened) to OUT.npz with "
                                   "the file names (`files`), the layer's name (`layer`) and its output shape "
                                   "(`shape`). Images go through the model's evaluation transform, as for "
                                   "predict; an unreadable image gets its own error line and exit status 2, "
                                   "the others are still written.")
    p.add_argument("model", help="a .keras file or a run directory")
    p.add_argument("images", nargs="+", help="image files or folders")
    p.add_argument("-o", "--out", required=True, help="the .npz file to write")
    p.add_argument("--layer", default="fc7", help="fc7 (default), fc6, pool5, conv5, ... or predictions")
    p.add_argument("--batch-size", type=POSITIVE_INT.parse, default=32)
    p.set_defaults(run=run_features)


def run_features(args):
    from alexnet.errors import log
    from alexnet.features import extract_features

    if not args.out.endswith(".npz"):
        raise UserError(f"-o/--out must be an .npz file, got {args.out}.")
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        raise UserError(f"-o/--out: no such folder {folder}.")
    count = [0]

    def progress(path, error):
        count[0] += 1
        if error is not None:
            print(f"alexnet: error: {error}", file=sys.stderr, flush=True)
        elif count[0] % 500 == 0:
            log(f"{count[0]} images done")

    result = extract_features(args.model, args.images, layer=args.layer, batch_size=args.batch_size,
                              progress=progress)
    if len(result.files):  # with none read, each image has said why on its own line
        result.save(args.out)
        print(f"wrote {len(result.files)} rows of {result.layer} ({result.features.shape[1]} values, shape "
              f"{'x'.join(map(str, result.shape))}) to {args.out}")
    return 2 if result.errors else 0


def add_summary(sub):
    p = sub.add_parser("summary", help="layers, output shapes, parameters and multiply-adds")
    p.add_argument("--variant", default="paper", choices=sorted(VARIANTS))
    p.add_argument("--classes", type=Limit(int, 2).parse, default=None, help="default 1000 (10 for small)")
    p.add_argument("--input-shape", type=_shape, help="H,W,C (variant default)")
    p.set_defaults(run=run_summary)


def run_summary(args):
    from alexnet.model import AlexNet
    from alexnet.summary import format_summary

    small = base_variant(args.variant) == "small"
    classes = args.classes if args.classes is not None else (10 if small else 1000)
    try:
        model = AlexNet(variant=args.variant, classes=classes, input_shape=args.input_shape)
    except ValueError as error:
        raise UserError(f"--input-shape: {error}") from None
    print(format_summary(model))


COMMANDS = [add_train, add_evaluate, add_predict, add_features, add_summary, add_import_weights, add_export,
            add_reproduce, add_filters, add_activations, add_neighbors, add_top5]


def build_parser():
    parser = Parser(prog="alexnet", description="AlexNet (Krizhevsky et al., 2012) in TensorFlow.")
    from alexnet import __version__

    parser.add_argument("--version", action="version", version=f"alexnet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    _quiet_tensorflow()
    try:
        return args.run(args) or 0
    except UserError as error:
        print(f"alexnet: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("alexnet: interrupted; run the same command again to resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

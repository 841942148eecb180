"""The ``import-weights`` and ``export`` commands (see :mod:`alexnet.cli`)."""

from __future__ import annotations

import os
import sys

from alexnet.config import POSITIVE_INT
from alexnet.errors import UserError


def _floats(text):
    import argparse
    import math

    try:
        values = tuple(float(p) for p in text.split(","))
    except ValueError:
        values = ()
    if len(values) not in (1, 3) or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"must be 1 or 3 comma-separated numbers (B,G,R), got {text!r}")
    return values


def add_import_weights(sub):
    p = sub.add_parser(
        "import-weights", help="turn published AlexNet weights into a .keras model",
        description="torchvision: a state dict of torchvision's AlexNet (alexnet-owt-7be5be79.pth, "
                    ".safetensors or .npz with the same keys) into the owt variant. onnx: an ONNX graph "
                    "of Caffe's BVLC AlexNet (the ONNX model zoo's bvlcalexnet) into the paper variant. "
                    "The model takes RGB pixels 0-255 and does the source's preprocessing itself.")
    p.add_argument("source", choices=["torchvision", "onnx"])
    p.add_argument("file", help="the weights file (.pth/.safetensors/.npz or .onnx)")
    p.add_argument("-o", "--out", required=True, help="the .keras file to write")
    p.add_argument("--logits", action="store_true", help="end in logits instead of probabilities")
    p.add_argument("--reader", choices=["builtin", "torch"], default="builtin",
                   help="torchvision: read .pth files without PyTorch (default) or with "
                        "torch.load(weights_only=True)")
    p.add_argument("--mean", type=_floats, help="onnx: B,G,R mean the graph expects subtracted "
                                                "(default Caffe's ILSVRC-2012 mean, 104.0,116.7,122.7)")
    p.add_argument("--no-check", dest="check", action="store_false",
                   help="onnx: skip comparing with onnxruntime")
    p.set_defaults(run=run_import_weights)


def run_import_weights(args):
    from alexnet.weights import CAFFE_MEAN_BGR, compare_with_onnxruntime, import_weights

    if not args.out.endswith(".keras"):
        raise UserError(f"-o/--out must be a .keras file, got {args.out}.")
    activation = None if args.logits else "softmax"
    if args.source == "torchvision":
        model = import_weights("torchvision", args.file, classifier_activation=activation, reader=args.reader)
    else:
        mean = args.mean or CAFFE_MEAN_BGR
        model = import_weights("onnx", args.file, mean=mean, classifier_activation=activation)
    height, width, channels = model.input_shape[1:]
    variant = "owt" if args.source == "torchvision" else "paper"
    print(f"imported {args.file} ({args.source}) into variant {variant}: "
          f"{model.output_shape[-1]} classes, {height}x{width}x{channels} RGB input, "
          f"{model.count_params():,} parameters")
    if args.source == "onnx" and args.check:
        import numpy as np

        images = np.random.default_rng(0).integers(0, 256, (2, height, width, channels)).astype(np.float32)
        difference = compare_with_onnxruntime(model, args.file, images, mean=mean)
        if difference is None:
            print("(onnxruntime is not installed: outputs not compared)")
        else:
            print(f"largest difference from onnxruntime on 2 random images: {difference:.3g}")
    from alexnet.weights import save_model

    save_model(model, args.out)
    print(f"saved {args.out}")


def add_export(sub):
    from alexnet.export import FORMATS

    p = sub.add_parser(
        "export", help="export a model as SavedModel, TFLite or ONNX",
        description="Export a .keras model (or run directory) for serving; the export is reloaded in "
                    "its own runtime and compared with the Keras model on random images.")
    p.add_argument("model", help="a .keras file or a run directory")
    p.add_argument("--format", required=True, choices=FORMATS,
                   help="saved_model (TensorFlow Serving), tflite (float), tflite_int8 "
                        "(dynamic-range int8 weights) or onnx")
    p.add_argument("-o", "--out", required=True,
                   help="output: a folder for saved_model (for TF Serving, <models>/<name>/1), else a file")
    p.add_argument("--quantize", action="store_true", help="with --format tflite: same as tflite_int8")
    p.add_argument("--top-k", type=POSITIVE_INT.parse, default=5, help="saved_model: classes returned per image")
    p.add_argument("--no-check", dest="check", action="store_false",
                   help="skip reloading the export and comparing it with the Keras model")
    p.set_defaults(run=run_export)


def run_export(args):
    from alexnet.export import FLOAT_TOLERANCE, export
    from alexnet.saved import class_names_for, load_model_file

    fmt = args.format
    if args.quantize:
        if fmt not in ("tflite", "tflite_int8"):
            raise UserError(f"--quantize applies to --format tflite only, got --format {fmt}.")
        fmt = "tflite_int8"
    model = load_model_file(args.model)
    names = class_names_for(model, args.model) if len(model.output_shape) == 2 else None
    result = export(model, args.out, fmt, top_k=args.top_k, class_names=names, check=args.check)
    print(f"exported {args.model} as {fmt} to {args.out} ({_size(args.out)})")
    if result.max_difference is None:
        return 0
    line = (f"largest difference from the Keras model on {result.images} random images: "
            f"{result.max_difference:.3g} (probabilities); same top-1 class on "
            f"{round(result.top1_agreement * result.images)}/{result.images}")
    print(line)
    if not result.ok:
        print(f"alexnet: error: the {fmt} export does not match the Keras model "
              f"(difference {result.max_difference:.3g} > {FLOAT_TOLERANCE:g})", file=sys.stderr)
        return 1
    return 0


def _size(path):
    if os.path.isdir(path):
        total = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)
    else:
        total = os.path.getsize(path)
    return f"{total / 1e6:.1f} MB"

"""How a trained run's answers hold up on resized images.

    python benchmarks/resized_agreement.py RUN_DIR [RUN_DIR ...] [--split test|val] [--count 10000] [--json]

Takes the first ``--count`` Fashion-MNIST images of the test split (or of
the run's own held-out validation split, to choose a recipe without looking
at the test set), enlarges each as an image editor would (Pillow, bilinear)
and saves it as a user's file: 56 px as a grayscale PNG, 112 px as an RGB
JPEG (quality 90). Each file then goes through ``alexnet predict``'s own
path (:func:`alexnet.predict.load_image`: decoding, conversion to gray,
resizing back to 28 px). Prints, per run, the accuracy on the original
images and on each resized set, and how often the resized file gets the same
answer as the original. Not a test (tests/test_resized.py holds a
smaller version).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

import numpy as np

SIZES = ((56, "png", "L"), (112, "jpg", "RGB"))  # (size, format, colour mode) of each resized copy


def resized_files(images, folder):
    """Writes every image of ``images`` (N, 28, 28) at each of :data:`SIZES`;
    returns ``{size: [paths]}``."""
    from PIL import Image

    paths = {}
    for size, extension, mode in SIZES:
        paths[size] = []
        for index, image in enumerate(images):
            path = os.path.join(folder, f"{index:05d}-{size}.{extension}")
            Image.fromarray(image).resize((size, size), Image.BILINEAR).convert(mode).save(path, quality=90)
            paths[size].append(path)
    return paths


def split_images(run, split, count):
    """The first ``count`` images and labels of the run's test or validation split."""
    from alexnet.data.sources import load_source

    with open(os.path.join(run, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    source = load_source(config["data"], val_fraction=config["val_fraction"], seed=config["seed"])
    part = source.test if split == "test" else source.val
    return part.images[:count, ..., 0], part.labels[:count]


def agreement(run, split="test", count=10000):
    """``{"accuracy_28", "accuracy_56", "same_56", "accuracy_112", "same_112"}`` of one run."""
    from alexnet.predict import load_image
    from alexnet.saved import input_spec_for, load_model_file

    model = load_model_file(run)
    spec = input_spec_for(model, run)
    images, labels = split_images(run, split, count)
    original = model.predict(images[..., None].astype("float32"), batch_size=250, verbose=0).argmax(1)
    result = {"run": run, "split": split, "images": len(labels), "accuracy_28": float(np.mean(original == labels))}
    with tempfile.TemporaryDirectory() as folder:
        for size, paths in resized_files(images, folder).items():
            batch = np.stack([load_image(path, spec)[0].numpy() for path in paths])
            answer = model.predict(batch, batch_size=250, verbose=0).argmax(1)
            result[f"accuracy_{size}"] = float(np.mean(answer == labels))
            result[f"same_{size}"] = float(np.mean(answer == original))
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="run directories of Fashion-MNIST runs")
    parser.add_argument("--split", choices=("test", "val"), default="test")
    parser.add_argument("--count", type=int, default=10000,
                        help="images (default: the whole test set; at 97%% agreement 1,000 give a 95%% interval of +-1.1 points)")
    parser.add_argument("--json", action="store_true", help="one JSON line per run instead of a table")
    args = parser.parse_args(argv)

    import alexnet  # noqa: F401  (registers the layers)

    if not args.json:
        print(f"{args.count} {args.split} images; 56 px grayscale PNG and 112 px RGB JPEG, bilinear enlargements")
        print("| run | accuracy, 28 px | 56 px: accuracy, same answer | 112 px: accuracy, same answer |")
        print("|---|---|---|---|")
    for run in args.runs:
        r = agreement(run, args.split, args.count)
        if args.json:
            print(json.dumps(r), flush=True)
        else:
            print(f"| {run} | {100 * r['accuracy_28']:.1f}% | {100 * r['accuracy_56']:.1f}%, "
                  f"{100 * r['same_56']:.1f}% | {100 * r['accuracy_112']:.1f}%, {100 * r['same_112']:.1f}% |",
                  flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Speed and memory of fine-tuning the paper-size network on this CPU.

    python benchmarks/finetune_speed.py [--work DIR] [--images 200] [--batch-size 32] [--steps 6]

Writes a torchvision-layout ``.pth`` with random weights (torch.save of the
state dict, as the published alexnet-owt file), imports it with
:func:`alexnet.weights.import_weights` (the ``owt`` variant, 224 px), writes
``--images`` synthetic JPEGs (two classes, 300-400 px, RGB) and times the
two stages of ``alexnet train --weights`` on them with the package's own
pieces (:mod:`alexnet.training.finetune`, the run's tf.data pipeline with
its augmentation): the new classifier alone with the rest frozen, then
every layer. Prints images per second of each stage (after one warm-up
step) and the process's peak resident memory after each (``ru_maxrss``).
Not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np


def write_pth(path):
    import torch

    from alexnet.importers.torchvision import expected_shapes

    generator = torch.Generator().manual_seed(0)
    state = {}
    for key, shape in expected_shapes(1000).items():
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        scale = (2.0 / fan_in) ** 0.5 if len(shape) > 1 else 0.01
        state[key] = torch.randn(*shape, generator=generator) * scale
    torch.save(state, path)


def write_photos(folder, count):
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(count):
        name = ("cats", "dogs")[i % 2]
        os.makedirs(os.path.join(folder, name), exist_ok=True)
        h, w = int(rng.integers(300, 400)), int(rng.integers(300, 400))
        array = rng.integers(0, 90, (h, w, 3)).astype(np.uint8)
        array[: h // 2 if i % 2 == 0 else h] += 120
        Image.fromarray(array).save(os.path.join(folder, name, f"{i}.jpg"), quality=90)


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="runs/finetune_speed")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=6, help="timed steps per stage (after one warm-up step)")
    args = parser.parse_args(argv)
    os.makedirs(args.work, exist_ok=True)

    import keras

    from alexnet.config import Config, resolve
    from alexnet.data.datasets import train_dataset
    from alexnet.training import finetune as F
    from alexnet.training import run as R
    from alexnet.training.optim import make_loss, make_optimizer
    from alexnet.training.precision import cpu_description
    from alexnet.weights import import_weights

    pth, keras_file, photos = (os.path.join(args.work, name) for name in ("owt.pth", "owt.keras", "photos"))
    if not os.path.exists(keras_file):
        write_pth(pth)
        import_weights("torchvision", pth, out=keras_file)
    if not os.path.isdir(photos):
        write_photos(photos, args.images)
    print(f"start: peak memory {peak_mb():.0f} MB")

    source_model, source = F.read_source(keras_file)
    config = resolve(F.with_source_settings(
        Config(data=photos, weights=keras_file, batch_size=args.batch_size, precision="float32", variant=None,
               activation=None, overlapping_pooling=None, dropout=None), source))
    data, spec, _ = R.prepare_data(config, channels=3)
    model = F.new_classifier(source_model, data.num_classes, 0)
    batches = iter(train_dataset(data, spec, args.batch_size, seed=0))
    print(f"owt at {spec.crop} px, {model.count_params():,} parameters, {len(data.train)} training images, "
          f"batch {args.batch_size}, on {cpu_description()[0]} ({os.cpu_count()} cores); "
          f"peak memory {peak_mb():.0f} MB")
    for stage, part, lr in (("head alone, rest frozen", "head", config.learning_rate),
                            ("every layer", "none", config.finetune_lr)):
        F.set_trainable(model, part)
        R.compile_model(model, make_optimizer(config.replace(learning_rate=lr), 10), make_loss(config))
        images, labels = next(batches)
        model.train_on_batch(images, labels)  # warm-up: tracing
        start, seen = time.perf_counter(), 0
        for _ in range(args.steps):
            images, labels = next(batches)  # the pipeline's decode, resize, crop and noise included
            model.train_on_batch(images, labels)
            seen += int(images.shape[0])
        seconds = time.perf_counter() - start
        print(f"| {stage} | {seen / seconds:.1f} images/s | {1000 * seconds / args.steps:.0f} ms/step | "
              f"peak memory {peak_mb():.0f} MB |", flush=True)
    keras.backend.clear_session()


if __name__ == "__main__":
    main()

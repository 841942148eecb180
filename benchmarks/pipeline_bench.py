"""The training input pipeline alone: JPEG decode, resize of the shorter
side, random crop, flip and PCA colour noise (``alexnet.data.datasets.
train_transform``), batched as in training, on synthetic JPEGs written to a
temporary folder."""

from __future__ import annotations

import os
import tempfile

import numpy as np

from measure import time_steps


def synthetic_image(rng, height, width):
    """Smooth colour gradients plus noise: compresses and decodes like a
    photograph more than pure noise does."""
    y = np.linspace(0, 1, height)[:, None, None]
    x = np.linspace(0, 1, width)[None, :, None]
    phase = rng.uniform(0, 2 * np.pi, (1, 1, 3))
    image = 127 + 100 * np.sin(6 * x + 4 * y + phase) + rng.normal(0, 12, (height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def write_jpegs(folder, count, height, width, seed=0):
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    paths, images = [], []
    for index in range(count):
        image = synthetic_image(rng, height, width)
        path = os.path.join(folder, f"{index:05d}.jpg")
        tf.io.write_file(path, tf.io.encode_jpeg(image, quality=90))
        paths.append(path)
        images.append(image)
    return paths, images


def run_pipeline_benchmark(t):
    import tensorflow as tf

    from alexnet.data import pipeline as P
    from alexnet.data.datasets import InputSpec, train_transform

    if t.get("threads"):
        tf.config.threading.set_intra_op_parallelism_threads(t["threads"])
    with tempfile.TemporaryDirectory(prefix="alexnet-jpegs-") as folder:
        paths, images = write_jpegs(folder, t["images"], t["height"], t["width"])
        values, vectors = P.pca_of_pixels(images[:64])
        spec = InputSpec(
            crop=t["crop"], resize=t["resize"], channels=3, pad=0, flip=True,
            pca={"eigenvalues": values.tolist(), "eigenvectors": vectors.tolist(), "std": P.PCA_STD},
            mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0),
        )
        ds = tf.data.Dataset.from_tensor_slices((paths, np.zeros(len(paths), np.int64))).repeat()
        ds = ds.map(lambda path, label: (P.decode_image(tf.io.read_file(path)), label),
                    num_parallel_calls=P.AUTOTUNE)
        ds = ds.map(lambda image, label: train_transform(image, label, spec), num_parallel_calls=P.AUTOTUNE)
        ds = ds.batch(t["batch"]).prefetch(P.AUTOTUNE)
        iterator = iter(ds)
        timing = time_steps(lambda: next(iterator)[0].numpy(), t["warmup"], t["steps"])
    return {**timing, "images_per_s": t["batch"] / timing["median_s"],
            "source_size": f"{t['width']}x{t['height']}"}

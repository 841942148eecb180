"""How a trained run's answers hold up on resized images.

    python benchmarks/resized_agreement.py RUN_DIR [RUN_DIR ...]

Takes the first 2,000 Fashion-MNIST test images, enlarges each to 56 and
112 px (Pillow, bicubic), and has ``alexnet predict``'s transform
(:func:`alexnet.predict.prepare_image`) bring it back to 28 px, as for a
user's picture at another size. Prints, per run, the accuracy on the
original images and on each resized set, and how often the resized image
gets the same answer as the original. Not a test.
"""

from __future__ import annotations

import sys

import numpy as np


def main(runs):
    import tensorflow as tf
    from PIL import Image

    import alexnet  # noqa: F401  (registers the layers)
    from alexnet.data.sources import load_fashion_mnist
    from alexnet.predict import prepare_image
    from alexnet.saved import load_model_file

    test = load_fashion_mnist().test
    images, labels = test.images[:2000, ..., 0], test.labels[:2000]

    class Spec:  # the transform of a run trained at 28 px without resizing
        crop, resize = 28, 0

    resized = {}
    for size in (56, 112):
        back = [prepare_image(tf.constant(np.array(Image.fromarray(image).resize((size, size), Image.BICUBIC))[..., None]),
                              Spec)[0].numpy() for image in images]
        resized[size] = np.stack(back)
    print("| run | accuracy, 28 px | 56 px: accuracy, same answer | 112 px: accuracy, same answer |")
    print("|---|---|---|---|")
    for run in runs:
        model = load_model_file(run)
        original = model.predict(images[..., None].astype("float32"), verbose=0).argmax(1)
        cells = [f"{100 * np.mean(original == labels):.2f}%"]
        for size in (56, 112):
            answer = model.predict(resized[size], verbose=0).argmax(1)
            cells.append(f"{100 * np.mean(answer == labels):.2f}%, {100 * np.mean(answer == original):.1f}%")
        print(f"| {run} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])

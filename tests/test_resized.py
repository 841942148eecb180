"""The default recipe's answers survive resizing: a smaller version of
``benchmarks/resized_agreement.py``. A net trained briefly on real
Fashion-MNIST with the main job's recipe (fixed whitening conv1, half the
images resampled) is asked about test images enlarged as a user's files
would be (56 px PNG, 112 px RGB JPEG) through ``predict``'s own path."""

import json
import os

import numpy as np

COUNT = 300


def answers(run, folder):
    """Top-1 answers at 28 px and for each enlarged file, and the labels."""
    from PIL import Image

    from alexnet.data.sources import load_fashion_mnist
    from alexnet.predict import load_image
    from alexnet.saved import input_spec_for, load_model_file

    test = load_fashion_mnist().test
    images, labels = test.images[:COUNT, ..., 0], test.labels[:COUNT]
    model = load_model_file(run)
    spec = input_spec_for(model, run)
    result = {28: model.predict(images[..., None].astype("float32"), verbose=0).argmax(1)}
    for size, extension, mode in ((56, "png", "L"), (112, "jpg", "RGB")):
        batch = []
        for index, image in enumerate(images):
            path = folder / f"{index}-{size}.{extension}"
            Image.fromarray(image).resize((size, size), Image.BILINEAR).convert(mode).save(path, quality=90)
            batch.append(load_image(str(path), spec)[0].numpy())
        result[size] = model.predict(np.stack(batch), verbose=0).argmax(1)
    return result, labels


def test_the_default_recipe_answers_the_same_for_enlarged_images(fashion_run, tmp_path):
    """The shared net is conftest's ``fashion_run`` (its measurements are
    there). Trained fully, the main job's model: 98% (BENCHMARKS.md,
    "Resized images")."""
    run = str(fashion_run)
    with open(os.path.join(run, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    assert config["resample"] == 0.5 and config["conv1_init"] == "whitened"  # small's defaults
    result, labels = answers(run, tmp_path)
    assert np.mean(result[28] == labels) > 0.5  # it learned something
    for size in (56, 112):
        assert np.mean(result[size] == result[28]) >= 0.85, (size, np.mean(result[size] == result[28]))

"""Feature maps of one image at conv1..conv5: the function, the figure and
``alexnet activations`` on a small model."""

import json

import numpy as np
import pytest

from alexnet.cli import main
from alexnet.variants import SMALL
from conftest import save_image

CLASSES = ["circle", "square", "stripe"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run directory holding an untrained ``small`` model (28x28x1, 3
    classes), its classes.json and an input.json, as training writes them."""
    import alexnet

    folder = tmp_path_factory.mktemp("activations") / "run"
    folder.mkdir()
    alexnet.AlexNet(variant="small", input_shape=(28, 28, 1), classes=3).save(folder / "model.keras")
    (folder / "classes.json").write_text(json.dumps(CLASSES))
    (folder / "input.json").write_text(json.dumps(dict(crop=28, resize=0, channels=1, pad=0, flip=True, pca=None,
                                                       mean=[72.9], std=[90.0])))
    return folder


def test_feature_maps_shapes_and_probabilities():
    import alexnet
    from alexnet.activations import CONV_LAYERS, feature_maps

    model = alexnet.AlexNet(variant="small", input_shape=(28, 28, 1), classes=3)
    image = np.random.default_rng(0).uniform(0, 255, (28, 28, 1)).astype(np.float32)
    maps, probabilities = feature_maps(model, image)
    assert list(maps) == list(CONV_LAYERS)
    # small: 28 -> pool1 14 -> pool2 7; widths 48/64/96/96/64.
    widths = [conv.filters for conv in SMALL.convs]
    assert [m.shape for m in maps.values()] == [(size, size, width) for size, width in zip((28, 14, 7, 7, 7), widths)]
    assert all(m.min() >= 0 for m in maps.values())  # after the ReLU
    assert probabilities.shape == (3,) and abs(probabilities.sum() - 1) < 1e-5
    np.testing.assert_allclose(probabilities, model.predict(image[None], verbose=0)[0], rtol=1e-5, atol=1e-6)

    logits = alexnet.AlexNet(variant="small", input_shape=(28, 28, 1), classes=3, classifier_activation=None)
    assert abs(feature_maps(logits, image)[1].sum() - 1) < 1e-6  # logits are turned into probabilities
    features = alexnet.AlexNet(variant="small", input_shape=(28, 28, 1), include_top=False, pooling="avg")
    assert feature_maps(features, image)[1] is None


def test_draw_and_tile():
    from alexnet.activations import draw_feature_maps, tile

    canvas = tile(np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5), columns=3)
    assert canvas.shape == (2 * 3 - 1, 3 * 4 - 1)  # 2 rows of 2 px, 3 columns of 3 px, 1 px gaps
    assert np.nanmin(canvas) == 0 and np.nanmax(canvas) == 1 and np.isnan(canvas[2]).all()

    maps = {"conv1": np.ones((6, 6, 300), np.float32)}
    fig = draw_feature_maps(np.zeros((6, 6, 3)), maps, np.array([0.2, 0.8]), ["a", "b"], top=1, max_maps=10)
    titles = [ax.get_title() for ax in fig.axes]
    assert "conv1: 300 maps of 6x6 (the first 10 shown), largest value 1" in titles and "top-1 classes" in titles


def test_plot_activations_from_a_run_directory(run_dir, tmp_path):
    from alexnet.activations import plot_activations

    # An RGB image of another size: converted to one channel and brought to 28x28 as `predict` does.
    image = tmp_path / "shirt.png"
    save_image(image, np.random.default_rng(1).integers(0, 255, (40, 36, 3)).astype(np.uint8))
    result = plot_activations(str(run_dir), str(image), str(tmp_path / "maps.png"), top=2)
    assert (tmp_path / "maps.png").stat().st_size > 5000
    assert [layer["name"] for layer in result["layers"]] == ["conv1", "conv2", "conv3", "conv4", "conv5"]
    assert result["layers"][0]["shape"] == [28, 28, SMALL.convs[0].filters]
    assert len(result["top"]) == 2 and {t["class"] for t in result["top"]} <= set(CLASSES)
    # Default output: activations.png beside the model.
    plot_activations(str(run_dir / "model.keras"), str(image))
    assert (run_dir / "activations.png").is_file()


def test_activations_command(run_dir, tmp_path, capsys):
    image = tmp_path / "x.png"
    save_image(image, np.full((28, 28), 200, np.uint8))
    out = tmp_path / "out" / "maps.png"
    assert main(["activations", str(run_dir), str(image), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    widths = [conv.filters for conv in SMALL.convs]
    assert out.is_file() and f"conv1 {widths[0]}x28x28" in printed and f"conv5 {widths[4]}x7x7" in printed
    assert "top-1" in printed


def test_activations_command_user_errors(run_dir, tmp_path, capsys):
    import keras

    image = tmp_path / "x.png"
    save_image(image, np.full((28, 28), 200, np.uint8))
    assert main(["activations", str(run_dir), str(tmp_path / "missing.png")]) == 2
    assert "missing.png" in capsys.readouterr().err
    (tmp_path / "notes.txt").write_text("not an image")
    assert main(["activations", str(run_dir), str(tmp_path / "notes.txt")]) == 2
    assert "notes.txt" in capsys.readouterr().err
    assert main(["activations", str(run_dir), str(image), "-o", str(tmp_path / "maps.jpg")]) == 2
    assert ".png" in capsys.readouterr().err
    assert main(["activations", str(tmp_path / "none.keras"), str(image)]) == 2
    assert "No such model file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # refused by the parser, before the model loads
        main(["activations", str(run_dir), str(image), "--top", "0"])
    assert exit_info.value.code == 2 and "--top" in capsys.readouterr().err

    inputs = keras.Input((28, 28, 1))
    other = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(inputs)))
    other.save(tmp_path / "other.keras")
    assert main(["activations", str(tmp_path / "other.keras"), str(image)]) == 2
    err = capsys.readouterr().err
    assert "no layer 'conv1'" in err and len(err.strip().splitlines()) == 1

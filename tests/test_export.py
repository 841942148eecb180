"""Exports (SavedModel, TFLite float and int8, ONNX), each reloaded in its own
runtime and compared with the Keras model, and the ``export`` command."""

import json
import os

import numpy as np
import pytest

from alexnet.cli import main
from alexnet.errors import UserError
from alexnet.export import FLOAT_TOLERANCE, export, probability_model, run_onnx, run_saved_model, run_tflite


def tiny_alexnet(seed=0):
    """Every custom layer an AlexNet export contains (BGR preprocessing,
    two-tower convolution, LRN, torchvision's adaptive pooling with uneven
    bins) in a model small enough to export in seconds. Ends in logits, as
    an imported model may."""
    import keras

    from alexnet.layers import AdaptiveAveragePooling2D, GroupedConv2D, LocalResponseNormalization, Preprocess

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((37, 37, 3), name="image")
    x = Preprocess(mean=(104.0, 117.0, 123.0), std=(58.0,), channel_order="bgr", name="preprocess")(inputs)
    x = GroupedConv2D(16, 5, strides=2, activation="relu", name="conv1")(x)
    x = LocalResponseNormalization.from_caffe(5, 1e-4, 0.75, 1.0, name="lrn1")(x)
    x = keras.layers.MaxPooling2D(3, 2, name="pool1")(x)
    x = GroupedConv2D(24, 3, padding="same", groups=2, activation="relu", name="conv2")(x)
    x = LocalResponseNormalization(name="lrn2")(x)
    x = AdaptiveAveragePooling2D((3, 3), name="avgpool")(x)  # 8x8 -> 3x3: uneven bins
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(32, activation="relu", name="fc6")(x)
    outputs = keras.layers.Dense(7, name="predictions")(x)
    model = keras.Model(inputs, outputs, name="tiny_alexnet")
    # Spread the logits so probabilities are far from uniform.
    kernel, bias = model.get_layer("predictions").get_weights()
    model.get_layer("predictions").set_weights([kernel * 30, bias])
    return model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    model = tiny_alexnet()
    folder = tmp_path_factory.mktemp("tiny")
    path = folder / "model.keras"
    model.save(path)
    (folder / "classes.json").write_text(json.dumps([f"thing{i}" for i in range(7)]))
    return model, path


def images(n, shape=(37, 37, 3), seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


def keras_probabilities(model, x):
    return np.asarray(probability_model(model)(x.astype(np.float32), training=False))


def test_saved_model_serving_signatures(tiny, tmp_path):
    import tensorflow as tf

    model, _ = tiny
    out = str(tmp_path / "serving" / "tiny" / "1")
    names = [f"thing{i}" for i in range(7)]
    result = export(model, out, "saved_model", top_k=3, class_names=names)
    assert result.ok and result.max_difference < 1e-5 and result.top1_agreement == 1.0

    loaded = tf.saved_model.load(out)  # TensorFlow alone: no alexnet layers needed
    assert set(loaded.signatures) == {"serving_default", "serving_uint8"}
    default = loaded.signatures["serving_default"]
    spec = default.structured_input_signature[1]["images"]
    assert spec.dtype == tf.float32 and spec.shape.as_list() == [None, 37, 37, 3]
    assert loaded.signatures["serving_uint8"].structured_input_signature[1]["images"].dtype == tf.uint8
    assert set(default.structured_outputs) == {"probabilities", "top_k_scores", "top_k_indices", "top_k_classes"}

    for batch in (1, 5):  # any batch size, uint8 or float
        x = images(batch, seed=batch)
        expected = keras_probabilities(model, x)
        from_uint8 = loaded.signatures["serving_uint8"](images=tf.constant(x))
        from_float = default(images=tf.constant(x.astype(np.float32)))
        for answer in (from_uint8, from_float):
            np.testing.assert_allclose(answer["probabilities"].numpy(), expected, atol=1e-5)
            np.testing.assert_array_equal(answer["top_k_indices"].numpy(), np.argsort(-expected, -1)[:, :3])
            assert answer["top_k_classes"].numpy()[0, 0].decode() == names[int(expected[0].argmax())]
        assert expected.max() > 0.5  # probabilities far from uniform: a real comparison
    difference = float(np.max(np.abs(from_float["probabilities"].numpy() - expected)))
    print(f"saved_model max probability difference: {difference:.3g}")


@pytest.mark.parametrize("fmt", ["tflite", "tflite_int8", "onnx"])
def test_export_round_trips_in_its_runtime(tiny, tmp_path, fmt):
    if fmt == "onnx":
        pytest.importorskip("tf2onnx")
        pytest.importorskip("onnxruntime")
    model, _ = tiny
    out = str(tmp_path / f"tiny.{'onnx' if fmt == 'onnx' else 'tflite'}")
    result = export(model, out, fmt)
    assert os.path.isfile(out) and result.images == 4

    x = images(3, seed=7)
    expected = keras_probabilities(model, x)
    found = run_onnx(out, x) if fmt == "onnx" else run_tflite(out, x)
    assert found.shape == (3, 7)
    difference = float(np.max(np.abs(found - expected)))
    print(f"{fmt} max probability difference: {difference:.3g}")
    if fmt == "tflite_int8":
        assert difference < 0.05 and (found.argmax(-1) == expected.argmax(-1)).mean() >= 2 / 3
    else:
        assert difference < 1e-5 and result.max_difference < 1e-5 and result.ok


def test_int8_is_smaller_than_float(tmp_path):
    from alexnet.model import AlexNet

    model = AlexNet(variant="small", classes=10)
    sizes = {}
    for fmt in ("tflite", "tflite_int8"):
        result = export(model, str(tmp_path / f"{fmt}.tflite"), fmt)
        sizes[fmt] = os.path.getsize(result.path)
        assert result.top1_agreement == 1.0
    assert sizes["tflite_int8"] < sizes["tflite"] / 3


def test_onnx_export_of_a_small_alexnet(tmp_path):
    pytest.importorskip("tf2onnx")
    pytest.importorskip("onnxruntime")
    from alexnet.model import AlexNet

    model = AlexNet(variant="small", classes=10)
    result = export(model, str(tmp_path / "small.onnx"), "onnx")
    assert result.ok and result.max_difference < 1e-5
    x = images(2, (28, 28, 1))
    np.testing.assert_allclose(run_onnx(result.path, x), keras_probabilities(model, x), atol=1e-5)


def test_cli_export(tiny, tmp_path, capsys):
    _, path = tiny
    out = tmp_path / "tiny_int8.tflite"
    assert main(["export", str(path), "--format", "tflite", "--quantize", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"as tflite_int8 to {out}" in printed and "largest difference from the Keras model" in printed
    assert out.is_file()

    saved = tmp_path / "sm"
    assert main(["export", str(path), "--format", "saved_model", "-o", str(saved), "--top-k", "2"]) == 0
    printed = capsys.readouterr().out
    difference = float(printed.split("random images: ")[1].split()[0])
    assert difference <= FLOAT_TOLERANCE
    x = images(1)
    import tensorflow as tf

    answer = tf.saved_model.load(str(saved)).signatures["serving_uint8"](images=tf.constant(x))
    assert answer["top_k_classes"].shape == (1, 2)
    assert answer["top_k_classes"].numpy()[0, 0].decode().startswith("thing")  # classes.json beside the model


def test_cli_export_errors(tiny, tmp_path, capsys):
    import keras

    _, path = tiny

    def run(*argv):
        code = main(["export", *map(str, argv)])
        err = capsys.readouterr().err
        assert err.startswith("alexnet: error: ") and err.count("\n") == 1, err
        return code, err

    code, err = run(tmp_path / "missing.keras", "--format", "tflite", "-o", tmp_path / "x.tflite")
    assert code == 2 and "No such model file" in err
    code, err = run(path, "--format", "onnx", "--quantize", "-o", tmp_path / "x.onnx")
    assert code == 2 and "--quantize applies to --format tflite only" in err

    features = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3)])
    features.save(tmp_path / "features.keras")
    code, err = run(tmp_path / "features.keras", "--format", "tflite", "-o", tmp_path / "x.tflite")
    assert code == 2 and "Export needs a classifier" in err


def test_export_rejects_unknown_format_and_never_deletes_other_files(tiny, tmp_path):
    model = tiny[0]
    with pytest.raises(UserError, match="Unknown export format 'coreml'"):
        export(model, str(tmp_path / "x"), "coreml")
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(UserError, match="exists and is not a SavedModel"):
        export(model, str(precious), "saved_model")
    with pytest.raises(UserError, match="is a folder; give a file name"):
        export(model, str(precious), "tflite")
    with pytest.raises(UserError, match="is a file; a SavedModel is written to a folder"):
        export(model, str(precious / "notes.txt"), "saved_model")
    assert (precious / "notes.txt").read_text() == "keep me"
    # An earlier export is replaced.
    for _ in range(2):
        export(model, str(tmp_path / "sm"), "saved_model", check=False)


def test_mixed_precision_model_exports_in_float32(tmp_path):
    import keras

    from alexnet.model import AlexNet

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = AlexNet(variant="small", classes=10)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    result = export(model, str(tmp_path / "mp.tflite"), "tflite")
    assert result.top1_agreement == 1.0
    x = images(2, (28, 28, 1))
    assert run_tflite(result.path, x).dtype == np.float32


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["saved_model", "tflite", "tflite_int8", "onnx"])
def test_full_size_paper_alexnet_exports(tmp_path, fmt):
    """The paper's 227x227 two-tower network, 61M parameters (ONNX export
    of it takes about a minute on two cores)."""
    from alexnet.model import AlexNet

    model = AlexNet(variant="paper")
    result = export(model, str(tmp_path / f"paper.{fmt}"), fmt)
    assert result.ok and result.top1_agreement == 1.0
    if fmt == "saved_model":
        x = images(2, (227, 227, 3))
        np.testing.assert_allclose(run_saved_model(result.path, x), keras_probabilities(model, x), atol=1e-5)

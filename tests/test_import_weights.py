"""Importing published AlexNet weights: torchvision's state dict and the ONNX
zoo's Caffe AlexNet, ImageNet's class names, and the one-line errors.

Models with random weights are built here with torch.nn and onnx.helper in
the published layouts, imported, and run against PyTorch and onnxruntime on
the same images.
"""

import math
import pickle
import zipfile

import numpy as np
import pytest

from alexnet.cli import main
from alexnet.errors import UserError
from alexnet.imagenet import class_descriptions, class_names, decode_predictions, wordnet_ids
from alexnet.importers.common import check_tensors
from alexnet.importers.torch_file import read_state_dict
from alexnet.weights import import_onnx, import_torchvision, import_weights

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def rgb_images(n, size, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3)).astype(np.float32)


def close(found, expected, rel=1e-5):
    """Largest difference, asserted within ``rel`` of the largest value."""
    difference = float(np.max(np.abs(np.asarray(found) - np.asarray(expected))))
    assert difference <= rel * max(1.0, float(np.max(np.abs(expected)))), difference
    return difference


# --- ImageNet class names ------------------------------------------------------

def test_imagenet_classes_are_the_standard_ilsvrc2012_order():
    ids, names = wordnet_ids(), class_names()
    assert len(ids) == len(names) == 1000
    assert ids == sorted(ids) and len(set(ids)) == 1000  # the standard order is sorted WordNet ids
    assert (ids[0], names[0]) == ("n01440764", "tench")
    assert (ids[-1], names[-1]) == ("n15075141", "toilet tissue")
    assert (ids[1], names[1]) == ("n01443537", "goldfish")
    assert (ids[207], names[207]) == ("n02099601", "golden retriever")
    assert (ids[281], names[281]) == ("n02123045", "tabby")
    assert (ids[409], names[409]) == ("n02708093", "analog clock")
    assert class_descriptions()[0] == "tench, Tinca tinca"


def test_decode_predictions():
    preds = np.zeros((2, 1000), np.float32)
    preds[0, [1, 207, 999]] = [0.2, 0.7, 0.1]
    preds[1, 281] = 1.0
    decoded = decode_predictions(preds, top=3)
    assert decoded[0] == [("n02099601", "golden retriever", pytest.approx(0.7)),
                          ("n01443537", "goldfish", pytest.approx(0.2)),
                          ("n15075141", "toilet tissue", pytest.approx(0.1))]
    assert decoded[1][0] == ("n02123045", "tabby", 1.0) and len(decoded[1]) == 3
    with pytest.raises(ValueError, match=r"\(samples, 1000\)"):
        decode_predictions(np.zeros((2, 10)))


def test_saved_model_class_names_use_imagenet():
    import keras

    from alexnet.saved import class_names_for

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1000)])
    assert class_names_for(model, "/nonexistent/model.keras")[:2] == ["tench", "goldfish"]


# --- reading state dict files without PyTorch -------------------------------------

def test_npz_and_safetensors_are_read(tmp_path):
    import json
    import struct

    tensors = {"a.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "a.bias": np.ones(2, np.float16)}
    np.savez(tmp_path / "w.npz", **tensors)
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        blob = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": {"float32": "F32", "float16": "F16"}[array.dtype.name],
                        "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    meta = json.dumps(header).encode()
    (tmp_path / "w.safetensors").write_bytes(struct.pack("<Q", len(meta)) + meta + b"".join(blobs))
    for name in ("w.npz", "w.safetensors"):
        read = read_state_dict(tmp_path / name)
        assert list(read) == list(tensors)
        for key, value in tensors.items():
            np.testing.assert_array_equal(read[key], value)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_code_in_a_pth_file_is_never_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("evil/data.pkl", pickle.dumps({"features.0.weight": _Evil(marker)}, protocol=2))
    with pytest.raises(UserError, match=r"needs posix\.system|needs os\.system|refusing to run code"):
        read_state_dict(path)
    assert not marker.exists()
    legacy = tmp_path / "legacy.pth"
    legacy.write_bytes(pickle.dumps(_Evil(marker), protocol=2))
    with pytest.raises(UserError, match="refusing to run code|not a PyTorch file"):
        read_state_dict(legacy)
    assert not marker.exists()


@pytest.mark.parametrize("content, message", [
    (b"hello, not weights\n", "not a PyTorch state dict"),
    (b"", "not a PyTorch state dict"),
])
def test_wrong_kind_of_file(tmp_path, content, message):
    path = tmp_path / "weights.pth"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message) as error:
        import_torchvision(path)
    assert "\n" not in str(error.value)


def test_torch_reader_without_torch_gives_install_hint(tmp_path, monkeypatch):
    import sys

    np.savez(tmp_path / "w.npz", a=np.zeros(2))
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(UserError, match="pip install torch"):
        read_state_dict(tmp_path / "w.npz", reader="torch")
    assert list(read_state_dict(tmp_path / "w.npz")) == ["a"]  # the builtin reader needs no torch


def test_zip_that_is_not_torch(tmp_path):
    path = tmp_path / "weights.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hi")
    with pytest.raises(UserError, match="not a PyTorch state dict"):
        read_state_dict(path)


def test_check_tensors_names_the_first_offender():
    expected = {"a": (2, 3), "b": (4,)}
    with pytest.raises(UserError, match=r"f: tensor a has shape \(3, 2\), expected \(2, 3\)\."):
        check_tensors("f", {"a": np.zeros((3, 2)), "b": np.zeros(4)}, expected)
    with pytest.raises(UserError, match=r"f: missing tensor b \(expected shape \(4,\)\)"):
        check_tensors("f", {"a": np.zeros((2, 3))}, expected)
    with pytest.raises(UserError, match=r"f: unexpected tensor c of shape \(1,\)"):
        check_tensors("f", {"a": np.zeros((2, 3)), "b": np.zeros(4), "c": np.zeros(1)}, expected)


def test_key_and_shape_mismatches_in_a_torchvision_file(tmp_path):
    good = {"features.0.weight": np.zeros((64, 3, 11, 11), np.float32), "features.0.bias": np.zeros(64, np.float32)}
    np.savez(tmp_path / "missing.npz", **good)
    with pytest.raises(UserError, match=r"missing tensor features\.3\.weight \(expected shape \(192, 64, 5, 5\)\)"):
        import_torchvision(tmp_path / "missing.npz")
    np.savez(tmp_path / "shape.npz", **good, **{"features.3.weight": np.zeros((192, 64, 3, 3), np.float32)})
    with pytest.raises(UserError, match=r"tensor features\.3\.weight has shape \(192, 64, 3, 3\), "
                                        r"expected \(192, 64, 5, 5\)"):
        import_torchvision(tmp_path / "shape.npz")
    np.savez(tmp_path / "resnet.npz", **{"conv1.weight": np.zeros((64, 3, 7, 7), np.float32)})
    with pytest.raises(UserError, match=r"missing tensor features\.0\.weight .* found 1 tensor \(conv1\.weight\)"):
        import_torchvision(tmp_path / "resnet.npz")


# --- torchvision ----------------------------------------------------------------------

def _torchvision_alexnet(classes=1000, seed=0):
    """torchvision's AlexNet, layer for layer, with He-initialized random weights
    (so activations neither vanish nor explode) and random biases."""
    torch = pytest.importorskip("torch")
    from torch import nn

    class AlexNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2),
                nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2),
                nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
                nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
                nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2),
            )
            self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
            self.classifier = nn.Sequential(
                nn.Dropout(p=0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
                nn.Dropout(p=0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
                nn.Linear(4096, classes),
            )

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    torch.manual_seed(seed)
    model = AlexNet().eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.normal_(module.bias, std=0.1)
    return model


def _torch_logits(model, images):
    import torch

    x = (images / 255.0 - IMAGENET_MEAN) / IMAGENET_STD  # torchvision's transforms
    with torch.no_grad():
        return model(torch.from_numpy(x.transpose(0, 3, 1, 2).astype(np.float32))).numpy()


@pytest.fixture(scope="module")
def torchvision_file(tmp_path_factory):
    torch = pytest.importorskip("torch")
    model = _torchvision_alexnet()
    path = tmp_path_factory.mktemp("tv") / "alexnet-owt-random.pth"
    torch.save(model.state_dict(), path)
    return model, path


@pytest.mark.parametrize("reader", ["builtin", "torch"])
def test_torchvision_import_gives_pytorchs_logits(torchvision_file, reader):
    torch_model, path = torchvision_file
    model = import_torchvision(path, classifier_activation=None, reader=reader)
    assert model.input_shape == (None, 224, 224, 3) and model.output_shape == (None, 1000)
    images = rgb_images(2, 224)
    expected = _torch_logits(torch_model, images)
    assert np.abs(expected).max() > 1.0  # logits worth comparing
    difference = close(model(images, training=False), expected, rel=1e-5)
    print(f"torchvision ({reader} reader) max logit difference: {difference:.3g}")


def test_torchvision_import_at_another_size_and_legacy_format(tmp_path, torchvision_file):
    torch = pytest.importorskip("torch")
    torch_model, _ = torchvision_file
    path = tmp_path / "legacy.pth"
    torch.save(torch_model.state_dict(), path, _use_new_zipfile_serialization=False)
    # 127 px: pool5 is 3x3, so the adaptive pooling repeats cells to 6x6.
    model = import_torchvision(path, input_shape=(127, 127, 3))
    images = rgb_images(2, 127, seed=1)
    expected = _torch_logits(torch_model, images)
    probabilities = np.asarray(model(images, training=False))
    close(probabilities, torch.softmax(torch.from_numpy(expected), -1).numpy(), rel=1e-5)


def test_torchvision_extra_key_and_other_class_count(tmp_path, torchvision_file):
    torch = pytest.importorskip("torch")
    torch_model, _ = torchvision_file
    # A 10-class head, as after fine-tuning.
    state = dict(torch_model.state_dict())
    generator = torch.Generator().manual_seed(3)
    state["classifier.6.weight"] = torch.randn(10, 4096, generator=generator) * 0.05
    state["classifier.6.bias"] = torch.randn(10, generator=generator)
    torch.save(state, tmp_path / "ten.pth")
    model = import_weights("torchvision", tmp_path / "ten.pth", out=tmp_path / "ten.keras",
                           classifier_activation=None)
    assert model.output_shape == (None, 10) and (tmp_path / "ten.keras").is_file()
    images = rgb_images(1, 224, seed=2)
    x = torch.from_numpy(((images / 255.0 - IMAGENET_MEAN) / IMAGENET_STD).transpose(0, 3, 1, 2).astype(np.float32))
    with torch.no_grad():
        features = torch.flatten(torch_model.avgpool(torch_model.features(x)), 1)
        penultimate = torch_model.classifier[:-1](features)
        expected = torch.nn.functional.linear(penultimate, state["classifier.6.weight"], state["classifier.6.bias"])
    close(model(images, training=False), expected.numpy())

    state["classifier.7.weight"] = torch.zeros(3)
    torch.save(state, tmp_path / "extra.pth")
    with pytest.raises(UserError, match=r"unexpected tensor classifier\.7\.weight of shape \(3,\)"):
        import_torchvision(tmp_path / "extra.pth")
    torch.save(torch_model.features, tmp_path / "pickled-model.pth")  # a whole nn.Sequential
    with pytest.raises(UserError, match="save model.state_dict"):
        import_torchvision(tmp_path / "pickled-model.pth")


def test_cli_import_torchvision(tmp_path, torchvision_file, capsys):
    from alexnet.saved import load_model_file

    _, path = torchvision_file
    out = tmp_path / "owt.keras"
    assert main(["import-weights", "torchvision", str(path), "-o", str(out)]) == 0
    assert "variant owt: 1000 classes, 224x224x3" in capsys.readouterr().out
    reloaded = load_model_file(str(out))
    assert reloaded.get_layer("predictions").get_config()["activation"] == "softmax"


def test_cli_import_errors(tmp_path, capsys):
    bad = tmp_path / "notes.pth"
    bad.write_text("not weights")
    assert main(["import-weights", "torchvision", str(bad), "-o", str(tmp_path / "x.keras")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("alexnet: error: ") and err.count("\n") == 1 and "not a PyTorch" in err
    assert main(["import-weights", "onnx", str(bad), "-o", str(tmp_path / "x.keras")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an ONNX model" in err
    assert main(["import-weights", "onnx", str(tmp_path / "missing.onnx"), "-o", str(tmp_path / "x.keras")]) == 2
    assert "No such ONNX file" in capsys.readouterr().err
    assert main(["import-weights", "torchvision", str(bad), "-o", str(tmp_path / "x.h5")]) == 2
    assert "must be a .keras file" in capsys.readouterr().err


# --- ONNX: Caffe's BVLC AlexNet ---------------------------------------------------------

def caffe_alexnet_onnx(path, size=224, classes=1000, pools="pads", mean_in_graph=False, softmax=True,
                       flatten="Reshape", batch=None, widths=(96, 256, 384, 384, 256, 4096, 4096),
                       pool_before_lrn=False, groups=(1, 2, 1, 2, 2), seed=0, opset=12):
    """An ONNX graph in the zoo's ``bvlcalexnet`` layout (Caffe's bvlc_alexnet)
    with He-initialized random weights.

    ``pools``: how Caffe's rounding up is written: ``"pads"`` (extra end
    padding [0, 0, 1, 1] on every pool, as the zoo file does), ``"ceil"``
    (``ceil_mode=1``). ``mean_in_graph`` subtracts a BGR mean inside the
    graph; otherwise the caller feeds mean-subtracted BGR, as for the zoo file.
    """
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    initializers, nodes = [], []

    def constant(name, array):
        initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def he(shape, fan_in):
        return rng.normal(0, math.sqrt(2.0 / fan_in), shape).astype(np.float32)

    def conv(name, x, cin, cout, k, s, p, g):
        w = constant(f"{name}_w_0", he((cout, cin // g, k, k), cin // g * k * k))
        b = constant(f"{name}_b_0", rng.normal(0, 0.1, cout).astype(np.float32))
        nodes.append(helper.make_node("Conv", [x, w, b], [f"{name}_1"], name=name, kernel_shape=[k, k],
                                      strides=[s, s], pads=[p] * 4, group=g, dilations=[1, 1]))
        nodes.append(helper.make_node("Relu", [f"{name}_1"], [f"{name}_2"], name=f"{name}_relu"))
        return f"{name}_2"

    def pool(name, x):
        options = dict(ceil_mode=1) if pools == "ceil" else dict(pads=[0, 0, 1, 1])
        nodes.append(helper.make_node("MaxPool", [x], [f"{name}_1"], name=name, kernel_shape=[3, 3],
                                      strides=[2, 2], **options))
        return f"{name}_1"

    def lrn(name, x):
        nodes.append(helper.make_node("LRN", [x], [f"{name}_1"], name=name, size=5, alpha=1e-4,
                                      beta=0.75, bias=1.0))
        return f"{name}_1"

    def fc(name, x, fan_in, units, last=False):
        w = constant(f"{name}_w_0", he((units, fan_in), fan_in))
        b = constant(f"{name}_b_0", rng.normal(0, 0.1, units).astype(np.float32))
        nodes.append(helper.make_node("Gemm", [x, w, b], [f"{name}_1"], name=name, transB=1))
        if last:
            return f"{name}_1"
        nodes.append(helper.make_node("Relu", [f"{name}_1"], [f"{name}_2"], name=f"{name}_relu"))
        nodes.append(helper.make_node("Dropout", [f"{name}_2"], [f"{name}_3"], name=f"drop{name[-1]}"))
        return f"{name}_3"

    x = "data_0"
    if mean_in_graph:
        mean = np.array([104.0, 117.0, 123.0], np.float32).reshape(1, 3, 1, 1)
        nodes.append(helper.make_node("Sub", [x, constant("mean_bgr", mean)], ["data_centred"], name="mean"))
        x = "data_centred"
    c1, c2, c3, c4, c5, f6, f7 = widths
    n = (size - 11) // 4 + 1
    x = conv("conv1", x, 3, c1, 11, 4, 0, groups[0])
    for index in (1, 2):
        if pool_before_lrn:
            x = lrn(f"norm{index}", pool(f"pool{index}", x))
        else:
            x = pool(f"pool{index}", lrn(f"norm{index}", x))
        n = math.ceil((n - 3) / 2) + 1
        if index == 1:
            x = conv("conv2", x, c1, c2, 5, 1, 2, groups[1])
    x = conv("conv3", x, c2, c3, 3, 1, 1, groups[2])
    x = conv("conv4", x, c3, c4, 3, 1, 1, groups[3])
    x = pool("pool5", conv("conv5", x, c4, c5, 3, 1, 1, groups[4]))
    n = math.ceil((n - 3) / 2) + 1
    if flatten == "Reshape":
        nodes.append(helper.make_node("Reshape", [x, constant("flat_shape", np.array([0, -1], np.int64))],
                                      ["flat"], name="flatten"))
    else:
        nodes.append(helper.make_node("Flatten", [x], ["flat"], name="flatten", axis=1))
    x = fc("fc6", "flat", c5 * n * n, f6)
    x = fc("fc7", x, f6, f7)
    x = fc("fc8", x, f7, classes, last=True)
    if softmax:
        nodes.append(helper.make_node("Softmax", [x], ["prob_1"], name="prob"))
        x = "prob_1"
    batch = batch or "N"
    graph = helper.make_graph(
        nodes, "bvlc_alexnet",
        [helper.make_tensor_value_info("data_0", TensorProto.FLOAT, [batch, 3, size, size])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [batch, classes])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def _run_onnx(path, feed):
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: feed[i:i + 1]})[0] for i in range(len(feed))])


def _caffe_input(images, mean=(104.00698793, 116.66876762, 122.67891434)):
    """RGB 0-255 channels-last -> BGR, mean-subtracted, channels-first."""
    return np.ascontiguousarray((images[..., ::-1] - np.asarray(mean, np.float32)).transpose(0, 3, 1, 2))


def test_onnx_zoo_layout_gives_onnxruntimes_output(tmp_path):
    pytest.importorskip("onnxruntime")
    # The zoo file: 224x224 input of batch 1, end padding for Caffe's
    # rounded-up pooling (pool1: 54 -> 27), Softmax output, no mean inside.
    path = caffe_alexnet_onnx(tmp_path / "bvlcalexnet.onnx", size=224, batch=1)
    model = import_onnx(path)
    assert model.input_shape == (None, 224, 224, 3) and model.output_shape == (None, 1000)
    assert model.get_layer("pool1").output.shape[1:3] == (27, 27)
    assert model.get_layer("fc6").get_weights()[0].shape == (9216, 4096)
    lrn = model.get_layer("lrn1").get_config()
    assert (lrn["depth_radius"], lrn["bias"], lrn["alpha"], lrn["beta"]) == (2, 1.0, pytest.approx(2e-5), 0.75)
    assert model.get_layer("preprocess").get_config()["channel_order"] == "bgr"

    images = rgb_images(2, 224)
    expected = _run_onnx(path, _caffe_input(images))
    found = np.asarray(model(images, training=False))
    difference = close(found, expected, rel=1e-5)
    assert expected.max() < 1.0 and (found.argmax(-1) == expected.argmax(-1)).all()
    print(f"onnx zoo layout max probability difference: {difference:.3g}")


def test_onnx_logits_ceil_mode_and_mean_in_graph(tmp_path):
    pytest.importorskip("onnxruntime")
    # 127 px: conv1 gives 30 and Caffe pools it to 15 (Keras "valid" gives 14).
    path = caffe_alexnet_onnx(tmp_path / "g.onnx", size=127, classes=10, pools="ceil", mean_in_graph=True,
                              softmax=False, flatten="Flatten")
    model = import_onnx(path)
    assert model.get_layer("pool1").output.shape[1:3] == (15, 15)
    assert model.get_layer("predictions").get_config()["activation"] == "linear"
    preprocess = model.get_layer("preprocess").get_config()
    assert preprocess["mean"] == [104.0, 117.0, 123.0] and preprocess["std"] == [1.0] * 3
    images = rgb_images(2, 127, seed=5)
    raw_bgr = np.ascontiguousarray(images[..., ::-1].transpose(0, 3, 1, 2))  # the graph subtracts the mean
    expected = _run_onnx(path, raw_bgr)
    assert np.abs(expected).max() > 10  # logits worth comparing
    difference = close(model(images, training=False), expected, rel=1e-5)
    print(f"onnx ceil_mode logits max difference: {difference:.3g} (largest logit {np.abs(expected).max():.3g})")


def test_cli_import_onnx_compares_with_onnxruntime(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    path = caffe_alexnet_onnx(tmp_path / "g.onnx", size=127, classes=10)
    out = tmp_path / "paper.keras"
    assert main(["import-weights", "onnx", str(path), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "variant paper: 10 classes, 127x127x3" in printed
    difference = float(printed.split("largest difference from onnxruntime on 2 random images: ")[1].split()[0])
    assert difference < 1e-5


@pytest.mark.parametrize("change, message", [
    (dict(pool_before_lrn=True), r"node 'pool1' \(MaxPool\) stands where Caffe's AlexNet layout has LRN"),
    (dict(groups=(1, 1, 1, 2, 2)), r"conv2: node 'conv2' \(Conv\) has group=1, expected 2"),
    (dict(widths=(96, 256, 384, 384, 256, 2048, 4096)),
     r"tensor fc6_w_0 has shape \(2048, 2304\), expected \(4096, 2304\)"),
])
def test_onnx_layout_errors_name_the_node_or_tensor(tmp_path, change, message):
    path = caffe_alexnet_onnx(tmp_path / "g.onnx", size=127, classes=10, **change)
    with pytest.raises(UserError, match=message) as error:
        import_onnx(path)
    assert "\n" not in str(error.value)


def test_onnx_missing_package_gives_install_hint(tmp_path, monkeypatch):
    import sys

    path = tmp_path / "g.onnx"
    path.write_bytes(b"\x08\x07")
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(UserError, match=r'pip install "alexnet\[onnx\]"'):
        import_onnx(path)

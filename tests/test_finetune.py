"""Fine-tuning (`alexnet train --weights`) and `alexnet features`: from a
trained `small` run, from a torchvision-layout .pth and from a Caffe-layout
ONNX file (random weights, written in the real formats), on tiny folders of
JPEG/PNG images of another size and colour mode than the source's."""

import hashlib
import json
import os

import numpy as np
import pytest

from alexnet.cli import main
from alexnet.config import Config
from alexnet.errors import UserError
from alexnet.training import checkpoint as ckpt
from alexnet.training.run import train
from conftest import kill_after_epoch, save_image, write_idx_dataset

QUICK = dict(batch_size=8, precision="float32", max_steps_per_epoch=2, variant=None, activation=None,
             overlapping_pooling=None, dropout=None)


def photo_folder(root, mode, size=(44, 60), count=6, classes=("cats", "dogs")):
    """Class folders of JPEG and PNG files (``mode``: "RGB" or "L") whose
    class shows as a bright top or bottom half."""
    rng = np.random.default_rng(len(mode))
    for label, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(count):
            h, w = size
            array = rng.integers(0, 70, (h, w, 3)).astype(np.uint8)
            (array[: h // 2] if label == 0 else array[h // 2:])[...] += 160
            save_image(root / name / f"{i}.{'jpg' if i % 2 else 'png'}", array, mode)
    return root


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A `small` run (28x28 grey, 3 classes) trained for one step."""
    root = tmp_path_factory.mktemp("small")
    write_idx_dataset(root / "idx", n_train=64, n_test=12)
    train(Config(data=str(root / "idx"), out=str(root / "run"), epochs=1, max_steps_per_epoch=1,
                 batch_size=16, precision="float32", warmup_epochs=0.0))
    return root / "run"


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_grey_source_on_rgb_photos_records_source_and_names_classes(small_run, tmp_path, capsys):
    photos = photo_folder(tmp_path / "photos", "RGB")
    out = tmp_path / "ft"
    assert main(["train", "--data", str(photos), "--weights", str(small_run), "--epochs", "2", "--head-epochs", "1",
                 "--freeze", "convs", "--batch-size", "4", "--max-steps-per-epoch", "2", "--precision", "float32",
                 "--out", str(out)]) == 0
    written = json.loads((out / "config.json").read_text())
    assert written["weights"] == str(small_run) and written["variant"] == "small"
    assert written["weights_path"] == str(small_run / "model.keras")
    assert written["weights_sha256"] == sha256(small_run / "model.keras")
    assert (written["head_epochs"], written["freeze"], written["finetune_lr"]) == (1, "convs", pytest.approx(0.001))
    assert json.loads((out / "classes.json").read_text()) == ["cats", "dogs"]
    from alexnet.saved import load_model_file

    model, source = load_model_file(str(out)), load_model_file(str(small_run))
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 2)
    # --freeze convs: conv2-conv5 never moved (conv1 is the source's fixed whitening); fc6 did in stage 2.
    for name in ("conv2", "conv5"):
        np.testing.assert_array_equal(model.get_layer(name).get_weights()[0], source.get_layer(name).get_weights()[0])
    assert not np.array_equal(model.get_layer("fc6").get_weights()[0], source.get_layer("fc6").get_weights()[0])
    capsys.readouterr()
    assert main(["predict", str(out), str(photos / "dogs"), "--json"]) == 0
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(answers) == 6 and {a["predictions"][0]["class"] for a in answers} <= {"cats", "dogs"}
    assert main(["evaluate", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["top1_accuracy"] >= 0


def test_resume_inside_the_second_stage(small_run, tmp_path, monkeypatch):
    photos = photo_folder(tmp_path / "photos", "L", size=(36, 36))
    config = Config(data=str(photos), out=str(tmp_path / "r"), weights=str(small_run), epochs=3, head_epochs=1,
                    schedule="constant", **QUICK)
    saved = ckpt.RunCheckpoint.on_epoch_end
    from alexnet.saved import load_model_file

    source = load_model_file(str(small_run))

    def crash_after_two(self, epoch, logs=None):
        saved(self, epoch, logs)
        if epoch + 1 == 1:  # the head stage: not one step moved the layers below the classifier
            for name in ("conv3", "fc6", "fc7"):
                for a, b in zip(self.model.get_layer(name).get_weights(), source.get_layer(name).get_weights()):
                    np.testing.assert_array_equal(a, b)
        if epoch + 1 == 2:
            raise KeyboardInterrupt  # as if killed right after epoch 2's checkpoint

    monkeypatch.setattr(ckpt.RunCheckpoint, "on_epoch_end", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        train(config)
    assert json.loads((tmp_path / "r" / "state.json").read_text())["epoch"] == 2
    monkeypatch.setattr(ckpt.RunCheckpoint, "on_epoch_end", saved)
    metrics = train(config)
    assert metrics["epochs"] == 3
    rows = (tmp_path / "r" / "history.csv").read_text().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in rows] == [1, 2, 3]
    rates = [float(row["learning_rate"]) for row in json.loads((tmp_path / "r" / "state.json").read_text())["history"]]
    assert rates == pytest.approx([0.01, 0.001, 0.001])  # the head's lr, then the lower one, kept on resuming


def test_features_one_row_per_image_equal_to_the_layer(small_run, tmp_path, capsys):
    photos = photo_folder(tmp_path / "photos", "RGB", count=3)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    out = tmp_path / "f.npz"
    code = main(["features", str(small_run), str(photos), str(tmp_path / "broken.png"), "-o", str(out),
                 "--batch-size", "4"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("alexnet: error:") == 1 and "broken.png" in err
    saved = np.load(out)
    assert saved["features"].shape == (6, 1024) and str(saved["layer"]) == "fc7" and len(saved["files"]) == 6
    import keras

    from alexnet.predict import load_image
    from alexnet.saved import input_spec_for, load_model_file

    model = load_model_file(str(small_run))
    image, _ = load_image(str(saved["files"][4]), input_spec_for(model, str(small_run)))
    fc7 = keras.Model(model.input, model.get_layer("fc7").output)(np.asarray(image)[None])
    np.testing.assert_allclose(saved["features"][4], np.asarray(fc7)[0], rtol=1e-5, atol=1e-5)
    from alexnet import extract_features

    pool5 = extract_features(small_run, [photos / "cats"], layer="pool5")
    assert pool5.features.shape == (3, int(np.prod(pool5.shape))) and pool5.errors == []


@pytest.mark.parametrize("extra, message", [
    (["--variant", "paper"], "--variant paper conflicts with --weights"),
    (["--image-size", "100"], "--image-size 100 does not fit --weights"),
    (["--activation", "tanh"], "--activation tanh conflicts"),
    (["--conv1-init", "whitened"], "--conv1-init whitened does not apply with --weights"),
    (["--epochs", "2", "--head-epochs", "3"], "--head-epochs must be at most --epochs (2)"),
    (["--freeze", "features", "--finetune-lr", "0.1"], "--finetune-lr does not apply with --freeze features"),
])
def test_conflicting_flags_one_line_nothing_written(small_run, tmp_path, capsys, extra, message, monkeypatch):
    photos = photo_folder(tmp_path / "photos", "RGB", count=2)
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    assert main(["train", "--data", str(photos), "--weights", str(small_run), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert sorted(os.listdir(tmp_path)) == before  # no run directory


def test_bad_sources_one_line_nothing_written(tmp_path, capsys, monkeypatch):
    import keras

    photos = photo_folder(tmp_path / "photos", "RGB", count=2)
    (tmp_path / "notes.keras").write_text("not a model")
    (tmp_path / "alexnet-owt.pth").write_bytes(b"PK")
    (tmp_path / "empty_run").mkdir()
    other = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(2)], name="lenet")
    other.save(tmp_path / "lenet.keras")
    monkeypatch.chdir(tmp_path)
    cases = [("missing.keras", "--weights: no such file or folder: missing.keras"),
             ("notes.keras", "--weights: notes.keras is not a Keras model file"),
             ("empty_run", "--weights: empty_run holds no model.keras"),
             ("lenet.keras", "is not an AlexNet with its classifier"),
             ("alexnet-owt.pth", "make one with `alexnet import-weights torchvision alexnet-owt.pth")]
    before = sorted(os.listdir(tmp_path))
    for source, message in cases:
        assert main(["train", "--data", str(photos), "--weights", source]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert main(["train", "--data", str(photos), "--head-epochs", "2"]) == 2
    assert "--head-epochs applies to fine-tuning only: add --weights" in capsys.readouterr().err
    assert main(["features", "lenet.keras", str(photos), "-o", "x.txt"]) == 2
    assert "must be an .npz file" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == before


def test_rgb_channels_to_grey_and_back():
    import tensorflow as tf

    from alexnet.data import pipeline as P
    from alexnet.data.channels import convert_array

    rgb = np.random.default_rng(0).integers(0, 256, (2, 5, 5, 3)).astype(np.uint8)
    np.testing.assert_array_equal(convert_array(rgb, 1), np.stack([P.rgb_to_gray(tf.constant(i)) for i in rgb]))
    grey = convert_array(rgb, 1)
    np.testing.assert_array_equal(convert_array(grey, 3), np.repeat(grey, 3, axis=-1))


# --- Paper-size sources: imported with random weights --------------------------------

@pytest.mark.slow  # about a minute: a 57M-parameter model imported, fine-tuned and saved
def test_finetune_from_torchvision_pth_on_grey_photos(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    from test_import_weights import _torchvision_alexnet

    torch.save(_torchvision_alexnet(classes=10).state_dict(), tmp_path / "owt.pth")
    assert main(["import-weights", "torchvision", str(tmp_path / "owt.pth"), "-o", str(tmp_path / "owt.keras")]) == 0
    photos = photo_folder(tmp_path / "photos", "L", size=(70, 90), count=3)
    out = tmp_path / "ft"
    # owt pools adaptively: another input size keeps every weight's shape.
    assert main(["train", "--data", str(photos), "--weights", str(tmp_path / "owt.keras"), "--image-size", "96",
                 "--epochs", "2", "--head-epochs", "1", "--batch-size", "2", "--max-steps-per-epoch", "1",
                 "--val-fraction", "0.34", "--precision", "float32", "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["variant"] == "owt"
    capsys.readouterr()
    assert main(["predict", str(out), str(photos / "cats" / "0.png")]) == 0
    assert "cats" in capsys.readouterr().out


@pytest.mark.slow  # about 35 s
def test_finetune_from_caffe_onnx(tmp_path, capsys):
    pytest.importorskip("onnx")
    from test_import_weights import caffe_alexnet_onnx

    caffe_alexnet_onnx(tmp_path / "bvlc.onnx", classes=10)
    assert main(["import-weights", "onnx", str(tmp_path / "bvlc.onnx"), "-o", str(tmp_path / "caffe.keras"),
                 "--no-check"]) == 0
    photos = photo_folder(tmp_path / "photos", "RGB", size=(240, 250), count=3)
    out = tmp_path / "ft"
    assert main(["train", "--data", str(photos), "--weights", str(tmp_path / "caffe.keras"), "--epochs", "1",
                 "--batch-size", "2", "--max-steps-per-epoch", "1", "--precision", "float32",
                 "--freeze", "features", "--val-fraction", "0.34", "--out", str(out)]) == 0
    written = json.loads((out / "config.json").read_text())
    assert written["variant"] == "paper" and written["weights_input_shape"] == [224, 224, 3]
    assert main(["features", str(out), str(photos / "dogs"), "-o", str(tmp_path / "f.npz")]) == 0
    assert np.load(tmp_path / "f.npz")["features"].shape == (3, 4096)


@pytest.mark.slow  # about a minute: a real process killed with SIGKILL inside the second stage
def test_resume_after_kill_minus_nine(small_run, tmp_path):
    import subprocess
    import sys

    photos = photo_folder(tmp_path / "photos", "RGB", count=8)
    out = tmp_path / "killed"
    args = ["train", "--data", photos, "--weights", small_run, "--out", out, "--epochs", 6, "--head-epochs", 2,
            "--batch-size", 4, "--max-steps-per-epoch", 3, "--precision", "float32"]
    done = kill_after_epoch(args, out, 3)
    assert 3 <= done < 6
    result = subprocess.run([sys.executable, "-m", "alexnet_launcher", *map(str, args)], capture_output=True,
                            text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr
    assert f"Resuming {out} after epoch {done} of 6" in result.stderr
    rows = (out / "history.csv").read_text().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in rows] == [1, 2, 3, 4, 5, 6]

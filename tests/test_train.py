"""End-to-end: train, evaluate and predict on small data in each real format,
resume after kill -9, and clear errors for bad input."""

import json
import os
import subprocess
import sys

import pytest

from alexnet.config import Config
from alexnet.errors import UserError
from alexnet.training.run import train
from conftest import kill_after_epoch, run_main, save_image

QUICK = dict(variant="small", batch_size=16, precision="float32", learning_rate=0.01, warmup_epochs=0.0)


def run_cli(*args, timeout=300, cwd=None):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user runs it
    return subprocess.run([sys.executable, "-m", "alexnet_launcher", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)


def run_in_process(capfd, *args):
    """``run_main`` reported as ``run_cli`` reports a subprocess."""
    return subprocess.CompletedProcess(args, *run_main(capfd, *args))


def test_train_evaluate_predict_on_idx(idx_dir, tmp_path, capfd):
    out = tmp_path / "run"
    metrics = train(Config(data=str(idx_dir), out=str(out), epochs=5, **QUICK))
    for name in ("config.json", "input.json", "classes.json", "history.csv", "state.json", "best.keras",
                 "model.keras", "metrics.json", "loss.png", "accuracy.png"):
        assert (out / name).is_file(), name
    assert (out / "logs").is_dir()
    saved = json.loads((out / "metrics.json").read_text())
    assert saved == metrics and metrics["epochs"] == 5 and metrics["train_seconds"] > 0
    assert {"test_accuracy", "test_top5_accuracy"} <= set(metrics)
    # The bands are trivially separable: the model must have learned them.
    assert metrics["test_accuracy"] > 0.8
    assert Config.from_json((out / "config.json").read_text()).schedule == "cosine"
    history = (out / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,") and len(history) == 6
    # The final model takes raw pixels and is float32 whatever the training precision.
    from alexnet.saved import load_model_file

    model = load_model_file(str(out / "model.keras"))
    assert model.input_shape == (None, 28, 28, 1) and model.layers[-1].dtype_policy.name == "float32"

    result = run_in_process(capfd, "evaluate", out, "--data", idx_dir, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert abs(report["top1_accuracy"] - metrics["test_accuracy"]) < 1e-6
    assert os.path.isfile(report["confusion_matrix_png"])
    assert sum(map(sum, report["confusion_matrix"])) == 60

    ten = run_in_process(capfd, "evaluate", out / "model.keras", "--data", idx_dir, "--ten-crop", "--json")
    assert ten.returncode == 0, ten.stderr
    ten_report = json.loads(ten.stdout)
    assert ten_report["crops"] == "ten" and ten_report["top1_accuracy"] > 0.6
    assert abs(ten_report["top1_accuracy"] - metrics["test_accuracy_ten_crop"]) < 1e-6

    from alexnet.data.sources import load_source

    images = load_source(str(idx_dir)).test.images
    for i in range(3):
        save_image(tmp_path / f"test{i}.png", images[i, ..., 0])
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    files = [tmp_path / name for name in ("test0.png", "broken.png", "test1.png")]
    pred = run_in_process(capfd, "predict", out, *files, "--json")
    assert pred.returncode == 2  # the unreadable file; the others answered
    lines = [json.loads(line) for line in pred.stdout.splitlines()]
    assert [("error" in l) for l in lines] == [False, True, False]
    assert "broken.png" in pred.stderr and "Traceback" not in pred.stderr
    assert lines[0]["predictions"][0]["class"] in json.loads((out / "classes.json").read_text())
    probabilities = [p["probability"] for p in lines[0]["predictions"]]
    assert probabilities == sorted(probabilities, reverse=True) and len(probabilities) == 3


def test_train_on_cifar_archive(cifar_archive, tmp_path):
    metrics = train(Config(data=str(cifar_archive), out=str(tmp_path / "c"), epochs=1, **QUICK))
    assert metrics["test_images"] == 20 and metrics["train_images"] == 95  # 5% held out


def test_train_on_image_folder_and_tfrecords(image_folder, tfrecord_dir, tmp_path, capfd):
    import warnings

    for data in (image_folder, tfrecord_dir):
        out = tmp_path / data.name
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            metrics = train(Config(data=str(data), out=str(out), epochs=1, image_size=32, **QUICK))
        # TFRecords have no known length: the end of each validation pass is not "running out".
        assert not [w for w in caught if "ran out of data" in str(w.message)], data
        spec = json.loads((out / "input.json").read_text())
        assert spec["crop"] == 32 and spec["resize"] == 37 and len(spec["pca"]["eigenvalues"]) == 3
        # The reported accuracy is the saved model's on the test split, counted here.
        assert metrics["test_accuracy"] == pytest.approx(saved_model_accuracy(out, data), abs=1e-6)
    result = run_in_process(capfd, "predict", tmp_path / image_folder.name, image_folder / "val" / "cats")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 7 and "cats" in result.stdout


def saved_model_accuracy(run_dir, data):
    """Top-1 accuracy of ``run_dir``'s model.keras on the test split of
    ``data`` as the run prepared it, counted with NumPy."""
    import numpy as np

    from alexnet.config import resolve
    from alexnet.data.datasets import eval_dataset
    from alexnet.saved import load_model_file
    from alexnet.training.run import prepare_data

    config = resolve(Config.from_json((run_dir / "config.json").read_text())).replace(data=str(data))
    source, spec, _ = prepare_data(config)
    model = load_model_file(str(run_dir / "model.keras"))
    correct = total = 0
    for images, labels in eval_dataset(source, source.test, spec, 256):
        predicted = np.argmax(model.predict_on_batch(images), axis=-1)
        correct += int(np.sum(predicted == labels.numpy()))
        total += len(predicted)
    assert total == len(source.test) > 0
    return correct / total


def test_mixed_bfloat16_training_runs_and_leaves_the_callers_policy(idx_dir, tmp_path):
    import random

    import keras
    import numpy as np

    keras.mixed_precision.set_global_policy("float32")
    random.seed(11)
    np.random.seed(11)
    expected = (random.random(), np.random.random())
    random.seed(11)
    np.random.seed(11)
    metrics = train(Config(data=str(idx_dir), out=str(tmp_path / "bf16"), epochs=2,
                           **{**QUICK, "precision": "mixed_bfloat16"}))
    assert metrics["precision"] == "mixed_bfloat16" and metrics["test_accuracy"] > 0.5
    # train() gives the caller back its Keras dtype policy and random states.
    assert keras.mixed_precision.global_policy().name == "float32"
    assert (random.random(), np.random.random()) == expected


def test_divergence_stops_with_a_clear_error_and_keeps_the_checkpoint(idx_dir, tmp_path, monkeypatch):
    import keras
    import tensorflow as tf

    from alexnet.training import run

    out = tmp_path / "nan"
    train(Config(data=str(idx_dir), out=str(out), epochs=2, max_steps_per_epoch=2, **QUICK))
    good = json.loads((out / "state.json").read_text())

    def nan_after_first_batches(model, optimizer, _loss):
        step = tf.Variable(0.0)

        def loss(y_true, y_pred):
            step.assign_add(1.0)
            scale = tf.where(step > 2, float("nan"), 1.0)
            return keras.losses.sparse_categorical_crossentropy(y_true, y_pred) * scale

        model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(5, name="top5_accuracy")])

    monkeypatch.setattr(run, "compile_model", nan_after_first_batches)
    fresh = tmp_path / "fresh"
    with pytest.raises(UserError, match=r"diverged: the loss became nan at epoch 1, batch 3\. Lower --learning-rate"):
        train(Config(data=str(idx_dir), out=str(fresh), epochs=2, **QUICK))
    assert not (fresh / "model.keras").exists() and not (fresh / "state.json").exists()
    assert json.loads((out / "state.json").read_text()) == good


def test_changed_settings_are_refused(idx_dir, tmp_path):
    out = tmp_path / "r"
    train(Config(data=str(idx_dir), out=str(out), epochs=1, max_steps_per_epoch=2, **QUICK))
    with pytest.raises(UserError, match="other settings.*dropout"):
        train(Config(data=str(idx_dir), out=str(out), epochs=1, max_steps_per_epoch=2, dropout=0.3,
                     **QUICK))


def test_resume_after_kill_minus_nine(idx_dir, tmp_path):
    out = tmp_path / "killed"
    args = ["train", "--data", idx_dir, "--out", out, "--epochs", 6, "--batch-size", 16, "--lr", 0.01,
            "--precision", "float32", "--max-steps-per-epoch", 8]
    done = kill_after_epoch(args, out, 2)
    assert 2 <= done < 6
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert f"Resuming {out} after epoch {done} of 6" in result.stderr
    rows = (out / "history.csv").read_text().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in rows] == [1, 2, 3, 4, 5, 6]
    checkpoints = [f for f in os.listdir(out) if f.startswith("checkpoint-")]
    assert checkpoints == ["checkpoint-6.keras"]
    # A finished run is reported, not retrained.
    again = run_cli(*args)
    assert again.returncode == 0 and "already holds a finished run" in again.stderr


@pytest.mark.parametrize("args, message", [
    (["train", "--data", "/no/such/place"], "--data: unknown dataset or missing path '/no/such/place'"),
    (["train", "--data", "imagenet21k"], "--data: unknown dataset or missing path 'imagenet21k'"),
    (["train", "--data", "tfds:surely_not_a_dataset"], "tfds"),
    (["evaluate", "/no/model.keras"], "No such model file: /no/model.keras"),
    (["predict", "/no/model.keras", "x.png"], "No such model file"),
    (["summary", "--variant", "paper", "--input-shape", "32,32,3"], "too small for variant 'paper'"),
    (["summary", "--classes", "1"], "--classes: must be an integer >= 2, got '1'"),
])
def test_cli_errors_are_one_line(args, message, tmp_path, capfd, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_in_process(capfd, *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert os.listdir(tmp_path) == []  # a run that could not start leaves no empty run directory behind


def test_cli_rejects_files_that_are_not_models(tmp_path, idx_dir, capfd):
    fake = tmp_path / "model.keras"
    fake.write_text("hello")
    import zipfile

    with zipfile.ZipFile(tmp_path / "zip.keras", "w") as z:
        z.writestr("something.txt", "x")
    for path in (fake, tmp_path / "zip.keras"):
        result = run_in_process(capfd, "evaluate", path, "--data", idx_dir)
        errors = [line for line in result.stderr.splitlines() if line.startswith("alexnet: error:")]
        assert result.returncode == 2 and len(errors) == 1, result.stderr
        assert errors[0].startswith(f"alexnet: error: {path} is not a ") and "Traceback" not in result.stderr


def test_cli_empty_dataset_and_bad_value(tmp_path, capfd):
    for split in ("train", "val"):
        for name in ("a", "b"):
            (tmp_path / "empty" / split / name).mkdir(parents=True)
    result = run_in_process(capfd, "train", "--data", tmp_path / "empty", "--out", tmp_path / "o")
    assert result.returncode == 2 and "holds no images" in result.stderr
    result = run_in_process(capfd, "train", "--data", tmp_path / "empty", "--epochs", "0", "--out", tmp_path / "o")
    assert result.returncode == 2 and "--epochs: must be an integer >= 1, got '0'" in result.stderr


def test_plateau_schedule_state_is_restored_after_its_reset(tmp_path):
    import keras

    from alexnet.training.checkpoint import RunCheckpoint

    plateau = keras.callbacks.ReduceLROnPlateau(monitor="val_accuracy", mode="max", patience=3)
    state = {"epoch": 4, "history": [], "train_seconds": 1.0, "best": 0.9,
             "plateau": {"wait": 2, "best": 0.91, "cooldown_counter": 1}}
    saver = RunCheckpoint(str(tmp_path), state, plateau)
    for callback in (plateau, saver):  # the order train() gives them to fit()
        callback.on_train_begin()
    assert (plateau.wait, plateau.best, plateau.cooldown_counter) == (2, 0.91, 1)

"""Every flag of every subcommand, given a boundary or nonsense value, ends in
exit status 2 and one line on stderr that names the flag and what it accepts:
no traceback, nothing written."""

import os
import subprocess
import sys

import numpy as np
import pytest

from alexnet.cli import build_parser
from conftest import run_main

# Flags that take no value (switches), or whose every value is valid.
NO_BAD_VALUE = {
    "-h", "--help", "--version", "--json", "--ten-crop", "--strict", "--deterministic", "--quick", "--quantize",
    "--logits", "--no-check", "--lrn", "--no-lrn", "--nesterov", "--no-nesterov", "--pca-noise",
    "--no-pca-noise", "--flip", "--no-flip", "--overlapping-pooling", "--no-overlapping-pooling",
    "--learning-rate",  # an alias of --lr, tested under that name
    "--out",  # for export: a file or folder to create, any path is valid
}


def train(*extra):
    return ("train", "--data", "{idx}", "--out", "{tmp}/run", "--epochs", "2", *extra)


# (argv, words the one-line message must contain). {idx}: an IDX dataset of
# 3 classes; {model}: a 3-class 28x28x1 .keras file; {tmp}: the test folder;
# {file}: an existing plain file.
CASES = [
    (("train", "--data", "{tmp}/nowhere"), ["--data", "nowhere"]),
    (train("--variant", "huge"), ["--variant", "huge", "small"]),
    (("train", "--data", "{idx}", "--out", "{file}"), ["--out", "folder"]),
    (train("--epochs", "0"), ["--epochs", "integer >= 1"]),
    (train("--epochs", "1.5"), ["--epochs", "integer >= 1"]),
    (train("--batch-size", "0"), ["--batch-size", "integer >= 1"]),
    (train("--batch-size", "many"), ["--batch-size", "integer >= 1"]),
    (train("--optimizer", "adam"), ["--optimizer", "sgd"]),
    (train("--lr", "0"), ["--lr", "> 0"]),
    (train("--lr", "nan"), ["--lr", "> 0"]),
    (train("--lr", "inf"), ["--lr", "> 0"]),
    (train("--schedule", "step"), ["--schedule", "cosine"]),
    (train("--momentum", "2"), ["--momentum", "[0, 1)"]),
    (train("--momentum", "1"), ["--momentum", "[0, 1)"]),
    (train("--momentum", "-0.1"), ["--momentum", "[0, 1)"]),
    (train("--weight-decay", "-1"), ["--weight-decay", ">= 0"]),
    (train("--warmup-epochs", "-1"), ["--warmup-epochs", ">= 0"]),
    (train("--warmup-epochs", "30"), ["--warmup-epochs", "--epochs"]),
    (train("--label-smoothing", "1"), ["--label-smoothing", "[0, 1)"]),
    (train("--label-smoothing", "-0.1"), ["--label-smoothing", "[0, 1)"]),
    (train("--patience", "-1"), ["--patience", ">= 0"]),
    (train("--activation", "sigmoid"), ["--activation", "tanh"]),
    (train("--conv1-init", "pca"), ["--conv1-init", "whitened"]),
    (train("--strategy", "two-tower", "--variant", "paper", "--conv1-init", "whitened"),
     ["--conv1-init", "two-tower", "random"]),
    (train("--dropout", "1"), ["--dropout", "[0, 1)"]),
    (train("--dropout", "-0.5"), ["--dropout", "[0, 1)"]),
    (train("--image-size", "0"), ["--image-size", ">= 1"]),
    (train("--image-size", "5"), ["--image-size", ">= 9", "small"]),
    (train("--image-size", "300"), ["--image-size", "--batch-size", "memory"]),
    (train("--resize", "-1"), ["--resize", ">= 0"]),
    (train("--image-size", "28", "--resize", "10"), ["--resize", ">= --image-size"]),
    (train("--pad", "-1"), ["--pad", ">= 0"]),
    (train("--pad", "28"), ["--pad", "smaller than the image size (28)"]),
    (train("--resample", "1.5"), ["--resample", "in [0, 1]", "'1.5'"]),
    (train("--resample", "half"), ["--resample", "in [0, 1]"]),
    (train("--val-fraction", "1"), ["--val-fraction", "[0, 1)"]),
    (train("--val-fraction", "-0.1"), ["--val-fraction", "[0, 1)"]),
    (train("--precision", "fp16"), ["--precision", "mixed_bfloat16"]),
    (train("--seed", "-1"), ["--seed", "[0, 2147483647]"]),
    (train("--seed", "2147483648"), ["--seed", "[0, 2147483647]"]),
    (train("--max-steps-per-epoch", "0"), ["--max-steps-per-epoch", ">= 1"]),
    (train("--strategy", "ring"), ["--strategy", "mirrored"]),
    (train("--strategy", "two-tower"), ["--strategy two-tower", "--variant paper"]),
    (train("--devices", "tpu:1"), ["--devices", "cpu:N"]),
    (train("--devices", "cpu:0"), ["--devices", "cpu:N"]),
    (train("--strict=yes"), ["--strict"]),
    (("evaluate", "{tmp}/missing.keras", "--data", "{idx}"), ["missing.keras"]),
    (("evaluate", "{file}", "--data", "{idx}"), ["not a Keras model"]),
    (("evaluate", "{model}"), ["--data", "run directory"]),
    (("evaluate", "{model}", "--data", "{tmp}/nowhere"), ["--data", "nowhere"]),
    (("evaluate", "{model}", "--data", "{idx}", "--batch-size", "0"), ["--batch-size", "integer >= 1"]),
    (("evaluate", "{model}", "--data", "{idx}", "--out", "{file}"), ["--out", "folder"]),
    (("predict", "{model}", "{tmp}/nothing.png"), ["nothing.png", "no such file"]),
    (("predict", "{model}", "{file}", "--top", "0"), ["--top", "integer >= 1"]),
    (("predict", "{model}", "{file}", "--top", "4"), ["--top", "1..3"]),
    (("summary", "--variant", "tiny"), ["--variant", "tiny", "small-2tower"]),
    (("summary", "--classes", "1"), ["--classes", ">= 2"]),
    (("summary", "--input-shape", "0,1,3"), ["--input-shape", "H,W,C"]),
    (("summary", "--input-shape", "a,b"), ["--input-shape", "H,W,C"]),
    (("summary", "--variant", "paper", "--input-shape", "60,60,3"), ["--input-shape", "at least 67"]),
    (("import-weights", "caffe", "{file}", "-o", "{tmp}/a.keras"), ["source", "torchvision"]),
    (("import-weights", "torchvision", "{tmp}/none.pth", "-o", "{tmp}/a.keras"), ["none.pth"]),
    (("import-weights", "torchvision", "{file}", "-o", "{tmp}/a.h5"), ["-o/--out", ".keras"]),
    (("import-weights", "onnx", "{file}", "-o", "{tmp}/a.keras", "--mean", "1,2"), ["--mean", "B,G,R"]),
    (("import-weights", "torchvision", "{file}", "-o", "{tmp}/a.keras", "--reader", "pickle"), ["--reader"]),
    (("export", "{model}", "--format", "jpeg", "-o", "{tmp}/e"), ["--format", "tflite"]),
    (("export", "{tmp}/none.keras", "--format", "tflite", "-o", "{tmp}/e.tflite"), ["none.keras"]),
    (("export", "{model}", "--format", "saved_model", "-o", "{tmp}/e", "--top-k", "0"), ["--top-k", ">= 1"]),
    (("export", "{model}", "--format", "onnx", "-o", "{tmp}/e.onnx", "--quantize"), ["--quantize", "onnx"]),
    (("reproduce", "everything"), ["experiment", "relu-vs-tanh"]),
    (("reproduce", "lrn", "--seeds", "1", "--out", "{tmp}/r"), ["--seeds", ">= 2"]),
    (("reproduce", "relu-vs-tanh", "--threshold", "0", "--out", "{tmp}/r"), ["--threshold", "(0, 100)"]),
    (("reproduce", "lrn", "--data", "{tmp}/nowhere", "--out", "{tmp}/r"), ["--data", "nowhere"]),
    (("reproduce", "lrn", "--data", "{idx}", "--out", "{file}"), ["--out", "folder"]),
    (("filters", "{tmp}/none.keras"), ["none.keras"]),
    (("filters", "{model}", "-o", "{tmp}/f.jpg"), ["-o/--out", ".png"]),
    (("neighbors", "{model}", "--data", "{idx}", "--query", "{tmp}/q.png"), ["q.png"]),
    (("neighbors", "{model}", "--data", "{idx}", "--query", "{file}", "-k", "0"), ["-k", ">= 1"]),
    (("neighbors", "{model}", "--data", "{idx}", "--query", "{file}", "--max-images", "0"),
     ["--max-images", ">= 1"]),
    (("neighbors", "{model}", "--data", "{idx}", "--query", "{file}", "-o", "{tmp}/n.gif"), ["-o/--out", ".png"]),
    (("neighbors", "{model}", "--data", "{tmp}/nowhere", "--query", "{file}"), ["--data", "nowhere"]),
    (("top5", "{model}", "--data", "{idx}", "-n", "0"), ["-n", ">= 1"]),
    (("top5", "{model}", "--data", "{idx}", "--seed", "-2"), ["--seed", "[0,"]),
    (("top5", "{model}", "--data", "{idx}", "-o", "{tmp}/t.pdf"), ["-o/--out", ".png"]),
    (("top5", "{model}", "--data", "{tmp}/nowhere"), ["--data", "nowhere"]),
    (("activations", "{tmp}/none.keras", "{file}"), ["none.keras"]),
    (("activations", "{model}", "{tmp}/none.png"), ["none.png"]),
    (("activations", "{model}", "{file}"), ["plain.txt", "not a JPEG"]),
    (("activations", "{model}", "{file}", "-o", "{tmp}/a.svg"), ["-o/--out", ".png"]),
    (("activations", "{model}", "{file}", "--top", "0"), ["--top", ">= 1"]),
    (("activations", "{model}", "{file}", "--max-maps", "0"), ["--max-maps", ">= 1"]),
    (train("--weights", "{tmp}/none.keras"), ["--weights", "none.keras"]),
    (train("--weights", "{model}", "--variant", "owt"), ["--variant owt", "conflicts"]),
    (train("--weights", "{model}", "--head-epochs", "-1"), ["--head-epochs", ">= 0"]),
    (train("--weights", "{model}", "--freeze", "all"), ["--freeze", "features"]),
    (train("--weights", "{model}", "--finetune-lr", "0"), ["--finetune-lr", "> 0"]),
    (("features", "{tmp}/none.keras", "{file}", "-o", "{tmp}/f.npz"), ["none.keras"]),
    (("features", "{model}", "{file}", "-o", "{tmp}/f.csv"), ["-o/--out", ".npz"]),
    (("features", "{model}", "{file}", "-o", "{tmp}/f.npz", "--layer", "fc9"), ["--layer", "fc9"]),
    (("features", "{model}", "{file}", "-o", "{tmp}/f.npz", "--batch-size", "0"), ["--batch-size", ">= 1"]),
    (("features", "{model}", "{file}", "-o", "{tmp}/f.npz"), ["plain.txt", "not a JPEG"]),
]


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    from conftest import write_idx_dataset

    from alexnet.model import AlexNet

    root = tmp_path_factory.mktemp("cli_values")
    write_idx_dataset(root / "idx")
    AlexNet(variant="small", input_shape=(28, 28, 1), classes=3).save(root / "model.keras")
    (root / "plain.txt").write_text("not an image, a model or a dataset\n")
    return root


def _snapshot(folder):
    return sorted(os.path.relpath(os.path.join(d, n), folder) for d, dirs, files in os.walk(folder)
                  for n in dirs + files)


@pytest.mark.parametrize("argv, words", CASES, ids=[" ".join(a[:1] + a[-2:]) for a, _ in CASES])
def test_bad_value_is_one_line_and_exit_2(argv, words, places, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fill = dict(idx=places / "idx", model=places / "model.keras", tmp=tmp_path, file=places / "plain.txt")
    argv = [a.format(**fill) for a in argv]
    before = _snapshot(tmp_path), _snapshot(places)
    status, _, err = run_main(capsys, *argv)
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, err
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert (_snapshot(tmp_path), _snapshot(places)) == before, "something was written"


def test_every_flag_has_a_bad_value_case():
    """A flag added without a case above fails here."""
    tested = {word for argv, _ in CASES for word in argv if word.startswith("-")}
    tested |= {word.split("=")[0] for word in tested}
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    missing = []
    for command, sub in subparsers.choices.items():
        commands_tested = {argv[0] for argv, _ in CASES}
        assert command in commands_tested, f"no case for `alexnet {command}`"
        for action in sub._actions:
            for flag in action.option_strings:
                if flag not in tested and flag not in NO_BAD_VALUE:
                    missing.append(f"{command} {flag}")
    assert not missing, missing


def test_the_real_command_prints_one_line(places, tmp_path):
    """Through the installed entry point, with TensorFlow's own start-up
    output: still one line on stderr."""
    from conftest import save_image

    inputs = tmp_path / "in"
    inputs.mkdir()
    save_image(inputs / "whole.jpg", np.full((40, 40, 3), 90, np.uint8))
    whole = (inputs / "whole.jpg").read_bytes()
    (inputs / "cut.jpg").write_bytes(whole[: len(whole) // 3])  # libjpeg prints about this itself
    for argv in (["train", "--data", str(places / "idx"), "--out", str(tmp_path / "r"), "--image-size", "5"],
                 ["predict", str(places / "model.keras"), str(places / "plain.txt"), "--top", "4"],
                 ["predict", str(places / "model.keras"), str(inputs / "cut.jpg")]):
        env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user runs it
        result = subprocess.run([sys.executable, "-m", "alexnet_launcher", *argv], capture_output=True,
                                text=True, timeout=300, cwd=tmp_path, env=env)
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert os.listdir(tmp_path) == ["in"]


def test_train_flags_are_the_config_fields_with_its_defaults_and_choices():
    """The CLI spells no option of its own: every `train` flag is a Config
    field, with Config's default and the config's choices."""
    import dataclasses

    from alexnet import config as C

    parser = build_parser()
    args = vars(parser.parse_args(["train"]))
    fields = {f.name: f.default for f in dataclasses.fields(C.Config)}
    assert set(args) - {"command", "run"} == set(fields)
    # Network switches left out are None: the config's default, or with
    # --weights the source's (a value given must match the source).
    from_source = {"variant", "activation", "overlapping_pooling", "dropout"}
    for name, value in args.items():
        if name in from_source:
            assert value is None, name
        elif name in fields and name != "out":  # out: the CLI derives runs/<data>-<variant>
            assert value == fields[name], name
    train = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices["train"]
    choices = {a.dest: tuple(a.choices) for a in train._actions if a.choices}
    assert choices["optimizer"] == C.OPTIMIZERS and choices["schedule"] == C.SCHEDULES
    assert choices["precision"] == C.PRECISIONS and choices["strategy"] == C.STRATEGIES
    assert set(choices["variant"]) == set(C.get_variant.__globals__["VARIANTS"])
    assert choices["freeze"] == C.FREEZE_PARTS

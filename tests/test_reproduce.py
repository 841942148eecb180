"""The reproduction harness: the protocol's arms differ in one idea only, the
decision rule against hand-computed intervals, the paper regime's networks,
and one experiment end to end on a tiny IDX dataset (files, verdicts,
figure, resuming, a changed protocol refused)."""

import dataclasses
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from alexnet.cli import build_parser, main
from alexnet.reproduce import protocol as P
from alexnet.reproduce import analysis, run_experiment, runner
from alexnet.variants import PAPER, SMALL, VARIANTS, derive, get_variant, half_width, one_gpu
from conftest import run_main

IDENTITY_FIELDS = {"key", "label", "lr_from", "lr_grid", "images", "epochs"}


@pytest.mark.parametrize("name", list(P.EXPERIMENTS))
def test_each_comparison_switches_one_idea_only(name):
    experiment = P.EXPERIMENTS[name]
    expected = {"relu-vs-tanh": {"activation"}, "lrn": {"lrn"}, "overlapping-pooling": {"overlapping_pooling"},
                "two-tower": {"net"}, "dropout": {"dropout"}}[name]
    for comparison in (experiment.primary, *experiment.secondary):
        idea, control = P.ARMS[comparison.idea], P.ARMS[comparison.control]
        differ = {f.name for f in dataclasses.fields(P.Arm)
                  if getattr(idea, f.name) != getattr(control, f.name)} - {"key", "label", "lr_from", "lr_grid"}
        assert differ == expected, (comparison, differ)
        # Same budget; the control trains at the rate searched for the idea's
        # network, except Figure 1, where each arm searches its own.
        assert (idea.images, idea.epochs) == (control.images, control.epochs)
        if idea.net == "figure1":
            assert idea.lr_from is None and control.lr_from is None and idea.lr_grid == control.lr_grid
        else:
            assert (idea.lr_from or idea.key) == (control.lr_from or control.key)
    assert len(P.SEEDS) >= 5 and P.SEARCH_SEED not in P.SEEDS
    assert P.THRESHOLD == {"fashion_mnist": 12.0, "cifar10": 25.0}


def test_the_arms_an_experiment_needs_include_where_their_rate_comes_from():
    keys = [a.key for a in P.arms_of(["two-tower"])]
    assert keys == ["small", "small-2tower", "small-1gpu"]
    assert len(P.arms_of(list(P.EXPERIMENTS))) == len(P.ARMS)


def test_the_interval_and_the_verdict_follow_the_rule():
    result = analysis.interval([1.0, 2.0, 3.0, 4.0, 5.0])
    half = 2.776 * math.sqrt(2.5) / math.sqrt(5)  # t(0.975, 4) * sd / sqrt(n), sd of 1..5 = sqrt(2.5)
    assert result["mean"] == 3.0 and result["ci95"] == pytest.approx([3 - half, 3 + half], abs=1e-9)
    assert analysis.interval([2.0])["ci95"] is None
    # Errors: the idea helps when the difference is below 0.
    assert analysis.verdict([-2.0, -0.1], helps_when_below=True) == "shown"
    assert analysis.verdict([0.1, 2.0], helps_when_below=True) == "opposite"
    assert analysis.verdict([-2.0, 0.1], helps_when_below=True) == "not shown"
    assert analysis.verdict(None, helps_when_below=True) == "not shown"
    # A speed-up helps above 1.
    assert analysis.verdict([1.2, 6.0], helps_when_below=False, null=1.0) == "shown"
    assert analysis.verdict([0.5, 0.9], helps_when_below=False, null=1.0) == "opposite"
    assert analysis.t975(4) == 2.776 and analysis.t975(40) == pytest.approx(2.021, abs=0.005)


def test_epochs_to_threshold_interpolates_and_censors():
    epochs, errors = [0.0, 0.5, 1.0, 1.5], [90.0, 40.0, 20.0, 10.0]
    assert analysis.epochs_to_threshold(epochs, errors, 30.0, 2) == (0.75, False)  # halfway from 40 to 20
    assert analysis.epochs_to_threshold(epochs, errors, 5.0, 2) == (2.0, True)  # never: the whole budget

    def run(errors_at_half_epochs, budget=2):
        n = len(errors_at_half_epochs)
        return {"diverged": False, "epochs": budget,
                "curves": {"epoch": [0.5 * i for i in range(n)], "train_error": errors_at_half_epochs}}

    relu = [run([90, 20, 10, 5, 4]), run([90, 30, 10, 5, 4]), run([90, 20, 10, 6, 4])]
    tanh = [run([90, 60, 40, 20, 10]), run([90, 50, 40, 30, 10]), run([90, 60, 40, 10, 9])]
    out = analysis.compare("epochs_to_threshold", relu, tanh, threshold=20)
    per_seed = [1.5 / 0.5, 1.75 / (0.5 + 0.5 * 10 / 20), (1 + 0.5 * 20 / 30) / 0.5]
    assert out["effect"]["per_seed"] == pytest.approx(per_seed)
    assert out["effect"]["mean"] == pytest.approx(math.exp(np.mean(np.log(per_seed))))
    assert out["verdict"] == "shown" and out["censored"] == {"idea": 0, "control": 0}
    # A diverged run drops its pair, and says so.
    relu[0] = {**relu[0], "diverged": True}
    assert analysis.compare("epochs_to_threshold", relu, tanh, threshold=20)["pairs_diverged"] == 1


def test_the_gap_and_test_error_measures():
    def run(train, val, test):
        return {"diverged": False, "train_error": train, "val_error": val, "test_error": test}

    with_dropout = [run(5, 15, 16), run(6, 15, 15), run(5, 14, 15)]
    without = [run(0, 18, 18), run(0, 17, 17), run(1, 19, 18)]
    gap = analysis.compare("gap", with_dropout, without)
    assert gap["effect"]["per_seed"] == pytest.approx([10 - 18, 9 - 17, 9 - 18])
    assert gap["verdict"] == "shown"
    assert analysis.compare("test_error", without, with_dropout)["verdict"] == "opposite"


def test_a_verdict_made_of_nets_at_chance_carries_a_caveat():
    """LRN at 0-255 input: 4 of 5 nets without it never trained, so its
    large "shown" effect says the net trains, not that it generalizes; the
    summary and the command's output must say so next to the verdict."""
    from alexnet.reproduce.experiments import summarize, to_markdown, verdict_text

    def runs(errors):
        return {"search": {"lr": 0.01, "trials": {}},
                "runs": [{"diverged": False, "test_error": e, "test_top5_error": e / 5, "val_error": e,
                          "train_error": e, "seconds": 1.0, "parameters": 10, "seed": i}
                         for i, e in enumerate(errors)]}

    experiment = P.EXPERIMENTS["lrn"]
    idea, control = experiment.primary.idea, experiment.primary.control
    trained = {idea: runs([20.8, 20.7, 21.0, 21.6, 22.0]), control: runs([90.0, 89.5, 90.0, 90.0, 25.2])}
    arms = {key: P.ARMS[key] for key in trained}
    entry = summarize(dataclasses.replace(experiment, secondary=()), trained, arms, 25.0, chance_error=90.0)
    assert entry["verdict"] == "shown" and entry["arms"][control]["at_chance"] == 4
    assert entry["arms"][idea]["at_chance"] == 0
    assert f"4 of 5 nets of {control}" in verdict_text(entry, upper=True)
    assert verdict_text(entry, upper=True).startswith("SHOWN (at chance:")
    summary = {"data": "d", "cpu": "c", "seeds": [0], "train_seconds": 60, "wall_seconds": 60,
               "experiments": {"lrn": {**entry, "paper": "p"}}}
    assert "whether the net trains" in to_markdown(summary)
    # Nets that all trained: the verdict alone.
    trained[control] = runs([22.0, 21.9, 22.4, 23.0, 22.8])
    entry = summarize(dataclasses.replace(experiment, secondary=()), trained, arms, 25.0, chance_error=90.0)
    assert "caveat" not in entry and verdict_text(entry) == entry["verdict"]


def test_derived_variants_for_the_two_tower_claim():
    from alexnet.model import AlexNet

    two, one = VARIANTS["small-2tower"], VARIANTS["small-1gpu"]
    assert get_variant("small-1gpu") is one and one_gpu(SMALL, name="small-1gpu") == one
    assert [c.groups for c in two.convs] == [c.groups for c in PAPER.convs] == [1, 2, 1, 2, 2]
    # Footnote 2: half the kernels in conv1-conv4, conv5 and the FC layers at full width.
    assert [2 * c.filters for c in one.convs[:4]] == [c.filters for c in SMALL.convs[:4]]
    assert one.convs[4] == SMALL.convs[4] and one.fc_units == SMALL.fc_units
    assert all(c.groups == 1 for c in one.convs)
    counts = {v: AlexNet(variant=v, input_shape=(28, 28, 1), classes=10).count_params()
              for v in ("small-2tower", "small-1gpu", "small-half")}
    assert abs(counts["small-1gpu"] / counts["small-2tower"] - 1) < 0.1  # "about the same number"
    assert counts["small-half"] < 0.3 * counts["small-2tower"]  # the old, unfair control
    assert derive(SMALL, 2, name="x").name == "x" and half_width(SMALL).name == "small-half"
    with pytest.raises(ValueError, match="towers"):
        derive(SMALL, 5)
    assert build_parser().parse_args(["train", "--variant", "small-1gpu"]).variant == "small-1gpu"


def test_the_paper_regime_network_and_input():
    arm = P.ARMS["small-paper"]
    model = runner.build_model(arm, (28, 28, 1), 10)
    for name in ("conv1", "conv3", "fc6", "predictions"):
        kernel = np.asarray(model.get_layer(name).kernel.numpy() if hasattr(model.get_layer(name).kernel, "numpy")
                            else model.get_layer(name).kernel)
        assert abs(kernel.std() - 0.01) < 0.002, name
    biases = {name: float(np.mean(model.get_layer(name).bias)) for name in
              ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "predictions")}
    assert biases == {"conv1": 0.0, "conv2": 1.0, "conv3": 0.0, "conv4": 1.0, "conv5": 1.0,
                      "fc6": 1.0, "fc7": 1.0, "predictions": 0.0}
    figure1 = runner.build_model(P.ARMS["fig1-tanh"], (28, 28, 1), 10)
    assert [layer.name for layer in figure1.layers[1:]] == ["conv1", "pool1", "conv2", "pool2", "conv3", "pool3",
                                                             "flatten", "predictions"]
    assert figure1.get_layer("conv2").activation.__name__ == "tanh"
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (50, 28, 28, 1)).astype(np.uint8)
    labels = rng.integers(0, 3, 50)
    data = runner.Data("x", images, labels, images[:5], labels[:5], images[:5], labels[:5], 3)
    paper, standard = data.prepared("paper", images), data.prepared("standardized", images)
    assert np.allclose(paper.mean(axis=0), 0, atol=1e-3) and paper.std() > 50  # 0-255 scale, mean image removed
    assert abs(standard.mean()) < 1e-3 and abs(standard.std() - 1) < 1e-3
    # The pixels regime: the paper's input, Glorot's weights and zero biases.
    assert np.array_equal(data.prepared("pixels", images), paper)
    pixels = runner.build_model(P.ARMS["small-pixels"], (28, 28, 1), 10)
    conv2 = np.asarray(pixels.get_layer("conv2").kernel)
    fan_in, fan_out = np.prod(conv2.shape[:3]), np.prod(conv2.shape[:2]) * conv2.shape[3]
    assert abs(conv2.std() - math.sqrt(2 / (fan_in + fan_out))) < 0.003  # Glorot-uniform's std
    assert all(not np.any(np.asarray(pixels.get_layer(n).bias)) for n in ("conv2", "conv4", "fc6", "fc7"))


def test_new_arms_join_a_folder_whose_arms_are_unchanged(tmp_path):
    """An amendment adds arms: their runs join the folder of the earlier
    protocol, whose own arms (unchanged) are reused; a changed arm is refused."""
    from alexnet.errors import UserError
    from alexnet.reproduce.experiments import check_protocol

    described = P.describe(["overlapping-pooling"], seeds=P.SEEDS, quick_run=False, data="x")
    check_protocol(str(tmp_path), described)
    check_protocol(str(tmp_path), P.describe(["overlapping-pooling", "dropout"], seeds=P.SEEDS, quick_run=False,
                                             data="x"))
    recorded = json.loads((tmp_path / "protocol.json").read_text())["arms"]
    assert {"small", "small-pool2", "overfit-dropout", "small-dropout"} <= set(recorded)
    changed = json.loads(json.dumps(described))
    changed["arms"]["small"]["epochs"] = 6
    with pytest.raises(UserError, match="arm small"):
        check_protocol(str(tmp_path), changed)


def test_one_experiment_end_to_end_then_resumed_then_refused(idx_dir, tmp_path, capsys):
    out = tmp_path / "rep"
    summary = run_experiment("overlapping-pooling", str(idx_dir), out=str(out), quick=True)
    entry = summary["experiments"]["overlapping-pooling"]
    assert entry["seeds"] == [0, 1] and entry["verdict"] in ("shown", "not shown", "opposite")
    assert set(entry["arms"]) == {"small", "small-pool2"}
    assert entry["arms"]["small"]["lr"] == entry["arms"]["small-pool2"]["lr"]  # the baseline's searched rate
    assert entry["arms"]["small"]["lr"] in P.quick(P.ARMS["small"]).lr_grid
    assert len(entry["effect"]["per_seed"]) + entry["pairs_diverged"] == 2
    runs = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    assert runs == ["overlapping-pooling.json", "protocol.json", "runs/small-pool2/seed0.json",
                    "runs/small-pool2/seed1.json", "runs/small/seed0.json", "runs/small/seed1.json",
                    "search/small/lr0.003.json", "search/small/lr0.01.json"]
    run = json.loads((out / "runs/small/seed0.json").read_text())
    assert run["curves"]["epoch"][0] == 0 and run["curves"]["epoch"][-1] == pytest.approx(2.0)
    assert 0.5 < run["lrn_ratio"]["median"] < 0.6  # standardized input: LRN is about 2**-0.75
    assert (out / "overlapping-pooling.png").is_file() and entry["figure"] == "overlapping-pooling.png"
    assert "| overlapping-pooling |" in (out / "overlapping-pooling.md").read_text()

    # Resuming: a deleted run is trained again, the others are reused as they are.
    (out / "runs/small-pool2/seed1.json").unlink()
    kept = (out / "runs/small/seed0.json").stat().st_mtime_ns
    capsys.readouterr()
    run_experiment("overlapping-pooling", str(idx_dir), out=str(out), quick=True)
    assert (out / "runs/small-pool2/seed1.json").is_file()
    assert (out / "runs/small/seed0.json").stat().st_mtime_ns == kept
    progress = capsys.readouterr().err
    assert "reproduce: small-pool2 (" in progress and ", seed 1, lr" in progress  # what it trains, it says
    assert "learning-rate trial" not in progress and ", seed 0, lr" not in progress  # what it reads back, not

    # Another protocol in the same folder is refused, naming what changed.
    assert main(["reproduce", "overlapping-pooling", "--data", str(idx_dir), "--quick", "--seeds", "3",
                 "--out", str(out)]) == 2
    assert "seeds" in capsys.readouterr().err


def test_reproduce_user_errors(tmp_path, capsys):
    status, _, err = run_main(capsys, "reproduce", "lrn", "--seeds", "1", "--out", tmp_path)
    assert status == 2 and "--seeds" in err  # no interval from 1 seed
    status, _, err = run_main(capsys, "reproduce", "relu-vs-tanh", "--threshold", "100", "--out", tmp_path)
    assert status == 2 and "--threshold" in err
    assert run_main(capsys, "reproduce", "maxout")[0] == 2


@pytest.mark.slow
def test_cli_reproduce_all_quick(idx_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-m", "alexnet_launcher", "reproduce", "all", "--quick", "--data",
                             str(idx_dir), "--out", str(tmp_path / "rep")],
                            capture_output=True, text=True, timeout=1200, env=env)
    assert result.returncode == 0, result.stderr
    assert "summary:" in result.stdout and "relu-vs-tanh (" in result.stdout
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    assert list(summary["experiments"]) == list(P.EXPERIMENTS)
    for name, entry in summary["experiments"].items():
        assert (tmp_path / "rep" / entry["figure"]).is_file()
        assert entry["verdict"] in ("shown", "not shown", "opposite")
    assert list(summary["experiments"]["lrn"]["secondary"]) == ["small", "small-paper"]
    assert list(summary["experiments"]["dropout"]["secondary"]) == ["small-dropout"]

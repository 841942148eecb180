"""The reproduction harness: derived variants, the speed-up arithmetic on
hand-made curves, and every experiment on a tiny budget (arms that differ in
one idea only, tables, JSON, figures, the summary, reuse of finished arms)."""

import json
import os
import subprocess
import sys

import pytest

from alexnet.cli import build_parser, main
from alexnet.config import Config
from alexnet.reproduce import EXPERIMENTS, epochs_to_target, run_experiment, speedup
from alexnet.reproduce.report import stats
from alexnet.variants import SMALL, VARIANTS, Variant, derive, get_variant, half_width

TINY = dict(quick=True, epochs=1, max_steps_per_epoch=2, batch_size=16, precision="float32",
            learning_rate=0.01, warmup_epochs=0.0)


def test_epochs_to_target_interpolates_and_gives_the_speedup():
    relu = [40, 25, 20, 15]  # reaches 25% exactly after epoch 2
    tanh = [70, 65, 60, 55, 50, 45, 40, 35, 30, 28, 26, 25, 24]  # after epoch 12
    assert epochs_to_target(relu, 25) == 2.0
    assert epochs_to_target(tanh, 25) == 12.0
    assert speedup(epochs_to_target(relu, 25), epochs_to_target(tanh, 25)) == pytest.approx(6.0)
    # Halfway between epoch 1 (30%) and epoch 2 (20%): 1.5 epochs.
    assert epochs_to_target([30, 20], 25) == pytest.approx(1.5)
    assert epochs_to_target([30, 28, 22], 25) == pytest.approx(2.5)
    # Reached in the first epoch: from chance (90%) at epoch 0 when given.
    assert epochs_to_target([20], 25) == 1.0
    assert epochs_to_target([20], 55, start_error=90) == pytest.approx(35 / 70)
    # Never reached: no number, and no speed-up.
    assert epochs_to_target([60, 50, 40], 25) is None
    assert speedup(2.0, None) is None and speedup(None, 12.0) is None
    s = stats([4.0, 6.0, None])
    assert s["mean"] == 5.0 and s["std"] == pytest.approx(2 ** 0.5) and s["n"] == 2


def test_derived_variants_group_or_halve_the_kernels():
    two, half = VARIANTS["small-2tower"], VARIANTS["small-half"]
    assert get_variant(two) is two and get_variant("small-half") is half
    assert [c.groups for c in two.convs] == [1, 2, 1, 2, 2]  # like the paper variant
    assert [c.groups for c in VARIANTS["paper"].convs] == [c.groups for c in two.convs]
    assert [c.filters for c in two.convs] == [c.filters for c in SMALL.convs]
    assert [2 * c.filters for c in half.convs] == [c.filters for c in SMALL.convs]
    assert all(c.groups == 1 for c in half.convs) and 2 * half.fc_units[0] == SMALL.fc_units[0]
    assert derive(SMALL, 2, name="x").name == "x" and half_width(SMALL).name == "small-half"
    with pytest.raises(ValueError, match="towers"):
        derive(SMALL, 5)
    with pytest.raises(ValueError, match="Unknown variant"):
        get_variant("small-3tower")
    assert isinstance(get_variant("small"), Variant)
    # The CLI's --variant takes the derived names.
    args = build_parser().parse_args(["train", "--variant", "small-half"])
    assert args.variant == "small-half"

    from alexnet.model import AlexNet

    models = {v: AlexNet(variant=v, input_shape=(28, 28, 1), classes=10)
              for v in ("small", "small-2tower", "small-half")}
    assert models["small-2tower"].name == "alexnet_small-2tower"
    kernels = {v: sum(m.get_layer(f"conv{i}").filters for i in range(1, 6)) for v, m in models.items()}
    assert kernels["small-half"] * 2 == kernels["small"] == kernels["small-2tower"]
    conv_weights = {v: sum(m.get_layer(f"conv{i}").kernel.shape.num_elements() for i in range(1, 6))
                    for v, m in models.items()}
    # Grouping halves conv2/4/5's weights; one half-width tower is a quarter of the full net's conv weights.
    assert conv_weights["small-half"] < conv_weights["small-2tower"] < conv_weights["small"]
    assert abs(conv_weights["small-half"] / conv_weights["small"] - 0.25) < 0.01
    assert models["small-half"].count_params() < 0.3 * models["small"].count_params()


def _config(run_dir):
    with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
        return json.load(f)


def test_all_experiments_on_a_tiny_budget(idx_dir, tmp_path):
    out = tmp_path / "rep"
    result = run_experiment("all", str(idx_dir), out=str(out), **TINY)
    assert [r["experiment"] for r in result["experiments"]] == list(EXPERIMENTS)

    for r in result["experiments"]:
        experiment = EXPERIMENTS[r["experiment"]]
        idea = [_config(d) for d in r["arms"][experiment.idea.key]["runs"]]
        control = [_config(d) for d in r["arms"][experiment.control.key]["runs"]]
        assert len(idea) == len(control) == 1 == r["seeds"]  # --quick: one seed
        # The arms differ in the switched idea only (and in their run directories).
        for a, b in zip(idea, control):
            differ = {k for k in a if a[k] != b[k]} - {"out"}
            switched = set(experiment.idea.changes) | set(experiment.control.changes)
            assert differ == switched, (r["experiment"], differ)
            assert a["epochs"] == 1 and a["max_steps_per_epoch"] == 2 and a["precision"] == "float32"
        folder = out / r["experiment"]
        for name in ("results.md", "results.json", "curves.png"):
            assert (folder / name).is_file(), (r["experiment"], name)
        saved = json.loads((folder / "results.json").read_text())
        assert saved["experiment"] == r["experiment"] and saved["rows"]
        table = (folder / "results.md").read_text()
        assert "| measure |" in table and "paper" in table and "test top-1 error" in table
        for row in saved["rows"]:
            for value in row["values"].values():
                assert set(value) >= {"mean", "std", "n"}

    by_name = {r["experiment"]: r for r in result["experiments"]}
    # Figure 1 and its speed-up row; the target is 25% for data other than the two named ones.
    assert (out / "relu-vs-tanh" / "figure1.png").is_file()
    assert by_name["relu-vs-tanh"]["target_training_error"] == 25
    assert any(row["measure"] == "speedup" for row in by_name["relu-vs-tanh"]["rows"])
    assert _config(by_name["relu-vs-tanh"]["arms"]["tanh"]["runs"][0])["activation"] == "tanh"
    assert _config(by_name["lrn"]["arms"]["no-lrn"]["runs"][0])["lrn"] is False
    assert _config(by_name["overlapping-pooling"]["arms"]["pool-2x2"]["runs"][0])["overlapping_pooling"] is False
    assert _config(by_name["dropout"]["arms"]["no-dropout"]["runs"][0])["dropout"] == 0.0
    # The two-tower comparison uses the derived variants with small's recipe.
    two = by_name["two-tower"]
    configs = [_config(two["arms"][k]["runs"][0]) for k in ("small-2tower", "small-half")]
    assert [c["variant"] for c in configs] == ["small-2tower", "small-half"]
    assert all(c["schedule"] == "cosine" and c["image_size"] == 28 for c in configs)
    sizes = {row["measure"]: row["values"] for row in two["rows"] if row["measure"] in ("conv_kernels", "parameters")}
    assert sizes["conv_kernels"]["small-half"]["mean"] * 2 == sizes["conv_kernels"]["small-2tower"]["mean"]
    # The baseline arm is shared by four experiments and trained once.
    assert sorted(os.listdir(out / "runs")) == ["baseline", "no-dropout", "no-lrn", "pool-2x2", "small-2tower",
                                               "small-half", "tanh"]

    summary = json.loads((out / "summary.json").read_text())
    assert [row["experiment"] for row in summary["experiments"]] == list(EXPERIMENTS)
    md = (out / "summary.md").read_text()
    assert "| experiment |" in md and "6x" in md and "-1.4" in md

    # Rerunning reuses the finished arms (nothing is trained again).
    model = out / "runs" / "tanh" / "seed0" / "model.keras"
    before = model.stat().st_mtime_ns
    again = run_experiment("relu-vs-tanh", str(idx_dir), out=str(out), target_error=0.5, **TINY)
    assert model.stat().st_mtime_ns == before
    assert again["target_training_error"] == 50


def test_reproduce_user_errors(tmp_path, capsys):
    def status(argv):
        try:
            return main(argv)
        except SystemExit as exit_:
            return exit_.code

    assert status(["reproduce", "lrn", "--seeds", "0", "--out", str(tmp_path)]) == 2
    assert "--seeds" in capsys.readouterr().err
    assert status(["reproduce", "relu-vs-tanh", "--target-error", "25", "--data", "fashion_mnist",
                   "--out", str(tmp_path)]) == 2
    assert "--target-error" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["reproduce", "maxout"])
    assert exit_info.value.code == 2
    assert Config(variant="small-half").variant == "small-half"


@pytest.mark.slow
def test_cli_reproduce_all_quick(idx_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-m", "alexnet_launcher", "reproduce", "all", "--quick", "--data",
                             str(idx_dir), "--precision", "float32", "--out", str(tmp_path / "rep")],
                            capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, result.stderr
    assert "summary:" in result.stdout and "relu-vs-tanh:" in result.stdout
    assert (tmp_path / "rep" / "summary.md").is_file()


def test_default_budget_is_the_small_recipe_compressed_to_six_epochs(tmp_path):
    from alexnet.config import SMALL_RECIPE
    from alexnet.reproduce.experiments import DEFAULT_EPOCHS, DEFAULT_SEEDS, base_config

    base = base_config("fashion_mnist", str(tmp_path))
    assert (base.epochs, DEFAULT_EPOCHS, DEFAULT_SEEDS) == (6, 6, 2)
    for name, value in SMALL_RECIPE.items():
        if name not in ("epochs", "conv1_init", "resample"):
            assert getattr(base, name) == value, name
    assert base.conv1_init == "random"  # every layer learned, as in the paper
    assert base.resample == 0.0  # as REPRODUCTION.md measured
    assert base_config("fashion_mnist", str(tmp_path), epochs=20).epochs == 20
    quick = base_config("fashion_mnist", str(tmp_path), quick=True)
    assert (quick.epochs, quick.max_steps_per_epoch) == (2, 3)


def test_a_speedup_whose_slow_arm_never_reaches_the_target_is_a_lower_bound(tmp_path):
    from alexnet.reproduce.report import format_effect, summarize, to_markdown

    def run(train_accuracies):
        history = [{"accuracy": a, "val_accuracy": a} for a in train_accuracies]
        return {"history": history, "metrics": {"test_accuracy": train_accuracies[-1], "test_top5_accuracy": 1.0},
                "config": {}, "dir": str(tmp_path)}

    fast = [run([0.5, 0.9, 0.95, 0.96]), run([0.5, 0.8, 0.95, 0.96])]  # 25% error at epochs 1.625 and 1.833
    slow = [run([0.5, 0.6, 0.65, 0.7]), run([0.5, 0.55, 0.6, 0.74])]  # never at 25% error in 4 epochs
    result = summarize(EXPERIMENTS["relu-vs-tanh"], {"baseline": fast, "tanh": slow}, target_error=0.25,
                       dataset="x", budget="4 epochs")
    row = next(r for r in result["rows"] if r["measure"] == "speedup")
    assert row["effect"]["mean"] is None
    assert row["lower_bound"]["per_seed"] == pytest.approx([4 / 1.625, 4 / (1 + 25 / 30)])
    assert format_effect(row).startswith("> 2.18x")
    table = to_markdown(result)
    assert "not reached in 4 epochs" in table and "> 2.18x" in table
    # When both arms get there, the effect is the plain ratio.
    both = summarize(EXPERIMENTS["relu-vs-tanh"], {"baseline": fast, "tanh": [run([0.5, 0.6, 0.7, 0.8])] * 2},
                     target_error=0.25, dataset="x", budget="4 epochs")
    row = next(r for r in both["rows"] if r["measure"] == "speedup")
    assert format_effect(row) == f"{row['effect']['mean']:.2f} ± {row['effect']['std']:.2f}x"

"""Figures of what the network learned: conv1 kernels (Figure 3), fc7 nearest
neighbours and top-5 panels (Figure 4), through the library and the CLI."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from alexnet.cli import main
from alexnet.config import Config
from alexnet.training.run import train
from alexnet.variants import SMALL
from conftest import save_image, write_idx_dataset

TINY = dict(epochs=1, max_steps_per_epoch=2, batch_size=16, precision="float32", learning_rate=0.01,
            warmup_epochs=0.0, schedule="cosine", image_size=28)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Tiny IDX data, a small model and a two-tower small model trained for two steps."""
    root = tmp_path_factory.mktemp("figures")
    data = root / "idx"
    train_x, train_y = write_idx_dataset(data, n_train=120, n_test=30)
    runs = {}
    for variant in ("small", "small-2tower"):
        runs[variant] = root / variant
        train(Config(data=str(data), variant=variant, out=str(runs[variant]), **TINY))
    return {"root": root, "data": data, "runs": runs, "train_x": train_x, "train_y": train_y}


def test_filters_grid_one_tower_and_two(trained, capsys):
    from alexnet.figures import plot_filters

    root = trained["root"]
    one = plot_filters(str(trained["runs"]["small"]), str(root / "one.png"))
    assert one["towers"] == 1 and one["kernels"] == SMALL.convs[0].filters and one["kernel_shape"] == [5, 5, 1]
    assert (root / "one.png").stat().st_size > 1000
    two = plot_filters(str(trained["runs"]["small-2tower"] / "model.keras"), str(root / "two.png"))
    assert two["towers"] == 2 and two["kernels"] == SMALL.convs[0].filters

    assert main(["filters", str(trained["runs"]["small-2tower"]), "-o", str(root / "cli.png")]) == 0
    assert "2 towers" in capsys.readouterr().out and (root / "cli.png").is_file()
    # Default: filters.png beside the model.
    assert main(["filters", str(trained["runs"]["small"])]) == 0
    assert (trained["runs"]["small"] / "filters.png").is_file()


def test_rgb_kernels_are_drawn_in_colour(tmp_path):
    from alexnet.plots import figure, kernel_grid

    fig, ax = figure(figsize=(4, 3))
    kernel_grid(ax, np.random.default_rng(0).normal(size=(6, 5, 5, 3)).astype(np.float32), "rgb")
    assert ax.images[0].get_array().shape[-1] == 3


def test_importing_the_plotting_code_leaves_matplotlibs_backend_alone():
    # Figures are drawn with the object API and the Agg canvas: the backend a
    # notebook or an application chose stays chosen.
    code = ("import matplotlib, alexnet.plots, alexnet.figures, alexnet.reproduce.figures, alexnet.evaluate; "
            "print(matplotlib.get_backend())")
    env = {**os.environ, "MPLBACKEND": "svg"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip().lower() == "svg"


def test_neighbors_finds_the_query_itself(trained, capsys):
    from alexnet.figures import nearest_neighbors

    from alexnet.data.sources import load_source

    root = trained["root"]
    # The images the run trained on: 95% of the 120 (its default --val-fraction and --seed).
    split = load_source(str(trained["data"]), val_fraction=0.05, seed=0).train
    queries = []
    for index in (7, 42):
        path = root / f"query{index}.png"
        save_image(path, split.images[index, ..., 0])
        queries.append(str(path))
    result = nearest_neighbors(str(trained["runs"]["small"]), queries, str(trained["data"]), k=4,
                               out=str(root / "neighbors.png"))
    assert (root / "neighbors.png").is_file() and result["searched"] == 114 and result["feature"] == "fc7"
    for index, answer in zip((7, 42), result["queries"]):
        first = answer["neighbors"][0]
        assert first["index"] == index and first["distance"] < 1e-3
        assert first["label"] == int(split.labels[index])
        distances = [n["distance"] for n in answer["neighbors"]]
        assert len(distances) == 4 and distances == sorted(distances)

    assert main(["neighbors", str(trained["runs"]["small"]), "--query", queries[0], "--data", str(trained["data"]),
                 "-k", "2", "--max-images", "50", "-o", str(root / "n2.png"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["searched"] == 50 and printed["queries"][0]["neighbors"][0]["index"] == 7
    assert len(printed["queries"][0]["neighbors"]) == 2

    assert main(["neighbors", str(trained["runs"]["small"]), "--query", str(root / "nope.png"),
                 "--data", str(trained["data"])]) == 2
    assert "No such image file" in capsys.readouterr().err


def test_top5_panel(trained, capsys):
    from alexnet.figures import plot_top5

    root = trained["root"]
    result = plot_top5(str(trained["runs"]["small"]), str(trained["data"]), n=5, out=str(root / "top5.png"))
    assert (root / "top5.png").stat().st_size > 1000 and len(result["images"]) == 5
    for answer in result["images"]:
        probabilities = [p["probability"] for p in answer["top5"]]
        assert len(probabilities) == 3  # three classes: top-3 of 3
        assert probabilities == sorted(probabilities, reverse=True) and abs(sum(probabilities) - 1) < 1e-4
    assert main(["top5", str(trained["runs"]["small"]), "--data", str(trained["data"]), "-n", "3",
                 "-o", str(root / "cli-top5.png")]) == 0
    assert "3 test images" in capsys.readouterr().out and (root / "cli-top5.png").is_file()


def test_figure_commands_user_errors(trained, tmp_path, capsys):
    assert main(["filters", str(tmp_path / "missing.keras")]) == 2
    assert "No such model file" in capsys.readouterr().err
    assert main(["filters", str(trained["runs"]["small"]), "-o", str(tmp_path / "x.jpg")]) == 2
    assert ".png" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["top5", str(trained["runs"]["small"]), "--data", str(trained["data"]), "-n", "0"])
    assert exit_info.value.code == 2 and "-n" in capsys.readouterr().err

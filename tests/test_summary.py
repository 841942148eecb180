"""``alexnet.summary``: multiply-add counts and the per-layer table."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest

from alexnet import AlexNet
from alexnet.summary import format_summary, layer_macs, summarize


@pytest.fixture(scope="module")
def paper():
    return AlexNet(variant="paper")


@pytest.fixture(scope="module")
def small():
    return AlexNet(variant="small", classes=10)


def test_paper_conv_macs(paper):
    assert layer_macs(paper.get_layer("conv1")) == 55 * 55 * 96 * 11 * 11 * 3
    # Grouped: each output sees half of the input channels.
    assert layer_macs(paper.get_layer("conv2")) == 27 * 27 * 256 * 5 * 5 * 48
    assert layer_macs(paper.get_layer("conv3")) == 13 * 13 * 384 * 3 * 3 * 256
    assert layer_macs(paper.get_layer("conv4")) == 13 * 13 * 384 * 3 * 3 * 192
    assert layer_macs(paper.get_layer("conv5")) == 13 * 13 * 256 * 3 * 3 * 192


def test_single_tower_conv2_counts_all_input_channels():
    model = AlexNet(variant="single", include_top=False)
    assert layer_macs(model.get_layer("conv2")) == 27 * 27 * 256 * 5 * 5 * 96


def test_dense_macs_and_uncounted_layers(paper):
    assert layer_macs(paper.get_layer("fc6")) == 6 * 6 * 256 * 4096
    assert layer_macs(paper.get_layer("fc7")) == 4096 * 4096
    assert layer_macs(paper.get_layer("predictions")) == 4096 * 1000
    for name in ("preprocess", "lrn1", "pool1", "pool5", "flatten", "drop6"):
        assert layer_macs(paper.get_layer(name)) == 0


def test_rows_cover_every_layer(paper):
    rows = summarize(paper)
    assert [row[0] for row in rows] == [layer.name for layer in paper.layers]
    by_name = {row[0]: row for row in rows}
    assert by_name["conv1"][1] == "GroupedConv2D"
    assert by_name["conv1"][2] == (55, 55, 96)
    assert by_name["pool5"][2] == (6, 6, 256)
    assert by_name["fc6"][3] == 6 * 6 * 256 * 4096 + 4096
    assert sum(row[3] for row in rows) == paper.count_params() == 60_965_224


@pytest.mark.parametrize("which", ["paper", "small"])
def test_format_summary_totals_and_names(which, request):
    model = request.getfixturevalue(which)
    text = format_summary(model)
    rows = summarize(model)
    for layer in model.layers:
        assert layer.name in text
    params = sum(row[3] for row in rows)
    macs = sum(row[4] for row in rows)
    assert params == model.count_params()
    assert macs == sum(layer_macs(layer) for layer in model.layers) > 0
    last = text.splitlines()[-1]
    assert f"{params:,} parameters" in last
    assert f"{macs:,} multiply-adds" in last
    assert model.name in last
    if which == "paper":
        assert "60,965,224 parameters" in last
        # Each row shows its parameter count with thousands separators.
        fc6_line = next(line for line in text.splitlines() if line.startswith("fc6 "))
        assert "37,752,832" in fc6_line

"""``--precision auto`` chooses by measurement, caches per machine, and
tells why."""

import json

import pytest

from alexnet.training import precision as P


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ALEXNET_NO_BF16", raising=False)
    monkeypatch.setattr(P.backend, "has_gpu", lambda: False)
    return tmp_path / "precision.json"


@pytest.mark.parametrize("float32_s, bfloat16_s, chosen", [(0.254, 0.358, "float32"), (0.40, 0.25, "mixed_bfloat16"),
                                                         (0.30, 0.29, "float32")])
def test_auto_takes_the_faster_precision_measured_here(cache, monkeypatch, float32_s, bfloat16_s, chosen):
    calls = []

    def timed(make_model, input_shape, classes, batch_size, policy):
        calls.append(policy)
        return float32_s if policy == "float32" else bfloat16_s

    monkeypatch.setattr(P, "cpu_description", lambda: ("Test Xeon", True))
    monkeypatch.setattr(P, "_step_seconds", timed)
    policy, why = P.choose_precision("auto", None, (28, 28, 1), 10, 256, key="small")
    assert policy == chosen and calls == ["float32", "mixed_bfloat16"]
    assert "measured now" in why and f"{1000 * float32_s:.0f} ms in float32" in why
    again, why = P.choose_precision("auto", None, (28, 28, 1), 10, 256, key="small")
    assert again == chosen and len(calls) == 2 and "cached in" in why  # measured once per machine and network
    entries = json.loads(cache.read_text())
    assert len(entries) == 1 and "Test Xeon" in next(iter(entries)) and "batch 256" in next(iter(entries))
    P.choose_precision("auto", None, (28, 28, 1), 10, 128, key="small")
    assert len(calls) == 4  # another batch size is another measurement
    monkeypatch.setattr(P.backend, "version", lambda: "jax 0.0")
    P.choose_precision("auto", None, (28, 28, 1), 10, 256, key="small")
    assert len(calls) == 6  # another Keras backend, another measurement
    assert any(key.split(" | ")[3] == "jax 0.0" for key in json.loads(cache.read_text()))


def test_without_bfloat16_units_or_when_asked_nothing_is_measured(cache, monkeypatch):
    monkeypatch.setattr(P, "_step_seconds", lambda *a: pytest.fail("measured"))
    monkeypatch.setattr(P, "cpu_description", lambda: ("Old CPU", False))
    assert P.choose_precision("auto", None, (28, 28, 1), 10, 256, key="k")[0] == "float32"
    assert P.choose_precision("mixed_bfloat16", None, (28, 28, 1), 10, 256, key="k") == (
        "mixed_bfloat16", "as asked (--precision)")
    assert not cache.exists()


def test_the_probe_times_real_steps_and_restores_the_policy(cache):
    import keras

    from alexnet.model import AlexNet

    make = lambda: AlexNet(variant="small", input_shape=(28, 28, 1), classes=3)  # noqa: E731
    seconds = P._step_seconds(make, (28, 28, 1), 3, 8, "mixed_bfloat16")
    assert 0 < seconds < 60 and keras.mixed_precision.global_policy().name == "float32"


def test_the_cache_key_changes_with_the_network(monkeypatch):
    from dataclasses import replace

    from alexnet import variants
    from alexnet.config import Config
    from alexnet.training.run import _network_digest

    small = Config(variant="small")
    assert _network_digest(small) == _network_digest(Config(variant="small", out="elsewhere", seed=3))
    assert len({_network_digest(c) for c in (small, small.replace(lrn=False), small.replace(activation="tanh"),
                                              small.replace(variant="small-half"))}) == 4
    before = _network_digest(small)
    wider = replace(variants.SMALL, convs=(replace(variants.SMALL.convs[0], filters=64), *variants.SMALL.convs[1:]))
    monkeypatch.setitem(variants.VARIANTS, "small", wider)
    assert _network_digest(small) != before  # a changed definition is measured anew

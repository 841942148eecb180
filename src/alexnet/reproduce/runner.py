"""Trains the protocol's arms: one small Keras run per (arm, seed), in memory.

Every run is written to ``<out>/runs/<arm>/seed<k>.json`` when it ends (and
each learning-rate trial to ``<out>/search/<arm>/lr<lr>.json``), so an
interrupted ``reproduce`` starts again at the first run it has no file for.
The data is loaded once; a run draws its training images with its seed, so
the two arms of a comparison see the same images in the same order.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, replace

import numpy as np

from alexnet.errors import log, plural
from alexnet.reproduce import protocol as P
from alexnet.training.checkpoint import write_atomic


@dataclass
class Data:
    name: str
    train_x: np.ndarray  # uint8 images, the pool each run draws from
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    classes: int

    def prepared(self, regime: str, images: np.ndarray) -> np.ndarray:
        """``images`` as the regime feeds them: standardized with the training
        pool's mean and std, or (the paper's input, in the ``paper`` and
        ``pixels`` regimes) minus the mean image on 0-255."""
        x = images.astype("float32")
        if regime in P.PIXEL_INPUT:
            return x - self._mean_image
        return (x - self._mean) / self._std

    def __post_init__(self):
        pool = self.train_x.astype("float32")
        self._mean_image = pool.mean(axis=0)
        self._mean, self._std = float(pool.mean()), float(pool.std())


def load_data(data: str) -> Data:
    from alexnet.data.sources import load_source

    source = load_source(data, val_fraction=0.0)
    images, labels = source.train.images, source.train.labels
    if images is None:
        from alexnet.errors import UserError

        raise UserError(f"alexnet reproduce needs a dataset held in memory (fashion_mnist, cifar10), got {data}.")
    if source.val is not None and source.val.images is not None:  # a dataset with its own validation split
        val_x, val_y = source.val.images, source.val.labels
    else:
        n = min(P.VALIDATION_IMAGES, len(images) // 10)
        images, labels, val_x, val_y = images[:-n], labels[:-n], images[-n:], labels[-n:]
    name = os.path.basename(os.path.normpath(data)) if os.path.exists(data) else data
    return Data(name, images, labels, val_x, val_y, source.test.images, source.test.labels, source.num_classes)


def build_model(arm: P.Arm, input_shape, classes):
    """The arm's network: the four-layer net of Figure 1, or an alexnet
    variant with the arm's switches (and, in the paper regime, the paper's
    N(0, 0.01) weights and biases of 1 in conv2, conv4, conv5 and fc6-fc7)."""
    import alexnet
    from alexnet.variants import get_variant

    identity = dict(mean=(0.0,), std=(1.0,), scale=1.0)  # the runner prepares the input itself
    if arm.net == "figure1":
        return figure1_net(input_shape, classes, arm.activation, arm.regime)
    net = get_variant(arm.net)
    if arm.regime == "paper":
        convs = tuple(replace(c, bias_init=1.0 if i in (1, 3, 4) else 0.0) for i, c in enumerate(net.convs))
        net = replace(net, init="paper", convs=convs, fc_bias_init=1.0)
    return alexnet.AlexNet(variant=net, input_shape=input_shape, classes=classes, activation=arm.activation,
                           lrn=arm.lrn, overlapping_pooling=arm.overlapping_pooling, dropout=arm.dropout,
                           preprocessing=identity, classifier_activation=None)


def figure1_net(input_shape, classes, activation, regime):
    """The paper's Figure 1 net: three 5x5 convolutions (32, 32, 64 kernels),
    each followed by 3x3 stride-2 max pooling, and a linear classifier; no
    regularization of any kind (cuda-convnet's CIFAR-10 net of that shape)."""
    import keras

    init = keras.initializers.RandomNormal(stddev=0.01) if regime == "paper" else "glorot_uniform"
    x = inputs = keras.Input(input_shape)
    for index, filters in enumerate((32, 32, 64), start=1):
        x = keras.layers.Conv2D(filters, 5, padding="same", activation=activation, kernel_initializer=init,
                                name=f"conv{index}")(x)
        x = keras.layers.MaxPooling2D(3, 2, padding="same", name=f"pool{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(classes, kernel_initializer=init, name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"figure1_{activation}")


def errors(model, x, y):
    """Top-1 error in percent, in inference mode."""
    return top_error(model.predict(x, batch_size=1000, verbose=0), y, 1)


def top_error(logits, y, k):
    top = np.argsort(-logits, axis=1)[:, :k]
    return 100.0 * float(np.mean(~np.any(top == y[:, None], axis=1)))


def lrn_ratio(model, x):
    """lrn1's output divided by its input where the input is not tiny: a
    constant 2**-0.75 means LRN only rescales (its sum is negligible next to k)."""
    import keras

    layer = model.get_layer("lrn1")
    probe = keras.Model(model.inputs[0], [layer.input, layer.output])
    before, after = (np.asarray(keras.ops.convert_to_numpy(t)) for t in probe(x))
    mask = before > 0.01 * max(float(before.max()), 1e-12)
    ratio = after[mask] / before[mask]
    return {"min": float(ratio.min()), "median": float(np.median(ratio)), "max": float(ratio.max()),
            "input_max": float(before.max()), "constant": 2 ** -0.75}


def train_run(arm: P.Arm, data: Data, seed: int, lr: float, epochs: int | None = None, final: bool = True) -> dict:
    """One run: ``arm`` trained from ``seed`` at ``lr``; its curves and (with
    ``final``; a learning-rate trial needs only its curves) its final errors."""
    import keras

    from alexnet.training.optim import PaperSGD

    epochs = epochs or arm.epochs
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(data.train_x))[:arm.images]
    x, y = data.prepared(arm.regime, data.train_x[pick]), data.train_y[pick]
    val_x, val_y = data.prepared(arm.regime, data.val_x), data.val_y
    sample = slice(0, min(P.TRAIN_SAMPLE, len(x)))
    curve_val = slice(0, min(P.CURVE_VAL_SAMPLE, len(val_x)))
    model = build_model(arm, x.shape[1:], data.classes)
    model.compile(PaperSGD(lr, momentum=P.MOMENTUM, l2=arm.weight_decay),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    steps = math.ceil(len(x) / P.BATCH_SIZE)
    marks = sorted({max(1, round(steps * (i + 1) / arm.evals_per_epoch)) for i in range(arm.evals_per_epoch)})
    curves = {"epoch": [0.0], "train_error": [100.0 * (1 - 1 / data.classes)], "val_error": [None]}
    diverged = []

    class Curves(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if logs and not math.isfinite(float(logs.get("loss", 0.0))):
                diverged.append(self.epoch)
                self.model.stop_training = True
                return
            if batch + 1 in marks:
                curves["epoch"].append(self.epoch + (batch + 1) / steps)
                curves["train_error"].append(errors(self.model, x[sample], y[sample]))
                curves["val_error"].append(errors(self.model, val_x[curve_val], val_y[curve_val]))

    started = time.time()
    model.fit(x, y, batch_size=P.BATCH_SIZE, epochs=epochs, shuffle=True, verbose=0, callbacks=[Curves()])
    seconds = time.time() - started
    result = {"arm": arm.key, "seed": seed, "lr": lr, "epochs": epochs, "images": len(x), "seconds": seconds,
              "diverged": bool(diverged), "curves": curves, "parameters": int(model.count_params())}
    if diverged or not final:
        return result
    test_x = data.prepared(arm.regime, data.test_x)
    test_logits = model.predict(test_x, batch_size=1000, verbose=0)
    result.update(train_error=errors(model, x, y), val_error=errors(model, val_x, val_y),
                  test_error=top_error(test_logits, data.test_y, 1),
                  test_top5_error=top_error(test_logits, data.test_y, min(5, data.classes)))
    if arm.lrn and arm.net != "figure1":
        result["lrn_ratio"] = lrn_ratio(model, val_x[:200])
    return result


def cached(path, make, progress):
    """The JSON at ``path``, or ``make()`` written there (atomically) first,
    after logging ``progress``: only work actually done is announced."""
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    log(progress)
    result = make()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_atomic(path, json.dumps(result, indent=1))
    return result


def search_score(run) -> float:
    """Lower is better: the mean validation error over the search run's
    curve, so the rate that gets the error down soonest and keeps it down
    wins ("to make training as fast as possible"); a diverged run loses."""
    values = [v for v in run["curves"]["val_error"] if v is not None]
    return math.inf if run["diverged"] or not values else float(np.mean(values))


def choose_lr(arm: P.Arm, data: Data, out: str) -> dict:
    """The arm's learning rate from its grid, each tried once with the
    search seed for a share of the arm's epochs; ties go to the smaller."""
    epochs = max(1, math.ceil(arm.epochs * P.SEARCH_SHARE))
    trials = []
    for lr in arm.lr_grid:
        path = os.path.join(out, "search", arm.key, f"lr{lr:g}.json")
        run = cached(path, lambda: train_run(arm, data, P.SEARCH_SEED, lr, epochs, final=False),
                     f"reproduce: {arm.key}: learning-rate trial {lr:g} ({plural(epochs, 'epoch')})")
        trials.append({"lr": lr, "score": search_score(run)})
    best = min(trials, key=lambda t: (t["score"], t["lr"]))
    return {"lr": best["lr"], "trials": trials}


def run_arm(arm: P.Arm, data: Data, seeds, out: str, arms=None) -> dict:
    """The arm's learning rate (searched, its own or ``lr_from``'s) and one
    run per seed. ``arms``: the protocol's arms by key (``--quick`` shrinks them)."""
    arms = arms or P.ARMS
    chosen = choose_lr(arms[arm.lr_from] if arm.lr_from else arm, data, out)
    runs = []
    for seed in seeds:
        path = os.path.join(out, "runs", arm.key, f"seed{seed}.json")
        run = cached(path, lambda: train_run(arm, data, seed, chosen["lr"]),
                     f"reproduce: {arm.key} ({arm.label}), seed {seed}, lr {chosen['lr']:g}")
        if run["lr"] != chosen["lr"]:
            raise RuntimeError(f"{path} was trained at lr {run['lr']}, the search now says {chosen['lr']}: "
                               "use a new --out")
        runs.append(run)
    return {"arm": arm.describe(), "search": chosen, "runs": runs}

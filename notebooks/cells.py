"""The tutorial's code cells, shared by the English and the Chinese notebook.

Each entry of ``CELLS`` is ``("md", key)`` (a markdown cell, whose text is
``TEXT[language][key]`` in ``text_en.py`` / ``text_zh_cn.py``) or
``("code", source)``. ``build_notebooks.py`` turns them into notebooks, so
the two notebooks' code is the same by construction.
"""

SETUP = '''\
import os, time
START = time.time()

import dataclasses, json, platform
import numpy as np
import matplotlib.pyplot as plt
from IPython.display import Image, Markdown, display

# TensorFlow writes start-up notices (oneDNN, CUDA) straight to the process's stderr,
# before its log settings apply: send them to /dev/null while it loads.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
stderr = os.dup(2)
os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
import tensorflow as tf
tf.get_logger().setLevel("ERROR")     # no notices about retracing functions
import keras
import alexnet
import alexnet.layers
import alexnet.variants      # the networks as data: widths, kernel sizes, the order of the layers
os.dup2(stderr, 2)

%matplotlib inline
%config InlineBackend.figure_formats = ["png"]
plt.rcParams.update({"figure.dpi": 72, "font.size": 10})

def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()

numbers = {}  # every number the text quotes, as the cells compute it
numbers["cpu"] = f"{cpu_name()}, {os.cpu_count()} cores"
print("TensorFlow", tf.__version__, "| Keras", keras.__version__, "| alexnet", alexnet.__version__)
print("CPU:", numbers["cpu"])'''

STEP1 = '''\
v1 = tf.compat.v1

graph = tf.Graph()
with graph.as_default():                      # build the graph: nothing is computed yet
    x = v1.placeholder(tf.float32, shape=[1], name="x")
    y = x * 2
with v1.Session(graph=graph) as sess:         # run it: feed x, fetch y
    print(sess.run(y, feed_dict={x: [3.]}))'''

STEP2 = '''\
keras.utils.set_random_seed(0)
xs = np.random.uniform(-np.pi, np.pi, size=(50, 1)).astype("float32")   # 50 random points
ys = np.sin(xs)

net = keras.Sequential([keras.Input(shape=(1,)),
                        keras.layers.Dense(32, activation="tanh"),
                        keras.layers.Dense(32, activation="tanh"),
                        keras.layers.Dense(1)])
adam = keras.optimizers.Adam(learning_rate=0.01)

for step in range(64):
    with tf.GradientTape() as tape:                       # record the forward pass ...
        loss = tf.reduce_mean(tf.square(net(xs) - ys))    # mean squared error
    grads = tape.gradient(loss, net.trainable_variables)  # ... to get the gradients
    adam.apply_gradients(zip(grads, net.trainable_variables))
    if step % 8 == 0:
        print(f"step {step:2d}  loss {float(loss):.4f}")
numbers["sin_loss"] = f"{float(loss):.4f}"

grid = np.linspace(-np.pi, np.pi, 200)[:, None].astype("float32")
fig, ax = plt.subplots(figsize=(4.5, 2.6))
ax.plot(grid, np.sin(grid), color="gray", label="sin(x)")
ax.plot(grid, net(grid).numpy(), color="tab:red", label="network after 64 steps")
ax.scatter(xs, ys, s=10, color="black", label="the 50 training points")
ax.legend(fontsize=7); plt.show()'''

STEP3 = '''\
from alexnet.layers import LocalResponseNormalization

x = np.arange(60).reshape([5, 2, 2, 3])
expected = np.array([[[0, 0.2, 0.4], [0.06, 0.08, 0.1]],
                     [[0.04026846, 0.04697987, 0.05369128], [0.02980132, 0.03311258, 0.03642384]]])

with_tf = tf.nn.local_response_normalization(x.astype("float32"), depth_radius=2, bias=0, alpha=1, beta=1)
ours = LocalResponseNormalization(depth_radius=2, bias=0, alpha=1, beta=1)(x)
print(np.round(np.asarray(ours[0]), 8))
tf_error = np.abs(np.asarray(with_tf[0]) - expected).max()
our_error = np.abs(np.asarray(ours[0]) - expected).max()
print(f"largest difference from the exercise's numbers: TensorFlow's op {tf_error:.1e}, our layer {our_error:.1e}")

# By hand, the second value: channel 1 of pixel (0, 0) holds 1; its window is channels 0..2 (0, 1, 2).
print("by hand:", 1 / (0 + 1 * (0**2 + 1**2 + 2**2)) ** 1)'''

STEP4 = '''\
logits = np.array([[2.0, 1.0, 0.1],          # the network's raw scores for 3 classes, 2 images
                   [0.5, 2.5, 0.3]])
labels = np.array([[1.0, 0.0, 0.0],          # one-hot: the first image is class 0,
                   [0.0, 0.0, 1.0]])         # the second is class 2
loss = tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)
print("tf.nn.softmax_cross_entropy_with_logits:", loss.numpy())

probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)   # softmax
print("-log(probability of the true class):    ", -np.log((probabilities * labels).sum(axis=1)))'''

DATA = '''\
from alexnet.data.sources import load_fashion_mnist

source = load_fashion_mnist()          # Debian's dataset-fashion-mnist, or Keras' download
names = source.class_names
images, labels = source.train.images.astype("float32"), source.train.labels   # 60,000 x 28 x 28 x 1, pixels 0-255
x_test, y_test = source.test.images.astype("float32"), source.test.labels
x_val, y_val = images[-1000:], labels[-1000:]     # held out: never trained on
mean, std = float(images[:-1000].mean()), float(images[:-1000].std())
print(f"{len(images):,} training and {len(x_test):,} test images of {images.shape[1:]}; "
      f"pixel mean {mean:.1f}, std {std:.1f}")

fig, axes = plt.subplots(1, 10, figsize=(10, 1.5))
for k, ax in enumerate(axes):
    ax.imshow(images[np.argmax(labels == k), ..., 0], cmap="gray"); ax.set_title(names[k], fontsize=8); ax.axis("off")
plt.show()'''

TF1_MODEL = '''\
def initializer(net):
    """The variant's initialization: the paper's N(0, 0.01), or Glorot-uniform (small)."""
    return v1.random_normal_initializer(stddev=0.01) if net.init == "paper" else v1.glorot_uniform_initializer()

def conv(x, name, step, net):
    """Conv2D + ReLU: step.filters kernels of step.kernel x step.kernel x (input channels / groups).
    With groups=2 (the paper's two GPUs) each half of the kernels sees only its own half of the maps."""
    with v1.variable_scope(name):
        kernel = v1.get_variable("kernel", [step.kernel, step.kernel, x.shape[-1] // step.groups, step.filters],
                                 initializer=initializer(net))
        bias = v1.get_variable("bias", [step.filters], initializer=v1.constant_initializer(step.bias_init))
        towers = zip(tf.split(x, step.groups, axis=-1), tf.split(kernel, step.groups, axis=-1))
        y = tf.concat([tf.nn.conv2d(maps, k, [1, step.stride, step.stride, 1], step.padding.upper())
                       for maps, k in towers], axis=-1)
        return tf.nn.relu(y + bias)

def dense(x, name, units, net, bias_init=0.0, activation=tf.nn.relu):
    """Dense: x @ kernel + bias, then the activation (none for the logits)."""
    with v1.variable_scope(name):
        kernel = v1.get_variable("kernel", [x.shape[-1], units], initializer=initializer(net))
        bias = v1.get_variable("bias", [units], initializer=v1.constant_initializer(bias_init))
        y = tf.matmul(x, kernel) + bias
        return y if activation is None else activation(y)

def lrn(x):      # the paper's k=2, n=5, alpha=1e-4, beta=0.75, in TensorFlow's convention
    return tf.nn.local_response_normalization(x, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75)

def alexnet_tf1(images, keep_prob, net, classes, preprocessing):
    """The network `net` (an alexnet.variants.Variant) as TF1 operations, one step of
    alexnet.variants.layer_plan at a time: the same list of layers alexnet.AlexNet builds from.
    Returns the logits and each step's output shape."""
    V = alexnet.variants
    x = (images * preprocessing.get("scale", 1.0) - preprocessing["mean"]) / preprocessing["std"]
    shapes = {}
    for name, step in V.layer_plan(net, classes=classes):
        if isinstance(step, V.Conv):
            x = conv(x, name, step, net)
        elif isinstance(step, V.LRN):
            x = lrn(x)
        elif isinstance(step, V.MaxPool):       # 3x3 windows at stride 2: overlapping pooling
            x = tf.nn.max_pool2d(x, ksize=step.size, strides=step.stride, padding=step.padding.upper())
        elif isinstance(step, V.Flatten):
            x = tf.reshape(x, [-1, x.shape[1] * x.shape[2] * x.shape[3]])
        elif isinstance(step, V.FC):
            x = dense(x, name, step.units, net, step.bias_init)
        elif isinstance(step, V.Dropout):       # keep_prob: 0.5 while training, 1.0 when testing
            x = tf.nn.dropout(x, rate=1 - keep_prob)
        elif isinstance(step, V.Predictions):   # logits: the softmax is in the loss
            x = dense(x, name, step.units, net, activation=None)
        else:
            raise TypeError(f"{name}: {step}")
        shapes[name] = tuple(x.shape[1:])
    return x, shapes

def tf1_graph(net, input_shape, classes, preprocessing, train=False):
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(0)
        images = v1.placeholder(tf.float32, [None, *input_shape], name="batchImgInput")
        labels = v1.placeholder(tf.float32, [None, classes], name="Labels")
        keep_prob = v1.placeholder_with_default(1.0, [], name="dropout_keep_prob")
        logits, shapes = alexnet_tf1(images, keep_prob, net, classes, preprocessing)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        train_op = v1.train.MomentumOptimizer(0.01, momentum=0.9).minimize(loss) if train else None
        init = v1.global_variables_initializer()
        params = sum(int(np.prod(v.shape)) for v in v1.trainable_variables())
    return dict(graph=graph, images=images, labels=labels, keep_prob=keep_prob, logits=logits, loss=loss,
                train_op=train_op, init=init, params=params, shapes=shapes)

SMALL = alexnet.variants.SMALL          # the widths, kernels and order below come from here
widths = lambda net: "/".join(str(c.filters) for c in net.convs)
numbers["small_widths"], numbers["paper_widths"] = widths(SMALL), widths(alexnet.variants.PAPER)
numbers["small_fc"], numbers["paper_fc"] = f"{SMALL.fc_units[0]:,}", f"{alexnet.variants.PAPER.fc_units[0]:,}"
numbers["small_conv1"] = f"{SMALL.convs[0].kernel}x{SMALL.convs[0].kernel}"
print("small: ", [name for name, _ in alexnet.variants.layer_plan(SMALL)])
print("paper: ", [name for name, _ in alexnet.variants.layer_plan(alexnet.variants.PAPER)])'''

TF1_COUNT = '''\
NETS = [("single", (227, 227, 3), 1000, alexnet.variants.SINGLE.preprocessing),   # the paper's widths, one tower
        ("paper", (227, 227, 3), 1000, alexnet.variants.PAPER.preprocessing),     # two towers
        ("small", (28, 28, 1), 10, dict(mean=(mean,), std=(std,), scale=1.0))]    # for 28x28 images
KERAS = {}
for variant, shape, classes, preprocessing in NETS:
    tf1 = tf1_graph(alexnet.variants.get_variant(variant), shape, classes, preprocessing)
    keras.utils.set_random_seed(0)
    KERAS[variant] = alexnet.AlexNet(variant=variant, input_shape=shape, classes=classes, preprocessing=preprocessing)
    keras_params = KERAS[variant].count_params()
    keras_shapes = {name: tuple(KERAS[variant].get_layer(name).output.shape[1:]) for name in tf1["shapes"]}
    print(f"{variant:6s} {shape}, {classes} classes: TF1 graph {tf1['params']:>10,} parameters, "
          f"alexnet.AlexNet(variant={variant!r}) {keras_params:>10,}; logits {tf1['logits'].shape}")
    assert tf1["params"] == keras_params, "the TF1 graph and the Keras model differ"
    assert tf1["shapes"] == keras_shapes, "a layer's output shape differs"
    numbers[f"params_{variant}"] = f"{keras_params:,}"
print("the same parameters and the same output shape at every layer, for all three")'''

PAPER_TABLE = '''\
paper = KERAS["paper"]      # alexnet.AlexNet(): 227x227x3 images, 1000 classes, two towers
total = paper.count_params()
print(f"{'layer':12s} {'output shape':>16s} {'parameters':>12s} {'share':>7s}")
for layer in paper.layers[1:]:           # [0] is the input
    shape = "x".join(str(d) for d in layer.output.shape[1:])
    params = layer.count_params()
    print(f"{layer.name:12s} {shape:>16s} {params:>12,} {100 * params / total:6.1f}%")
print(f"{'total':12s} {'':>16s} {total:>12,}")

convs = sum(paper.get_layer(f"conv{i}").count_params() for i in range(1, 6))
fc6 = paper.get_layer("fc6").count_params()
assert total == 60_965_224 and fc6 == 37_752_832           # the numbers the text quotes
assert tuple(paper.get_layer("conv1").output.shape[1:]) == (55, 55, 96)
assert tuple(paper.get_layer("pool5").output.shape[1:]) == (6, 6, 256)
numbers["params_fc6"], numbers["fc6_share"] = f"{fc6:,}", f"{100 * fc6 / total:.0f}"
numbers["params_convs"], numbers["convs_share"] = f"{convs:,}", f"{100 * convs / total:.0f}"
numbers["flatten"] = f"{paper.get_layer('flatten').output.shape[-1]:,}"
del KERAS, paper        # 2 x 60 million weights: free the memory'''

TF1_TRAIN = '''\
tf1 = tf1_graph(SMALL, (28, 28, 1), 10, dict(mean=(mean,), std=(std,)), train=True)
one_hot = np.eye(10, dtype="float32")
rng = np.random.default_rng(0)
with v1.Session(graph=tf1["graph"]) as sess:
    sess.run(tf1["init"])
    for step in range(1, 61):
        batch = rng.integers(0, len(images) - 1000, 64)
        _, value = sess.run([tf1["train_op"], tf1["loss"]],
                            feed_dict={tf1["images"]: images[batch], tf1["labels"]: one_hot[labels[batch]],
                                       tf1["keep_prob"]: 0.5})
        if step % 15 == 0:
            print(f"step {step}  loss {value:.3f}")
    predicted = sess.run(tf1["logits"], feed_dict={tf1["images"]: x_val}).argmax(1)   # keep_prob defaults to 1.0
accuracy = 100 * (predicted == y_val).mean()
numbers["tf1_val"] = f"{accuracy:.1f}"
print(f"validation accuracy after 60 steps: {numbers['tf1_val']}% (guessing: 10%)")
assert accuracy > 10, "no better than guessing"'''

KERAS_MODEL = '''\
model = alexnet.AlexNet(variant="small", input_shape=(28, 28, 1), classes=10)
model.summary(line_length=90)'''

HELPERS = '''\
RUN_IMAGES, RUN_EPOCHS = 3000, 2          # each illustration: 3,000 images, 2 epochs
x_small, y_small = images[:RUN_IMAGES], labels[:RUN_IMAGES]
numbers["run_images"], numbers["run_epochs"] = f"{RUN_IMAGES:,}", RUN_EPOCHS
LR = 0.03      # the paper's 0.01 barely gets this net started in 2 epochs
numbers["lr"] = LR
TIMES = {}

class BatchErrors(keras.callbacks.Callback):
    """The training error of each batch, as training sees it (dropout on).
    Keras reports the running mean over the epoch; undone here."""
    def on_train_begin(self, logs=None):
        self.errors = []
    def on_epoch_begin(self, epoch, logs=None):
        self.mean = 0.0
    def on_train_batch_end(self, batch, logs=None):
        accuracy = (batch + 1) * logs["accuracy"] - batch * self.mean    # this batch's own accuracy
        self.mean = logs["accuracy"]
        self.errors.append(1 - accuracy)

def error(model, x, y):
    """Error (%) of `model` on x, y in inference mode (dropout off), as the net is used."""
    return 100 * float((model.predict(x, batch_size=500, verbose=0).argmax(1) != y).mean())

def train(name, x=None, y=None, epochs=RUN_EPOCHS, lr=LR, seed=0, callbacks=(), **switches):
    """Builds alexnet.AlexNet(variant="small", **switches), standardizing the pixels with the
    dataset's mean and std, and trains it with SGD, momentum 0.9, batches of 64.
    Prints and keeps its validation error (inference mode)."""
    x = x_small if x is None else x
    y = y_small if y is None else y
    keras.utils.set_random_seed(seed)
    model = alexnet.AlexNet(variant=switches.pop("variant", "small"), input_shape=(28, 28, 1), classes=10,
                            preprocessing=dict(mean=(mean,), std=(std,)), **switches)
    model.compile(keras.optimizers.SGD(lr, momentum=0.9), "sparse_categorical_crossentropy", metrics=["accuracy"])
    batches = BatchErrors()
    started = time.time()
    model.fit(x, y, batch_size=64, epochs=epochs, callbacks=[batches, *callbacks], verbose=0)
    TIMES[name] = time.time() - started
    model.batch_errors = np.array(batches.errors)
    model.val_error = error(model, x_val, y_val)
    print(f"{name:34s} validation error {model.val_error:5.1f}%  ({TIMES[name]:.0f} s)")
    return model

def smooth(values, width=10):
    return np.convolve(values, np.ones(width) / width, mode="valid")'''

REPRODUCTION = '''\
SHORT = {"relu-vs-tanh": "relu", "lrn": "lrn", "overlapping-pooling": "pool", "two-tower": "towers",
         "dropout": "dropout"}      # the experiments of `alexnet reproduce all`, and their names in `numbers`
# Where the full reproduction's results are: $ALEXNET_REPRODUCTION_SUMMARY, else docs/reproduction/
# of this repository (seen from notebooks/, or from the installed package's source folder).
DOCS = [os.path.join("..", "docs", "reproduction"),
        os.path.normpath(os.path.join(os.path.dirname(alexnet.__file__), "..", "..", "docs", "reproduction"))]
chosen = os.environ.get("ALEXNET_REPRODUCTION_SUMMARY")
candidates = [chosen] if chosen else [os.path.join(d, "summary.json") for d in DOCS]
SUMMARY_PATH = next((os.path.normpath(p) for p in candidates if os.path.isfile(p)), None)
if SUMMARY_PATH is None:
    REPRO = None
    print("NOT FOUND: the full reproduction's summary.json (looked for " + " and ".join(candidates) + "). "
          "Make it with `alexnet reproduce all --out OUT` and copy OUT/summary.json and its figures to "
          "docs/reproduction/, or set ALEXNET_REPRODUCTION_SUMMARY to its path. "
          "The sections below say so instead of quoting it.")
else:
    with open(SUMMARY_PATH, encoding="utf-8") as f:
        REPRO = json.load(f)
    if REPRO.get("fake"):
        print("WARNING: this summary is marked fake (made for developing the notebook): its numbers mean nothing")
    if REPRO.get("quick"):
        print("WARNING: this summary comes from `alexnet reproduce --quick`, a smoke test: its numbers mean nothing")

def value(v, unit="x", signed=False):
    """A number of the summary as text: n/a for a missing one (a diverged run, a single seed's interval)."""
    if v is None:
        return "n/a"
    if not np.isfinite(float(v)):
        return "inf"
    return f"{float(v):+.2f}" if signed and unit != "x" else f"{float(v):.2f}"

def settings(experiment):
    """(name, setting) pairs: the main comparison, then the secondary ones, each with its unit, its
    measure, its regime (the paper's, 0-255 pixels minus the mean with N(0, 0.01) weights; pixels,
    the paper's input with Glorot weights; or the standardized one) and what its effect measures (speed, test error or the overfitting gap)."""
    for name, setting in [("main", experiment), *experiment.get("secondary", {}).items()]:
        setting = {"unit": experiment.get("unit", "points"), "measure": experiment.get("measure", ""), **setting}
        words = f"{name} {setting.get('setting', '')} {setting.get('idea', '')}".lower()
        setting["regime"] = ("pixels" if "pixels" in words else "paper" if "paper" in words else
                             "standardized")
        measure = setting["measure"].lower()
        setting["what"] = ("speed" if setting["unit"] == "x" else
                           "gap" if "validation" in measure and "training" in measure else "error")
        yield name, setting

def interval_of(setting):
    effect = setting.get("effect") or {}
    return effect.get("ci95")

def check(name, setting):
    """The verdict must agree with the 95% interval: 'shown' needs all of it on the paper's side
    (a ratio above 1, an error difference below 0), 'opposite' all of it on the other side, and
    without an interval (no runs, or one seed) nothing is shown."""
    verdict, interval = setting["verdict"], interval_of(setting)
    assert verdict in ("shown", "not shown", "opposite"), f"{name}: unknown verdict {verdict!r}"
    if interval is None:
        assert verdict == "not shown", f"{name}: {verdict!r} without an interval"
        return
    low, high = (float(v) for v in interval)
    helps = (lambda v: v > 1) if setting["unit"] == "x" else (lambda v: v < 0)
    hurts = (lambda v: v < 1) if setting["unit"] == "x" else (lambda v: v > 0)
    if verdict == "shown":
        assert helps(low) and helps(high), f"{name}: 'shown', but the interval is [{low}, {high}]"
    if verdict == "opposite":
        assert hurts(low) and hurts(high), f"{name}: 'opposite', but the interval is [{low}, {high}]"

def effect_text(setting):
    effect, unit, interval = setting.get("effect") or {}, setting["unit"], interval_of(setting) or (None, None)
    size = value(effect.get("mean"), unit, True) + ("x" if unit == "x" else " points")
    return f"{size} ({value(interval[0], unit, True)} to {value(interval[1], unit, True)})"

rows = ["| experiment | setting | the paper | our effect (95% interval) | verdict |", "|---|---|---|---|---|"]
for key, short in SHORT.items():
    experiment = (REPRO or {}).get("experiments", {}).get(key)
    for suffix in ("", "_2"):
        numbers[f"repro_{short}{suffix}"] = numbers[f"repro_{short}{suffix}_regime"] = "missing"
        numbers[f"repro_{short}{suffix}_what"] = "missing"
    if experiment is None:
        rows.append(f"| {key} | | | not measured | |")
        continue
    for index, (name, setting) in enumerate(settings(experiment)):
        check(f"{key} ({name})", setting)
        effect, unit, interval = setting.get("effect") or {}, setting["unit"], interval_of(setting) or (None, None)
        if index <= 1:                      # the prose quotes the main setting and the first secondary one
            n = f"repro_{short}{'_2' if index else ''}"
            numbers[n], numbers[f"{n}_regime"], numbers[f"{n}_what"] = (
                setting["verdict"], setting["regime"], setting["what"])
            numbers[f"{n}_effect"] = value(effect.get("mean"), unit, signed=True)
            numbers[f"{n}_low"], numbers[f"{n}_high"] = (value(v, unit, signed=True) for v in interval)
        rows.append(f"| {key} | {setting.get('setting', name)} | {experiment.get('paper', '') if index == 0 else ''} "
                    f"| {effect_text(setting)} | **{setting['verdict']}** |")
if REPRO:
    seeds = {len(e.get("seeds", REPRO.get("seeds", []))) for e in REPRO["experiments"].values()}
    numbers["repro_seeds"] = "/".join(str(s) for s in sorted(seeds))
    numbers["repro_minutes"] = f"{REPRO.get('train_seconds', float('nan')) / 60:.0f}"  # all runs, not one invocation
    numbers["repro_data"], numbers["repro_cpu"] = REPRO.get("data", "?"), REPRO.get("cpu", "?")
    print(f"{SUMMARY_PATH}: {numbers['repro_seeds']} seeds per arm, {REPRO.get('data')}, "
          f"{numbers['repro_minutes']} minutes of training on {REPRO.get('cpu')}")
    display(Markdown("\\n".join(rows)))
numbers["repro"] = "found" if REPRO else "missing"

def figure_path(name):
    """A figure named by the summary: beside summary.json, else in the repository's docs/reproduction/."""
    folders = [os.path.dirname(SUMMARY_PATH)] + DOCS if SUMMARY_PATH else DOCS
    return next((os.path.join(d, name) for d in folders if name and os.path.isfile(os.path.join(d, name))), None)

def show_reproduction(key):
    """Prints one experiment of the full reproduction (each arm's learning rate and measure per seed,
    the paired effects, the 95% interval of their mean, the verdict) and shows its figure."""
    experiment = (REPRO or {}).get("experiments", {}).get(key)
    if experiment is None:
        print(f"{key}: no result (the reproduction summary was not found, or lacks this experiment)")
        return
    print(f"{experiment.get('title', key)}\\nThe paper: {experiment.get('claim', '')} ({experiment.get('paper', '')})")
    for name, setting in settings(experiment):
        unit, effect = setting["unit"], setting.get("effect") or {}
        print(f"\\n[{setting.get('setting', name)}]\\n{setting['measure']}")
        for arm in setting.get("arms", {}).values():
            lr = f", lr {arm['lr']}" if "lr" in arm else ""
            print(f"   {arm.get('label', '?')}{lr}\\n   {'':8s}per seed " + ", ".join(value(v) for v in arm.get("values", []))
                  + f"; mean {value(arm.get('mean'))}")
            ratio = arm.get("lrn_ratio")
            if ratio:
                print(f"   {'':8s}lrn1 output / input: min {ratio['min']:.4f}, median {ratio['median']:.4f}, "
                      f"max {ratio['max']:.4f}; largest input {ratio['input_max']:.3g}")
        censored = setting.get("censored")
        if censored:
            print(f"   runs that never reached the threshold (counted at the budget): {censored.get('idea')} "
                  f"with the idea, {censored.get('control')} without")
        print(f"   effect per seed: " + ", ".join(value(v, unit, True) for v in effect.get("per_seed", []))
              + f"\\n   effect: {effect_text(setting)}  ->  {setting['verdict']}")
    path = figure_path(experiment.get("figure"))
    if path:
        display(Image(filename=path))          # shown at its own size, or the page's width if narrower
    else:
        print(f"(figure {experiment.get('figure')!r} not found)")'''

RELU = '''\
relu = train("ReLU (the baseline)")
tanh = train("tanh", activation="tanh")
seed1 = train("ReLU again, random seed 1", seed=1)
numbers["seed_noise"] = f"{abs(seed1.val_error - relu.val_error):.1f}"
numbers["base_val"], numbers["seed1_val"] = f"{relu.val_error:.1f}", f"{seed1.val_error:.1f}"
print(f"the same network, two random seeds: {numbers['seed_noise']} points of validation error apart")

TARGET = 0.30   # a training error both may reach in 2 epochs (the paper used 25% on CIFAR-10)
numbers["target"] = f"{100 * TARGET:.0f}"
steps_per_epoch = len(relu.batch_errors) / RUN_EPOCHS

def epochs_to(errors, target=TARGET):
    below = np.nonzero(smooth(errors) <= target)[0]
    return (below[0] + 10) / steps_per_epoch if len(below) else None

for name, model in [("relu", relu), ("tanh", tanh)]:
    reached = epochs_to(model.batch_errors)
    numbers[f"{name}_epochs"] = "-" if reached is None else f"{reached:.2f}"
    numbers[f"{name}_val"] = f"{model.val_error:.1f}"
    print(f"{name}: {100 * TARGET:.0f}% training error (mean of 10 batches) reached at epoch {numbers[name + '_epochs']}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.4), gridspec_kw={"width_ratios": [1, 1.6]})
t = np.linspace(-3, 3, 200)
ax1.plot(t, np.maximum(t, 0), color="tab:blue", label="ReLU")
ax1.plot(t, np.tanh(t), color="tab:orange", label="tanh")
ax1.plot(t, t > 0, ":", color="tab:blue", label="slope of ReLU")
ax1.plot(t, 1 - np.tanh(t) ** 2, ":", color="tab:orange", label="slope of tanh")
ax1.set_xlabel("the unit's input"); ax1.set_ylabel("output, slope")
ax1.set_title("the two activations and their slopes"); ax1.legend(fontsize=8)
for model, label, style in [(relu, "ReLU", "-"), (tanh, "tanh", "--")]:
    errors = smooth(model.batch_errors)
    ax2.plot((np.arange(len(errors)) + 10) / steps_per_epoch, 100 * errors, style, label=label)
ax2.axhline(100 * TARGET, color="gray", lw=0.8)
ax2.set_xlabel("epochs"); ax2.set_ylabel("training error (%), dropout on,\\nmean of 10 batches")
ax2.set_title("one seed, an illustration: ReLU solid, tanh dashed"); ax2.legend(); plt.show()'''

RELU_FULL = '''\
show_reproduction("relu-vs-tanh")'''

TOWERS = '''\
towers = train("two towers (small-2tower)", variant="small-2tower")
gpu1 = train("one GPU (small-1gpu)", variant="small-1gpu")
numbers["towers_val"], numbers["gpu1_val"] = f"{towers.val_error:.1f}", f"{gpu1.val_error:.1f}"
numbers["towers_params"], numbers["gpu1_params"] = f"{towers.count_params():,}", f"{gpu1.count_params():,}"
print(f"parameters: two towers {towers.count_params():,}, one GPU {gpu1.count_params():,}")

filters = lambda m: [m.get_layer(f"conv{i}").filters for i in range(1, 6)]
units = lambda m: [m.get_layer(f"fc{i}").units for i in (6, 7)]
numbers["towers_widths"], numbers["gpu1_widths"] = (
    "/".join(map(str, filters(m))) for m in (towers, gpu1))
print("conv widths: two towers", filters(towers), "one GPU", filters(gpu1), "; fc6, fc7:", units(gpu1))
# The paper's one-GPU net: half the kernels in conv1-conv4, conv5 and the dense layers at full width.
assert filters(gpu1)[:4] == [f // 2 for f in filters(towers)[:4]] and filters(gpu1)[4] == filters(towers)[4]
assert units(gpu1) == units(towers)

conv1, conv2 = towers.get_layer("conv1"), towers.get_layer("conv2")
split = conv1.filters // conv2.groups          # the maps each tower of conv2 sees
assert conv2.kernel.shape[2] == split, "conv2's kernels see another number of maps"
numbers["conv1_filters"], numbers["tower_split"], numbers["groups"] = conv1.filters, split, conv2.groups
print(f"conv2 of the two-tower net: {conv2.groups} groups; kernel {tuple(conv2.kernel.shape)}: "
      f"each kernel sees {split} of conv1's {conv1.filters} maps")

def show_kernels(rows, titles, suptitle, inches=0.75):
    """Each row of kernels (count, h, w) drawn as a row of small pictures, each scaled to its own range."""
    columns = max(len(r) for r in rows)
    fig, axes = plt.subplots(len(rows), columns, squeeze=False,
                             figsize=(columns * inches + 1.5, len(rows) * (inches + 0.25) + 0.5))
    for r, (kernels, title) in enumerate(zip(rows, titles)):
        axes[r, 0].set_ylabel(title, rotation=0, ha="right", va="center")
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([]); ax.set_yticks([])
            if c < len(kernels):
                k = kernels[c]
                ax.imshow((k - k.min()) / (np.ptp(k) + 1e-8), cmap="gray", interpolation="nearest")
            else:
                ax.axis("off")
    fig.suptitle(suptitle); plt.show()

kernels = np.transpose(conv1.get_weights()[0][..., 0, :], (2, 0, 1))     # (32, 5, 5)
show_kernels([kernels[:split], kernels[split:]],
             [f"tower 1\\n(kernels 1-{split})", f"tower 2\\n(kernels {split + 1}-{conv1.filters})"],
             f"the {conv1.filters} conv1 kernels of the two-tower net: the maps of each row feed one tower of conv2")'''

TOWERS_FULL = '''\
show_reproduction("two-tower")'''

LRN = '''\
no_lrn = train("without LRN", lrn=False)
numbers["no_lrn_val"] = f"{no_lrn.val_error:.1f}"
numbers["lrn_effect"] = f"{relu.val_error - no_lrn.val_error:+.1f}"
print(f"with LRN minus without: {numbers['lrn_effect']} points of validation error; "
      f"two seeds of the same net: {numbers['seed_noise']} points apart")'''

LRN_PROBE = '''\
def lrn_ratio(model, name="lrn1"):
    """lrn1's output divided by its input (pool1's output), where the input is not ~0; and the input."""
    probe = keras.Model(model.inputs[0], [model.get_layer(name).input, model.get_layer(name).output])
    before, after = (np.asarray(t) for t in probe(x_val[:200]))
    active = before > 0.01
    return after[active] / before[active], before[active]

keras.utils.set_random_seed(0)
REGIMES = {
    "standardized": ("pixels standardized, Glorot weights, fresh",
                     alexnet.AlexNet(variant="small", input_shape=(28, 28, 1), classes=10,
                                     preprocessing=dict(mean=(mean,), std=(std,)))),
    "trained": ("pixels standardized, Glorot weights, trained (the ReLU net of experiment 1)", relu),
    "paper": ("the paper's: pixels minus their mean, N(0, 0.01) weights, fresh",
              alexnet.AlexNet(variant=dataclasses.replace(alexnet.variants.SMALL, init="paper"),
                              input_shape=(28, 28, 1), classes=10,
                              preprocessing=dict(mean=(mean,), std=(1.0,), scale=1.0))),
}
print(f"{'':78s} {'lrn1 input':>10s}   output / input")
print(f"{'':78s} {'99th pct':>10s}   {'min':>6s} {'median':>6s} {'max':>6s}")
for key, (label, model) in REGIMES.items():
    ratio, before = lrn_ratio(model)
    low, median, high = np.min(ratio), np.median(ratio), np.max(ratio)
    print(f"{label:78s} {np.percentile(before, 99):10.2f}   {low:.4f} {median:.4f} {high:.4f}")
    numbers[f"lrn_{key}_low"], numbers[f"lrn_{key}_median"], numbers[f"lrn_{key}_high"] = (
        f"{low:.4f}", f"{median:.4f}", f"{high:.4f}")
    numbers[f"lrn_{key}_input"] = f"{np.percentile(before, 99):.1f}"
    numbers[f"lrn_{key}_damping"] = f"{100 * (1 - low / high):.{1 if key == 'paper' else 2}f}"
    REGIMES[key] = (low, high)
print(f"2 ** -0.75 = {2 ** -0.75:.4f}: the ratio when the sum of squares is negligible next to k = 2")
# The text's claims: standardized, LRN is a constant scale to 3 decimals; in the paper's regime the
# ratio varies at least 10 times as much.
for key in ("standardized", "trained"):
    assert abs(REGIMES[key][0] - 2 ** -0.75) < 1e-3 and abs(REGIMES[key][1] - 2 ** -0.75) < 1e-3
spread = lambda key: REGIMES[key][1] - REGIMES[key][0]
assert spread("paper") > 10 * max(spread("standardized"), spread("trained"))'''

LRN_FULL = '''\
show_reproduction("lrn")
# A net within a point of chance (90% error on 10 classes) learned nothing: an effect made of such runs
# says whether the net trains at all, not how well a trained one generalizes. summary.json counts
# them per arm (`at_chance`, by alexnet.reproduce.analysis.at_chance, the rule its verdicts use).
lrn_main, stuck, stuck_with = (REPRO or {}).get("experiments", {}).get("lrn"), 0, 0
if lrn_main:
    with_lrn, without = (lrn_main["arms"][lrn_main[k]] for k in ("idea", "control"))
    stuck, stuck_with = without["at_chance"], with_lrn["at_chance"]
    print(f"networks at chance in the main setting: {stuck} of {len(without['values'])} without LRN, "
          f"{stuck_with} of {len(with_lrn['values'])} with it")
numbers["repro_lrn_stuck_count"], numbers["repro_lrn_stuck_with"] = stuck, stuck_with
numbers["repro_lrn_stuck"] = "none" if not stuck else "without" if not stuck_with else "both"'''

POOLING = '''\
no_overlap = train("2x2 pooling, stride 2", overlapping_pooling=False)
numbers["pool_val"] = f"{no_overlap.val_error:.1f}"
numbers["pool_effect"] = f"{relu.val_error - no_overlap.val_error:+.1f}"
print(f"3x3 minus 2x2 pooling: {numbers['pool_effect']} points of validation error "
      f"(two seeds of the same net: {numbers['seed_noise']} points apart)")
shapes = {}
for overlapping in (True, False):
    pool5 = alexnet.AlexNet(variant="small", overlapping_pooling=overlapping).get_layer("pool5")
    shapes[overlapping] = tuple(pool5.output.shape[1:])
    print(f"pool5's output with {'3x3' if overlapping else '2x2'} pooling: {shapes[overlapping]}")
assert shapes[True] == shapes[False]'''

POOL_FULL = '''\
show_reproduction("overlapping-pooling")'''

DROPOUT = '''\
FEW, FEW_EPOCHS = 300, 30           # few images, many epochs: room to memorize them
x_few, y_few = images[:FEW], labels[:FEW]
numbers["few"], numbers["few_epochs"] = f"{FEW:,}", FEW_EPOCHS

class Errors(keras.callbacks.Callback):
    """Every 5 epochs: the error on the training images and on the validation images,
    both in inference mode (dropout off), as the net is used."""
    def on_train_begin(self, logs=None):
        self.epochs, self.train, self.val = [], [], []
    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % 5 == 0:
            self.epochs.append(epoch + 1)
            self.train.append(error(self.model, x_few, y_few))
            self.val.append(error(self.model, x_val, y_val))

fig, ax = plt.subplots(figsize=(7, 3.6))
for rate, colour in [(0.0, "tab:red"), (0.5, "tab:blue")]:
    keras.utils.set_random_seed(0)
    model = alexnet.AlexNet(variant="small", input_shape=(28, 28, 1), classes=10, dropout=rate,
                            preprocessing=dict(mean=(mean,), std=(std,)))
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    curves, started = Errors(), time.time()
    model.fit(x_few, y_few, batch_size=32, epochs=FEW_EPOCHS, callbacks=[curves], verbose=0)
    TIMES[f"dropout {rate}"] = time.time() - started
    ax.plot(curves.epochs, curves.train, "o-", color=colour, label=f"dropout {rate}: training images")
    ax.plot(curves.epochs, curves.val, "o--", color=colour, label=f"dropout {rate}: validation images")
    key = "drop" if rate else "nodrop"
    numbers[f"{key}_train"], numbers[f"{key}_val"] = f"{curves.train[-1]:.1f}", f"{curves.val[-1]:.1f}"
    numbers[f"{key}_gap"] = f"{curves.val[-1] - curves.train[-1]:.1f}"
    print(f"dropout {rate}: error on its {FEW} training images {curves.train[-1]:.1f}%, on the validation "
          f"images {curves.val[-1]:.1f}% (both with dropout off)  ({TIMES[f'dropout {rate}']:.0f} s)")
ax.set_xlabel(f"epoch ({FEW:,} training images)"); ax.set_ylabel("error (%), dropout off")
ax.set_ylim(bottom=0); ax.legend(fontsize=8); plt.show()
# The text's claim: without dropout the net memorizes its images and does far worse on new ones.
assert float(numbers["nodrop_train"]) <= 5 and float(numbers["nodrop_gap"]) >= 10'''

DROPOUT_SCALING = '''\
p = 0.5                                        # the probability of dropping a unit
a = np.array([0.2, 1.0, 3.0, 0.5])             # four units' activations (fc6's outputs, say)
keep = np.random.default_rng(0).random((100_000, a.size)) >= p   # 100,000 training steps' masks

paper_train = (a * keep).mean(0)               # the paper: drop while training ...
paper_test = a * (1 - p)                       # ... and multiply by 0.5 at test time
inverted_train = (a * keep / (1 - p)).mean(0)  # inverted dropout: drop and divide by 1 - p while training ...
inverted_test = a                              # ... and leave the activations alone at test time

layer = keras.layers.Dropout(p, seed=0)        # Keras' layer is inverted dropout
keras_train = np.asarray(layer(np.tile(a, (20_000, 1)).astype("float32"), training=True)).mean(0)
keras_test = np.asarray(layer(a[None].astype("float32"), training=False))[0]

print(f"{'':34s}{'mean while training':>30s}   {'at test time':>24s}")
for name, train_mean, test in [("the paper (x0.5 at test time)", paper_train, paper_test),
                               ("inverted (/(1-p) while training)", inverted_train, inverted_test),
                               ("keras.layers.Dropout(0.5)", keras_train, keras_test)]:
    print(f"{name:34s}{np.array2string(train_mean, precision=3):>30s}   {np.array2string(test, precision=3):>24s}")
for train_mean, test in [(paper_train, paper_test), (inverted_train, inverted_test), (keras_train, keras_test)]:
    assert np.allclose(train_mean, test, rtol=0.03)   # the expected activation is the same at training and test
assert np.allclose(inverted_test, paper_test / (1 - p))  # the two differ by a constant factor 1/(1-p)
numbers["keep_scale"] = f"{1 / (1 - p):g}"'''

DROPOUT_FULL = '''\
show_reproduction("dropout")'''

AUGMENT = '''\
import matplotlib.cbook
from alexnet.data import pipeline

path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)   # a photo shipped with matplotlib
photo = pipeline.decode_image(tf.io.read_file(path))
square = pipeline.center_crop(pipeline.resize_shorter_side(photo, 256), 256)     # the paper's 256x256 image
keras.utils.set_random_seed(0)
crops = [pipeline.random_flip(pipeline.random_crop(square, 224)) for _ in range(3)]
eigenvalues, eigenvectors = pipeline.pca_of_pixels([np.asarray(square)])         # this photo's colour PCA
print("eigenvalues of the RGB covariance (0-1 scale):", np.round(eigenvalues, 4))
lit = [pipeline.pca_lighting(crops[0], eigenvalues, eigenvectors, std=s) for s in (0.1, 0.1, 1.0)]
ten = pipeline.ten_crops(square, 224)
assert ten.shape == (10, 224, 224, 3)

pictures = [(square, f"256x256\\n(from {photo.shape[0]}x{photo.shape[1]})")]
pictures += [(c, f"random 224x224 crop {i + 1}\\n(maybe mirrored)") for i, c in enumerate(crops)]
pictures += [(l, f"crop 1 + colour noise\\nstd {s}") for l, s in zip(lit, (0.1, 0.1, 1.0))]
fig, axes = plt.subplots(1, len(pictures), figsize=(2.1 * len(pictures), 2.6))
for ax, (picture, title) in zip(axes, pictures):
    ax.imshow(np.clip(np.asarray(picture, np.float32) / 255, 0, 1)); ax.set_title(title, fontsize=8); ax.axis("off")
plt.show()
numbers["aug_factor"] = f"{(256 - 224) ** 2 * 2:,}"      # the paper's count: 32 x 32 offsets x 2 mirror images
numbers["aug_positions"] = f"{(256 - 224 + 1) ** 2 * 2:,}"
numbers["test_crops"] = len(ten)'''

RECIPE = '''\
from alexnet.config import PAPER_RECIPE
from alexnet.training.optim import PaperSGD

print("alexnet.config.PAPER_RECIPE:", {k: PAPER_RECIPE[k] for k in
      ("epochs", "batch_size", "learning_rate", "schedule", "weight_decay")})
assert (PAPER_RECIPE["batch_size"], PAPER_RECIPE["learning_rate"], PAPER_RECIPE["weight_decay"],
        PAPER_RECIPE["schedule"], PAPER_RECIPE["epochs"]) == (128, 0.01, 5e-4, "plateau", 90)

lr, momentum, decay = 0.01, 0.9, 5e-4
w = keras.Variable(np.array([1.0, -2.0, 0.5], "float32"), name="kernel")     # three weights
optimizer = PaperSGD(lr, momentum=momentum, l2=decay)
v, w_hand = np.zeros(3), w.numpy().astype("float64")
for g in ([0.3, -0.1, 0.2], [0.1, 0.4, -0.2], [0.0, 0.0, 0.0]):            # three steps' gradients
    optimizer.apply_gradients([(tf.constant(g, tf.float32), w)])
    v = momentum * v - decay * lr * w_hand - lr * np.array(g)               # the paper's update rule
    w_hand = w_hand + v
    print(f"gradient {g}:  PaperSGD {np.round(w.numpy(), 6)}   by hand {np.round(w_hand, 6)}")
assert np.allclose(w.numpy(), w_hand, atol=1e-6)'''

FINAL_TRAIN = '''\
FINAL_IMAGES = 10000
numbers["final_images"] = f"{FINAL_IMAGES:,}"
final = train("the short training run", images[:FINAL_IMAGES], labels[:FINAL_IMAGES], epochs=2)
probabilities = final.predict(x_test, batch_size=500, verbose=0)
predicted = probabilities.argmax(1)
numbers["final_test"] = f"{100 * (predicted == y_test).mean():.1f}"
numbers["final_seconds"] = f"{TIMES['the short training run']:.0f}"
print(f"test accuracy on all {len(y_test):,} test images: {numbers['final_test']}%")'''

FILTERS = '''\
kernels = np.transpose(final.get_layer("conv1").get_weights()[0][..., 0, :], (2, 0, 1))    # (32, 5, 5)
half = len(kernels) // 2
show_kernels([kernels[:half], kernels[half:]], [f"1-{half}", f"{half + 1}-{len(kernels)}"],
             f"the {len(kernels)} conv1 kernels (5x5) of the trained net, each scaled to its own range")
numbers["conv1_count"] = len(kernels)'''

FEATURE_MAPS = '''\
from alexnet.activations import draw_feature_maps, feature_maps

index = int(np.argmax(y_test == 0))          # the first T-shirt/top of the test set
maps, p = feature_maps(final, x_test[index])
for name in ("conv1", "conv2", "conv3"):
    numbers[f"{name}_size"] = "x".join(map(str, maps[name].shape[:2]))
draw_feature_maps(x_test[index], maps, p, names, max_maps=64, title=f"test image {index}: {names[y_test[index]]}")'''

CONFUSION = '''\
confusion = np.zeros((10, 10), int)
np.add.at(confusion, (y_test, predicted), 1)
fig, ax = plt.subplots(figsize=(8.5, 7.5))
ax.imshow(confusion, cmap="Blues")
for i in range(10):
    for j in range(10):
        ax.text(j, i, confusion[i, j], ha="center", va="center", fontsize=11,
                color="white" if confusion[i, j] > confusion.max() / 2 else "black")
ax.set_xticks(range(10), names, rotation=45, ha="right", fontsize=11); ax.set_yticks(range(10), names, fontsize=11)
ax.set_xlabel("predicted", fontsize=12); ax.set_ylabel("true", fontsize=12); plt.show()

per_class = confusion.diagonal() / confusion.sum(1)
worst = int(per_class.argmin())
mistaken = int(np.argsort(confusion[worst])[-2])
numbers["worst_class"], numbers["worst_acc"] = names[worst], f"{100 * per_class[worst]:.0f}"
numbers["worst_as"], numbers["worst_as_count"] = names[mistaken], f"{confusion[worst, mistaken]}"
print(f"hardest class: {names[worst]} ({100 * per_class[worst]:.0f}% right), most often taken for "
      f"{names[mistaken]} ({confusion[worst, mistaken]} times)")'''

PREDICTIONS = '''\
picks = np.random.default_rng(1).choice(len(x_test), 8, replace=False)
fig, axes = plt.subplots(1, 8, figsize=(12, 2.6))
for ax, i in zip(axes, picks):
    best = np.argsort(-probabilities[i])[:2]
    ax.imshow(x_test[i, ..., 0], cmap="gray"); ax.axis("off")
    ax.set_title(f"{names[best[0]]} {100 * probabilities[i, best[0]]:.0f}%\\n"
                 f"{names[best[1]]} {100 * probabilities[i, best[1]]:.0f}%\\ntrue: {names[y_test[i]]}",
                 fontsize=8, color="black" if best[0] == y_test[i] else "tab:red")
plt.show()
numbers["picks_right"] = str(int((predicted[picks] == y_test[picks]).sum()))'''

ILSVRC = '''\
# The paper's Tables 1 and 2: error rates (%), top-1 and top-5.
ILSVRC_2010 = [("sparse coding (the ILSVRC-2010 winner)", 47.1, 28.2),
               ("SIFT + Fisher vectors (the best published since)", 45.7, 25.7),
               ("AlexNet, 1 CNN", 37.5, 17.0)]
ILSVRC_2012 = [("SIFT + Fisher vectors (the runner-up)", None, None, 26.2),
               ("1 CNN", 40.7, 18.2, None),
               ("5 CNNs, predictions averaged", 38.1, 16.4, 16.4),
               ("1 CNN, pre-trained on ImageNet Fall 2011", 39.0, 16.6, None),
               ("7 CNNs: the 5 and 2 pre-trained ones", 36.7, 15.4, 15.3)]
cell = lambda v: "" if v is None else f"{v:.1f}"
table = ["| ILSVRC-2010, test set | top-1 | top-5 |", "|---|---|---|"]
table += [f"| {name} | {cell(t1)} | {cell(t5)} |" for name, t1, t5 in ILSVRC_2010]
table += ["", "| ILSVRC-2012 | top-1 (validation) | top-5 (validation) | top-5 (test) |", "|---|---|---|---|"]
table += [f"| {name} | {cell(t1)} | {cell(t5)} | {cell(test)} |" for name, t1, t5, test in ILSVRC_2012]
display(Markdown("\\n".join(table)))
numbers["ilsvrc_margin"] = f"{ILSVRC_2012[0][3] - ILSVRC_2012[-1][3]:.1f}"       # 26.2 - 15.3
numbers["ilsvrc2010_top5_gain"] = f"{ILSVRC_2010[1][2] - ILSVRC_2010[2][2]:.1f}"  # 25.7 - 17.0'''

SUMMARY = '''\
numbers["minutes"] = f"{(time.time() - START) / 60:.1f}"
numbers["arm_seconds"] = f"{np.median([TIMES[k] for k in ('ReLU (the baseline)', 'tanh', 'without LRN')]):.0f}"
numbers["train_seconds"] = f"{sum(TIMES.values()):.0f}"
print(f"this notebook: {numbers['minutes']} minutes, {numbers['train_seconds']} s of it training, on {numbers['cpu']}")
print(json.dumps(numbers, ensure_ascii=False))'''

CELLS = [
    ("md", "title"),
    ("code", SETUP),
    ("md", "step1"),
    ("code", STEP1),
    ("md", "step2"),
    ("code", STEP2),
    ("md", "step3"),
    ("code", STEP3),
    ("md", "step4"),
    ("code", STEP4),
    ("md", "model"),
    ("code", DATA),
    ("md", "tf1_model"),
    ("code", TF1_MODEL),
    ("md", "tf1_count"),
    ("code", TF1_COUNT),
    ("md", "paper_table"),
    ("code", PAPER_TABLE),
    ("md", "tf1_train"),
    ("code", TF1_TRAIN),
    ("md", "keras_model"),
    ("code", KERAS_MODEL),
    ("md", "ideas"),
    ("code", HELPERS),
    ("md", "reproduction"),
    ("code", REPRODUCTION),
    ("md", "relu"),
    ("code", RELU),
    ("md", "relu_after"),
    ("code", RELU_FULL),
    ("md", "relu_full"),
    ("md", "towers"),
    ("code", TOWERS),
    ("md", "towers_after"),
    ("code", TOWERS_FULL),
    ("md", "towers_full"),
    ("md", "lrn"),
    ("code", LRN),
    ("md", "lrn_probe"),
    ("code", LRN_PROBE),
    ("md", "lrn_after"),
    ("code", LRN_FULL),
    ("md", "lrn_full"),
    ("md", "pooling"),
    ("code", POOLING),
    ("md", "pooling_after"),
    ("code", POOL_FULL),
    ("md", "pooling_full"),
    ("md", "dropout"),
    ("code", DROPOUT),
    ("md", "dropout_after"),
    ("code", DROPOUT_SCALING),
    ("md", "dropout_scaling"),
    ("code", DROPOUT_FULL),
    ("md", "dropout_full"),
    ("md", "augmentation"),
    ("code", AUGMENT),
    ("md", "recipe"),
    ("code", RECIPE),
    ("md", "schedule"),
    ("md", "final"),
    ("code", FINAL_TRAIN),
    ("md", "filters"),
    ("code", FILTERS),
    ("md", "feature_maps"),
    ("code", FEATURE_MAPS),
    ("md", "confusion"),
    ("code", CONFUSION),
    ("md", "predictions"),
    ("code", PREDICTIONS),
    ("md", "ilsvrc"),
    ("code", ILSVRC),
    ("md", "summary"),
    ("code", SUMMARY),
]

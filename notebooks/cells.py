"""The tutorial's code cells, shared by the English and the Chinese notebook.

Each entry of ``CELLS`` is ``("md", key)`` (a markdown cell, whose text is
``TEXT[language][key]`` in ``text_en.py`` / ``text_zh_cn.py``) or
``("code", source)``. ``build_notebooks.py`` turns them into notebooks, so
the two notebooks' code is the same by construction.
"""

SETUP = '''\
import os, time
START = time.time()

import json, platform
import numpy as np
import matplotlib.pyplot as plt

# TensorFlow writes start-up notices (oneDNN, CUDA) straight to the process's stderr,
# before its log settings apply: send them to /dev/null while it loads.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
stderr = os.dup(2)
os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
import tensorflow as tf
import keras
import alexnet
import alexnet.layers
os.dup2(stderr, 2)

%matplotlib inline
%config InlineBackend.figure_formats = ["png"]
plt.rcParams.update({"figure.dpi": 72, "font.size": 9})

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
def conv(x, name, filters, size, stride=1, padding="SAME"):
    """Conv2D + ReLU: `filters` kernels of size x size x (input channels), one bias each."""
    with v1.variable_scope(name):
        kernel = v1.get_variable("kernel", [size, size, x.shape[-1], filters],
                                 initializer=v1.glorot_uniform_initializer())
        bias = v1.get_variable("bias", [filters], initializer=v1.zeros_initializer())
        return tf.nn.relu(tf.nn.conv2d(x, kernel, [1, stride, stride, 1], padding) + bias)

def dense(x, name, units, activation=tf.nn.relu):
    """Dense: x @ kernel + bias, then the activation (none for the logits)."""
    with v1.variable_scope(name):
        kernel = v1.get_variable("kernel", [x.shape[-1], units], initializer=v1.glorot_uniform_initializer())
        bias = v1.get_variable("bias", [units], initializer=v1.zeros_initializer())
        y = tf.matmul(x, kernel) + bias
        return y if activation is None else activation(y)

def lrn(x):      # the paper's k=2, n=5, alpha=1e-4, beta=0.75, in TensorFlow's convention
    return tf.nn.local_response_normalization(x, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75)

def max_pool(x, padding):     # overlapping pooling: 3x3 windows, stride 2
    return tf.nn.max_pool2d(x, ksize=3, strides=2, padding=padding)

# (filters, kernel size, stride, padding) of each convolution; the shapes in the comments are the paper's.
PAPER = dict(conv1=(96, 11, 4, "VALID"), conv2=(256, 5), conv3=(384, 3), conv4=(384, 3), conv5=(256, 3),
             fc=4096, pool="VALID", mean=(123.675, 116.28, 103.53), std=(1.0,))
SMALL = dict(conv1=(48, 5, 1, "SAME"), conv2=(64, 3), conv3=(96, 3), conv4=(96, 3), conv5=(64, 3),
             fc=1024, pool="SAME", mean=(mean,), std=(std,))

def alexnet_tf1(images, keep_prob, classes, size):
    x = (images - size["mean"]) / size["std"]          # raw pixels 0-255 -> centred
    x = conv(x, "conv1", *size["conv1"])                # 227x227x3 -> 55x55x96
    x = max_pool(lrn(x), size["pool"])                  # -> 27x27x96
    x = conv(x, "conv2", *size["conv2"])                # -> 27x27x256
    x = max_pool(lrn(x), size["pool"])                  # -> 13x13x256
    x = conv(x, "conv3", *size["conv3"])                # -> 13x13x384
    x = conv(x, "conv4", *size["conv4"])                # -> 13x13x384
    x = conv(x, "conv5", *size["conv5"])                # -> 13x13x256
    x = max_pool(x, size["pool"])                       # -> 6x6x256
    x = tf.reshape(x, [-1, x.shape[1] * x.shape[2] * x.shape[3]])   # Flatten -> 9216
    x = tf.nn.dropout(dense(x, "fc6", size["fc"]), rate=1 - keep_prob)   # -> 4096
    x = tf.nn.dropout(dense(x, "fc7", size["fc"]), rate=1 - keep_prob)   # -> 4096
    return dense(x, "fc8", classes, activation=None)    # -> 1000 logits (softmax is in the loss)

def tf1_graph(size, input_shape, classes):
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(0)
        images = v1.placeholder(tf.float32, [None, *input_shape], name="batchImgInput")
        labels = v1.placeholder(tf.float32, [None, classes], name="Labels")
        keep_prob = v1.placeholder_with_default(1.0, [], name="dropout_keep_prob")
        logits = alexnet_tf1(images, keep_prob, classes, size)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        train_op = v1.train.MomentumOptimizer(0.01, momentum=0.9).minimize(loss)
        init = v1.global_variables_initializer()
        params = sum(int(np.prod(v.shape)) for v in v1.trainable_variables())
    return graph, images, labels, keep_prob, logits, loss, train_op, init, params'''

TF1_COUNT = '''\
for title, size, shape, classes, variant in [("the paper's net, one tower", PAPER, (227, 227, 3), 1000, "single"),
                                              ("small, for 28x28 images", SMALL, (28, 28, 1), 10, "small")]:
    *_, logits, _, _, _, tf1_params = tf1_graph(size, shape, classes)
    keras_params = alexnet.AlexNet(variant=variant, input_shape=shape, classes=classes).count_params()
    print(f"{title:28s} TF1 graph: {tf1_params:>10,} parameters, logits {logits.shape};  "
          f"alexnet.AlexNet(variant={variant!r}): {keras_params:>10,}  same: {tf1_params == keras_params}")
    numbers[f"params_{variant}"] = f"{keras_params:,}"
numbers["params_paper"] = f"{alexnet.AlexNet(variant='paper').count_params():,}"   # conv2, conv4, conv5 in 2 towers
print("the paper's two-tower net:", numbers["params_paper"], "parameters")'''

TF1_TRAIN = '''\
graph, images_in, labels_in, keep_prob, logits, loss, train_op, init, _ = tf1_graph(SMALL, (28, 28, 1), 10)
one_hot = np.eye(10, dtype="float32")
rng = np.random.default_rng(0)
with v1.Session(graph=graph) as sess:
    sess.run(init)
    for step in range(1, 61):
        batch = rng.integers(0, len(images) - 1000, 64)
        _, value = sess.run([train_op, loss], feed_dict={images_in: images[batch],
                                                         labels_in: one_hot[labels[batch]], keep_prob: 0.5})
        if step % 15 == 0:
            print(f"step {step}  loss {value:.3f}")
    predicted = sess.run(logits, feed_dict={images_in: x_val}).argmax(1)   # keep_prob defaults to 1.0
numbers["tf1_val"] = f"{100 * (predicted == y_val).mean():.1f}"
print(f"validation accuracy after 60 steps: {numbers['tf1_val']}%")'''

KERAS_MODEL = '''\
model = alexnet.AlexNet(variant="small", input_shape=(28, 28, 1), classes=10)
model.summary(line_length=90)'''

HELPERS = '''\
x_small, y_small = images[:4000], labels[:4000]          # each experiment: 4,000 images, 2 epochs
LR = 0.03      # the paper's 0.01 barely gets this net started in 2 epochs
numbers["lr"] = LR
TIMES = {}

class BatchErrors(keras.callbacks.Callback):
    """The training error of each batch (Keras reports the running mean over the epoch; undone here)."""
    def on_train_begin(self, logs=None):
        self.errors = []
    def on_epoch_begin(self, epoch, logs=None):
        self.mean = 0.0
    def on_train_batch_end(self, batch, logs=None):
        accuracy = (batch + 1) * logs["accuracy"] - batch * self.mean    # this batch's own accuracy
        self.mean = logs["accuracy"]
        self.errors.append(1 - accuracy)

def train(name, x=None, y=None, epochs=2, lr=LR, seed=0, quiet=False, callbacks=(), **switches):
    """Builds alexnet.AlexNet(variant="small", **switches) and trains it with the paper's optimizer:
    SGD with momentum 0.9, batches of 64. Returns the model, its history and per-batch errors."""
    x = x_small if x is None else x
    y = y_small if y is None else y
    keras.utils.set_random_seed(seed)
    model = alexnet.AlexNet(variant=switches.pop("variant", "small"), input_shape=(28, 28, 1), classes=10,
                            preprocessing=dict(mean=(mean,), std=(std,)), **switches)
    model.compile(keras.optimizers.SGD(lr, momentum=0.9), "sparse_categorical_crossentropy", metrics=["accuracy"])
    batches = BatchErrors()
    started = time.time()
    history = model.fit(x, y, batch_size=64, epochs=epochs, validation_data=(x_val, y_val),
                        callbacks=[batches, *callbacks], verbose=0).history
    TIMES[name] = time.time() - started
    model.batch_errors, model.curves = np.array(batches.errors), history
    model.val_error = 100 * (1 - history["val_accuracy"][-1])
    model.train_error = 100 * (1 - history["accuracy"][-1])
    if not quiet:
        print(f"{name:22s} last epoch's training error {model.train_error:5.1f}%, "
              f"validation error {model.val_error:5.1f}%  ({TIMES[name]:.0f} s)")
    return model

def smooth(values, width=10):
    return np.convolve(values, np.ones(width) / width, mode="valid")

def verdict(effect, noise):
    """effect: validation error without the idea minus with it (points). Within the difference
    between two seeds it is noise; one pair of seeds is a rough yardstick, so at least 2 points."""
    return "noise" if abs(effect) <= max(noise, 2.0) else ("helps" if effect > 0 else "hurts")'''

RELU = '''\
relu = train("ReLU (the baseline)")
tanh = train("tanh", activation="tanh")

TARGET = 0.30   # a training error both may reach in 2 epochs (the paper used 25% on CIFAR-10)
numbers["target"] = f"{100 * TARGET:.0f}"
steps_per_epoch = len(relu.batch_errors) / 2

def epochs_to(errors, target=TARGET):
    below = np.nonzero(smooth(errors) <= target)[0]
    return (below[0] + 10) / steps_per_epoch if len(below) else None

for name, model in [("relu", relu), ("tanh", tanh)]:
    reached = epochs_to(model.batch_errors)
    numbers[f"{name}_epochs"] = "-" if reached is None else f"{reached:.2f}"
    numbers[f"{name}_val"] = f"{model.val_error:.1f}"
    print(f"{name}: {100 * TARGET:.0f}% training error reached at epoch {numbers[name + '_epochs']}")
r, t = epochs_to(relu.batch_errors), epochs_to(tanh.batch_errors)
if r is None or t is None:
    numbers["relu"] = "neither" if r is None and t is None else ("tanh_faster" if r is None else "relu_faster")
else:
    numbers["relu"] = "relu_faster" if r < 0.9 * t else "tanh_faster" if t < 0.9 * r else "similar"
    numbers["speed_ratio"] = f"{max(r, t) / min(r, t):.1f}"

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3), gridspec_kw={"width_ratios": [1, 1.6]})
t = np.linspace(-3, 3, 200)
ax1.plot(t, np.maximum(t, 0), color="tab:blue", label="ReLU")
ax1.plot(t, np.tanh(t), color="tab:orange", label="tanh")
ax1.plot(t, t > 0, ":", color="tab:blue", label="slope of ReLU")
ax1.plot(t, 1 - np.tanh(t) ** 2, ":", color="tab:orange", label="slope of tanh")
ax1.set_title("the two activations and their slopes"); ax1.legend(fontsize=7)
for model, label, style in [(relu, "ReLU", "-"), (tanh, "tanh", "--")]:
    errors = smooth(model.batch_errors)
    ax2.plot((np.arange(len(errors)) + 10) / steps_per_epoch, 100 * errors, style, label=label)
ax2.axhline(100 * TARGET, color="gray", lw=0.8)
ax2.set_xlabel("epochs"); ax2.set_ylabel("training error (%), mean of 10 batches")
ax2.set_title("like the paper's Figure 1: ReLU solid, tanh dashed"); ax2.legend(); plt.show()'''

LRN = '''\
no_lrn = train("without LRN", lrn=False)
seed1 = train("the baseline, seed 1", seed=1)
numbers["lrn_effect"] = f"{no_lrn.val_error - relu.val_error:+.1f}"
numbers["seed_noise"] = f"{abs(seed1.val_error - relu.val_error):.1f}"
numbers["base_val"] = f"{relu.val_error:.1f}"
numbers["no_lrn_val"] = f"{no_lrn.val_error:.1f}"
noise = abs(seed1.val_error - relu.val_error)
numbers["lrn"] = verdict(no_lrn.val_error - relu.val_error, noise)
numbers["towers"] = verdict(half.val_error - towers.val_error, noise)   # experiment 2, against the same noise
print(f"without LRN minus with LRN: {numbers['lrn_effect']} points of validation error; "
      f"two seeds of the same net differ by {numbers['seed_noise']}")

# What does lrn1 do to its input (pool1's output) in the trained baseline? Divide its output by its input.
probe = keras.Model(relu.inputs[0], [relu.get_layer("lrn1").input, relu.get_layer("lrn1").output])
before, after = (np.asarray(t) for t in probe(x_val[:200]))
ratio = after[before > 0.01] / before[before > 0.01]
numbers["lrn_low"], numbers["lrn_high"] = f"{ratio.min():.4f}", f"{ratio.max():.4f}"
print(f"lrn1's output / input: from {ratio.min():.4f} to {ratio.max():.4f}; 2 ** -0.75 = {2 ** -0.75:.4f}")'''

POOLING = '''\
no_overlap = train("2x2 pooling, stride 2", overlapping_pooling=False)
numbers["pool_val"] = f"{no_overlap.val_error:.1f}"
numbers["pool_effect"] = f"{no_overlap.val_error - relu.val_error:+.1f}"
numbers["pool"] = verdict(no_overlap.val_error - relu.val_error, noise)
print(f"2x2 minus 3x3 pooling: {numbers['pool_effect']} points of validation error "
      f"(seed-to-seed difference: {numbers['seed_noise']})")
for overlapping in (True, False):
    pool5 = alexnet.AlexNet(variant="small", overlapping_pooling=overlapping).get_layer("pool5")
    print(f"pool5's output with {'3x3' if overlapping else '2x2'} pooling: {pool5.output.shape[1:]}")'''

DROPOUT = '''\
TINY, TINY_EPOCHS = 1000, 12        # few images, many epochs: room to memorize them
x_tiny, y_tiny = images[:TINY], labels[:TINY]
numbers["tiny"], numbers["tiny_epochs"] = f"{TINY:,}", TINY_EPOCHS

class InferenceErrors(keras.callbacks.Callback):
    """After each epoch, the training error with dropout off, as the net is used."""
    def on_train_begin(self, logs=None):
        self.errors = []
    def on_epoch_end(self, epoch, logs=None):
        predicted = self.model.predict(x_tiny, batch_size=500, verbose=0).argmax(1)
        self.errors.append(100 * (predicted != y_tiny).mean())

fig, ax = plt.subplots(figsize=(6, 3))
for rate, colour in [(0.5, "tab:blue"), (0.0, "tab:red")]:
    fitted = InferenceErrors()
    model = train(f"dropout {rate}", x_tiny, y_tiny, epochs=TINY_EPOCHS, dropout=rate, callbacks=[fitted])
    val = 100 * (1 - np.array(model.curves["val_accuracy"]))
    epochs = np.arange(1, len(val) + 1)
    ax.plot(epochs, fitted.errors, "-", color=colour, label=f"dropout {rate}: training")
    ax.plot(epochs, val, "--", color=colour, label=f"dropout {rate}: validation")
    key = "drop" if rate else "nodrop"
    numbers[f"{key}_train"], numbers[f"{key}_val"] = f"{fitted.errors[-1]:.1f}", f"{val[-1]:.1f}"
    numbers[f"{key}_gap"] = f"{val[-1] - fitted.errors[-1]:.1f}"
    print(f"   training error {fitted.errors[-1]:.1f}% (dropout off), validation {val[-1]:.1f}%: "
          f"gap {numbers[key + '_gap']} points")
difference = float(numbers["nodrop_gap"]) - float(numbers["drop_gap"])
numbers["dropout"] = "smaller_gap" if difference > 2 else "larger_gap" if difference < -2 else "similar_gap"
ax.set_xlabel(f"epoch ({TINY:,} training images)"); ax.set_ylabel("error (%)"); ax.legend(fontsize=7); plt.show()'''

TOWERS = '''\
towers = train("two towers", variant="small-2tower")
half = train("one tower, half width", variant="small-half")
numbers["towers_val"], numbers["half_val"] = f"{towers.val_error:.1f}", f"{half.val_error:.1f}"
numbers["towers_params"], numbers["half_params"] = f"{towers.count_params():,}", f"{half.count_params():,}"
print(f"parameters: two towers {towers.count_params():,}, one half-width tower {half.count_params():,}, "
      f"the ungrouped baseline {relu.count_params():,}")
print("conv2 of the two-tower net:", towers.get_layer("conv2").groups, "groups; kernel",
      tuple(towers.get_layer("conv2").kernel.shape), "(each kernel sees 24 of conv1's 48 maps)")

def show_kernels(ax, kernels, title):
    """kernels (count, h, w, 1) side by side, each scaled to its own range."""
    count, h, w, _ = kernels.shape
    cols = 12
    canvas = np.ones((-(-count // cols) * (h + 1), cols * (w + 1)))
    for i, k in enumerate(kernels[..., 0]):
        r, c = divmod(i, cols)
        canvas[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w] = (k - k.min()) / (np.ptp(k) + 1e-8)
    ax.imshow(canvas, cmap="gray", interpolation="nearest"); ax.set_title(title); ax.axis("off")

kernels = np.transpose(towers.get_layer("conv1").get_weights()[0], (3, 0, 1, 2))   # (48, 5, 5, 1)
fig, axes = plt.subplots(1, 2, figsize=(10, 1.9))
show_kernels(axes[0], kernels[:24], "conv1 kernels feeding tower 1")
show_kernels(axes[1], kernels[24:], "conv1 kernels feeding tower 2")
plt.show()'''

FINAL_TRAIN = '''\
FINAL_IMAGES = 15000
numbers["final_images"] = f"{FINAL_IMAGES:,}"
final = train("the short training run", images[:FINAL_IMAGES], labels[:FINAL_IMAGES], epochs=2)
probabilities = final.predict(x_test, batch_size=500, verbose=0)
predicted = probabilities.argmax(1)
numbers["final_test"] = f"{100 * (predicted == y_test).mean():.1f}"
numbers["final_seconds"] = f"{TIMES['the short training run']:.0f}"
print(f"test accuracy on all {len(y_test):,} test images: {numbers['final_test']}%")'''

FILTERS = '''\
kernels = np.transpose(final.get_layer("conv1").get_weights()[0], (3, 0, 1, 2))
fig, ax = plt.subplots(figsize=(10, 2.2))
show_kernels(ax, kernels, f"the {len(kernels)} conv1 kernels (5x5) of the trained net, each scaled to its own range")
plt.show()'''

FEATURE_MAPS = '''\
from alexnet.activations import draw_feature_maps, feature_maps

index = int(np.argmax(y_test == 0))          # the first T-shirt/top of the test set
maps, p = feature_maps(final, x_test[index])
draw_feature_maps(x_test[index], maps, p, names, max_maps=64, title=f"test image {index}: {names[y_test[index]]}")'''

CONFUSION = '''\
confusion = np.zeros((10, 10), int)
np.add.at(confusion, (y_test, predicted), 1)
fig, ax = plt.subplots(figsize=(5.5, 4.5))
ax.imshow(confusion, cmap="Blues")
for i in range(10):
    for j in range(10):
        ax.text(j, i, confusion[i, j], ha="center", va="center", fontsize=7,
                color="white" if confusion[i, j] > confusion.max() / 2 else "black")
ax.set_xticks(range(10), names, rotation=60, ha="right"); ax.set_yticks(range(10), names)
ax.set_xlabel("predicted"); ax.set_ylabel("true"); plt.show()

per_class = confusion.diagonal() / confusion.sum(1)
worst = int(per_class.argmin())
mistaken = int(np.argsort(confusion[worst])[-2])
numbers["worst_class"], numbers["worst_acc"] = names[worst], f"{100 * per_class[worst]:.0f}"
numbers["worst_as"], numbers["worst_as_count"] = names[mistaken], f"{confusion[worst, mistaken]}"
print(f"hardest class: {names[worst]} ({100 * per_class[worst]:.0f}% right), most often taken for "
      f"{names[mistaken]} ({confusion[worst, mistaken]} times)")'''

PREDICTIONS = '''\
picks = np.random.default_rng(1).choice(len(x_test), 8, replace=False)
fig, axes = plt.subplots(1, 8, figsize=(11, 2.2))
for ax, i in zip(axes, picks):
    best = np.argsort(-probabilities[i])[:2]
    ax.imshow(x_test[i, ..., 0], cmap="gray"); ax.axis("off")
    ax.set_title(f"{names[best[0]]} {100 * probabilities[i, best[0]]:.0f}%\\n"
                 f"{names[best[1]]} {100 * probabilities[i, best[1]]:.0f}%\\ntrue: {names[y_test[i]]}",
                 fontsize=7, color="black" if best[0] == y_test[i] else "tab:red")
plt.show()
numbers["picks_right"] = str(int((predicted[picks] == y_test[picks]).sum()))'''

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
    ("md", "tf1_train"),
    ("code", TF1_TRAIN),
    ("md", "keras_model"),
    ("code", KERAS_MODEL),
    ("md", "ideas"),
    ("code", HELPERS),
    ("md", "relu"),
    ("code", RELU),
    ("md", "relu_after"),
    ("md", "towers"),
    ("code", TOWERS),
    ("md", "towers_after"),
    ("md", "lrn"),
    ("code", LRN),
    ("md", "lrn_after"),
    ("md", "pooling"),
    ("code", POOLING),
    ("md", "pooling_after"),
    ("md", "dropout"),
    ("code", DROPOUT),
    ("md", "dropout_after"),
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
    ("md", "summary"),
    ("code", SUMMARY),
]

"""The English notebook's markdown, one entry per ``("md", key)`` of
``cells.CELLS``. ``{{name}}`` is replaced by the number the cells computed."""

TEXT = {}

TEXT["title"] = r"""
# AlexNet, step by step

This notebook follows the AlexNet exercise — build the network of Krizhevsky,
Sutskever and Hinton, *ImageNet Classification with Deep Convolutional Neural
Networks* (NIPS 2012), in TensorFlow — with the `alexnet` package, on a laptop
CPU. In order: TensorFlow 1's placeholders and sessions, a small network
fitted to sin(x), local response normalization, the softmax cross-entropy
loss; then AlexNet written out layer by layer and built by the package; then
one small experiment for each of the paper's ideas; and last a short
training run and a look inside the trained network.

Everything runs on Fashion-MNIST (28x28 grayscale pictures of clothes, 10
classes) instead of ImageNet, which takes days on GPUs. This copy ran top to
bottom in **{{minutes}} minutes** on {{cpu}}; every number in the text was
computed by the cells of that run (another run or another machine gives
slightly different ones).

To run it yourself, in the repository: `pip install -e ".[test]"` (or
`pip install -e . jupyter`), on Debian/Ubuntu `apt-get install
dataset-fashion-mnist` (elsewhere Keras downloads the data), then open this
file in Jupyter. The same notebook in Chinese:
[alexnet_tutorial.zh-CN.ipynb](alexnet_tutorial.zh-CN.ipynb).
"""

TEXT["step1"] = r"""
## Step 1: a graph, a placeholder, a session

TensorFlow 1 separates *describing* a computation from *running* it.
`placeholder` is an input slot with a type and a shape but no value yet;
`x * 2` adds a node to the graph and computes nothing; `Session.run(y,
feed_dict={x: [3.]})` fills the slot and computes the node. TensorFlow 2 runs
operations as soon as they are written ("eager" execution) and keeps the old
API under `tf.compat.v1`, which is how we reach it here.
"""

TEXT["step2"] = r"""
## Step 2: dense layers fitted to sin(x)

Before a network that sees images, one that sees a single number. Fifty
random points of sin(x) are the training set, three `Dense` layers (a matrix
product plus a bias, then an activation) the model, the mean squared error
the loss, Adam the optimizer. Each step computes the loss, asks
`tf.GradientTape` for its gradient with respect to every weight, and lets
Adam move the weights a little downhill. Training AlexNet is this same loop
with a bigger model and more data. After 64 steps the loss is {{sin_loss}}:
the red curve follows the gray one where there are points to learn from.
"""

TEXT["step3"] = r"""
## Step 3: local response normalization (LRN)

AlexNet divides each activation by a sum over its neighbours *in depth*: the
same pixel in the adjacent channels (the outputs of neighbouring kernels),

$$b_c = \frac{a_c}{\left(\text{bias} + \alpha \sum_{|j-c| \le \text{depth\_radius}} a_j^2\right)^{\beta}}.$$

The idea comes from real neurons ("lateral inhibition"): a strongly active
kernel damps its neighbours, so kernels compete. The exercise checks the
formula on `np.arange(60).reshape([5, 2, 2, 3])` with `depth_radius=2,
bias=0, alpha=1, beta=1`, which keeps the arithmetic easy: the value 1 sits
in channel 1 of the first pixel, whose window is channels 0 to 2, holding 0,
1 and 2, so the output is 1 / (0 + 1 + 4) = 0.2. The cell computes the whole
example with TensorFlow's op and with the package's layer,
`alexnet.layers.LocalResponseNormalization`, and compares both with the
exercise's numbers.

The paper's own setting is k=2, n=5, α=1e-4, β=0.75. In TensorFlow's
convention that is `depth_radius=2` (a window of 2·2+1 = 5 channels),
`bias=2.0, alpha=1e-4, beta=0.75`: the layer's defaults. Careful when copying
numbers from Caffe or PyTorch: they divide alpha by n, so their `alpha=1e-4`
is TensorFlow's `2e-5`.
"""

TEXT["step4"] = r"""
## Step 4: the loss

The network's last layer gives one number per class, the *logits*. Softmax
turns them into probabilities (exponentiate, divide by the sum); the
cross-entropy is minus the log of the probability given to the true class:
small when the network is confidently right, large when it is confidently
wrong. Labels are written one-hot, a 1 at the true class and 0 elsewhere.
`tf.nn.softmax_cross_entropy_with_logits` does both steps in one operation,
which is also more accurate than a softmax followed by a log (no log of a
probability rounded to 0). The second line recomputes it by hand: the same
numbers.
"""

TEXT["model"] = r"""
## AlexNet

The paper's network: five convolutional layers, then three fully connected
ones, ending in a 1000-way softmax. LRN follows conv1 and conv2, max pooling
follows conv1, conv2 and conv5, and dropout is applied to fc6 and fc7. It
has about 60 million parameters and was trained on ImageNet's 1.2 million
images, on two GPUs, for five to six days.

On a laptop we keep the structure and shrink the sizes: the package's
`small` variant has the same five convolutions, LRN, overlapping pooling,
dropout and three dense layers, with fewer kernels and a 5x5 first
convolution suited to 28x28 images. It also pools before normalizing, as
Caffe's reference AlexNet (CaffeNet) does, so LRN works on a quarter of the
values and a training step takes about a third less time. First the data: Fashion-MNIST, 60,000
training and 10,000 test images of clothes in 10 classes. The last 1,000
training images are kept aside for validation: the experiments below are
judged on them, never trained on them.
"""

TEXT["tf1_model"] = r"""
### AlexNet in the TF1 style, every layer written out

This is the exercise's way: the network is a function from an input tensor
to logits, each layer a few operations on variables made by
`tf.compat.v1.get_variable`. The exercise used `tf.keras.layers.Conv2D`,
`Dense` and friends inside the graph; since Keras 3, Keras layers no longer
live in a TF1 graph, so `conv` and `dense` below are written with the
operations they stand for (a convolution or a matrix product, plus a bias,
then ReLU). `Flatten` is a reshape. Dropout is `tf.nn.dropout`, with the keep
probability fed through a placeholder: 0.5 while training, 1.0 when
testing.

The shapes in the comments are the paper's, for a 227x227x3 image. (The
paper says 224, but 11x11 kernels at stride 4 without padding give its 55x55
maps only from 227.) This is one tower; the paper's split over two GPUs
comes in the experiments.
"""

TEXT["tf1_count"] = r"""
### The same network, twice

If the graph written above and the package's `alexnet.AlexNet` are the same
network, they have the same number of weights, layer for layer. With the
paper's sizes as one tower both have {{params_single}} parameters; the
paper's real net has {{params_paper}}, fewer, because in two towers conv2,
conv4 and conv5 each see only half of the previous layer's maps. The small
version for 28x28 images has {{params_small}}.
"""

TEXT["tf1_train"] = r"""
The TF1 graph trains, too: feed a batch of images, their one-hot labels and
`keep_prob=0.5`, and run `train_op` (SGD with momentum 0.9 at learning rate
0.01, the paper's optimizer). Sixty steps of 64 images are a sixteenth of
one pass over the data: the loss has only begun to fall (a ReLU net starts
slowly from this initialization; experiment 1 comes back to it), and the
validation accuracy, {{tf1_val}}%, is above the 10% of guessing.
"""

TEXT["keras_model"] = r"""
### The same network from the package

`alexnet.AlexNet(variant="small", ...)` builds it as a Keras model, each
layer named as in the paper. Its first layer, `preprocess`, standardizes the
raw pixels (0-255) inside the model, so a saved model needs no separate
recipe. From here on we use this model and Keras' `fit`, which runs the loop
of step 2 for us.
"""

TEXT["ideas"] = r"""
## The paper's ideas, one small experiment each

Section 3 of the paper lists what made AlexNet work "in order of our
estimation of their importance": ReLU, training on two GPUs, local response
normalization, overlapping pooling; Section 4 adds dropout against
overfitting. Each experiment below trains the small network with the idea
and without it, everything else equal (data, random seed, SGD with momentum
0.9 at learning rate {{lr}}, batches of 64), on 4,000 training images for 2
epochs: about {{arm_seconds}} seconds per run here. (The learning rate is
{{lr}}, not the paper's 0.01: at 0.01 this small net has barely started
after 2 epochs.)

Know what runs this small can show. The paper's gains were measured on
ImageNet after 90 epochs; a difference of a fraction of a percent is
invisible in runs this short, where the random seed alone moves the result.
Experiment 3 measures one pair of seeds; one pair is a rough yardstick, so
the cells treat any difference under 2 points, or under that pair's
difference if larger, as noise. The project's
[REPRODUCTION.md](../REPRODUCTION.md) runs each comparison for 6 epochs on
the whole dataset with 2 seeds; it is quoted below where it helps.
"""

TEXT["relu"] = r"""
### 1. ReLU instead of tanh

Units used to compute a saturating function such as tanh, whose slope is
nearly zero once its input is large (the dotted orange line on the left):
the gradient that reaches the weights through a saturated unit is tiny, and
learning slows down. ReLU, max(0, x), has slope 1 for every positive input.
The paper's Figure 1: a four-layer network with ReLUs reached 25% training
error on CIFAR-10 six times faster than the same network with tanh. Here
both activations train the small AlexNet with identical settings; the right
panel shows each batch's training error (averaged over 10 batches), like
Figure 1.
"""

TEXT["relu_after"] = r"""
{{relu_verdict}}

Why not the paper's 6x? The network is not the paper's. Keras initializes
weights with Glorot's rule, which was derived for tanh-like units: it keeps
them in their steep middle range, where tanh does not saturate. With ReLU,
which passes only the positive half, the same rule shrinks the signal layer
after layer, so the ReLU net starts slowly. And our inputs are standardized,
which also keeps tanh out of saturation. In REPRODUCTION.md the ReLU net
trained far faster under a learning rate tuned for ReLU (tanh never reached
15% training error in 6 epochs), but once tanh had its own learning rate it
was as fast. What ReLU changed for good is that deep networks train without
care to keep units out of saturation, and it is cheap: nearly every network
since uses it or a variant.
"""

TEXT["towers"] = r"""
### 2. Two GPUs: the network as two towers

A GTX 580 had 3 GB of memory, too little for the whole network, so the
authors put half of every layer's kernels on each of two GPUs. The GPUs
exchange results only at some layers: conv2, conv4 and conv5 see only the
maps on their own GPU, conv3 and the dense layers see both. The package
builds this as one model in which conv2, conv4 and conv5 are *grouped*
convolutions (`variant="small-2tower"`). The paper compared the two-tower
net with a net of half as many kernels on one GPU, and found the two towers
1.7% better in top-1 error. We train the same pair: `small-2tower` and
`small-half`.
"""

TEXT["towers_after"] = r"""
The two towers ended at {{towers_val}}% validation error and the half-width
net at {{half_val}}%. {{towers_verdict}} REPRODUCTION.md measured 0.31 ± 0.20 points in
favour of the towers (the paper's direction, a fifth of its size), and found
the grouped net 0.66 points *worse* than the ungrouped one of nearly the
same size: the split was a way to fit the net into memory, not an
improvement in itself.

The paper also saw the towers specialize: the kernels on GPU 1 came out
largely colour-agnostic, those on GPU 2 colour-specific (its Figure 3). The
pictures show the conv1 kernels that feed each tower. Fashion-MNIST has no
colour to specialize on, and 2 epochs on 4,000 images are little training,
so the two sets look alike: noisy blobs and first edges. Seeing the
specialization takes colour images and long training
(`alexnet train --data cifar10 --variant small-2tower`, then
`alexnet filters`).
"""

TEXT["lrn"] = r"""
### 3. Local response normalization

The paper: LRN lowered the top-1 error by 1.4% on ImageNet, and a CIFAR-10
net's test error from 13% to 11%. We train without it and compare. To know
what size of difference means anything, the baseline is also trained with a
second random seed: the difference between two seeds of the same network is
this experiment's noise.
"""

TEXT["lrn_after"] = r"""
Without LRN the validation error moved by {{lrn_effect}} points
({{no_lrn_val}}% against {{base_val}}%), while two seeds of the identical
network differ by {{seed_noise}} points. {{lrn_verdict}}

The last line shows why LRN can do little here: lrn1's output divided by its
input lies between {{lrn_low}} and {{lrn_high}}, which is 2^-0.75 = 0.5946,
the value when the sum of squares is negligible next to bias=2. With
alpha=1e-4, activations would have to be around 20 for the sum to matter;
with standardized inputs and Glorot-initialized weights they are of order 1.
So the layer multiplies by a constant. Over a full training run the next
layer absorbs any constant; in a 2-epoch run a constant factor (0.59 at each
of the two LRN layers) still changes the size of the signals and gradients,
much like a different learning rate, so a difference in this run says more
about how fast the net gets going than about normalization. The paper's activations (unnormalized pixels, weights of standard
deviation 0.01, 90 epochs on ImageNet) were larger. LRN has since been
replaced by batch normalization (2015), which scales each channel by
statistics it measures instead of fixed constants.
"""

TEXT["pooling"] = r"""
### 4. Overlapping pooling

Max pooling summarizes each neighbourhood of a map by its largest value.
Traditional pooling used windows that do not overlap (2x2 at stride 2);
AlexNet's windows are 3x3 at stride 2, so neighbouring windows share a row
or a column. The output has the same size either way (the last line of the
cell checks this), so the swap is fair. The paper: top-1 error 0.4% lower,
and the net slightly harder to overfit.
"""

TEXT["pooling_after"] = r"""
With 2x2 pooling the validation error was {{pool_val}}% against the
baseline's {{base_val}}% ({{pool_effect}} points), and two seeds differ by
{{seed_noise}}. {{pool_verdict}} An effect of 0.4% is far below what one
short run resolves. REPRODUCTION.md, with 6 epochs on the whole dataset and
2 seeds, measured 0.43 ± 0.39 points in favour of overlapping pooling: the
paper's size and direction, but no larger than its own noise.
"""

TEXT["dropout"] = r"""
### 5. Dropout

A net with 60 million parameters, trained on 1.2 million images, can
memorize them: the training error keeps falling while the error on new
images stops improving. Dropout sets each output of fc6 and fc7 to zero with
probability 0.5 during training, so that no unit can rely on particular
others being present; at test time every unit is used. Without it, the
paper's net overfitted "substantially". Overfitting needs a net that is big
for its data, so this experiment gives it only {{tiny}} images for
{{tiny_epochs}} epochs, and measures the training error with dropout off,
the way the net is used.
"""

TEXT["dropout_after"] = r"""
Without dropout the net ended at {{nodrop_train}}% training and
{{nodrop_val}}% validation error, a gap of {{nodrop_gap}} points; with
dropout at {{drop_train}}% and {{drop_val}}%, a gap of {{drop_gap}} points.
{{dropout_verdict}} On the whole dataset the effect nearly disappears:
REPRODUCTION.md found almost no overfitting to prevent in 6 epochs over
57,000 images; dropout earns its keep when the data is small for the net,
as ImageNet was for 60 million parameters.
"""

TEXT["final"] = r"""
## A short training run

Now the small AlexNet with the paper's ideas all on (ReLU, LRN, overlapping
pooling, dropout) and its optimizer, on {{final_images}} images for 2 epochs:
{{final_seconds}} seconds here. It reaches **{{final_test}}%** on the 10,000
test images. (`alexnet train` runs the full recipe: all 57,000 training
images, 12 epochs, a learning rate that warms up and decays, label
smoothing, conv1 fixed to PCA-whitening filters instead of learned, and
half the images resampled as `predict` resizes a picture; 8.5-11 minutes
on 2 cores for about 93.2%.)
"""

TEXT["filters"] = r"""
### What conv1 learned

Each conv1 kernel is a 5x5 patch of weights, drawn as a small picture
(each on its own grey scale). The paper's Figure 3 shows its 96 kernels of
11x11x3: smooth oriented edges, stripes and colour blobs, learned over 90
epochs. After 2 epochs on 28x28 grayscale images ours are still noisy; a few
already have a light side and a dark side, the start of an edge detector.
"""

TEXT["feature_maps"] = r"""
### Feature maps: what one image becomes

`alexnet.activations.feature_maps` runs one image through the net and
returns what conv1 to conv5 output; `draw_feature_maps` draws each layer's
maps as a grid (bright = strongly active, on each layer's own scale) under
the image and its top classes. conv1's maps still look like the garment,
each lighting up some edges or regions; deeper maps are smaller (14x14
after pool1, 7x7 after pool2) and more abstract: they respond to parts and
combinations that help tell the classes apart. The same figure from the
command line: `alexnet activations MODEL IMAGE -o maps.png`.
"""

TEXT["confusion"] = r"""
### Where the net is wrong

A confusion matrix counts, for each true class (rows), what the net
predicted (columns); the diagonal holds the right answers. The hardest class
in this run is {{worst_class}}, right {{worst_acc}}% of the time and most
often taken for {{worst_as}} ({{worst_as_count}} times). At 28x28 pixels in
gray, shirts, T-shirts, pullovers and coats differ only in details.
"""

TEXT["predictions"] = r"""
### Predictions on a few test images

Eight test images picked at random, each with the two most probable classes
and the true one (red: wrong). The net got {{picks_right}} of the 8 right.
"""

TEXT["summary"] = r"""
## What the small experiments show

| the paper's idea | the paper | this notebook (one short run) |
|---|---|---|
| ReLU instead of tanh | 6x faster to 25% training error | {{relu_row}} |
| two GPUs (towers) | top-1 error -1.7% | {{towers_row}} |
| LRN | top-1 error -1.4% | {{lrn_row}} |
| overlapping pooling | top-1 error -0.4% | {{pool_row}} |
| dropout | prevents substantial overfitting | {{dropout_row}} |

Runs of about {{arm_seconds}} seconds on 4,000 images show the mechanisms (saturation, grouped
layers, what LRN computes, how overfitting looks) but cannot measure effects
of a few tenths of a percent. For longer runs: `alexnet reproduce all` (about
an hour on 2 cores, results in [REPRODUCTION.md](../REPRODUCTION.md)),
`alexnet train` for the full model, `alexnet activations` and
`alexnet filters` to look inside it. The last cell prints every number the
text quoted.
"""

# Sentences that depend on what the run found: placeholder -> (the key of
# ``numbers`` holding the finding, {finding: text}). The findings are judged
# by the cells (``verdict``: against the difference between two seeds).
VERDICTS = {
    "relu_verdict": ("relu", {
        "relu_faster": "ReLU got there first: it reached {{target}}% training error at epoch {{relu_epochs}}, "
                       "tanh at epoch {{tanh_epochs}} (a dash: not within the 2 epochs). After 2 epochs the "
                       "validation errors were {{relu_val}}% (ReLU) and {{tanh_val}}% (tanh): the paper's "
                       "direction.",
        "tanh_faster": "Here it went the other way: tanh reached {{target}}% training error at epoch "
                       "{{tanh_epochs}}, ReLU at epoch {{relu_epochs}} (a dash: not within the 2 epochs), and "
                       "after 2 epochs the validation errors were {{tanh_val}}% (tanh) and {{relu_val}}% (ReLU). "
                       "The paper's effect does not show in this run.",
        "similar": "The two reached {{target}}% training error at about the same time (epochs {{relu_epochs}} "
                   "for ReLU and {{tanh_epochs}} for tanh), with validation errors of {{relu_val}}% and "
                   "{{tanh_val}}%: no effect in this run.",
        "neither": "Neither reached {{target}}% training error within 2 epochs; the validation errors were "
                   "{{relu_val}}% (ReLU) and {{tanh_val}}% (tanh).",
    }),
    "towers_verdict": ("towers", {
        "helps": "The towers won, but the comparison is between a net of {{towers_params}} parameters and one "
                 "of {{half_params}}: the two-tower net is simply the bigger one.",
        "noise": "That is within the noise; and even a clear win would be partly size: the two-tower net has "
                 "{{towers_params}} parameters, the half-width one {{half_params}}.",
        "hurts": "The smaller net won, although the two-tower net has {{towers_params}} parameters to its "
                 "{{half_params}}: in 2 epochs, a short run like this one favours a net that gets going fast.",
    }),
    "lrn_verdict": ("lrn", {
        "noise": "That is within the noise: this run shows no effect of LRN.",
        "helps": "Removing LRN cost more than the seed-to-seed difference: the paper's direction, though one "
                 "run per arm is a weak signal.",
        "hurts": "Removing LRN helped by more than the seed-to-seed difference: the opposite of the paper, "
                 "though one run per arm is a weak signal.",
    }),
    "pool_verdict": ("pool", {
        "noise": "That is within the noise.",
        "helps": "Overlapping pooling won by more than the seed-to-seed difference: the paper's direction, "
                 "from one run per arm.",
        "hurts": "The 2x2 pooling won by more than the seed-to-seed difference: the opposite of the paper, "
                 "from one run per arm.",
    }),
    "dropout_verdict": ("dropout", {
        "smaller_gap": "Dropout narrowed the gap between training and validation error: the paper's effect, "
                       "on a small scale.",
        "similar_gap": "The gaps are about the same: at this budget the net without dropout has not memorized "
                       "its images enough for dropout to make a difference.",
        "larger_gap": "The gap was larger with dropout: at this budget dropout slowed the fitting of the "
                      "training images more than it helped on new ones.",
    }),
    "relu_row": ("relu", {
        "relu_faster": "shown: ReLU first to {{target}}% training error (epoch {{relu_epochs}} against "
                       "{{tanh_epochs}})",
        "tanh_faster": "**not shown**: tanh first to {{target}}% training error (epoch {{tanh_epochs}} against "
                       "ReLU's {{relu_epochs}})",
        "similar": "not shown: about equal (epochs {{relu_epochs}} and {{tanh_epochs}})",
        "neither": "not shown: neither reached {{target}}% training error",
    }),
    "towers_row": ("towers", {
        "helps": "two towers {{towers_val}}%, half width {{half_val}}% validation error; but the towers have "
                 "about 4x the parameters",
        "noise": "not shown: {{towers_val}}% against {{half_val}}% validation error, within the noise",
        "hurts": "not shown: the half-width net was better ({{half_val}}% against {{towers_val}}%)",
    }),
    "lrn_row": ("lrn", {
        "noise": "not shown: {{lrn_effect}} points without LRN, within the noise (LRN is nearly a constant "
                 "scale here)",
        "helps": "{{lrn_effect}} points without LRN, more than the seed-to-seed difference; but LRN is nearly "
                 "a constant scale here, so this measures how fast the net starts, not normalization",
        "hurts": "not shown: {{lrn_effect}} points without LRN (better without)",
    }),
    "pool_row": ("pool", {
        "noise": "not shown: {{pool_effect}} points with 2x2 pooling, within the noise",
        "helps": "{{pool_effect}} points with 2x2 pooling, more than the seed-to-seed difference",
        "hurts": "not shown: {{pool_effect}} points with 2x2 pooling (2x2 better)",
    }),
    "dropout_row": ("dropout", {
        "smaller_gap": "shown: a training-validation gap of {{drop_gap}} points with dropout, {{nodrop_gap}} "
                       "without ({{tiny}} images, {{tiny_epochs}} epochs)",
        "similar_gap": "not shown: gaps of {{drop_gap}} (dropout) and {{nodrop_gap}} points",
        "larger_gap": "not shown: gaps of {{drop_gap}} (dropout) and {{nodrop_gap}} points",
    }),
}

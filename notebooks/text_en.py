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
loss; then AlexNet written out layer by layer and built by the package, and
where its 61 million parameters are; then the paper's ideas one by one, each
with a small illustration run here and the result of the project's full,
pre-registered reproduction; the paper's training recipe (data
augmentation, weight decay, the learning-rate schedule); a short training
run and a look inside the trained network; and last the paper's results.

Everything runs on Fashion-MNIST (28x28 grayscale pictures of clothes, 10
classes) instead of ImageNet, which takes days on GPUs. This copy ran top to
bottom in **{{minutes}} minutes** on {{cpu}}; every number in the text was
computed by the cells of that run or read by them from the reproduction's
results (another run or another machine gives slightly different ones).

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

On a laptop we keep the structure and shrink the sizes. The package's
`small` variant (`alexnet.variants.SMALL`) has the same five convolutions,
LRN after conv1 and conv2, overlapping pooling, dropout and three dense
layers, with {{small_widths}} kernels instead of the paper's
{{paper_widths}}, {{small_fc}} units in fc6 and fc7 instead of
{{paper_fc}}, a {{small_conv1}} first convolution at stride 1 (and 3x3 for
the others) suited to 28x28 images, and pooling with "same" padding, which
keeps the small maps even. It also pools *before* normalizing, as Caffe's
reference AlexNet (CaffeNet) does, so LRN works on a quarter of the values.

First the data: Fashion-MNIST, 60,000 training and 10,000 test images of
clothes in 10 classes. The last 1,000 training images are kept aside for
validation: the experiments below are judged on them, never trained on
them.
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

Which layers, how wide and in which order is not typed in a second time:
`alexnet_tf1` walks `alexnet.variants.layer_plan(net)`, the list of named
steps (`conv1`, `pool1`, `lrn1`, ... `fc6`, `drop6`, ... `predictions`)
from which `alexnet.AlexNet` builds its Keras layers too. So the graph
below is, by construction, the network the package builds, whatever the
variant: the paper's, or `small` with its pooling before LRN (the last
lines of the cell print both orders). A grouped convolution, the paper's
two GPUs, is a split of the maps and of the kernels into two halves,
convolved separately and concatenated.

The paper's images are 227x227x3. (The paper says 224, but 11x11 kernels
at stride 4 without padding give its 55x55 maps only from 227.)
"""

TEXT["tf1_count"] = r"""
### The same network, twice

If the graph and the package's `alexnet.AlexNet` are the same network, they
have the same number of weights and the same output shape at every layer.
The cell checks both (`assert`) for three networks. With the paper's sizes
as one tower (`single`) both have {{params_single}} parameters; the paper's
two-tower net (`paper`) has {{params_paper}}, fewer, because conv2, conv4
and conv5 each see only their own tower's half of the previous layer's
maps; the `small` version for 28x28 images has {{params_small}}.
"""

TEXT["paper_table"] = r"""
### Where the 61 million parameters are

The paper's network, as `alexnet.AlexNet()` builds it (227x227x3 images,
1000 classes, two towers), layer by layer: each output shape and the
parameters the layer holds. fc6 alone holds {{params_fc6}} of the
{{params_paper}} parameters ({{fc6_share}}%): it connects each of the
{{flatten}} values of pool5's 6x6x256 output to each of its {{paper_fc}}
units. The five convolutions together hold {{params_convs}}
({{convs_share}}%), yet they do most of the arithmetic, since each of their
kernels is applied at every position of its map. This is why dropout sits
in fc6 and fc7: that is where the network has the most room to memorize.
"""

TEXT["tf1_train"] = r"""
The TF1 graph trains, too: feed a batch of images, their one-hot labels and
`keep_prob=0.5`, and run `train_op` (SGD with momentum 0.9 at learning rate
0.01, the paper's optimizer). Sixty steps of 64 images are a sixteenth of
one pass over the data: the loss has only begun to fall, and the
validation accuracy, {{tf1_val}}%, is above the 10% of guessing (the cell
checks that it is).
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
## The paper's ideas, one at a time

Section 3 of the paper lists what made AlexNet work "in order of our
estimation of their importance": ReLU, training on two GPUs, local response
normalization, overlapping pooling; Section 4 adds dropout against
overfitting. Each idea gets two things below.

**An illustration, run here.** The small network trained with the idea and
without it, everything else equal (data, random seed, SGD with momentum 0.9
at learning rate {{lr}}, batches of 64), on {{run_images}} training images
for {{run_epochs}} epochs: about {{arm_seconds}} seconds per run on this
machine. (The learning rate is {{lr}}, not the paper's 0.01: at 0.01 this
small net has barely started after 2 epochs.) An illustration shows what
the idea does to the network; it does not decide whether the idea helps,
and the text draws no verdict from it. The paper's gains were a few tenths
of a percent to 2 percent, measured on ImageNet after 90 epochs; in a run
this short the random seed alone moves the result by about as much
(experiment 1 measures by how much).

**The full reproduction.** `alexnet reproduce all` trains each comparison
on more images for longer (4,000 to 8,000 images for 5 to 8 epochs; for
dropout 500 images for 60 epochs, where the network without it overfits),
with several random seeds per arm,
under a protocol fixed in advance in
[REPRODUCTION.md](../REPRODUCTION.md). For each claim it reports the mean
of the paired differences between the arms with its 95% interval, and a
verdict: **shown**, **not shown** or **opposite** (the paper's direction,
undecided, or the other direction). The cells read these results from
`docs/reproduction/summary.json` and check that each verdict agrees with
its interval ("shown" needs the whole interval on the paper's side,
"opposite" the whole interval on the other side). Every verdict in the
text is the reproduction's.

A **not shown** can also mean that a comparison could not test its idea,
and REPRODUCTION.md says for each claim which it was. Two comparisons of
the first protocol could not: LRN in the paper's regime (neither network
left chance within its budget) and dropout on 1,500 images (the network
without it did not overfit). An amendment, registered before its runs,
made LRN on the paper's 0-255 input with Glorot weights and dropout on 500
images for 60 epochs the deciding comparisons; the first two stay in the
table as second settings.
"""

TEXT["reproduction"] = r"""
### The full reproduction's results

{{repro_intro}}

How to read the table: an effect is "with the idea minus without it", the
mean over the seeds, in points; negative means the idea helps: a lower test
error or, for dropout, a smaller gap between validation and training error
(less overfitting). For ReLU against tanh it is a speed-up instead: tanh's
epochs to a training-error threshold divided by ReLU's (a geometric mean),
so above 1 means ReLU trains faster. ReLU and LRN were measured in more
than one setting, named in the setting column: the standardized regime of
this notebook (pixels scaled to unit variance, Glorot-initialized weights),
the paper's regime (0-255 pixels minus the mean image, weights drawn from
N(0, 0.01)) and, for LRN, the pixels regime (the paper's 0-255 input with
Glorot-initialized weights).
"""

TEXT["relu"] = r"""
### 1. ReLU instead of tanh

Units used to compute a saturating function such as tanh, whose slope is
nearly zero once its input is large (the dotted orange line on the left):
the gradient that reaches the weights through a saturated unit is tiny, and
learning slows down. ReLU, max(0, x), has slope 1 for every positive input.
The paper's Figure 1: a four-layer network with ReLUs reached 25% training
error on CIFAR-10 six times faster than the same network with tanh.

The illustration trains the small AlexNet with each activation, one seed
each, with identical settings; the right panel shows each batch's training
error (averaged over 10 batches), like Figure 1. A third run, the ReLU net
again with another random seed, measures how far apart two runs of the
*same* network end: the yardstick for every illustration below.
"""

TEXT["relu_after"] = r"""
In this run ReLU reached {{target}}% training error at epoch
{{relu_epochs}} and tanh at epoch {{tanh_epochs}} (a dash: not within the
{{run_epochs}} epochs); their validation errors were {{relu_val}}% and
{{tanh_val}}%. The same ReLU network with random seed 1 ended at
{{seed1_val}}% instead of {{base_val}}%: two seeds of one network are
{{seed_noise}} points apart. One run per arm cannot tell an effect of that
size from the seed, so this illustration decides nothing, in either
direction.

There are also reasons to expect a smaller gap here than in the paper.
Keras initializes weights with Glorot's rule, derived for tanh-like units:
it keeps them in their steep middle range, where tanh does not saturate.
Standardized inputs do the same. The paper's regime was different: raw
pixels minus their mean and weights drawn from N(0, 0.01). The full
reproduction therefore measures the speed-up in both regimes:
"""

TEXT["relu_full"] = r"""
{{relu_verdict}} {{relu2_verdict}}

Whatever the size of the speed-up on a given net, what ReLU changed for
good is that deep networks train without care to keep units out of
saturation, and it is cheap: nearly every network since uses it or a
variant.
"""

TEXT["towers"] = r"""
### 2. Two GPUs: the network as two towers

A GTX 580 had 3 GB of memory, too little for the whole network, so the
authors put half of every layer's kernels on each of two GPUs. The GPUs
exchange results only at some layers: conv2, conv4 and conv5 see only the
maps on their own GPU, conv3 and the dense layers see both. The package
builds this as one model in which conv2, conv4 and conv5 are *grouped*
convolutions (`variant="small-2tower"`).

The paper compared the two-tower net with a net on one GPU that has half
the kernels in conv1 to conv4 but conv5 and the dense layers at full width
(its footnote 2): most of the parameters are in fc6, which reads conv5, so
the two nets have about the same number of parameters. The two-tower net
was 1.7% better in top-1 error. The package derives that one-GPU net as
`variant="small-1gpu"` (`alexnet.variants.one_gpu`); the illustration
trains both.
"""

TEXT["towers_after"] = r"""
The two nets are nearly the same size, {{towers_params}} parameters with
two towers and {{gpu1_params}} on one GPU (conv widths {{towers_widths}}
and {{gpu1_widths}}, the same dense layers). In this run their validation
errors were {{towers_val}}% (two towers) and {{gpu1_val}}% (one GPU): one
seed each, where two seeds of one network differ by {{seed_noise}} points,
so no verdict.

What the grouping does is visible in the weights. conv2's kernels in the
two-tower net have {{tower_split}} input channels, not {{conv1_filters}}:
each sees only its own tower's {{tower_split}} of conv1's
{{conv1_filters}} maps (conv1's filters divided by the {{groups}} groups;
the cell checks it). The picture shows conv1's kernels, one row per tower.
The paper saw the towers specialize: the kernels on GPU 1 came out largely
colour-agnostic, those on GPU 2 colour-specific (its Figure 3).
Fashion-MNIST has no colour to specialize on, and 2 epochs are little
training, so the two rows look alike. Seeing the specialization takes
colour images and long training (`alexnet train --data cifar10 --variant
small-2tower`, then `alexnet filters`).

The full reproduction, two towers against one GPU:
"""

TEXT["towers_full"] = r"""
{{towers_verdict}} The split was first of all a way to fit the network into
the memory of 2012's GPUs.
"""

TEXT["lrn"] = r"""
### 3. Local response normalization

The paper: LRN lowered the top-1 error by 1.4% on ImageNet, and a CIFAR-10
net's test error from 13% to 11%. The illustration trains the small net
without it.
"""

TEXT["lrn_probe"] = r"""
With LRN the validation error was {{base_val}}%, without it
{{no_lrn_val}}% ({{lrn_effect}} points, with minus without): one seed each,
where two seeds of the same network are {{seed_noise}} points apart, so no
verdict.

What does LRN compute in this network? The next cell divides lrn1's output
by its input (pool1's output) at every position where the input is not
zero, for 200 validation images, in three settings: this notebook's
(pixels standardized, Glorot-initialized weights), freshly built and after
the training of experiment 1, and the paper's regime: raw pixels minus
their mean (`preprocessing=dict(mean=(mean,), std=(1.0,), scale=1.0)`)
and weights drawn from N(0, 0.01)
(`dataclasses.replace(alexnet.variants.SMALL, init="paper")`, passed as
`variant=`).
"""

TEXT["lrn_after"] = r"""
With standardized inputs the ratio lies between {{lrn_trained_low}} and
{{lrn_trained_high}} in the trained net ({{lrn_standardized_low}} to
{{lrn_standardized_high}} fresh): 2^-0.75 = 0.5946, the value when the sum
of squares is negligible next to k = 2. With alpha = 1e-4, activations
would have to be in the tens for the sum to matter; here 99% of lrn1's
inputs are below {{lrn_trained_input}}. So LRN multiplies by a constant:
between the weakest and the strongest responses its factor differs by
{{lrn_trained_damping}}%. Over a full training run the next layer absorbs
any constant, and a constant normalizes nothing.

In the paper's regime the activations are larger (99% below
{{lrn_paper_input}}) and the ratio varies: from {{lrn_paper_low}} to
{{lrn_paper_high}} (median {{lrn_paper_median}}), so the strongest
responses are damped {{lrn_paper_damping}}% more than the weakest, which is
what a normalization does (the cell checks that the ratio varies at least
ten times as much as with standardized inputs). The paper's conv1, with
11x11x3 kernels, sums 363 inputs per output where ours sums 25, so its
activations are larger still at initialization. The full reproduction
measures LRN in both regimes and in a third, the paper's input with Glorot
weights, in which the network trains (its printout also gives lrn1's ratio in the
networks it trained, where it recorded one):
"""

TEXT["lrn_full"] = r"""
{{lrn_verdict}} {{lrn2_verdict}}

{{lrn_stuck}}

LRN has since been replaced by batch normalization (2015), which scales
each channel by statistics it measures instead of fixed constants.
"""

TEXT["pooling"] = r"""
### 4. Overlapping pooling

Max pooling summarizes each neighbourhood of a map by its largest value.
Traditional pooling used windows that do not overlap (2x2 at stride 2);
AlexNet's windows are 3x3 at stride 2, so neighbouring windows share a row
or a column. The output has the same size either way (the last lines of
the cell print and check it), so the swap is fair. The paper: top-1 error
0.4% lower, and the net slightly harder to overfit.
"""

TEXT["pooling_after"] = r"""
With 2x2 pooling the validation error was {{pool_val}}%, with 3x3 pooling
{{base_val}}% ({{pool_effect}} points, 3x3 minus 2x2): one seed each, and
two seeds of one network differ by {{seed_noise}}, far more than the
paper's 0.4%. No verdict from this run. The full reproduction:
"""

TEXT["pooling_full"] = r"""
{{pool_verdict}}
"""

TEXT["dropout"] = r"""
### 5. Dropout

A net with 60 million parameters, trained on 1.2 million images, can
memorize them: the training error keeps falling while the error on new
images stops improving. Dropout sets each output of fc6 and fc7 to zero with
probability 0.5 during training, so that no unit can rely on particular
others being present; at test time every unit is used. Without it, the
paper's net overfitted "substantially".

Overfitting needs a net that is big for its data, so the illustration
gives the small net only {{few}} images and trains it for {{few_epochs}}
epochs, with and without dropout. Both errors in the figure are measured
in inference mode (dropout off), the way the net is used, on the
{{few}} training images and on the validation images. (These two runs use
Adam at learning rate 0.001 and batches of 32, which fit a small set within
this notebook's budget; the SGD of the other runs needs many more epochs
to memorize it.)
"""

TEXT["dropout_after"] = r"""
Without dropout the net memorized its {{few}} images: it ended at
{{nodrop_train}}% error on them and {{nodrop_val}}% on the validation
images, a gap of {{nodrop_gap}} points. That is overfitting, and the cell
checks it (at most 5% on the training images, a gap of at least 10
points). With dropout: {{drop_train}}% and {{drop_val}}%, a gap of
{{drop_gap}} points. One seed each: whether dropout reduces the
overfitting is a question for the full reproduction below, not for this
pair of runs.

One detail matters when a net trained with dropout is used. During
training each unit is kept with probability 1 - p = 0.5, so a layer's
inputs are on average half of what they are with every unit present. The
paper multiplies the outputs by 0.5 at test time; Keras (and most libraries
since) use *inverted* dropout: they divide the kept outputs by 1 - p while
training (×{{keep_scale}}) and leave the net alone at test time. The cell
checks, with 100,000 random masks and with `keras.layers.Dropout` itself,
that either way the expected activation during training equals the
activation at test time.
"""

TEXT["dropout_scaling"] = r"""
The two conventions differ only by a constant factor of {{keep_scale}}
in the scale of the activations, which the next layer's weights absorb: a
net trained with one convention is a net of the other with the next
layer's weights scaled by that factor. The full reproduction:
"""

TEXT["dropout_full"] = r"""
{{dropout_verdict}}
"""

TEXT["augmentation"] = r"""
## The paper's training recipe

### Data augmentation

With 1.2 million images and 60 million parameters, the paper enlarged the
training set artificially (Section 4.1), in two ways that cost almost
nothing because the CPU prepares the next images while the GPUs train.

1. **Crops and mirror images.** Each image is resized so that its shorter
   side is 256 pixels and cut to its central 256x256 square. Training uses
   random 224x224 patches of it and their horizontal mirror images:
   (256 - 224)² x 2 = {{aug_factor}} versions of each image, the paper's
   count ({{aug_positions}} if each axis's 33 positions are counted). At
   test time the network averages its predictions over {{test_crops}}
   patches: the four corners and the centre, and their mirror images.
2. **Colour noise.** A principal component analysis of the RGB values of
   all training pixels gives three directions in colour space and their
   variances (eigenvalues). To each training image the paper adds a random
   multiple of each direction, proportional to its eigenvalue, with the
   multiple drawn from N(0, 0.1) once per image: the same object under
   slightly different lighting. This lowered the top-1 error by over 1%.

The package implements both in `alexnet.data.pipeline` (`random_crop`,
`random_flip`, `ten_crops`, `pca_lighting`), used by `alexnet train` on
ImageNet-sized images. The cell applies them to a colour photograph that
comes with matplotlib (Fashion-MNIST has no colour), using this one
photograph's colour PCA in place of ImageNet's.
"""

TEXT["recipe"] = r"""
The random crops move and mirror the picture; the colour noise at the
paper's strength (std 0.1) changes it only slightly, which is the point:
the last picture, at ten times that strength, shows the direction of the
change.

### Weight decay and momentum

The paper trains with stochastic gradient descent on batches of 128
images, momentum 0.9 and weight decay 0.0005 (Section 5). Its update rule
for a weight w, with learning rate ε, is

$$v \leftarrow 0.9\, v - 0.0005\, \varepsilon\, w - \varepsilon\, \frac{\partial L}{\partial w}, \qquad w \leftarrow w + v.$$

The middle term is the weight decay: every step pulls each weight a little
towards zero, as an L2 penalty on the weights would, and the paper found it
lowers the *training* error too, not only overfitting. The package's
`PaperSGD` (in `alexnet.training.optim`) implements exactly this rule,
decaying the kernels but not the biases; the cell applies three steps with
it and with the formula by hand and checks that they agree. It also checks
`alexnet.config.PAPER_RECIPE`, the recipe `alexnet train` uses for the
paper's network, against the paper's numbers.
"""

TEXT["schedule"] = r"""
With a zero gradient (the last step) the weights still shrink: the decay
alone takes 0.0005 x 0.01 = 0.000005 of each weight per step, and momentum
carries the earlier steps on.

### The learning-rate schedule

The paper started every layer at learning rate 0.01 and divided it by 10
whenever the validation error stopped improving at the current rate,
by hand; it did so three times before stopping. Training took about 90
passes through the 1.2 million images: five to six days on two GTX 580
GPUs. `alexnet train --schedule plateau` does the same automatically
(Keras' `ReduceLROnPlateau` with `factor=0.1`, after `--patience` epochs
without improvement); the package's own recipe for `small` uses a short
warm-up and a cosine decay instead, which suits a budget of a few epochs.
"""

TEXT["final"] = r"""
## A short training run

Now the small AlexNet with the paper's ideas all on (ReLU, LRN, overlapping
pooling, dropout) and SGD with momentum, on {{final_images}} images for 2
epochs: {{final_seconds}} seconds here. It reaches **{{final_test}}%** on
the 10,000 test images. (`alexnet train` runs the package's full recipe
for this net: all the training images, many more epochs, a learning rate
that warms up and decays, label smoothing and more; README, "The main
job", gives its time and accuracy.)
"""

TEXT["filters"] = r"""
### What conv1 learned

Each conv1 kernel is a 5x5 patch of weights, drawn as a small picture
(each on its own grey scale). The paper's Figure 3 shows its 96 kernels of
11x11x3: smooth oriented edges, stripes and colour blobs, learned over 90
epochs. After 2 epochs on 28x28 grayscale images our {{conv1_count}} are
still noisy; a few already have a light side and a dark side, the start of
an edge detector.
"""

TEXT["feature_maps"] = r"""
### Feature maps: what one image becomes

`alexnet.activations.feature_maps` runs one image through the net and
returns what conv1 to conv5 output; `draw_feature_maps` draws each layer's
maps as a grid (bright = strongly active, on each layer's own scale) under
the image and its top classes. conv1's maps ({{conv1_size}}) still look
like the garment, each lighting up some edges or regions; deeper maps are
smaller ({{conv2_size}} for conv2, {{conv3_size}} from conv3 on) and more
abstract: they respond to parts and combinations that help tell the classes
apart. The same figure from the command line: `alexnet activations MODEL
IMAGE -o maps.png`.
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

TEXT["ilsvrc"] = r"""
## What AlexNet achieved

The paper's results on ImageNet (its Tables 1 and 2), error rates in
percent. Top-1: the most probable class is wrong; top-5: the right class is
not among the five most probable. On the ILSVRC-2010 test set one network
had 17.0% top-5 error, {{ilsvrc2010_top5_gain}} points below the best
published result. In the ILSVRC-2012 competition, an average of seven
networks (two of them first trained on the larger Fall 2011 release of
ImageNet) reached 15.3% top-5 error on the test set, where the runner-up,
with hand-designed SIFT and Fisher-vector features, had 26.2%: a margin of
{{ilsvrc_margin}} points, which turned computer vision to convolutional
networks.
"""

TEXT["summary"] = r"""
## Summary

| the paper's idea | the paper | the illustration here (one seed, no verdict) | the full reproduction |
|---|---|---|---|
| ReLU instead of tanh | 6x faster to 25% training error | epochs to {{target}}% training error: ReLU {{relu_epochs}}, tanh {{tanh_epochs}} (-: not reached) | {{relu_row}} |
| two GPUs (towers) | top-1 error -1.7% | validation error {{towers_val}}% (two towers), {{gpu1_val}}% (one GPU) | {{towers_row}} |
| LRN | top-1 error -1.4% | {{lrn_effect}} points (with minus without) | {{lrn_row}} |
| overlapping pooling | top-1 error -0.4% | {{pool_effect}} points (3x3 minus 2x2) | {{pool_row}} |
| dropout | prevents substantial overfitting | without dropout: {{nodrop_train}}% training, {{nodrop_val}}% validation error ({{few}} images) | {{dropout_row}} |

Two seeds of the same network were {{seed_noise}} points apart in this
notebook's short runs: that is why the illustrations show the mechanisms
(saturation, grouped layers, what LRN computes, how overfitting looks)
and leave the verdicts to the full reproduction. To go further: `alexnet
reproduce all` (the protocol and results: [REPRODUCTION.md](../REPRODUCTION.md)),
`alexnet train` for the full model, `alexnet activations` and `alexnet
filters` to look inside it. The last cell prints every number the text
quoted.
"""


REGIMES = {"paper": "the paper's regime (0-255 pixels minus the mean image, weights drawn from N(0, 0.01))",
           "pixels": "the pixels regime (the paper's 0-255 pixels minus the mean image, Glorot weights)",
           "standardized": "the standardized regime (pixels scaled to unit variance, Glorot weights)",
           "missing": ""}
WHAT = {"error": "the test error", "gap": "the overfitting (validation error minus training error)",
        "speed": "the speed", "missing": ""}
QUOTED = ("relu", "relu_2", "lrn", "lrn_2", "pool", "towers", "dropout")


def _reproduced(short, idea, secondary=False):
    """The sentences for one claim of the full reproduction: its verdict, its mean effect and the
    95% interval, all from summary.json (``repro_<short>...`` in ``numbers``). ``secondary``: the
    sentence for the claim's second setting, which follows the main one (and is empty without one)."""
    n = f"repro_{short}"
    lead = (f"Measured again in {{{{{short}_regime}}}}" if secondary else
            f"In the full reproduction, in {{{{{short}_regime}}}} with {{{{repro_seeds}}}} seeds per arm")
    if short.startswith("relu"):
        measured = (f"{lead}, ReLU reached the training-error threshold {{{{{n}_effect}}}} times as fast as tanh "
                    f"(tanh's epochs divided by ReLU's, the geometric mean over the seeds; 95% interval "
                    f"{{{{{n}_low}}}} to {{{{{n}_high}}}})")
    else:
        measured = (f"{lead}, {idea} changed {{{{{short}_what}}}} by {{{{{n}_effect}}}} points (with the idea "
                    f"minus without, the mean over the seeds; 95% interval {{{{{n}_low}}}} to {{{{{n}_high}}}})")
    return {
        "shown": f"{measured}: **shown**, the paper's direction.",
        "not shown": f"{measured}: **not shown**; by the protocol's rule this does not establish the "
                     "paper's effect.",
        "opposite": f"{measured}: **the opposite** of the paper's claim.",
        "missing": "" if secondary else "(The full reproduction's result is missing from this copy: its "
                                        "summary.json was not found when the notebook ran.)",
    }


def _row(short, unit):
    n = f"repro_{short}"
    size = f"{{{{{n}_effect}}}}{unit} ({{{{{n}_low}}}} to {{{{{n}_high}}}})"
    return {"shown": f"**shown**: {size}", "not shown": f"not shown: {size}",
            "opposite": f"**opposite**: {size}", "missing": "not available"}


# Sentences that depend on what a run found: placeholder -> (the key of
# ``numbers`` holding the finding, {finding: text}). The verdicts are the
# full reproduction's (summary.json), never the illustrations'.
VERDICTS = {
    "repro_intro": ("repro", {
        "found": "The project's `alexnet reproduce all` trained every arm with {{repro_seeds}} random seeds on "
                 "{{repro_data}} ({{repro_minutes}} minutes of training on {{repro_cpu}}); the cell below read its "
                 "`summary.json` and shows one row per claim.",
        "missing": "The full reproduction's `summary.json` was not found when this copy ran (the cell below "
                   "says where it looked), so its results are missing from this copy. Make it with "
                   "`alexnet reproduce all` and put it in `docs/reproduction/`, or point the environment "
                   "variable `ALEXNET_REPRODUCTION_SUMMARY` at it.",
    }),
    "relu_verdict": ("repro_relu", _reproduced("relu", "ReLU")),
    "relu2_verdict": ("repro_relu_2", _reproduced("relu_2", "ReLU", secondary=True)),
    "towers_verdict": ("repro_towers", _reproduced("towers", "two towers instead of one GPU")),
    "lrn_verdict": ("repro_lrn", _reproduced("lrn", "LRN")),
    "lrn2_verdict": ("repro_lrn_2", _reproduced("lrn_2", "LRN", secondary=True)),
    "lrn_stuck": ("repro_lrn_stuck", {
        "without": "Read that effect with care: in the main setting {{repro_lrn_stuck_count}} of the "
                "{{repro_seeds}} networks without LRN never left chance (about 90% error) at the learning rate "
                "searched for the network with LRN, and every network with LRN trained. LRN kept the large "
                "activations of 0-255 inputs in range, so most of the effect is whether the network trains at "
                "all, not the better generalization of a trained network that the paper measured (1.4 points).",
        "both": "Read that effect with care: in the main setting {{repro_lrn_stuck_count}} of the "
                "{{repro_seeds}} networks without LRN and {{repro_lrn_stuck_with}} with it never left chance "
                "(about 90% error): those runs say whether a network trains at all, not how well it generalizes.",
        "none": "", "missing": ""}),
    "pool_verdict": ("repro_pool", _reproduced("pool", "overlapping pooling")),
    "dropout_verdict": ("repro_dropout", _reproduced("dropout", "dropout")),
    "relu_row": ("repro_relu", _row("relu", "x")),
    "towers_row": ("repro_towers", _row("towers", " points")),
    "lrn_row": ("repro_lrn", _row("lrn", " points")),
    "pool_row": ("repro_pool", _row("pool", " points")),
    "dropout_row": ("repro_dropout", _row("dropout", " points")),
}
VERDICTS.update({f"{short}_regime": (f"repro_{short}_regime", REGIMES) for short in QUOTED})
VERDICTS.update({f"{short}_what": (f"repro_{short}_what", WHAT) for short in QUOTED})

"""中文笔记本的 Markdown 文字，与 ``cells.CELLS`` 中的 ``("md", key)`` 一一对应。
``{{name}}`` 会被替换为代码单元计算出的数字。"""

TEXT = {}

TEXT["title"] = r"""
# 一步一步学 AlexNet

这份笔记本用 `alexnet` 软件包，在一台笔记本电脑的 CPU 上完成 AlexNet 练习：用
TensorFlow 搭建 Krizhevsky、Sutskever 和 Hinton 在论文 *ImageNet Classification
with Deep Convolutional Neural Networks*（NIPS 2012）中提出的网络。顺序如下：先是
TensorFlow 1 的占位符（placeholder）和会话（Session），用全连接层拟合 sin(x)，局部响应归一化（LRN），
softmax 交叉熵损失；然后把 AlexNet 逐层手写一遍，再用软件包构建一遍，并看看它的 6100 万个参数都在哪里；
接着逐一介绍论文的各个思想，每个思想都有一次在这里运行的小型演示，以及本项目按预先登记的方案完成的完整复现结果；
然后是论文的训练方案（数据增强、权重衰减、学习率调度）；再做一次短训练，看看训练好的网络内部是什么样子；最后是论文的成绩。

所有实验都在 Fashion-MNIST（28x28 的灰度服装图片，共 10 类）上进行，而不是 ImageNet——后者在 GPU
上也要训练好几天。这份笔记本从头到尾运行了 **{{minutes}} 分钟**（{{cpu}}）；正文中的每个数字，要么是这次运行中
代码单元算出来的，要么是代码单元从复现结果中读出来的（换一次运行或换一台机器，数字会略有不同）。

自己运行的方法：在仓库根目录执行 `pip install -e ".[test]"`（或 `pip install -e . jupyter`），在
Debian/Ubuntu 上执行 `apt-get install dataset-fashion-mnist`（其他系统上 Keras 会自动下载数据），然后在
Jupyter 中打开本文件。英文版（代码完全相同）：[alexnet_tutorial.en.ipynb](alexnet_tutorial.en.ipynb)。
"""

TEXT["step1"] = r"""
## 第 1 步：计算图、占位符、会话

TensorFlow 1 把 *描述* 计算和 *执行* 计算分开。`placeholder` 是一个输入槽，有类型和形状，但还没有值；
`x * 2` 只是在计算图里加了一个节点，什么也没有算；`Session.run(y, feed_dict={x: [3.]})`
才把值填进槽里，并算出这个节点。TensorFlow 2 写一句就立即执行一句（即 “eager” 模式），旧的接口保留在
`tf.compat.v1` 之下，这里就是通过它来使用的。
"""

TEXT["step2"] = r"""
## 第 2 步：用全连接层拟合 sin(x)

在处理图像的网络之前，先看一个只输入一个数的网络。训练集是 sin(x) 上随机取的 50 个点，模型是三个
`Dense` 层（矩阵乘法加偏置，再经过激活函数），损失是均方误差，优化器是 Adam。每一步先算出损失，再让
`tf.GradientTape` 求出损失对每个权重的梯度，然后由 Adam 把权重朝下坡方向挪一小步。训练 AlexNet
也是这个循环，只是模型更大、数据更多。64 步之后损失为 {{sin_loss}}：在有训练点的地方，红色曲线贴合了灰色曲线。
"""

TEXT["step3"] = r"""
## 第 3 步：局部响应归一化（LRN）

AlexNet 把每个激活值除以它在 *深度方向* 上邻居的平方和：也就是同一个像素在相邻通道（相邻卷积核的输出）上的值，

$$b_c = \frac{a_c}{\left(\text{bias} + \alpha \sum_{|j-c| \le \text{depth\_radius}} a_j^2\right)^{\beta}}.$$

这个想法来自真实神经元的“侧抑制”：强烈激活的卷积核会压低它的邻居，于是卷积核之间相互竞争。练习用
`np.arange(60).reshape([5, 2, 2, 3])` 和 `depth_radius=2, bias=0, alpha=1, beta=1` 来验证公式，这样算起来很简单：
数值 1 位于第一个像素的第 1 个通道，它的窗口是第 0 到第 2 个通道，其中的值为 0、1、2，所以输出是
1 / (0 + 1 + 4) = 0.2。下面的单元分别用 TensorFlow 的算子和本软件包的层
`alexnet.layers.LocalResponseNormalization` 计算整个例子，并与练习给出的数字比较。

论文自己的参数是 k=2、n=5、α=1e-4、β=0.75。按 TensorFlow 的约定，就是 `depth_radius=2`（窗口为
2·2+1 = 5 个通道）、`bias=2.0, alpha=1e-4, beta=0.75`，也正是这个层的默认值。从 Caffe 或 PyTorch
抄参数时要小心：它们把 alpha 除以 n，所以它们的 `alpha=1e-4` 相当于 TensorFlow 的 `2e-5`。
"""

TEXT["step4"] = r"""
## 第 4 步：损失函数

网络最后一层为每个类别给出一个数，称为 *logits*。softmax 把它们变成概率（取指数，再除以总和）；交叉熵是真实类别
所得概率的负对数：网络有把握且答对时它很小，有把握却答错时它很大。标签用 one-hot 形式表示：真实类别处为 1，
其余为 0。`tf.nn.softmax_cross_entropy_with_logits` 一步完成这两件事，而且比先算 softmax 再取对数更精确（不会对
舍入成 0 的概率取对数）。第二行用手算再求一遍：结果相同。
"""

TEXT["model"] = r"""
## AlexNet

论文中的网络：五个卷积层，接三个全连接层，最后是 1000 类的 softmax。conv1 和 conv2 之后是 LRN，conv1、conv2 和
conv5 之后是最大池化，fc6 和 fc7 上使用丢弃法（dropout）。它约有 6000 万个参数，在两块 GPU 上用 ImageNet 的 120
万张图片训练了五到六天。

在笔记本电脑上，我们保留结构、缩小尺寸。软件包的 `small` 变体（`alexnet.variants.SMALL`）同样有五个卷积层、
conv1 和 conv2 之后的 LRN、重叠池化、dropout 和三个全连接层，只是卷积核数量为 {{small_widths}}，而不是论文的
{{paper_widths}}；fc6 和 fc7 各有 {{small_fc}} 个单元，而不是 {{paper_fc}} 个；第一层卷积改为适合 28x28 图片的
{{small_conv1}}、步长 1（其余各层为 3x3）；池化使用 “same” 填充，让小特征图的尺寸保持为偶数。它还像 Caffe 的参考
AlexNet（CaffeNet）那样 *先池化再做 LRN*，这样 LRN 只需处理四分之一的数值。

先准备数据：Fashion-MNIST，共 60,000 张训练图片和 10,000 张测试图片，10 类服装。训练集的最后 1,000
张留作验证集：下面的实验都用它们来评判，从不用它们训练。
"""

TEXT["tf1_model"] = r"""
### 用 TF1 风格写出的 AlexNet，每一层都写出来

这是练习的写法：网络是一个从输入张量到 logits 的函数，每一层是几个作用在变量上的运算，变量由
`tf.compat.v1.get_variable` 创建。练习在计算图中使用了 `tf.keras.layers.Conv2D`、`Dense` 等层；从 Keras 3
开始，Keras 的层不再能放进 TF1 计算图，所以下面的 `conv` 和 `dense` 直接写成它们所代表的运算（卷积或矩阵乘法，
加偏置，再接 ReLU）。`Flatten` 就是一次 reshape。Dropout 用 `tf.nn.dropout`，保留概率通过占位符传入：
训练时为 0.5，测试时为 1.0。

有哪些层、每层多宽、顺序如何，这些并没有再手写一遍：`alexnet_tf1` 逐步遍历
`alexnet.variants.layer_plan(net)`，即由命名步骤（`conv1`、`pool1`、`lrn1`……`fc6`、`drop6`……`predictions`）
组成的列表，`alexnet.AlexNet` 也是根据同一个列表构建它的 Keras 层。因此，无论是哪个变体——论文的网络，还是先池化再做
LRN 的 `small`——下面的计算图按构造就是软件包所构建的网络（单元的最后两行打印出两者的层顺序）。分组卷积，也就是论文的两块
GPU，就是把特征图和卷积核各分成两半，分别卷积，再拼接起来。

论文的输入图片是 227x227x3。（论文写的是 224，但 11x11 的卷积核以步长 4、不加填充，只有输入为 227 时才能得到论文中
55x55 的特征图。）
"""

TEXT["tf1_count"] = r"""
### 同一个网络，构建两次

如果手写的计算图和软件包的 `alexnet.AlexNet` 是同一个网络，它们的权重数量就相同，每一层的输出形状也相同。
单元对三个网络检查了这两点（`assert`）。按论文的尺寸做成单塔（`single`），两者都有 {{params_single}} 个参数；
论文的双塔网络（`paper`）有 {{params_paper}} 个，更少一些，因为 conv2、conv4 和 conv5 都只看到本塔中上一层的一半特征图；
为 28x28 图片准备的 `small` 版本有 {{params_small}} 个参数。
"""

TEXT["paper_table"] = r"""
### 6100 万个参数都在哪里

下面是 `alexnet.AlexNet()` 构建的论文网络（227x227x3 的图片，1000 类，双塔）逐层的输出形状和参数个数。
仅 fc6 一层就有 {{params_fc6}} 个参数，占全部 {{params_paper}} 个的 {{fc6_share}}%：它把 pool5 的 6x6x256 输出中的
{{flatten}} 个数值，与它的 {{paper_fc}} 个单元逐一相连。五个卷积层合起来只有 {{params_convs}} 个参数（{{convs_share}}%），
却承担了大部分计算量，因为每个卷积核都要作用于特征图的每一个位置。这也是 dropout 放在 fc6 和 fc7 的原因：网络在那里
最有余地去死记训练数据。
"""

TEXT["tf1_train"] = r"""
TF1 计算图也能训练：喂入一批图片、它们的 one-hot 标签和 `keep_prob=0.5`，然后运行 `train_op`（学习率 0.01、
动量 0.9 的 SGD，即论文的优化器）。60 步、每步 64 张图片，还不到一轮数据的十六分之一；损失刚开始下降，
验证准确率为 {{tf1_val}}%，高于随机猜测的 10%（单元检查了这一点）。
"""

TEXT["keras_model"] = r"""
### 用软件包构建同一个网络

`alexnet.AlexNet(variant="small", ...)` 把它构建成一个 Keras 模型，每一层都按论文命名。它的第一层
`preprocess` 在模型内部把原始像素（0-255）标准化，因此保存下来的模型不需要另外的预处理说明。从这里开始，我们使用
这个模型和 Keras 的 `fit`，由它替我们执行第 2 步中的训练循环。
"""

TEXT["ideas"] = r"""
## 论文的思想，逐一来看

论文第 3 节列出了让 AlexNet 成功的因素，“按我们估计的重要性排序”：ReLU、在两块 GPU 上训练、局部响应归一化、
重叠池化；第 4 节又加上了对抗过拟合的 dropout。下面每个思想都有两部分内容。

**在这里运行的演示。** 把小网络训练两次，一次用这个思想，一次不用，其余条件完全相同（数据、随机种子、学习率
{{lr}}、动量 0.9 的 SGD、每批 64 张），都在 {{run_images}} 张训练图片上训练 {{run_epochs}} 轮：在这台机器上每次约
{{arm_seconds}} 秒。（学习率用 {{lr}} 而不是论文的 0.01：这个小网络用 0.01 时，2 轮之内还几乎没有起步。）
演示说明的是这个思想对网络做了什么；它不能判定这个思想是否有益，正文也不从演示中得出结论。论文的提升在零点几个到
2 个百分点之间，是在 ImageNet 上训练 90 轮后测得的；在这么短的训练中，光是随机种子就会让结果变动差不多这么多
（实验 1 测量了变动有多大）。

**完整复现。** `alexnet reproduce all` 用更多的图片、训练得更久（4,000 到 8,000 张图片训练 5 到 8 轮；丢弃法的实验用 500 张图片训练 60 轮，不用丢弃法的网络在这里会过拟合），每组用多个随机种子，并遵循事先在
[REPRODUCTION.md](../REPRODUCTION.md) 中确定的方案。对每个论断，它给出两组之间配对差值的均值及其 95% 置信区间，
以及结论：**shown**（得到证实，与论文方向一致）、**not shown**（未能证实）或 **opposite**（与论文相反）。
代码单元从 `docs/reproduction/summary.json` 读取这些结果，并检查每个结论与其置信区间是否一致（“shown” 要求整个区间都在
论文的一侧，“opposite” 要求整个区间都在另一侧）。正文中的每一个结论都来自完整复现。

**not shown** 也可能意味着这组对比根本没能检验这个思想，REPRODUCTION.md 对每个论断都说明了属于哪种情况。第一版方案中有两组对比没能检验：
论文设置下的 LRN（两个网络在预算内都没有离开随机水平）和 1,500 张图片上的丢弃法（不用丢弃法的网络并没有过拟合）。
一份在运行之前登记的修订方案改用论文的 0-255 输入加 Glorot 初始化权重来检验 LRN、用 500 张图片训练 60 轮来检验丢弃法，
作为决定结论的对比；第一版的两组对比作为第二种设置留在表中。
"""

TEXT["reproduction"] = r"""
### 完整复现的结果

{{repro_intro}}

怎样读这张表：效应是“用这个思想减去不用它”，取各种子的均值，单位是百分点；负数表示这个思想有益：测试误差更低，
或者对 dropout 来说，验证误差与训练误差之差更小（过拟合更轻）。ReLU 与 tanh 的对比则是加速比：tanh 达到某个训练误差阈值
所需的轮数除以 ReLU 所需的轮数（几何平均），大于 1 表示 ReLU 训练得更快。ReLU 和 LRN 在不止一种设置下测量过，设置一栏写明了
是哪一种：本笔记本的标准化做法（像素缩放到单位方差、Glorot 初始化的权重）、论文的做法（0-255 的像素减去平均图像、
权重取自 N(0, 0.01)），以及 LRN 的像素做法（论文的 0-255 输入，Glorot 初始化的权重）。
"""

TEXT["relu"] = r"""
### 1. 用 ReLU 代替 tanh

过去的神经元使用 tanh 这类会饱和的函数：输入一旦较大，斜率就几乎为零（左图中橙色点线）。经过饱和神经元传回
权重的梯度非常小，学习就慢下来。ReLU，即 max(0, x)，对所有正输入的斜率都是 1。论文的图 1：一个四层的 ReLU
网络在 CIFAR-10 上达到 25% 训练误差的速度，是同样的 tanh 网络的六倍。

演示用完全相同的设置，分别以两种激活函数训练小 AlexNet，各用一个随机种子；右图像论文的图 1 一样，画出每一批的训练误差
（取 10 批的平均）。第三次运行用另一个随机种子再训练一次 ReLU 网络，测量 *同一个* 网络的两次运行最后相差多少：这是下面
所有演示共用的标尺。
"""

TEXT["relu_after"] = r"""
在这次运行中，ReLU 在第 {{relu_epochs}} 轮达到 {{target}}% 的训练误差，tanh 在第 {{tanh_epochs}} 轮（短横线表示
{{run_epochs}} 轮内没有达到）；两者的验证误差分别为 {{relu_val}}% 和 {{tanh_val}}%。同一个 ReLU 网络换用随机种子 1，
最后的验证误差是 {{seed1_val}}%，而不是 {{base_val}}%：同一网络的两个种子相差 {{seed_noise}} 个百分点。每组只跑一次，
无法把这么大的效应与种子的影响区分开，所以这个演示无论朝哪个方向都说明不了什么。

另外，也有理由预期这里的差距比论文中小。Keras 用 Glorot 规则初始化权重，这个规则是为 tanh 这类神经元推导的：
它让神经元处在陡峭的中段，tanh 在那里不会饱和。标准化的输入也有同样的作用。论文的做法不同：原始像素减去均值，
权重取自 N(0, 0.01)。因此，完整复现在两种做法下都测量了加速比：
"""

TEXT["relu_full"] = r"""
{{relu_verdict}}{{relu2_verdict}}

无论在某个网络上加速多少，ReLU 真正带来的长久改变是：深层网络不必再小心翼翼地让神经元远离饱和也能训练，
而且它计算起来很便宜，所以此后几乎所有网络都使用它或它的变体。
"""

TEXT["towers"] = r"""
### 2. 两块 GPU：把网络分成两个塔

一块 GTX 580 只有 3 GB 显存，放不下整个网络，于是作者把每一层的卷积核一半放在一块 GPU 上，另一半放在另一块上。
两块 GPU 只在某些层交换结果：conv2、conv4 和 conv5 只看到本 GPU 上的特征图，conv3 和全连接层则能看到两边的。
软件包把它构建成一个模型，其中 conv2、conv4 和 conv5 是 *分组* 卷积（`variant="small-2tower"`）。

论文把双塔网络与一个单 GPU 网络作比较：后者在 conv1 到 conv4 中只有一半的卷积核，但 conv5 和全连接层保持原宽度
（论文脚注 2）。大部分参数在读取 conv5 输出的 fc6 中，所以两个网络的参数数量差不多。双塔网络的 top-1 误差低 1.7%。
软件包把这个单 GPU 网络导出为 `variant="small-1gpu"`（`alexnet.variants.one_gpu`）；演示训练这两个网络。
"""

TEXT["towers_after"] = r"""
两个网络的规模几乎相同：双塔网络有 {{towers_params}} 个参数，单 GPU 网络有 {{gpu1_params}} 个（卷积层宽度分别为
{{towers_widths}} 和 {{gpu1_widths}}，全连接层相同）。在这次运行中，它们的验证误差分别为 {{towers_val}}%（双塔）和
{{gpu1_val}}%（单 GPU）：各只有一个种子，而同一网络的两个种子就相差 {{seed_noise}} 个百分点，所以不下结论。

分组的作用可以从权重中看出来。双塔网络中 conv2 的卷积核有 {{tower_split}} 个输入通道，而不是 {{conv1_filters}} 个：
每个卷积核只看到本塔中 conv1 的 {{conv1_filters}} 张特征图里的 {{tower_split}} 张（conv1 的卷积核数除以 {{groups}} 组；
单元检查了这一点）。下图画出 conv1 的卷积核，每个塔一行。论文观察到两个塔出现了分工：GPU 1 上的卷积核大多与颜色无关，
GPU 2 上的则专门针对颜色（论文图 3）。Fashion-MNIST 没有颜色可供分工，训练 2 轮也太少，所以两行看上去差不多。
要看到这种分工，需要彩色图片和长时间训练（先 `alexnet train --data cifar10 --variant small-2tower`，再
`alexnet filters`）。

完整复现，双塔对单 GPU：
"""

TEXT["towers_full"] = r"""
{{towers_verdict}}拆分首先是为了让网络放进 2012 年 GPU 的显存。
"""

TEXT["lrn"] = r"""
### 3. 局部响应归一化

论文：LRN 使 ImageNet 上的 top-1 误差降低 1.4%，使一个 CIFAR-10 网络的测试误差从 13% 降到 11%。演示去掉它训练一次小网络。
"""

TEXT["lrn_probe"] = r"""
用 LRN 时验证误差为 {{base_val}}%，不用时为 {{no_lrn_val}}%（用减去不用，相差 {{lrn_effect}} 个百分点）：各只有一个种子，
而同一网络的两个种子相差 {{seed_noise}} 个百分点，所以不下结论。

LRN 在这个网络里究竟算了什么？下一个单元在 200 张验证图片上，把 lrn1 的输出除以它的输入（pool1 的输出），
只看输入不为零的位置，共三种设置：本笔记本的做法（标准化的像素、Glorot 初始化的权重），分别取刚构建的网络和实验 1
训练后的网络；以及论文的做法：原始像素减去均值（`preprocessing=dict(mean=(mean,), std=(1.0,), scale=1.0)`），
权重取自 N(0, 0.01)（`dataclasses.replace(alexnet.variants.SMALL, init="paper")`，作为 `variant=` 传入）。
"""

TEXT["lrn_after"] = r"""
输入经过标准化时，训练后的网络中这个比值在 {{lrn_trained_low}} 到 {{lrn_trained_high}} 之间（刚构建时为
{{lrn_standardized_low}} 到 {{lrn_standardized_high}}）：也就是 2^-0.75 = 0.5946，这正是平方和与 k = 2 相比可以忽略时的值。
alpha = 1e-4 时，激活值要达到几十，平方和才起作用；而这里 lrn1 的输入有 99% 小于 {{lrn_trained_input}}。于是 LRN
只是乘上一个常数：最弱和最强的响应所乘的因子只相差 {{lrn_trained_damping}}%。在完整的训练中，任何常数都会被下一层吸收，
而乘一个常数并不是归一化。

按论文的做法，激活值要大得多（99% 小于 {{lrn_paper_input}}），比值也随之变化：从 {{lrn_paper_low}} 到
{{lrn_paper_high}}（中位数 {{lrn_paper_median}}），最强的响应比最弱的多压低 {{lrn_paper_damping}}%，这才是归一化的作用
（单元检查了比值的变化幅度至少是标准化输入时的十倍）。论文的 conv1 用 11x11x3 的卷积核，每个输出对 363 个输入求和，
而我们的只对 25 个求和，所以在初始化时论文网络的激活值还要更大。完整复现在两种做法下都测量了 LRN，还在第三种做法（论文的输入加 Glorot 初始化的权重，网络在这里能训练起来）下测量了它（如果它记录了 lrn1 的比值，下面的输出也会给出它训练的网络中的比值）：
"""

TEXT["lrn_full"] = r"""
{{lrn_verdict}}{{lrn2_verdict}}

{{lrn_stuck}}

后来 LRN 被批归一化（batch normalization，2015 年）取代：它按实际测得的统计量而不是固定常数来缩放每个通道。
"""

TEXT["pooling"] = r"""
### 4. 重叠池化

最大池化用每个邻域中的最大值来概括这个邻域。传统的池化窗口互不重叠（2x2，步长 2）；AlexNet 的窗口是 3x3、步长
2，所以相邻窗口共享一行或一列。两种做法的输出尺寸相同（单元最后几行打印并检查了这一点），因此这样替换是公平的。
论文：top-1 误差降低 0.4%，而且网络稍微不容易过拟合。
"""

TEXT["pooling_after"] = r"""
用 2x2 池化时验证误差为 {{pool_val}}%，用 3x3 池化时为 {{base_val}}%（3x3 减去 2x2，相差 {{pool_effect}} 个百分点）：
各只有一个种子，而同一网络的两个种子就相差 {{seed_noise}} 个百分点，远大于论文的 0.4%。这次运行不下结论。完整复现：
"""

TEXT["pooling_full"] = r"""
{{pool_verdict}}
"""

TEXT["dropout"] = r"""
### 5. 丢弃法（dropout）

一个有 6000 万参数的网络，用 120 万张图片训练，也能把它们背下来：训练误差一直下降，而在新图片上的误差却不再改善。
Dropout 在训练时以 0.5 的概率把 fc6 和 fc7 的每个输出置零，使任何神经元都不能依赖某些特定的其他神经元；测试时
所有神经元都参与。论文说，没有它，网络会“严重”过拟合。

过拟合需要一个相对数据而言很大的网络，所以演示只给小网络 {{few}} 张图片，训练 {{few_epochs}} 轮，分别用和不用 dropout。
图中的两种误差都是在推理模式下（关闭 dropout，也就是网络实际使用时的方式）测量的，分别在这 {{few}} 张训练图片和验证图片上。
（这两次运行用学习率 0.001 的 Adam、每批 32 张，这样在本笔记本的时间预算内就能拟合这个小数据集；其他运行所用的 SGD
要多训练很多轮才能把它背下来。）
"""

TEXT["dropout_after"] = r"""
不用 dropout 时，网络把它的 {{few}} 张图片背了下来：在这些图片上的误差最后为 {{nodrop_train}}%，在验证图片上为
{{nodrop_val}}%，相差 {{nodrop_gap}} 个百分点。这就是过拟合，单元也检查了这一点（训练图片上的误差至多 5%，差距至少
10 个百分点）。用 dropout 时分别为 {{drop_train}}% 和 {{drop_val}}%，相差 {{drop_gap}} 个百分点。各只有一个种子：
dropout 是否减轻了过拟合，要由下面的完整复现来回答，而不是这两次运行。

使用带 dropout 训练的网络时，有一个细节很重要。训练时每个神经元以 1 - p = 0.5 的概率保留，所以一层的输入平均只有
所有神经元都在时的一半。论文在测试时把输出乘以 0.5；Keras（以及此后的大多数库）使用 *反向*（inverted）dropout：
训练时把保留下来的输出除以 1 - p（即乘以 {{keep_scale}}），测试时什么也不做。单元用 100,000 个随机掩码，以及
`keras.layers.Dropout` 本身，检查了两种做法下训练时激活值的期望都等于测试时的激活值。
"""

TEXT["dropout_scaling"] = r"""
两种约定只在激活值的尺度上相差一个常数因子 {{keep_scale}}，它会被下一层的权重吸收：用一种约定训练的网络，只要把下一层的
权重乘以这个因子，就是另一种约定下的网络。完整复现：
"""

TEXT["dropout_full"] = r"""
{{dropout_verdict}}
"""

TEXT["augmentation"] = r"""
## 论文的训练方案

### 数据增强

面对 120 万张图片和 6000 万个参数，论文用两种方法人为地扩大训练集（第 4.1 节）；由于 GPU 训练时 CPU 就在准备下一批图片，
这两种方法几乎没有额外开销。

1. **裁剪和镜像。** 把每张图片缩放到短边为 256 像素，再切出中央 256x256 的正方形。训练时使用其中随机的 224x224 小块
   及其水平镜像：每张图片有 (256 - 224)² x 2 = {{aug_factor}} 个版本，这是论文的算法（若每个方向算 33 个位置，则为
   {{aug_positions}} 个）。测试时，网络对 {{test_crops}} 个小块的预测取平均：四个角和中央，以及它们的镜像。
2. **颜色噪声。** 对所有训练像素的 RGB 值做主成分分析（PCA），得到颜色空间中的三个方向及其方差（特征值）。论文给每张训练
   图片加上每个方向的一个随机倍数，与其特征值成正比，倍数每张图片抽取一次，服从 N(0, 0.1)：相当于同一物体在略有不同的
   光照下。这使 top-1 误差降低了 1% 以上。

软件包在 `alexnet.data.pipeline` 中实现了这两种方法（`random_crop`、`random_flip`、`ten_crops`、`pca_lighting`），
`alexnet train` 在 ImageNet 尺寸的图片上使用它们。单元把它们用在 matplotlib 自带的一张彩色照片上（Fashion-MNIST 没有颜色），
并用这张照片自己的颜色 PCA 代替 ImageNet 的。
"""

TEXT["recipe"] = r"""
随机裁剪移动并镜像了图片；按论文的强度（标准差 0.1）加的颜色噪声只让图片略有变化，这正是目的所在：最后一张图用了
十倍的强度，显示出变化的方向。

### 权重衰减和动量

论文用随机梯度下降训练，每批 128 张图片，动量 0.9，权重衰减 0.0005（第 5 节）。对权重 w、学习率 ε，它的更新规则是

$$v \leftarrow 0.9\, v - 0.0005\, \varepsilon\, w - \varepsilon\, \frac{\partial L}{\partial w}, \qquad w \leftarrow w + v.$$

中间一项就是权重衰减：每一步都把每个权重向零拉一点，相当于对权重加 L2 惩罚；论文发现它连 *训练* 误差也降低了，
而不只是减轻过拟合。软件包的 `PaperSGD`（在 `alexnet.training.optim` 中）正是实现了这条规则，只衰减卷积核和权重矩阵，
不衰减偏置；单元用它和手算公式各走三步，并检查两者一致。单元还检查了 `alexnet.config.PAPER_RECIPE`（`alexnet train`
训练论文网络时所用的方案）与论文的数字是否一致。
"""

TEXT["schedule"] = r"""
梯度为零时（最后一步），权重仍在缩小：仅衰减一项每步就拿走每个权重的 0.0005 x 0.01 = 0.000005，动量还会把之前各步的变化延续下去。

### 学习率调度

论文中所有层的学习率都从 0.01 开始，每当验证误差在当前学习率下不再改善，就手动把它除以 10；在停止训练之前一共这样做了
三次。训练大约把 120 万张图片过了 90 遍：在两块 GTX 580 上用了五到六天。`alexnet train --schedule plateau`
自动完成同样的事情（Keras 的 `ReduceLROnPlateau`，`factor=0.1`，在 `--patience` 轮没有改善之后）；软件包为 `small`
准备的方案则先短暂预热，再按余弦曲线衰减，更适合只训练几轮的预算。
"""

TEXT["final"] = r"""
## 一次短训练

现在用打开论文所有思想（ReLU、LRN、重叠池化、dropout）的小 AlexNet 和带动量的 SGD，在 {{final_images}} 张图片上训练
2 轮：在这里用了 {{final_seconds}} 秒。它在 10,000 张测试图片上的准确率为 **{{final_test}}%**。（`alexnet train`
为这个网络运行软件包的完整训练方案：全部训练图片、多得多的轮数、先预热再衰减的学习率、标签平滑等等；README 的
“The main job” 一节给出了它的用时和准确率。）
"""

TEXT["filters"] = r"""
### conv1 学到了什么

每个 conv1 卷积核是一个 5x5 的权重块，这里画成一张小图（每个按自己的范围映射到灰度）。论文的图 3 展示了它的 96 个
11x11x3 卷积核：平滑的有方向的边缘、条纹和色块，是训练 90 轮学到的。我们的 {{conv1_count}} 个卷积核只在 28x28
灰度图片上训练了 2 轮，仍然充满噪声；其中有几个已经分出一亮一暗两侧，这是边缘检测器的雏形。
"""

TEXT["feature_maps"] = r"""
### 特征图：一张图片变成了什么

`alexnet.activations.feature_maps` 让一张图片通过网络，返回 conv1 到 conv5 的输出；`draw_feature_maps`
把每一层的特征图画成网格（越亮表示越强烈地激活，每层按自己的范围着色），上方是输入图片和它最可能的类别。conv1 的
特征图（{{conv1_size}}）仍然像这件衣服，每张突出某些边缘或区域；更深的特征图更小（conv2 为 {{conv2_size}}，从 conv3
起为 {{conv3_size}}），也更抽象：它们响应的是有助于区分各类的局部和组合。在命令行中得到同样的图：
`alexnet activations MODEL IMAGE -o maps.png`。
"""

TEXT["confusion"] = r"""
### 网络在哪里出错

混淆矩阵统计每个真实类别（行）被网络预测成了什么（列）；对角线上是答对的数目。这次运行中最难的类别是
{{worst_class}}，正确率 {{worst_acc}}%，最常被误认为 {{worst_as}}（{{worst_as_count}} 次）。在 28x28 的灰度图中，
衬衫、T 恤、套头衫和外套只在细节上有所不同。
"""

TEXT["predictions"] = r"""
### 几张测试图片上的预测

随机挑选的八张测试图片，每张标出最可能的两个类别和真实类别（红色表示预测错误）。网络答对了其中 {{picks_right}} 张。
"""

TEXT["ilsvrc"] = r"""
## AlexNet 的成绩

论文在 ImageNet 上的结果（论文的表 1 和表 2），错误率以百分比表示。top-1：最可能的类别是错的；top-5：正确类别不在最可能的
五个类别之中。在 ILSVRC-2010 测试集上，单个网络的 top-5 错误率为 17.0%，比此前发表的最好结果低 {{ilsvrc2010_top5_gain}}
个百分点。在 ILSVRC-2012 竞赛中，七个网络的平均（其中两个先在更大的 ImageNet 2011 秋季版上训练过）在测试集上的 top-5
错误率为 15.3%，而使用人工设计的 SIFT 和 Fisher 向量特征的第二名为 26.2%：领先 {{ilsvrc_margin}} 个百分点，
这让计算机视觉转向了卷积神经网络。
"""

TEXT["summary"] = r"""
## 总结

| 论文的思想 | 论文 | 这里的演示（一个种子，不下结论） | 完整复现 |
|---|---|---|---|
| 用 ReLU 代替 tanh | 达到 25% 训练误差快 6 倍 | 达到 {{target}}% 训练误差所需轮数：ReLU {{relu_epochs}}，tanh {{tanh_epochs}}（-：未达到） | {{relu_row}} |
| 两块 GPU（双塔） | top-1 误差 -1.7% | 验证误差 {{towers_val}}%（双塔），{{gpu1_val}}%（单 GPU） | {{towers_row}} |
| LRN | top-1 误差 -1.4% | {{lrn_effect}} 个百分点（用减去不用） | {{lrn_row}} |
| 重叠池化 | top-1 误差 -0.4% | {{pool_effect}} 个百分点（3x3 减去 2x2） | {{pool_row}} |
| dropout | 防止严重的过拟合 | 不用 dropout：训练误差 {{nodrop_train}}%，验证误差 {{nodrop_val}}%（{{few}} 张图片） | {{dropout_row}} |

在本笔记本的短训练中，同一网络的两个种子相差 {{seed_noise}} 个百分点：这就是为什么演示只展示机制（饱和、分组的层、
LRN 实际计算了什么、过拟合是什么样子），而把结论留给完整复现。想更进一步：`alexnet reproduce all`（方案和结果见
[REPRODUCTION.md](../REPRODUCTION.md)），用 `alexnet train` 训练完整模型，用 `alexnet activations` 和
`alexnet filters` 观察它的内部。最后一个单元打印出正文引用的每一个数字。
"""


REGIMES = {"paper": "论文的做法（0-255 的像素减去平均图像，权重取自 N(0, 0.01)）",
           "pixels": "像素做法（论文的 0-255 像素减去平均图像，Glorot 初始化的权重）",
           "standardized": "标准化的做法（像素缩放到单位方差，Glorot 初始化的权重）",
           "missing": ""}
WHAT = {"error": "测试误差", "gap": "过拟合程度（验证误差减去训练误差）", "speed": "速度", "missing": ""}
QUOTED = ("relu", "relu_2", "lrn", "lrn_2", "pool", "towers", "dropout")


def _reproduced(short, idea, secondary=False):
    """完整复现中一个论断的句子：结论、效应的均值和 95% 置信区间，全部来自 summary.json
    （``numbers`` 中的 ``repro_<short>...``）。``secondary``：论断第二种设置的句子，跟在主要设置之后（没有时为空）。"""
    n = f"repro_{short}"
    lead = (f"按{{{{{short}_regime}}}}再测一次" if secondary else
            f"在完整复现中，按{{{{{short}_regime}}}}、每组 {{{{repro_seeds}}}} 个种子")
    if short.startswith("relu"):
        measured = (f"{lead}，ReLU 达到训练误差阈值的速度是 tanh 的 {{{{{n}_effect}}}} 倍（tanh 所需轮数除以 ReLU "
                    f"所需轮数，各种子的几何平均；95% 置信区间 {{{{{n}_low}}}} 到 {{{{{n}_high}}}}）")
    else:
        measured = (f"{lead}，{idea}使{{{{{short}_what}}}}变化了 {{{{{n}_effect}}}} 个百分点（用减去不用，各种子的"
                    f"均值；95% 置信区间 {{{{{n}_low}}}} 到 {{{{{n}_high}}}}）")
    return {
        "shown": f"{measured}：**shown**（得到证实），方向与论文一致。",
        "not shown": f"{measured}：**not shown**（未能证实）；按方案的规则，这不足以确认论文的效应。",
        "opposite": f"{measured}：**opposite**，与论文的论断 *相反*。",
        "missing": "" if secondary else "（这份笔记本缺少完整复现的结果：运行时没有找到它的 summary.json。）",
    }


def _row(short, unit):
    n = f"repro_{short}"
    size = f"{{{{{n}_effect}}}}{unit}（{{{{{n}_low}}}} 到 {{{{{n}_high}}}}）"
    return {"shown": f"**得到证实**：{size}", "not shown": f"未能证实：{size}",
            "opposite": f"**相反**：{size}", "missing": "没有结果"}


# 取决于结果的句子：占位符 -> （``numbers`` 中保存结论的键, {结论: 文字}）。
# 结论都来自完整复现（summary.json），从不来自演示。
VERDICTS = {
    "repro_intro": ("repro", {
        "found": "本项目的 `alexnet reproduce all` 在 {{repro_data}} 上用 {{repro_seeds}} 个随机种子训练了每一组"
                 "（在 {{repro_cpu}} 上训练共用了 {{repro_minutes}} 分钟）；下面的单元读取它的 `summary.json`，每个论断一行。",
        "missing": "这份笔记本运行时没有找到完整复现的 `summary.json`（下面的单元说明了在哪里找过），所以缺少它的结果。"
                   "请用 `alexnet reproduce all` 生成它并放进 `docs/reproduction/`，或者用环境变量 "
                   "`ALEXNET_REPRODUCTION_SUMMARY` 指向它。",
    }),
    "relu_verdict": ("repro_relu", _reproduced("relu", "ReLU")),
    "relu2_verdict": ("repro_relu_2", _reproduced("relu_2", "ReLU", secondary=True)),
    "towers_verdict": ("repro_towers", _reproduced("towers", "用双塔代替单 GPU ")),
    "lrn_verdict": ("repro_lrn", _reproduced("lrn", "LRN ")),
    "lrn2_verdict": ("repro_lrn_2", _reproduced("lrn_2", "LRN ", secondary=True)),
    "lrn_stuck": ("repro_lrn_stuck", {
        "without": "读这个效应时要小心：在主要设置中，不用 LRN 的 {{repro_seeds}} 个网络里有 {{repro_lrn_stuck_count}} "
                "个始终停在随机水平（约 90% 的误差），它们用的是为带 LRN 的网络搜索出的学习率，而带 LRN 的网络全都训练起来了。"
                "LRN 把 0-255 输入带来的大激活值控制在合适的范围内，所以这个效应主要说明网络能不能训练起来，"
                "而不是论文测量的、训练好的网络泛化得更好（1.4 个百分点）。",
        "both": "读这个效应时要小心：在主要设置中，不用 LRN 的 {{repro_seeds}} 个网络里有 {{repro_lrn_stuck_count}} 个、"
                "用 LRN 的有 {{repro_lrn_stuck_with}} 个始终停在随机水平（约 90% 的误差）：这些运行说明的是网络能不能训练起来，"
                "而不是它泛化得好不好。",
        "none": "", "missing": ""}),
    "pool_verdict": ("repro_pool", _reproduced("pool", "重叠池化")),
    "dropout_verdict": ("repro_dropout", _reproduced("dropout", "dropout ")),
    "relu_row": ("repro_relu", _row("relu", "x")),
    "towers_row": ("repro_towers", _row("towers", " 个百分点")),
    "lrn_row": ("repro_lrn", _row("lrn", " 个百分点")),
    "pool_row": ("repro_pool", _row("pool", " 个百分点")),
    "dropout_row": ("repro_dropout", _row("dropout", " 个百分点")),
}
VERDICTS.update({f"{short}_regime": (f"repro_{short}_regime", REGIMES) for short in QUOTED})
VERDICTS.update({f"{short}_what": (f"repro_{short}_what", WHAT) for short in QUOTED})

"""中文笔记本的 Markdown 文字，与 ``cells.CELLS`` 中的 ``("md", key)`` 一一对应。
``{{name}}`` 会被替换为代码单元计算出的数字。"""

TEXT = {}

TEXT["title"] = r"""
# 一步一步学 AlexNet

这份笔记本用 `alexnet` 软件包，在一台笔记本电脑的 CPU 上完成 AlexNet 练习：用
TensorFlow 搭建 Krizhevsky、Sutskever 和 Hinton 在论文 *ImageNet Classification
with Deep Convolutional Neural Networks*（NIPS 2012）中提出的网络。顺序与练习相同：先是
TensorFlow 1 的占位符（placeholder）和会话（Session），用全连接层拟合 sin(x)，局部响应归一化（LRN），
softmax 交叉熵损失；然后把 AlexNet 逐层手写一遍，再用软件包构建一遍；接着为论文的每个思想各做一个小实验；
最后做一次短训练，看看训练好的网络内部是什么样子。

所有实验都在 Fashion-MNIST（28x28 的灰度服装图片，共 10 类）上进行，而不是 ImageNet——后者在 GPU
上也要训练好几天。这份笔记本从头到尾运行了 **{{minutes}} 分钟**（{{cpu}}）；正文中的每个数字都是这次运行中
代码单元算出来的（换一次运行或换一台机器，数字会略有不同）。

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
conv5 之后是最大池化，fc6 和 fc7 上使用 dropout。它约有 6000 万个参数，在两块 GPU 上用 ImageNet 的 120
万张图片训练了五到六天。

在笔记本电脑上，我们保留结构、缩小尺寸：软件包的 `small` 变体同样有五个卷积层、LRN、重叠池化、dropout
和三个全连接层，只是卷积核更少，第一层卷积改为适合 28x28 图片的 5x5。它还像 Caffe 的参考 AlexNet（CaffeNet）
那样先池化再做 LRN，这样 LRN 只需处理四分之一的数值，每个训练步骤大约少用三分之一的时间。先准备数据：Fashion-MNIST，共 60,000
张训练图片和 10,000 张测试图片，10 类服装。训练集的最后 1,000 张留作验证集：下面的实验都用它们来评判，
从不用它们训练。
"""

TEXT["tf1_model"] = r"""
### 用 TF1 风格写出的 AlexNet，每一层都写出来

这是练习的写法：网络是一个从输入张量到 logits 的函数，每一层是几个作用在变量上的运算，变量由
`tf.compat.v1.get_variable` 创建。练习在计算图中使用了 `tf.keras.layers.Conv2D`、`Dense` 等层；从 Keras 3
开始，Keras 的层不再能放进 TF1 计算图，所以下面的 `conv` 和 `dense` 直接写成它们所代表的运算（卷积或矩阵乘法，
加偏置，再接 ReLU）。`Flatten` 就是一次 reshape。Dropout 用 `tf.nn.dropout`，保留概率通过占位符传入：
训练时为 0.5，测试时为 1.0。

注释中的形状是论文中的形状，对应 227x227x3 的输入。（论文写的是 224，但 11x11 的卷积核以步长 4、不加填充，
只有输入为 227 时才能得到论文中 55x55 的特征图。）这里是单塔网络；论文在两块 GPU 上的拆分放在后面的实验里讲。
"""

TEXT["tf1_count"] = r"""
### 同一个网络，构建两次

如果上面手写的计算图和软件包的 `alexnet.AlexNet` 是同一个网络，它们的权重数量就应当逐层相同。按论文的尺寸做成
单塔，两者都有 {{params_single}} 个参数；论文真正的网络只有 {{params_paper}} 个，更少一些，因为在两个塔中，conv2、
conv4 和 conv5 都只看到上一层一半的特征图。为 28x28 图片准备的小版本有 {{params_small}} 个参数。
"""

TEXT["tf1_train"] = r"""
TF1 计算图也能训练：喂入一批图片、它们的 one-hot 标签和 `keep_prob=0.5`，然后运行 `train_op`（学习率 0.01、
动量 0.9 的 SGD，即论文的优化器）。60 步、每步 64 张图片，还不到一轮数据的十六分之一；损失刚开始下降（ReLU
网络在这种初始化下起步较慢，实验 1 会再谈到这一点），验证准确率为 {{tf1_val}}%，已高于随机猜测的 10%。
"""

TEXT["keras_model"] = r"""
### 用软件包构建同一个网络

`alexnet.AlexNet(variant="small", ...)` 把它构建成一个 Keras 模型，每一层都按论文命名。它的第一层
`preprocess` 在模型内部把原始像素（0-255）标准化，因此保存下来的模型不需要另外的预处理说明。从这里开始，我们使用
这个模型和 Keras 的 `fit`，由它替我们执行第 2 步中的训练循环。
"""

TEXT["ideas"] = r"""
## 论文的思想，每个一个小实验

论文第 3 节列出了让 AlexNet 成功的因素，“按我们估计的重要性排序”：ReLU、在两块 GPU 上训练、局部响应归一化、
重叠池化；第 4 节又加上了对抗过拟合的 dropout。下面每个实验都把小网络训练两次，一次用这个思想，一次不用，
其余条件完全相同（数据、随机种子、学习率 {{lr}}、动量 0.9 的 SGD、每批 64 张），都在 4,000 张训练图片上训练
2 轮：在这里每次约 {{arm_seconds}} 秒。（学习率用 {{lr}} 而不是论文的 0.01：这个小网络用 0.01 时，2 轮之内还几乎没有起步。）

要清楚这么小的实验能说明什么。论文的提升是在 ImageNet 上训练 90 轮后测得的；在这么短的训练中，光是随机种子就会让结果变动，
零点几个百分点的差别是看不出来的。实验 3 测量了一对种子之间的差别；一对种子只是粗略的标尺，所以代码把小于
2 个百分点（或小于这对种子之差，取较大者）的差别都当作噪声。本项目的
[REPRODUCTION.md](../REPRODUCTION.md) 把每个对比在完整数据集上训练 6 轮、用 2 个随机种子重做了一遍；下文在有帮助的地方引用它。
"""

TEXT["relu"] = r"""
### 1. 用 ReLU 代替 tanh

过去的神经元使用 tanh 这类会饱和的函数：输入一旦较大，斜率就几乎为零（左图中橙色点线）。经过饱和神经元传回
权重的梯度非常小，学习就慢下来。ReLU，即 max(0, x)，对所有正输入的斜率都是 1。论文的图 1：一个四层的 ReLU
网络在 CIFAR-10 上达到 25% 训练误差的速度，是同样的 tanh 网络的六倍。这里用完全相同的设置，分别以两种激活函数
训练小 AlexNet；右图像论文的图 1 一样，画出每一批的训练误差（取 10 批的平均）。
"""

TEXT["relu_after"] = r"""
{{relu_verdict}}

为什么没有论文中的 6 倍？因为网络不是论文的那个。Keras 用 Glorot 规则初始化权重，这个规则是为 tanh 这类神经元
推导的：它让神经元处在陡峭的中段，tanh 在那里不会饱和。ReLU 只让正的一半通过，同样的规则会让信号一层一层地变小，
所以 ReLU 网络起步较慢。我们的输入也经过了标准化，这同样让 tanh 远离饱和。在 REPRODUCTION.md 中，当学习率是为
ReLU 调好的时候，ReLU 网络训练得快得多（tanh 在 6 轮内始终没有达到 15% 的训练误差）；而一旦 tanh
也用上适合自己的学习率，它就和 ReLU 一样快。ReLU 真正带来的长久改变是：深层网络不必再小心翼翼地让神经元远离
饱和也能训练，而且它计算起来很便宜，所以此后几乎所有网络都使用它或它的变体。
"""

TEXT["towers"] = r"""
### 2. 两块 GPU：把网络分成两个塔

一块 GTX 580 只有 3 GB 显存，放不下整个网络，于是作者把每一层的卷积核一半放在一块 GPU 上，另一半放在另一块上。
两块 GPU 只在某些层交换结果：conv2、conv4 和 conv5 只看到本 GPU 上的特征图，conv3 和全连接层则能看到两边的。
软件包把它构建成一个模型，其中 conv2、conv4 和 conv5 是 *分组* 卷积（`variant="small-2tower"`）。论文把双塔网络与
一个在单块 GPU 上、卷积核减半的网络作比较，发现双塔的 top-1 误差低 1.7%。我们训练同样的一对：`small-2tower` 和
`small-half`。
"""

TEXT["towers_after"] = r"""
双塔网络的验证误差为 {{towers_val}}%，半宽网络为 {{half_val}}%。{{towers_verdict}}REPRODUCTION.md 测得双塔占优
0.31 ± 0.20 个百分点（方向与论文一致，大小约为论文的五分之一），还发现分组的网络比规模几乎相同、不分组的网络
*差* 0.66 个百分点：拆分是为了让网络放进显存，它本身并不是改进。

论文还观察到两个塔出现了分工：GPU 1 上的卷积核大多与颜色无关，GPU 2 上的则专门针对颜色（论文图 3）。下图画出
分别送入两个塔的 conv1 卷积核。Fashion-MNIST 没有颜色可供分工，而在 4,000 张图片上训练 2 轮也太少，所以两组看上去
差不多：都是带噪声的斑点和初步成形的边缘。要看到这种分工，需要彩色图片和长时间训练（先
`alexnet train --data cifar10 --variant small-2tower`，再 `alexnet filters`）。
"""

TEXT["lrn"] = r"""
### 3. 局部响应归一化

论文：LRN 使 ImageNet 上的 top-1 误差降低 1.4%，使一个 CIFAR-10 网络的测试误差从 13% 降到 11%。我们去掉它训练
一次，再作比较。为了知道多大的差别才有意义，基线网络还用第二个随机种子训练一次：同一网络两个种子之间的差别，
就是这个实验的噪声。
"""

TEXT["lrn_after"] = r"""
去掉 LRN 后，验证误差变化了 {{lrn_effect}} 个百分点（{{no_lrn_val}}% 对 {{base_val}}%），而完全相同的网络换一个
种子就相差 {{seed_noise}} 个百分点。{{lrn_verdict}}

单元的最后一行说明了为什么 LRN 在这里作用不大：lrn1 的输出除以输入，结果在 {{lrn_low}} 到 {{lrn_high}} 之间，
也就是 2^-0.75 = 0.5946——这正是平方和与 bias=2 相比可以忽略时的值。alpha=1e-4 时，激活值要到 20 左右，平方和
才起作用；而输入经过标准化、权重用 Glorot 初始化时，激活值只有 1 的量级。于是这个层只是乘上一个常数。在完整的训练中，
任何常数都会被下一层吸收；但在只有 2 轮的训练中，常数因子（两个 LRN 层各乘 0.59）仍会改变信号和梯度的大小，
作用类似于换了一个学习率。所以这次运行中的差别，更多反映的是网络起步的快慢，而不是归一化本身。论文中的激活值（未归一化的像素、标准差 0.01 的权重、在 ImageNet 上训练 90 轮）要大得多。
后来 LRN 被批归一化（batch normalization，2015 年）取代：它按实际测得的统计量而不是固定常数来缩放每个通道。
"""

TEXT["pooling"] = r"""
### 4. 重叠池化

最大池化用每个邻域中的最大值来概括这个邻域。传统的池化窗口互不重叠（2x2，步长 2）；AlexNet 的窗口是 3x3、步长
2，所以相邻窗口共享一行或一列。两种做法的输出尺寸相同（单元最后一行验证了这一点），因此这样替换是公平的。论文：
top-1 误差降低 0.4%，而且网络稍微不容易过拟合。
"""

TEXT["pooling_after"] = r"""
用 2x2 池化时验证误差为 {{pool_val}}%，基线为 {{base_val}}%（相差 {{pool_effect}} 个百分点），而两个种子之间相差
{{seed_noise}}。{{pool_verdict}}0.4% 的效果远小于一次短训练所能分辨的差别。REPRODUCTION.md 在完整数据集上训练
6 轮、用 2 个种子，测得重叠池化占优 0.43 ± 0.39 个百分点：大小和方向都与论文一致，但并不比它自身的噪声大。
"""

TEXT["dropout"] = r"""
### 5. Dropout

一个有 6000 万参数的网络，用 120 万张图片训练，也能把它们背下来：训练误差一直下降，而在新图片上的误差却不再改善。
Dropout 在训练时以 0.5 的概率把 fc6 和 fc7 的每个输出置零，使任何神经元都不能依赖某些特定的其他神经元；测试时
所有神经元都参与。论文说，没有它，网络会“严重”过拟合。过拟合需要一个相对数据而言很大的网络，所以这个实验只给它
{{tiny}} 张图片、训练 {{tiny_epochs}} 轮，并在关闭 dropout 的情况下（也就是网络实际使用时的方式）测量训练误差。
"""

TEXT["dropout_after"] = r"""
不用 dropout 时，网络最后的训练误差为 {{nodrop_train}}%，验证误差为 {{nodrop_val}}%，相差 {{nodrop_gap}}
个百分点；用 dropout 时为 {{drop_train}}% 和 {{drop_val}}%，相差 {{drop_gap}} 个百分点。{{dropout_verdict}}在完整
数据集上，这个效果几乎消失：REPRODUCTION.md 发现，在 57,000 张图片上训练 6 轮，几乎没有需要防止的过拟合。当数据
相对网络而言很少时，dropout 才真正发挥作用，就像 ImageNet 之于 6000 万个参数。
"""

TEXT["final"] = r"""
## 一次短训练

现在用打开论文所有思想（ReLU、LRN、重叠池化、dropout）的小 AlexNet，在 {{final_images}} 张图片上训练 2 轮：在这里用了
{{final_seconds}} 秒。它在 10,000 张测试图片上的准确率为 **{{final_test}}%**。（`alexnet train` 运行完整的训练方案：
全部 57,000 张训练图片、12 轮、先预热再衰减的学习率、标签平滑，conv1 固定为 PCA 白化滤波器而不学习，一半训练图片按 `predict` 缩放图片的方式重采样；在 2 个 CPU 核上约 8.5-11 分钟，准确率约 93.2%。）
"""

TEXT["filters"] = r"""
### conv1 学到了什么

每个 conv1 卷积核是一个 5x5 的权重块，这里画成一张小图（每个按自己的范围映射到灰度）。论文的图 3 展示了它的 96 个
11x11x3 卷积核：平滑的有方向的边缘、条纹和色块，是训练 90 轮学到的。我们的卷积核只在 28x28 灰度图片上训练了 2 轮，
仍然充满噪声；其中有几个已经分出一亮一暗两侧，这是边缘检测器的雏形。
"""

TEXT["feature_maps"] = r"""
### 特征图：一张图片变成了什么

`alexnet.activations.feature_maps` 让一张图片通过网络，返回 conv1 到 conv5 的输出；`draw_feature_maps`
把每一层的特征图画成网格（越亮表示越强烈地激活，每层按自己的范围着色），上方是输入图片和它最可能的类别。conv1 的
特征图仍然像这件衣服，每张突出某些边缘或区域；更深的特征图更小（pool1 之后 14x14，pool2 之后 7x7），也更抽象：它们
响应的是有助于区分各类的局部和组合。在命令行中得到同样的图：`alexnet activations MODEL IMAGE -o maps.png`。
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

TEXT["summary"] = r"""
## 这些小实验说明了什么

| 论文的思想 | 论文 | 本笔记本（一次短训练） |
|---|---|---|
| 用 ReLU 代替 tanh | 达到 25% 训练误差快 6 倍 | {{relu_row}} |
| 两块 GPU（双塔） | top-1 误差 -1.7% | {{towers_row}} |
| LRN | top-1 误差 -1.4% | {{lrn_row}} |
| 重叠池化 | top-1 误差 -0.4% | {{pool_row}} |
| dropout | 防止严重的过拟合 | {{dropout_row}} |

在 4,000 张图片上每次只训练约 {{arm_seconds}} 秒的实验，可以展示这些机制（饱和、分组的层、LRN 实际计算了什么、过拟合是什么样子），
但测量不出零点几个百分点的效果。想做更长的实验：`alexnet reproduce all`（在 2 个 CPU 核上约一小时，结果见
[REPRODUCTION.md](../REPRODUCTION.md)），用 `alexnet train` 训练完整模型，用 `alexnet activations` 和
`alexnet filters` 观察它的内部。最后一个单元打印出正文引用的每一个数字。
"""

# 取决于运行结果的句子：占位符 -> （``numbers`` 中保存结论的键, {结论: 文字}）。
VERDICTS = {
    "relu_verdict": ("relu", {
        "relu_faster": "ReLU 先到达：它在第 {{relu_epochs}} 轮达到 {{target}}% 的训练误差，tanh 在第 {{tanh_epochs}}"
                       " 轮（短横线表示 2 轮内没有达到）。2 轮之后，验证误差分别为 {{relu_val}}%（ReLU）和"
                       " {{tanh_val}}%（tanh）：方向与论文一致。",
        "tanh_faster": "这里的结果正好相反：tanh 在第 {{tanh_epochs}} 轮达到 {{target}}% 的训练误差，ReLU 在第"
                       " {{relu_epochs}} 轮（短横线表示 2 轮内没有达到）；2 轮之后，验证误差分别为 {{tanh_val}}%（tanh）"
                       "和 {{relu_val}}%（ReLU）。这次运行没有显示出论文的效果。",
        "similar": "两者几乎同时达到 {{target}}% 的训练误差（ReLU 在第 {{relu_epochs}} 轮，tanh 在第 {{tanh_epochs}}"
                   " 轮），验证误差分别为 {{relu_val}}% 和 {{tanh_val}}%：这次运行中没有差别。",
        "neither": "两者在 2 轮内都没有达到 {{target}}% 的训练误差；验证误差分别为 {{relu_val}}%（ReLU）和"
                   " {{tanh_val}}%（tanh）。",
    }),
    "towers_verdict": ("towers", {
        "helps": "双塔胜出，但这是在比较一个有 {{towers_params}} 个参数的网络和一个有 {{half_params}} 个参数的网络："
                 "双塔网络本来就更大。",
        "noise": "这在噪声范围之内；而且即使明显胜出，也有一部分是规模的原因：双塔网络有 {{towers_params}} 个参数，"
                 "半宽网络只有 {{half_params}} 个。",
        "hurts": "较小的网络胜出了，尽管双塔网络有 {{towers_params}} 个参数，而它只有 {{half_params}} 个：只训练 2 轮时，"
                 "起步快的网络占便宜。",
    }),
    "lrn_verdict": ("lrn", {
        "noise": "这在噪声范围之内：这次运行看不出 LRN 的效果。",
        "helps": "去掉 LRN 造成的损失超过了种子之间的差别：方向与论文一致，不过每组只跑一次，证据很弱。",
        "hurts": "去掉 LRN 反而更好，且超过了种子之间的差别：与论文相反，不过每组只跑一次，证据很弱。",
    }),
    "pool_verdict": ("pool", {
        "noise": "这在噪声范围之内。",
        "helps": "重叠池化胜出，且超过了种子之间的差别：方向与论文一致，但每组只跑了一次。",
        "hurts": "2x2 池化胜出，且超过了种子之间的差别：与论文相反，但每组只跑了一次。",
    }),
    "dropout_verdict": ("dropout", {
        "smaller_gap": "Dropout 缩小了训练误差与验证误差之间的差距：这正是论文所说的效果，只是规模很小。",
        "similar_gap": "两者的差距差不多：在这样的训练量下，没有 dropout 的网络还没有把图片背得足够熟，dropout 起不了作用。",
        "larger_gap": "用 dropout 时差距反而更大：在这样的训练量下，dropout 拖慢训练图片拟合的程度，超过了它在新图片上带来的好处。",
    }),
    "relu_row": ("relu", {
        "relu_faster": "看到了：ReLU 先达到 {{target}}% 训练误差（第 {{relu_epochs}} 轮对第 {{tanh_epochs}} 轮）",
        "tanh_faster": "**没有看到**：tanh 先达到 {{target}}% 训练误差（第 {{tanh_epochs}} 轮对 ReLU 的第 {{relu_epochs}} 轮）",
        "similar": "没有看到：两者差不多（第 {{relu_epochs}} 轮和第 {{tanh_epochs}} 轮）",
        "neither": "没有看到：两者都没有达到 {{target}}% 训练误差",
    }),
    "towers_row": ("towers", {
        "helps": "双塔 {{towers_val}}%，半宽 {{half_val}}% 验证误差；但双塔的参数约是半宽的 4 倍",
        "noise": "没有看到：验证误差 {{towers_val}}% 对 {{half_val}}%，在噪声范围之内",
        "hurts": "没有看到：半宽网络更好（{{half_val}}% 对 {{towers_val}}%）",
    }),
    "lrn_row": ("lrn", {
        "noise": "没有看到：去掉 LRN 相差 {{lrn_effect}} 个百分点，在噪声范围之内（这里 LRN 几乎只是乘一个常数）",
        "helps": "去掉 LRN 相差 {{lrn_effect}} 个百分点，超过种子之间的差别；但这里 LRN 几乎只是乘一个常数，"
                 "这反映的是网络起步的快慢，而不是归一化",
        "hurts": "没有看到：去掉 LRN 相差 {{lrn_effect}} 个百分点（去掉反而更好）",
    }),
    "pool_row": ("pool", {
        "noise": "没有看到：2x2 池化相差 {{pool_effect}} 个百分点，在噪声范围之内",
        "helps": "2x2 池化相差 {{pool_effect}} 个百分点，超过种子之间的差别",
        "hurts": "没有看到：2x2 池化相差 {{pool_effect}} 个百分点（2x2 更好）",
    }),
    "dropout_row": ("dropout", {
        "smaller_gap": "看到了：训练与验证误差之差，用 dropout 为 {{drop_gap}} 个百分点，不用为 {{nodrop_gap}}"
                       "（{{tiny}} 张图片，{{tiny_epochs}} 轮）",
        "similar_gap": "没有看到：差距分别为 {{drop_gap}}（dropout）和 {{nodrop_gap}} 个百分点",
        "larger_gap": "没有看到：差距分别为 {{drop_gap}}（dropout）和 {{nodrop_gap}} 个百分点",
    }),
}

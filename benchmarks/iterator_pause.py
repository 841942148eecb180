"""The pause after training: how long freeing the training set's iterator takes.

    python benchmarks/iterator_pause.py [--seconds 240] [--repeats 3]

Builds the main job's training pipeline (Fashion-MNIST in memory, batch
256), draws batches from one iterator for ``--seconds`` at the pace of a
training step (0.2 s a batch), then frees the iterator and times that, as
``fit`` does when it returns. Once with the pipeline as ``train_dataset``
makes it and once with tf.data's autotuning turned on again
(``options.autotune.enabled = True``), ``--repeats`` times each, in
alternation. A freed iterator waits for its autotuning thread to end, whose
wake-ups grow to a minute apart in a long run. Not a test.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time


def one(dataset, seconds, pace=0.2):
    iterator = iter(dataset)
    end = time.monotonic() + seconds
    batches = 0
    while time.monotonic() < end:
        next(iterator)
        batches += 1
        time.sleep(pace)
    start = time.monotonic()
    del iterator
    gc.collect()
    return time.monotonic() - start, batches


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=240)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    import tensorflow as tf

    from alexnet.config import Config, resolve
    from alexnet.training.run import prepare_data
    from alexnet.data.datasets import train_dataset

    config = resolve(Config())
    source, spec, _ = prepare_data(config)
    ours = train_dataset(source, spec, config.batch_size, seed=0)
    options = tf.data.Options()
    options.autotune.enabled = True
    autotuned = ours.with_options(options)
    print(f"autotune in train_dataset's pipeline: {ours.options().autotune.enabled}")
    times = {"train_dataset": [], "autotune on": []}
    for _ in range(args.repeats):
        for name, dataset in (("train_dataset", ours), ("autotune on", autotuned)):
            seconds, batches = one(dataset, args.seconds)
            times[name].append(seconds)
            print(f"{name}: freeing the iterator after {batches} batches took {seconds:.2f} s", flush=True)
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values):.2f} s, max {max(values):.2f} s over {len(values)}")


if __name__ == "__main__":
    main()

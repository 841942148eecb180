"""Supplementary to `alexnet reproduce relu-vs-tanh`: tanh with lower peak
learning rates (0.01 and 0.03 instead of the ReLU-tuned 0.1; seed 0, same
recipe and budget), to see how much of the gap is the learning rate.

    alexnet reproduce all --data fashion_mnist --out runs/reproduce
    python examples/tanh_learning_rates.py

Trains runs/reproduce/runs/tanh-lr<lr>/seed0 (about 4.5 min each on 2 CPU
cores), prints epochs to 15% training error and the test error, and writes
runs/reproduce/tanh-lr.json. See REPRODUCTION.md, section 1.
"""
import json
from alexnet.reproduce.experiments import Arm, base_config, run_arm
from alexnet.reproduce.report import epochs_to_target, train_errors

base = base_config("fashion_mnist", "runs/reproduce", image_size=28)
out = {}
for lr in (0.01, 0.03):
    run = run_arm(base.replace(learning_rate=lr), Arm(f"tanh-lr{lr}", f"tanh, lr {lr}", {"activation": "tanh"}),
                  0, "runs/reproduce")
    errors = train_errors(run)
    out[lr] = {"train_errors": errors, "epochs_to_15": epochs_to_target(errors, 15.0, 90.0),
               "test_error": 100 * (1 - run["metrics"]["test_accuracy"])}
    print(lr, out[lr], flush=True)
json.dump(out, open("runs/reproduce/tanh-lr.json", "w"), indent=1)

"""What each compression method buys, measured: LeNet-5 and Deep Compression's MLP
784-300-100-10 on the official MNIST test digits shipped with tinynn (8,000 to train, the
other 2,000 to test), each method alone and combined.

    python benchmarks/bench_compress.py [--epochs 6] [--json results.json]

Columns: non-zero parameters, bytes of the saved file (float32 .npz for the dense model;
sparse + deflated for the compressed ones), median latency of one 256-image batch, test
accuracy.  Distillation: LeNet (trained longer, 15 epochs) teaches a student with under a
quarter of its parameters, compared with the same student trained alone for as long, from the
same initialisation, over 3 seeds: once on all 8,000 training digits, once when both students
see only the first 1,000 (the teacher's knowledge of the rest reaches the student only
through its soft targets, Hinton et al.'s transfer-set setting).
"""
import argparse
import copy
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
from common import first_call_and_median  # noqa: E402

import tinynn  # noqa: E402
import tinynn.nn as nn  # noqa: E402
from tinynn.compress import distill_epoch, pipeline, to_sparse  # noqa: E402
from tinynn.data import DataLoader, TensorDataset, load_mnist  # noqa: E402
from tinynn.data.datasets import BUNDLED_MNIST_DIR  # noqa: E402
from tinynn.training import train_epoch  # noqa: E402


def small_lenet():
    """The distillation student: LeNet's shape with fewer channels and units (9.3k weights,
    a fifth of LeNet-5's 44.4k on 28×28 digits)."""
    return nn.Sequential(nn.Conv2d(1, 4, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 60), nn.ReLU(), nn.Linear(60, 10))


def train(model, loader, epochs, lr=2e-3):
    optimizer = tinynn.optim.Adam(model.parameters(), lr=lr)
    for epoch in range(epochs):
        train_epoch(model, loader, nn.CrossEntropyLoss(), optimizer, description=f"train {epoch + 1}/{epochs}")
    return model


def sparse_crossover(repeats=200):
    """Microseconds of one 784→300 layer, dense GEMM against the CSR kernel, by batch size and
    sparsity: where the sparse layer starts to pay."""
    from tinynn.kernels import cpu_backend
    from tinynn.serialization import to_csr
    rng = np.random.default_rng(0)
    lines = ["| batch | sparsity | dense µs | CSR µs | CSR speed-up |", "|---|---|---|---|---|"]
    for batch in (1, 16, 256):
        x = rng.standard_normal((batch, 784)).astype(np.float32)
        for sparsity in (0.8, 0.9, 0.95, 0.98):
            weight = rng.standard_normal((300, 784)).astype(np.float32)
            weight[rng.random(weight.shape) < sparsity] = 0
            values, columns, starts = to_csr(weight)
            columns = columns.astype(np.int32)
            dense = 1e6 * first_call_and_median(lambda: x @ weight.T, repeats, warmup=5)[1]
            sparse = 1e6 * first_call_and_median(lambda: cpu_backend.csr_linear(x, values, columns, starts),
                                                 repeats, warmup=5)[1]
            lines.append(f"| {batch} | {sparsity:.0%} | {dense:.0f} | {sparse:.0f} | {dense / sparse:.2f} |")
    return "\n".join(lines)


def compression_rows(name, model, data, loader, args):
    x_test, y_test, x_train = data
    loss_fn, optimizer = nn.CrossEntropyLoss(), lambda params: tinynn.optim.Adam(params, lr=1e-3)
    rows = [pipeline.measure(f"{name} dense float32", model, x_test, y_test, compact=False)]
    quantized = pipeline.quantize_model(copy.deepcopy(model), x_train)
    rows.append(pipeline.measure(f"{name} int8 only", quantized, x_test, y_test))
    pruned = pipeline.prune_model(copy.deepcopy(model), args.prune, loader, loss_fn, optimizer, args.finetune)
    rows.append(pipeline.measure(f"{name} pruned {args.prune:.0%}", pruned, x_test, y_test))
    sparse = to_sparse(copy.deepcopy(pruned), min_sparsity=0.8)
    rows.append(pipeline.measure(f"{name} pruned, Linear layers on the CSR kernel", sparse, x_test, y_test))
    shared = pipeline.share_model(pruned, args.bits, loader, loss_fn, optimizer, args.finetune)
    rows.append(pipeline.measure(f"{name} pruned + shared {args.bits}-bit", shared, x_test, y_test))
    combined = pipeline.quantize_model(shared, x_train)
    rows.append(pipeline.measure(f"{name} pruned + shared + int8", combined, x_test, y_test))
    return rows


def distillation_rows(teacher, loader, test, epochs, seeds, label):
    """The student alone and distilled from ``teacher``, each trained on ``loader`` for
    ``epochs`` from the same initialisation for every seed; accuracy is the mean over the
    seeds (one seed's difference is within the noise of 2,000 test digits)."""
    alone, distilled = [], []
    for seed in range(seeds):
        tinynn.manual_seed(seed)
        alone.append(pipeline.measure(f"student alone (9.3k), {label}", train(small_lenet(), loader, epochs), *test,
                                      compact=False))
        tinynn.manual_seed(seed)
        student = small_lenet()
        optimizer = tinynn.optim.Adam(student.parameters(), lr=2e-3)
        for _ in range(epochs):
            distill_epoch(student, teacher, loader, optimizer, temperature=4.0, alpha=0.9)
        distilled.append(pipeline.measure(f"student distilled from LeNet-5, {label}", student, *test, compact=False))
    for name, runs in (("alone", alone), ("distilled", distilled)):
        print(f"\nstudent {name}, {label}, accuracy per seed: " + ", ".join(f"{row.accuracy:.2%}" for row in runs))
    return [runs[0]._replace(method=f"{runs[0].method}, mean of {len(runs)} seeds",
                             accuracy=float(np.mean([row.accuracy for row in runs])))
            for runs in (alone, distilled)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--finetune", type=int, default=2)
    parser.add_argument("--prune", type=float, default=0.92)
    parser.add_argument("--bits", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the distillation comparison")
    parser.add_argument("--teacher-epochs", type=int, default=15, help="the distillation teacher's training")
    parser.add_argument("--few-labels", type=int, default=1000,
                        help="the second comparison: both students see only this many of the teacher's digits")
    parser.add_argument("--few-label-epochs", type=int, default=20)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    tinynn.manual_seed(0)
    images, labels = load_mnist(BUNDLED_MNIST_DIR)
    x_train, y_train, x_test, y_test = images[:8000], labels[:8000], images[8000:], labels[8000:]
    loader = DataLoader(TensorDataset(x_train, y_train), 64, shuffle=True)
    flat = lambda x: x.reshape(len(x), -1)                                          # noqa: E731
    flat_loader = DataLoader(TensorDataset(flat(x_train), y_train), 64, shuffle=True)

    lenet = train(tinynn.models.LeNet5(1, 10, 28), loader, args.epochs)
    mlp = train(tinynn.models.MLP(784, (300, 100), 10), flat_loader, args.epochs)
    rows = compression_rows("LeNet-5", lenet, (x_test, y_test, x_train), loader, args)
    rows += compression_rows("MLP 784-300-100", mlp, (flat(x_test), y_test, flat(x_train)), flat_loader, args)

    tinynn.manual_seed(0)
    teacher = train(tinynn.models.LeNet5(1, 10, 28), loader, args.teacher_epochs)
    rows += distillation_rows(teacher, loader, (x_test, y_test), args.epochs, args.seeds, "8,000 labels")
    few = DataLoader(TensorDataset(x_train[:args.few_labels], y_train[:args.few_labels]), 64, shuffle=True)
    rows += distillation_rows(teacher, few, (x_test, y_test), args.few_label_epochs, args.seeds,
                              f"{args.few_labels:,} labels")

    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}, "
          f"{args.epochs} epochs, fine-tuning {args.finetune}\n")
    print(pipeline.format_table(rows[:6]))
    print()
    print(pipeline.format_table(rows[6:12]))
    print()
    print(pipeline.format_table(rows[12:]))
    print()
    print(sparse_crossover())
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([row._asdict() for row in rows], handle, indent=1)


if __name__ == "__main__":
    main()

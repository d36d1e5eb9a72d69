"""Time full training steps (forward, loss, backward, Adam) of the seeds' models in tinynn
and PyTorch, in the same process with the same thread count.

    python benchmarks/bench_models.py [--quick] [--only lenet,mlp] [--json out.json] [--plot out.png]

Columns: steady-state step time (median, warm-up excluded) for both libraries, PyTorch
also alone in a fresh process with its own thread defaults (see common.py), and the
ratio to the faster PyTorch time; inference throughput (images/s, eval mode, no graph,
PyTorch's best of the two processes); peak memory of training
(the peak resident set during the first three full-batch steps above the resident set
before them: activations, gradients, optimiser state and workspaces; in a fresh process
per library and model); the first step's time including import and Numba compilation
with an empty cache (cold) and with the cache that cold run filled (warm).
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))   # torch_seed_models
from common import (  # noqa: E402
    THREADS, first_call_and_median, fresh_environment, print_table, run_child, setup_torch, write_json)

# name: (batch, input shape, classes)
MODELS = {
    "mlp": (32, (1, 28, 28), 10),
    "lenet": (64, (1, 32, 32), 10),
    "keras_mnist_cnn": (64, (1, 28, 28), 10),
    "keras_cifar_cnn": (64, (3, 32, 32), 10),
    "resnet18": (32, (3, 32, 32), 10),
    "mobilenet_v2": (32, (3, 32, 32), 10),
}


def build(lib_name, model_name):
    """The same architecture in either library: tinynn.models, or the seeds' PyTorch code."""
    if lib_name == "tinynn":
        import tinynn as lib
        from tinynn import models
        builders = {
            "mlp": lambda: models.MLP(784, (64, 64), 10),
            "lenet": lambda: models.LeNet5(1, 10, 32),
            "keras_mnist_cnn": lambda: models.KerasMNISTCNN(1, 10, 28),
            "keras_cifar_cnn": lambda: models.KerasCIFARCNN(3, 10, 32),
            "resnet18": lambda: models.resnet18(10),
            "mobilenet_v2": lambda: models.mobilenet_v2(10),
        }
        return lib, builders[model_name]()
    import torch as lib
    from torch_seed_models import MODELS as TORCH_MODELS
    return lib, TORCH_MODELS[model_name]()


def make_step(lib_name, model_name, batch=None):
    lib, model = build(lib_name, model_name)
    default_batch, shape, _ = MODELS[model_name]
    batch = batch or default_batch
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((batch,) + shape).astype(np.float32))
    y = lib.tensor(rng.integers(0, MODELS[model_name][2], batch))
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    def infer():
        with lib.no_grad():
            model(x)
    return step, infer, model, batch


def training_flops(model_name):
    """3 × the floating-point operations of every conv2d and linear in one forward pass
    (forward, input gradient, weight gradient), counted by wrapping tinynn's functions."""
    import tinynn.nn.functional as F
    originals, total = (F.conv2d, F.linear), [0]

    def conv2d(x, weight, *args, **kwargs):
        out = originals[0](x, weight, *args, **kwargs)
        total[0] += 2 * out.numel() * weight[0].numel()
        return out

    def linear(x, weight, bias=None):
        out = originals[1](x, weight, bias)
        total[0] += 2 * out.numel() * weight.shape[1]
        return out
    F.conv2d, F.linear = conv2d, linear
    try:
        _, infer, _, _ = make_step("tinynn", model_name)
        infer()
    finally:
        F.conv2d, F.linear = originals
    return 3 * total[0]


def _memory_kb(field):
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, in kB."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def steady_state(lib_name, model_name, repeats):
    """(median seconds of a training step, median seconds of an inference batch)."""
    step, infer, _, _ = make_step(lib_name, model_name)
    return first_call_and_median(step, repeats)[1], first_call_and_median(infer, repeats)[1]


def child(lib_name, model_name, measure, repeats="7"):
    """Run in a fresh process.  'steps': ``steady_state``.  'first': import + build + first
    step, in seconds (Numba compiles or loads its cache here).  'memory': the peak resident
    memory of three full-batch steps above the memory held before them; a 2-image step
    first loads the kernels, so that loading code does not count as memory of the step
    (except kernels only large arrays take: the ReLU kernels' code, 3.6-7 MB measured, does)."""
    start = time.perf_counter()
    if lib_name == "torch":
        setup_torch()
    if measure == "steps":
        print(json.dumps(steady_state(lib_name, model_name, int(repeats))))
        return
    if measure == "first":
        make_step(lib_name, model_name)[0]()
        print(json.dumps(time.perf_counter() - start))
        return
    make_step(lib_name, model_name, batch=2)[0]()
    step = make_step(lib_name, model_name)[0]
    before = _memory_kb("VmRSS")
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")                    # resets VmHWM, the peak, to the current RSS
    for _ in range(3):
        step()
    print(json.dumps((_memory_kb("VmHWM") - before) / 1024))


def _run_child(lib_name, model_name, measure, cache_dir, *extra):
    environment = dict(fresh_environment(), NUMBA_CACHE_DIR=cache_dir)
    return run_child(__file__, ["--child", lib_name, model_name, measure, *extra], environment)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 timed steps instead of 7")
    parser.add_argument("--only", default=None, help="comma-separated model names")
    parser.add_argument("--json", default=None)
    parser.add_argument("--plot", default=None, help="bar chart of the ratios (needs matplotlib)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(*args.child)
    import tinynn                        # before PyTorch: see common.py
    torch = setup_torch()
    names = args.only.split(",") if args.only else list(MODELS)
    unknown = set(names) - set(MODELS)
    if unknown:
        raise SystemExit(f"bench_models: unknown models {sorted(unknown)}; choose from {', '.join(MODELS)}")
    repeats = 3 if args.quick else 7
    print(f"training step = forward + cross-entropy + backward + Adam; tinynn {tinynn.__version__} vs PyTorch "
          f"{torch.__version__}, {THREADS} threads each, median of {repeats} steps after warm-up")
    rows = []
    for name in names:
        batch = MODELS[name][0]
        row = {"model": name, "batch": batch}
        ours, theirs = steady_state("tinynn", name, repeats), steady_state("torch", name, repeats)
        alone = _run_child("torch", name, "steps", tempfile.gettempdir(), str(repeats))
        row["tinynn ms"], row["torch ms"], row["torch alone ms"] = ours[0] * 1e3, theirs[0] * 1e3, alone[0] * 1e3
        row["ratio"] = row["tinynn ms"] / min(row["torch ms"], row["torch alone ms"])
        row["tinynn img/s"], row["torch img/s"] = batch / ours[1], batch / min(theirs[1], alone[1])
        row["GFLOP/s"] = training_flops(name) / (row["tinynn ms"] / 1e3) / 1e9
        with tempfile.TemporaryDirectory() as cache:
            row["cold first s"] = _run_child("tinynn", name, "first", cache)
            row["warm first s"] = _run_child("tinynn", name, "first", cache)
            row["tinynn MB"] = _run_child("tinynn", name, "memory", cache)
        row["torch MB"] = _run_child("torch", name, "memory", tempfile.gettempdir())
        rows.append(row)
        print(f"  {name}: tinynn {row['tinynn ms']:.1f} ms, torch {row['torch ms']:.1f} ms", flush=True)
    print_table(rows, ["model", "batch", "tinynn ms", "torch ms", "torch alone ms", "ratio", "GFLOP/s",
                       "tinynn img/s", "torch img/s", "tinynn MB", "torch MB", "cold first s",
                       "warm first s"])
    print("ratio = tinynn step time / the faster of torch's two step times (same process; alone in "
          "a fresh process with PyTorch's own thread defaults); GFLOP/s = tinynn's conv and linear FLOPs "
          "(3× forward) per second; MB = peak resident memory of the first "
          "three full-batch steps above what model and data hold; first s = import + build + "
          "first step in a fresh process")
    if args.json:
        write_json(args.json, {"threads": THREADS, "rows": rows})
    if args.plot:
        _plot(rows, args.plot)
    return rows


def _plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install -e \".[plot]\"") from None
    figure, axes = plt.subplots(figsize=(7, 3.5))
    axes.bar([r["model"] for r in rows], [r["ratio"] for r in rows])
    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.set(ylabel="tinynn / PyTorch step time", title="Training step, lower is better")
    plt.setp(axes.get_xticklabels(), rotation=20)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

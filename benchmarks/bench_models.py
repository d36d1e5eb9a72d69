"""Time full training steps (forward, loss, backward, Adam) of the seeds' models in tinynn
and PyTorch, each library in its own fresh process, with the same thread count.

    python benchmarks/bench_models.py [--quick] [--only lenet,mlp] [--json out.json] [--plot out.png]

Every number comes from a fresh interpreter that imports one library with its own default
settings (``common.py`` says why), and the rounds alternate which library runs first.  The
table has the steady-state step time of both (median, spread over rounds), their ratio,
tinynn after its opt-in process tuning and after PyTorch ran first in the same process,
inference throughput, peak memory of training, and the first step's time including import
and Numba compilation with an empty cache (cold) and with the cache that run filled (warm).
"""
import argparse
import importlib.metadata
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))   # torch_seed_models
from common import (  # noqa: E402
    THREADS, first_call_and_median, gemm_peak_gflops, machine_description, median_and_spread,
    print_table, run_child, setup_threads, write_json)

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
    """One measurement in this fresh process.  'steps': ``steady_state``; 'tuned': the same
    after ``tinynn.performance.tune_process()`` (what the ``tinynn`` command runs);
    'torch-first': tinynn's steps after PyTorch was imported and trained the same model
    here (a notebook that compares both); 'first': import + build + first step, in seconds
    (Numba compiles or loads its cache here); 'memory': the peak resident memory of three
    full-batch steps above the memory held before them (a 2-image step first loads the
    kernels, so that their code does not count as memory of the step)."""
    start = time.perf_counter()
    if measure == "torch-first":
        torch_step = make_step("torch", model_name)[0]
        setup_threads("torch")
        for _ in range(3):
            torch_step()
    setup_threads(lib_name)
    if measure == "tuned":
        import tinynn
        tinynn.performance.tune_process()
    if measure == "profile":
        print(json.dumps(profile_steps(lib_name, model_name)))
        return
    if measure in ("steps", "tuned", "torch-first"):
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


def profile_steps(lib_name, model_name, steps=5):
    """The per-op time table of ``steps`` training steps after two warm-up steps: tinynn's
    own profiler (forward and backward of every op) or PyTorch's (self CPU time per op)."""
    step = make_step(lib_name, model_name)[0]
    step()
    step()
    if lib_name == "tinynn":
        import tinynn
        with tinynn.autograd.profiler.profile() as prof:
            for _ in range(steps):
                step()
        return prof.table(row_limit=12)
    import torch
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12)


def _run_child(lib_name, model_name, measure, *extra, cache_dir=None):
    environment = {"NUMBA_CACHE_DIR": cache_dir} if cache_dir else {}
    return run_child(__file__, ["--child", lib_name, model_name, measure, *extra], environment)


# (column, library, measure) timed in every round, in this order, reversed every other round
TIMED = (("tinynn", "tinynn", "steps"), ("torch", "torch", "steps"), ("tuned", "tinynn", "tuned"),
         ("torch first", "tinynn", "torch-first"))


def measure_model(name, rounds, repeats):
    """One table row: every timing in fresh processes, ``rounds`` interleaved rounds."""
    batch = MODELS[name][0]
    taken = {column: [] for column, _, _ in TIMED}
    for round_index in range(rounds):
        order = TIMED if round_index % 2 == 0 else TIMED[::-1]
        for column, lib_name, measure in order:
            taken[column].append(_run_child(lib_name, name, measure, str(repeats)))
    row = {"model": name, "batch": batch}
    for column, times in taken.items():
        step_ms, spread = median_and_spread([t[0] * 1e3 for t in times])
        row[f"{column} ms"] = step_ms
        if column in ("tinynn", "torch"):
            row[f"{column} ±%"] = 100 * spread
            row[f"{column} img/s"] = batch / statistics.median(t[1] for t in times)
    row["ratio"] = row["tinynn ms"] / row["torch ms"]
    row["tuned ratio"] = row["tuned ms"] / row["torch ms"]
    row["GFLOP/s"] = training_flops(name) / (row["tinynn ms"] / 1e3) / 1e9
    with tempfile.TemporaryDirectory() as cache:
        row["cold first s"] = _run_child("tinynn", name, "first", cache_dir=cache)
        row["warm first s"] = _run_child("tinynn", name, "first", cache_dir=cache)
    row["torch first s"] = _run_child("torch", name, "first")
    row["tinynn MB"] = _run_child("tinynn", name, "memory")
    row["torch MB"] = _run_child("torch", name, "memory")
    return row


COLUMNS = ["model", "batch", "tinynn ms", "tinynn ±%", "torch ms", "torch ±%", "ratio", "tuned ms",
           "tuned ratio", "torch first ms", "GFLOP/s", "tinynn img/s", "torch img/s", "tinynn MB",
           "torch MB", "cold first s", "warm first s", "torch first s"]
LEGEND = """\
ms = median over rounds of each fresh process's median training step; ±% = (slowest round −
fastest round) / median; ratio = tinynn / torch (below 1: tinynn is faster); tuned = tinynn after
tinynn.performance.tune_process(), as the tinynn command runs; torch first ms = tinynn's step in a
process where PyTorch was imported and trained first; img/s = inference (eval, no graph);
MB = peak resident memory of three full-batch steps above what model and data hold;
first s = import + build + first step in a fresh process (cold: empty Numba cache)."""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round of 3 steps instead of 3 of 7")
    parser.add_argument("--only", default=None, help="comma-separated model names")
    parser.add_argument("--json", default=None)
    parser.add_argument("--plot", default=None, help="bar chart of the ratios (needs matplotlib)")
    parser.add_argument("--profile", action="store_true",
                        help="also print both libraries' per-op profiles of every model tinynn trails on")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(*args.child)
    names = args.only.split(",") if args.only else list(MODELS)
    unknown = set(names) - set(MODELS)
    if unknown:
        raise SystemExit(f"bench_models: unknown models {sorted(unknown)}; choose from {', '.join(MODELS)}")
    rounds, repeats = (1, 3) if args.quick else (3, 7)
    import tinynn
    torch_version = importlib.metadata.version("torch")
    print(f"training step = forward + cross-entropy + backward + Adam; tinynn {tinynn.__version__} vs "
          f"PyTorch {torch_version}, {THREADS} threads each, each library in its own fresh process, "
          f"{rounds} interleaved rounds of {repeats} steps after warm-up\n"
          f"machine: {machine_description()}; NumPy float32 GEMM peak {gemm_peak_gflops():.0f} GFLOP/s")
    rows = []
    for name in names:
        rows.append(measure_model(name, rounds, repeats))
        print(f"  {name}: tinynn {rows[-1]['tinynn ms']:.1f} ms, torch {rows[-1]['torch ms']:.1f} ms",
              flush=True)
    print_table(rows, COLUMNS)
    print(LEGEND)
    if args.profile:
        for row in rows:
            if row["ratio"] > 1.0:
                print(f"\n=== {row['model']}: ratio {row['ratio']:.2f}; 5 steps, tinynn per op, then PyTorch")
                print(_run_child("tinynn", row["model"], "profile"))
                print(_run_child("torch", row["model"], "profile"))
    if args.json:
        write_json(args.json, {"threads": THREADS, "machine": machine_description(), "rows": rows})
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

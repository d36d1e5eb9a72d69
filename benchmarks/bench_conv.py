"""Time single ops in tinynn against PyTorch on the CPU, each library in its own fresh
process (common.py says why): conv2d, pooling, batch norm, Linear (matmul) and
softmax-cross-entropy.

    python benchmarks/bench_conv.py [--quick] [--json out.json] [--only resnet]

Prints, per layer shape: forward and forward+backward milliseconds for both
libraries, the tinynn/torch ratio (below 1 means tinynn is faster), tinynn's
GFLOP/s, and the first-call time (Numba compilation, or loading its cache).
"""
import argparse
import importlib.metadata
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    THREADS, first_call_and_median, gemm_peak_gflops, machine_description, print_table, run_child,
    setup_threads, write_json)

# (group, name, N, C, H, W, K, kernel, stride, padding, groups)
CONV_SHAPES = [
    ("lenet", "conv1 1→6 5×5 32²", 64, 1, 32, 32, 6, 5, 1, 0, 1),
    ("lenet", "conv2 6→16 5×5 14²", 64, 6, 14, 14, 16, 5, 1, 0, 1),
    ("keras", "mnist conv1 1→32 3×3 28²", 64, 1, 28, 28, 32, 3, 1, 0, 1),
    ("keras", "mnist conv2 32→64 3×3 13²", 64, 32, 13, 13, 64, 3, 1, 0, 1),
    ("keras", "cifar conv1 3→32 3×3 32²", 64, 3, 32, 32, 32, 3, 1, 0, 1),
    ("keras", "cifar conv3 64→64 3×3 6²", 64, 64, 6, 6, 64, 3, 1, 0, 1),
    ("resnet", "stem 3→64 3×3 32²", 32, 3, 32, 32, 64, 3, 1, 1, 1),
    ("resnet", "layer1 64→64 3×3 32²", 32, 64, 32, 32, 64, 3, 1, 1, 1),
    ("resnet", "layer2 64→128 3×3 s2", 32, 64, 32, 32, 128, 3, 2, 1, 1),
    ("resnet", "layer2 128→128 3×3 16²", 32, 128, 16, 16, 128, 3, 1, 1, 1),
    ("resnet", "layer3 256→256 3×3 8²", 32, 256, 8, 8, 256, 3, 1, 1, 1),
    ("resnet", "layer4 512→512 3×3 4²", 32, 512, 4, 4, 512, 3, 1, 1, 1),
    ("resnet", "shortcut 64→128 1×1 s2", 32, 64, 32, 32, 128, 1, 2, 0, 1),
    ("mobilenet", "expand 24→144 1×1 16²", 32, 24, 16, 16, 144, 1, 1, 0, 1),
    ("mobilenet", "depthwise 144 3×3 16²", 32, 144, 16, 16, 144, 3, 1, 1, 144),
    ("mobilenet", "depthwise 144 3×3 s2", 32, 144, 16, 16, 144, 3, 2, 1, 144),
    ("mobilenet", "depthwise 960 3×3 4²", 32, 960, 4, 4, 960, 3, 1, 1, 960),
    ("mobilenet", "project 144→24 1×1 16²", 32, 144, 16, 16, 24, 1, 1, 0, 1),
]

def _linear(lib, x, weight):
    return lib.F.linear(x, weight)


def _cross_entropy(lib, logits, labels):
    return lib.F.cross_entropy(logits, labels)


def _batch_norm(lib, x):
    channels = x.shape[1]
    return lib.F.batch_norm(x, None, None, lib.module.ones(channels, requires_grad=True),
                            lib.module.zeros(channels, requires_grad=True), training=True)


# (group, name, input arrays, op)
_rng = np.random.default_rng(0)
OTHER_OPS = [
    ("lenet", "max_pool 2×2 6×28²", [(64, 6, 28, 28)], lambda lib, x: lib.F.max_pool2d(x, 2)),
    ("resnet", "max_pool 3×3 s2 64×32²", [(32, 64, 32, 32)], lambda lib, x: lib.F.max_pool2d(x, 3, 2, 1)),
    ("keras", "avg_pool 2×2 32×26²", [(64, 32, 26, 26)], lambda lib, x: lib.F.avg_pool2d(x, 2)),
    ("resnet", "batch_norm 64×32²", [(32, 64, 32, 32)], _batch_norm),
    ("resnet", "batch_norm 256×8²", [(32, 256, 8, 8)], _batch_norm),
    ("mlp", "linear 32×784 → 64", [(32, 784), (64, 784)], _linear),
    ("resnet", "linear 32×512 → 1000", [(32, 512), (1000, 512)], _linear),
    ("mlp", "softmax-CE 64×10", [(64, 10), ("labels", 10, 64)], _cross_entropy),
    ("resnet", "softmax-CE 256×1000", [(256, 1000), ("labels", 1000, 256)], _cross_entropy),
]


def _array(spec):
    """A float32 array of the given shape, or ('labels', classes, count) int64 class labels."""
    if spec[0] == "labels":
        return _rng.integers(0, spec[1], spec[2])
    return (_rng.standard_normal(spec) * 0.1).astype(np.float32)


class Lib:
    def __init__(self, module, functional):
        self.module, self.F = module, functional


def _conv_flops(n, c, k, oh, ow, kernel, groups):
    return 2 * n * k * oh * ow * (c // groups) * kernel * kernel


def _time(lib, make_inputs, op, repeats, backward):
    inputs = make_inputs(lib)

    def run():
        out = op(lib, *inputs)
        if backward:
            out.sum().backward()
    return first_call_and_median(run, repeats)


def _conv_case(shape):
    group, name, n, c, h, w, k, kernel, stride, padding, groups = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    weight = (rng.standard_normal((k, c // groups, kernel, kernel)) * 0.1).astype(np.float32)

    def make(lib):
        tensor = lib.module.tensor
        return tensor(x, requires_grad=True), tensor(weight, requires_grad=True)

    def op(lib, a, b):
        return lib.F.conv2d(a, b, None, stride, padding, 1, groups)
    oh = (h + 2 * padding - kernel) // stride + 1
    return group, name, make, op, 3 * _conv_flops(n, c, k, oh, oh, kernel, groups)


def _other_case(entry):
    group, name, specs, op = entry
    arrays = [_array(spec) for spec in specs]

    def make(lib):
        return tuple(lib.module.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays)
    flops = 3 * 2 * np.prod(specs[0]) * specs[1][0] if op is _linear else None
    return group, name, make, op, flops


def _cases(only):
    """(group, name, make_inputs, op, training FLOPs) of every row ``--only`` selects."""
    return [_conv_case(shape) for shape in CONV_SHAPES if only in (None, shape[0])] + \
        [_other_case(entry) for entry in OTHER_OPS if only in (None, entry[0])]


def _time_both_passes(lib, case, repeats):
    """(first call s, forward s, first call with backward s, forward+backward s)."""
    _, _, make, op, _ = case
    return _time(lib, make, op, repeats, backward=False) + _time(lib, make, op, repeats, backward=True)


def _row(case, ours, theirs):
    """One table row from the two children's times, {name: (first, fwd, first+bwd, fwd+bwd)}."""
    group, name, _, _, train_flops = case
    first, ours_fwd, first_train, ours_train = ours[name]
    _, theirs_fwd, _, theirs_train = theirs[name]
    return {
        "group": group, "shape": name,
        "fwd ms": ours_fwd * 1e3, "torch fwd ms": theirs_fwd * 1e3, "fwd ratio": ours_fwd / theirs_fwd,
        "fwd+bwd ms": ours_train * 1e3, "torch fwd+bwd ms": theirs_train * 1e3,
        "fwd+bwd ratio": ours_train / theirs_train,
        "GFLOP/s": train_flops / ours_train / 1e9 if train_flops else None,
        "first call s": max(first, first_train),
    }


def child(lib_name, repeats, only):
    """In a fresh process: every case's times for one library, as JSON."""
    module = setup_threads(lib_name)
    functional = module.nn.functional
    times = {case[1]: _time_both_passes(Lib(module, functional), case, repeats) for case in _cases(only)}
    print(json.dumps(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 10")
    parser.add_argument("--only", default=None, help="lenet, keras, mlp, resnet or mobilenet")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 10
    if args.child:
        return child(args.child, repeats, args.only)
    peak = gemm_peak_gflops()
    print(f"tinynn vs PyTorch {importlib.metadata.version('torch')} on the CPU, {THREADS} threads each, "
          f"each library in its own fresh process, float32, median of {repeats} runs\n"
          f"machine: {machine_description()}; NumPy float32 GEMM peak {peak:.0f} GFLOP/s")
    flags = (["--quick"] if args.quick else []) + (["--only", args.only] if args.only else [])
    ours = run_child(__file__, ["--child", "tinynn"] + flags)
    theirs = run_child(__file__, ["--child", "torch"] + flags)
    rows = [_row(case, ours, theirs) for case in _cases(args.only)]
    columns = ["shape", "fwd ms", "torch fwd ms", "fwd ratio", "fwd+bwd ms", "torch fwd+bwd ms",
               "fwd+bwd ratio", "GFLOP/s", "first call s"]
    print_table(rows, columns)
    print("ratio = tinynn time / torch time (below 1: tinynn is faster). GFLOP/s counts the forward "
          "and both backward products of conv and linear (3× the forward FLOPs).")
    if args.json:
        write_json(args.json, {"threads": THREADS, "gemm_peak_gflops": peak, "rows": rows})
    return rows


if __name__ == "__main__":
    main()

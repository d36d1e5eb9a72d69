"""Time tinynn's Numba CUDA kernels against PyTorch's cuDNN on one GPU.

    pip install -e ".[cuda]" && pip install torch   # a CUDA build of torch on the GPU machine
    python benchmarks/bench_cuda.py [--quick]

Convolutions at the ResNet18 and MobileNetV2 shapes of bench_conv.py, forward and
forward+backward, fp32 with TF32 switched off in cuDNN and cuBLAS (so both sides do
fp32 arithmetic), then one ResNet18 training step on 32×32 images, batch 32.
Times are medians after warm-up, with the device synchronised around each run.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_conv import CONV_SHAPES  # noqa: E402
from common import print_table  # noqa: E402

import tinynn  # noqa: E402
import tinynn.nn.functional as F  # noqa: E402


def _median_ms(fn, synchronize, repeats):
    fn()
    synchronize()
    first = None
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize()
        times.append(time.perf_counter() - start)
        first = first or times[0]
    return statistics.median(times) * 1e3


def _conv_rows(torch, synchronize, repeats):
    rows = []
    for group, name, n, c, h, w, k, kernel, stride, padding, groups in CONV_SHAPES:
        if group not in ("resnet", "mobilenet"):
            continue
        rng = np.random.default_rng(0)
        x = rng.standard_normal((n, c, h, w)).astype(np.float32)
        weight = (rng.standard_normal((k, c // groups, kernel, kernel)) * 0.1).astype(np.float32)
        ours_x = tinynn.tensor(x, requires_grad=True, device="cuda")
        ours_w = tinynn.tensor(weight, requires_grad=True, device="cuda")
        theirs_x = torch.tensor(x, requires_grad=True, device="cuda")
        theirs_w = torch.tensor(weight, requires_grad=True, device="cuda")

        def ours(backward):
            out = F.conv2d(ours_x, ours_w, None, stride, padding, 1, groups)
            if backward:
                out.sum().backward()

        def theirs(backward):
            out = torch.nn.functional.conv2d(theirs_x, theirs_w, None, stride, padding, 1, groups)
            if backward:
                out.sum().backward()
        row = {"shape": name}
        for label, backward in (("fwd", False), ("fwd+bwd", True)):
            mine = _median_ms(lambda: ours(backward), synchronize, repeats)
            ref = _median_ms(lambda: theirs(backward), synchronize, repeats)
            row.update({f"{label} ms": mine, f"cuDNN {label} ms": ref, f"{label} ratio": mine / ref})
        rows.append(row)
    return rows


def _resnet_step_ms(torch, synchronize, repeats):
    model = tinynn.models.resnet18().to("cuda")
    opt = tinynn.optim.Adam(model.parameters(), lr=1e-3)
    x = tinynn.randn(32, 3, 32, 32, device="cuda")
    labels = tinynn.randint(0, 10, (32,))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), labels).backward()
        opt.step()
    return _median_ms(step, synchronize, repeats)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if not tinynn.cuda.is_available() or tinynn.cuda.is_simulator():
        raise SystemExit("bench_cuda: needs a real GPU with the cuda extra installed")
    import cupy
    import torch
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    cupy.cuda.Device().use()

    def synchronize():
        cupy.cuda.Device().synchronize()
        torch.cuda.synchronize()
    repeats = 5 if args.quick else 20
    print(f"tinynn (Numba CUDA + cuBLAS via CuPy) vs PyTorch {torch.__version__} cuDNN on "
          f"{torch.cuda.get_device_name()}, fp32, TF32 off, median of {repeats}")
    rows = _conv_rows(torch, synchronize, repeats)
    print_table(rows, ["shape", "fwd ms", "cuDNN fwd ms", "fwd ratio", "fwd+bwd ms",
                       "cuDNN fwd+bwd ms", "fwd+bwd ratio"])
    print(f"ResNet18 training step (batch 32, 32×32) on the GPU: "
          f"{_resnet_step_ms(torch, synchronize, max(3, repeats // 4)):.1f} ms")


if __name__ == "__main__":
    main()

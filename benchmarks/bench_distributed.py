"""Data-parallel training throughput over MPI: 1 and 2 ranks on this machine, and a modelled
scaling table for 8-64 ranks.

    python benchmarks/bench_distributed.py [--models lenet,resnet18] [--steps 6]

Each run is ``mpiexec -n N`` of this file with ``--rank-child``: the global batch is split over
the ranks, every rank gets cores / N threads, and rank 0 reports the median step time and the
time spent waiting for gradient allreduces (the part backward did not hide).  The model for
more ranks: a step takes compute(B / N) + the unhidden allreduce of the gradient bytes over a
ring, 2 (N - 1) / N · bytes / bandwidth + 2 (N - 1) · latency, with compute measured here at
1 rank (scaled linearly in the per-rank batch) and the link stated in the table.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from common import print_table  # noqa: E402

LINK_BYTES_PER_S, LINK_LATENCY_S = 1.25e9, 5e-6          # 10 Gbit/s Ethernet, 5 µs per message


def rank_child(model_name, steps):
    import numba

    import tinynn
    import tinynn.distributed as dist
    from bench_models import MODELS, build
    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    numba.set_num_threads(max(1, min(numba.config.NUMBA_NUM_THREADS, (os.cpu_count() or 1) // size)))
    batch, shape, classes = MODELS[model_name]
    _, model = build("tinynn", model_name)
    ddp = tinynn.nn.parallel.DistributedDataParallel(model)
    waited = [0.0]
    finish = ddp._finish

    def timed_finish():
        start = time.perf_counter()
        finish()
        waited[0] += time.perf_counter() - start
    ddp._finish = timed_finish
    tinynn.manual_seed(rank)
    x, y = tinynn.randn(batch // size, *shape), tinynn.randint(0, classes, (batch // size,))
    optimizer = tinynn.optim.SGD(ddp.parameters(), lr=0.01, momentum=0.9)
    times, waits = [], []
    for step in range(steps + 2):
        waited[0] = 0.0
        start = time.perf_counter()
        optimizer.zero_grad()
        tinynn.nn.functional.cross_entropy(ddp(x), y).backward()
        optimizer.step()
        if step >= 2:                                 # two warm-up steps: compilation
            times.append(time.perf_counter() - start)
            waits.append(waited[0])
    gradient_bytes = sum(p.numel() * p.dtype.itemsize for p in model.parameters())
    if rank == 0:
        print(json.dumps({"step": statistics.median(times), "wait": statistics.median(waits),
                          "bytes": gradient_bytes, "batch": batch}))


def run(model_name, ranks, steps):
    command = ["mpiexec", "-n", str(ranks), sys.executable, __file__, "--rank-child", model_name, str(steps)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def modelled(one_rank, ranks):
    """Step time at ``ranks`` for the same global batch, from the 1-rank measurement."""
    compute = one_rank["step"] / ranks
    allreduce = 2 * (ranks - 1) / ranks * one_rank["bytes"] / LINK_BYTES_PER_S + 2 * (ranks - 1) * LINK_LATENCY_S
    return compute + allreduce, allreduce


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="lenet,resnet18")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--rank-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rank_child:
        return rank_child(args.rank_child[0], int(args.rank_child[1]))
    measured, table = [], []
    for name in args.models.split(","):
        one, two = run(name, 1, args.steps), run(name, 2, args.steps)
        measured.append({"model": name, "global batch": one["batch"], "1 rank ms": one["step"] * 1e3,
                         "2 ranks ms": two["step"] * 1e3, "speed-up": one["step"] / two["step"],
                         "allreduce wait %": 100 * two["wait"] / two["step"], "gradient MB": one["bytes"] / 2 ** 20})
        for ranks in (8, 16, 32, 64):
            step, allreduce = modelled(one, ranks)
            table.append({"model": name, "ranks": ranks, "modelled step ms": step * 1e3,
                          "allreduce ms": allreduce * 1e3, "efficiency %": 100 * one["step"] / ranks / step})
    print(f"measured on this machine ({os.cpu_count()} cores; each rank gets cores / ranks threads)")
    print_table(measured, ["model", "global batch", "1 rank ms", "2 ranks ms", "speed-up", "allreduce wait %",
                           "gradient MB"])
    print(f"\nmodelled: compute from the 1-rank step / N, ring allreduce over a {LINK_BYTES_PER_S * 8 / 1e9:.0f} "
          f"Gbit/s link with {LINK_LATENCY_S * 1e6:.0f} µs latency, not overlapped (a bound)")
    print_table(table, ["model", "ranks", "modelled step ms", "allreduce ms", "efficiency %"])


if __name__ == "__main__":
    main()

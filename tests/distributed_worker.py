"""Run by tests/test_distributed.py under ``mpiexec -n 2``: one scenario per call, each rank
writing what it ended with to ``<out>/<scenario>-rank<r>.npz``."""
import os
import signal
import sys

import numpy as np

import tinynn
import tinynn.distributed as dist
from tinynn.nn.parallel import DistributedDataParallel

STEPS, BATCH, MICRO_BATCHES = 4, 8, 3


def model(seed, batch_norm=False):
    tinynn.manual_seed(seed)
    layers = [tinynn.nn.Linear(5, 7)] + ([tinynn.nn.BatchNorm1d(7)] if batch_norm else []) + \
        [tinynn.nn.Tanh(), tinynn.nn.Linear(7, 3)]
    return tinynn.nn.Sequential(*layers).double()


def data(step):
    rng = np.random.default_rng(100 + step)
    return rng.standard_normal((BATCH, 5)), rng.standard_normal((BATCH, 3))


def shard(array, rank, size):
    indices = list(tinynn.data.DistributedSampler(array, num_replicas=size, rank=rank, shuffle=False))
    return tinynn.tensor(array[indices])


def train(ddp, rank, size, accumulate):
    optimizer = tinynn.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    for step in range(STEPS):
        optimizer.zero_grad()
        for micro in range(MICRO_BATCHES if accumulate else 1):
            x, y = data(step * 10 + micro)
            loss = tinynn.nn.functional.mse_loss(ddp(shard(x, rank, size)), shard(y, rank, size))
            if accumulate and micro < MICRO_BATCHES - 1:
                with ddp.no_sync():
                    loss.backward()
            else:
                loss.backward()
        optimizer.step()


def main(scenario, out):
    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    if scenario == "raises" and rank == 1:
        raise ValueError("rank 1 read a corrupt shard")
    if scenario in ("dies", "raises"):
        if rank == 1:
            os.kill(os.getpid(), signal.SIGKILL)     # killed: rank 0 is left alone in the allreduce below
        dist.all_reduce(tinynn.ones(3))
        return
    bucket_mb = 1e-5 if scenario == "small-buckets" else 25        # one parameter per bucket, or one bucket
    net = model(seed=rank, batch_norm=scenario == "sync-bn")                    # ranks start different
    if scenario == "sync-bn":
        net = tinynn.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    ddp = DistributedDataParallel(net, bucket_cap_mb=bucket_mb)
    launched, position = [], {id(p): i for i, p in enumerate(ddp.parameters())}
    original = ddp._launch
    ddp._launch = lambda bucket: launched.append(
        (ddp._in_backward, len(bucket.params), position[id(bucket.params[0])])) or original(bucket)
    train(ddp, rank, size, accumulate=scenario == "no-sync")
    state = {k: v.numpy() for k, v in ddp.module.state_dict().items()}
    state["launched_during_backward"] = np.array([during for during, _, _ in launched])
    state["bucket_sizes"] = np.array([n for _, n, _ in launched])
    state["first_parameter_of_bucket"] = np.array([first for _, _, first in launched])
    np.savez(f"{out}/{scenario}-rank{rank}.npz", **state)
    gathered = [tinynn.zeros(1) for _ in range(size)]
    dist.all_gather(gathered, tinynn.tensor([float(rank)]))
    assert [g.item() for g in gathered] == list(range(size))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

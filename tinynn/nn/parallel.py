"""``DistributedDataParallel``: one model replica per rank, each on its share of the batch.

    rank r:  g_r = ∇ L(shard r)         all ranks:  g ← (1/N) Σ_r g_r,  then the same step

At construction rank 0's parameters and buffers are broadcast, so the replicas start equal;
after each backward every gradient is the mean over the ranks, so they stay equal — the
weights are those of one process trained on the whole batch (``tests/test_distributed.py``).

The averaging overlaps with the backward pass: parameters are grouped into buckets of about
``bucket_cap_mb`` in the reverse order of ``parameters()`` (the order their gradients are
finished in), and a bucket's allreduce starts, non-blocking, as soon as its last gradient is
ready (``Tensor.register_post_accumulate_grad_hook``); the engine calls ``_finish`` when the
pass is over, which waits for them and writes the means back.  Batch-norm statistics stay
per rank, as in PyTorch.
"""
import contextlib

import numpy as np

from .. import distributed as dist
from ..autograd import engine
from ..tensor import Tensor
from .modules.module import Module

__all__ = ["DistributedDataParallel"]


class _Bucket:
    def __init__(self, params):
        self.params, self.ready, self.flat, self.request = params, 0, None, None


class DistributedDataParallel(Module):
    def __init__(self, module, bucket_cap_mb=25, **unused):
        super().__init__()
        if not dist.is_initialized():
            raise RuntimeError("DistributedDataParallel: call tinynn.distributed.init_process_group() first")
        self.module, self.require_sync, self._in_backward = module, True, False
        for tensor in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(tensor, src=0)
        params = [p for p in module.parameters() if p.requires_grad]
        self.buckets = _make_buckets(params[::-1], bucket_cap_mb * 2 ** 20)
        self._bucket_of = {id(p): bucket for bucket in self.buckets for p in bucket.params}
        for param in params:
            param.register_post_accumulate_grad_hook(self._gradient_ready)

    def forward(self, *args, **kwargs):
        if self._in_backward:                # the last backward raised before _finish ran
            for bucket in self.buckets:
                if bucket.request is not None:
                    bucket.request.wait()     # every rank started it: let it complete
                bucket.ready, bucket.flat, bucket.request = 0, None, None
            self._in_backward = False
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Gradients accumulate locally inside the block; the first backward after it averages
        the accumulated sums across ranks."""
        previous, self.require_sync = self.require_sync, False
        try:
            yield
        finally:
            self.require_sync = previous

    def _gradient_ready(self, param):
        if not self.require_sync:
            return
        if not self._in_backward:
            self._in_backward = True
            engine.queue_callback(self._finish)
        bucket = self._bucket_of[id(param)]
        bucket.ready += 1
        if bucket.ready == len(bucket.params):
            self._launch(bucket)

    def _launch(self, bucket):
        """Start the bucket's allreduce on one flat copy of its gradients (zeros where a
        parameter got none in this pass)."""
        bucket.flat = np.concatenate([(p.grad._array if p.grad is not None else np.zeros(p.shape, p.dtype))
                                      .ravel() for p in bucket.params])
        bucket.request = dist.all_reduce(bucket.flat, op=dist.ReduceOp.AVG, async_op=True)

    def _finish(self):
        """After backward: every bucket reduced (in bucket order, the same on every rank) and
        its means written back into the parameters' ``.grad``."""
        for bucket in self.buckets:
            if bucket.request is None:
                self._launch(bucket)
            bucket.request.wait()
            offset = 0
            for param in bucket.params:
                size = param.numel()
                param.grad = Tensor._wrap(bucket.flat[offset:offset + size].reshape(param.shape), param.device)
                offset += size
            bucket.ready, bucket.flat, bucket.request = 0, None, None
        self._in_backward = False


def _make_buckets(params, cap_bytes):
    """Consecutive parameters of one dtype, up to ``cap_bytes`` per bucket."""
    buckets, current, size = [], [], 0
    for param in params:
        nbytes = param.numel() * param.dtype.itemsize
        if current and (size + nbytes > cap_bytes or param.dtype != current[0].dtype):
            buckets.append(_Bucket(current))
            current, size = [], 0
        current.append(param)
        size += nbytes
    if current:
        buckets.append(_Bucket(current))
    return buckets

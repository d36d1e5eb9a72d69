"""``tinynn.distributed``: the collective operations of data-parallel training, over MPI.

Launch N copies of a script with ``mpiexec -n N python script.py`` (``pip install -e
".[distributed]"`` brings ``mpi4py`` and MPICH's ``mpiexec``); in each, ``init_process_group()``
finds its rank and the world size from MPI.  The operations act in place on tensors' NumPy
arrays, which MPI reads and writes without a copy:

    all_reduce    x ← Σ_ranks x  (or the mean, ``ReduceOp.AVG``)
    broadcast     x ← x of rank ``src``
    all_gather    every rank receives every rank's x

A rank that dies makes ``mpiexec`` stop the others (MPICH's default), so no rank waits forever
in a collective; ``init_process_group`` also makes an uncaught exception in any rank abort the
whole job after printing its traceback (as ``python -m mpi4py`` does), instead of leaving the
other ranks waiting for it.
"""
import enum
import sys
import time

import numpy as np

__all__ = ["ReduceOp", "init_process_group", "join_mpi_job", "is_initialized", "get_rank", "get_world_size", "barrier",
           "all_reduce", "broadcast", "all_gather", "destroy_process_group", "is_available"]


class ReduceOp(enum.Enum):
    SUM = "sum"
    AVG = "avg"


class _Group:
    comm = None


def is_available() -> bool:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def init_process_group(backend="mpi", **unused):
    """Join the processes ``mpiexec`` started (every rank calls it once)."""
    if backend != "mpi":
        raise ValueError(f"init_process_group: tinynn runs over MPI; expected backend='mpi', got {backend!r}")
    try:
        from mpi4py import MPI
    except ImportError:
        raise RuntimeError("init_process_group: mpi4py is not installed; pip install -e \".[distributed]\" "
                           "(mpi4py and MPICH), then launch with mpiexec -n 2 python script.py") from None
    _Group.comm = MPI.COMM_WORLD
    sys.excepthook = _abort_on_uncaught(sys.excepthook, MPI.COMM_WORLD)


def _abort_on_uncaught(previous, comm):
    def hook(kind, value, traceback):
        previous(kind, value, traceback)
        sys.stderr.flush()
        time.sleep(0.5)          # mpiexec forwards the traceback before the abort tears the job down
        comm.Abort(1)
    return hook


def join_mpi_job():
    """(rank, ranks): a process started by ``mpiexec -n N`` with N > 1 (MPICH's PMI_SIZE, Open
    MPI's OMPI_COMM_WORLD_SIZE) joins the job; any other process gets (0, 1).  ``tinynn train``
    and Keras' ``fit`` call it, so the same command trains data-parallel under mpiexec."""
    import os
    size = int(os.environ.get("PMI_SIZE") or os.environ.get("OMPI_COMM_WORLD_SIZE") or 1)
    if size == 1:
        return 0, 1
    if not is_initialized():
        init_process_group("mpi")
    return get_rank(), get_world_size()


def is_initialized() -> bool:
    return _Group.comm is not None


def _comm(op):
    if _Group.comm is None:
        raise RuntimeError(f"{op}: call tinynn.distributed.init_process_group() first")
    return _Group.comm


def get_rank() -> int:
    return _comm("get_rank").Get_rank()


def get_world_size() -> int:
    return _comm("get_world_size").Get_size()


def barrier():
    _comm("barrier").Barrier()


def all_reduce(tensor, op=ReduceOp.SUM, async_op=False):
    """x ← Σ x over the ranks (``ReduceOp.AVG``: the mean), in place.  With ``async_op`` the
    reduction only starts: the returned request's ``wait()`` finishes it."""
    from mpi4py import MPI
    comm, array = _comm("all_reduce"), _buffer("all_reduce", tensor)
    if async_op:
        return _Request(comm.Iallreduce(MPI.IN_PLACE, array, op=MPI.SUM), array, comm.Get_size(), op)
    comm.Allreduce(MPI.IN_PLACE, array, op=MPI.SUM)
    if op is ReduceOp.AVG:
        array /= comm.Get_size()
    return None


def broadcast(tensor, src=0):
    """x ← rank ``src``'s x, in place."""
    _comm("broadcast").Bcast(_buffer("broadcast", tensor), root=src)


def all_gather(tensor_list, tensor):
    """``tensor_list[r]`` ← rank r's ``tensor``, for every rank r."""
    comm, array = _comm("all_gather"), _buffer("all_gather", tensor)
    if len(tensor_list) != comm.Get_size():
        raise ValueError(f"all_gather: expected a list of {comm.Get_size()} tensors (one per rank), got "
                         f"{len(tensor_list)}")
    gathered = np.empty((comm.Get_size(),) + array.shape, array.dtype)
    comm.Allgather(array, gathered)
    for target, value in zip(tensor_list, gathered):
        target._array[...] = value


def destroy_process_group():
    _Group.comm = None


class _Request:
    """A started allreduce: ``wait()`` completes it (and divides by the world size for AVG)."""

    def __init__(self, request, array, size, op):
        self.request, self.array, self.size, self.op = request, array, size, op

    def wait(self):
        self.request.Wait()
        if self.op is ReduceOp.AVG:
            self.array /= self.size


def _buffer(op, tensor):
    """The tensor's own array, which MPI reads and writes in place (it must be contiguous)."""
    array = getattr(tensor, "_array", tensor)
    if not isinstance(array, np.ndarray) or not array.flags.c_contiguous:
        raise ValueError(f"{op}: expected a CPU tensor with contiguous memory, got "
                         f"{type(tensor).__name__}")
    return array

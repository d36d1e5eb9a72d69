"""``torch.backends``'s switches that scripts set or query (not ``tinynn/backend.py``, the
engine's kernel protocol).  tinynn has no MPS or cuDNN: the queries say so, and the
switches are accepted and change nothing."""


class mps:  # noqa: N801  (PyTorch's name)
    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def is_built() -> bool:
        return False


class cudnn:  # noqa: N801
    enabled = True
    benchmark = False          # tinynn's convolution plan is chosen by shape (kernels/plan.py)
    deterministic = True       # tinynn's kernels are deterministic on the CPU

    @staticmethod
    def is_available() -> bool:
        return False

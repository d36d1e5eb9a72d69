"""The Tensor's math methods: elementwise functions and reductions, one line each to the op
in ``tinynn/ops`` that computes it and its gradient.  ``Tensor`` inherits them (tensor.py
keeps the data, devices, arithmetic operators and shapes).

PyTorch's NumPy-style aliases are accepted where PyTorch accepts them: ``axis`` for
``dim``, ``keepdims`` for ``keepdim``.
"""
import math


def _ops():
    from . import ops          # late: ops import the Tensor, which inherits from this class
    return ops


def _dim(dim, axis):
    return axis if dim is None else dim


class TensorMath:
    __slots__ = ()

    # ---------------------------------------------------------------- elementwise: ops/unary.py, softmax.py
    def exp(self): return _ops().unary.Exp.apply(self)
    def expm1(self): return _ops().unary.Expm1.apply(self)
    def log(self): return _ops().unary.Log.apply(self)
    def log1p(self): return _ops().unary.Log1p.apply(self)
    def sqrt(self): return _ops().unary.Sqrt.apply(self)
    def rsqrt(self): return self.sqrt().reciprocal()
    def reciprocal(self): return 1 / self
    def sin(self): return _ops().unary.Sin.apply(self)
    def cos(self): return _ops().unary.Cos.apply(self)
    def abs(self): return _ops().unary.Abs.apply(self)
    def clip(self, min=None, max=None): return _ops().unary.Clip.apply(self, low=min, high=max)
    def tanh(self): return _ops().unary.Tanh.apply(self)
    def sigmoid(self): return _ops().unary.Sigmoid.apply(self)
    def relu(self): return _ops().unary.ReLU.apply(self)
    def square(self): return self ** 2
    def softmax(self, dim): return _ops().softmax.softmax(self, dim)
    def log_softmax(self, dim): return _ops().softmax.log_softmax(self, dim)
    clamp = clip

    # ---------------------------------------------------------------- reductions: ops/reduction.py
    def sum(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
        out = _ops().reduction.Sum.apply(self, dim=_dim(dim, axis), keepdim=keepdims or keepdim)
        return out if dtype is None else out.to(dtype)

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops().reduction.Mean.apply(self, dim=_dim(dim, axis), keepdim=keepdims or keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, correction=None, *, axis=None):
        return _ops().reduction.var(self, _dim(dim, axis), unbiased, keepdim, correction)

    def std(self, dim=None, unbiased=None, keepdim=False, correction=None, *, axis=None):
        return self.var(dim, unbiased, keepdim, correction, axis=axis).sqrt()

    def max(self, dim=None, keepdim=False, *, axis=None):
        return _ops().reduction.reduce_max(self, _dim(dim, axis), keepdim)

    def min(self, dim=None, keepdim=False, *, axis=None):
        return _ops().reduction.reduce_min(self, _dim(dim, axis), keepdim)

    def amax(self, dim=None, keepdim=False): return _ops().reduction.Max.apply(self, dim=dim, keepdim=keepdim)
    def amin(self, dim=None, keepdim=False): return _ops().reduction.Min.apply(self, dim=dim, keepdim=keepdim)

    def argmax(self, dim=None, keepdim=False, *, axis=None):
        return _ops().reduction.argmax(self, _dim(dim, axis), keepdim)

    def argmin(self, dim=None, keepdim=False, *, axis=None):
        return _ops().reduction.argmin(self, _dim(dim, axis), keepdim)

    def norm(self, p="fro", dim=None, keepdim=False):
        """‖x‖_p = (Σ |x|^p)^(1/p) over ``dim`` (all entries by default); p = 'fro' is 2,
        p = inf the largest |x|, p = 0 the count of non-zeros (no gradient)."""
        if p in ("fro", 2):
            return _ops().reduction.Norm.apply(self, dim=dim, keepdim=keepdim)
        if p == math.inf:
            return self.abs().amax(dim, keepdim)
        if p == 0:
            return (self != 0).to(self.dtype).sum(dim, keepdim)
        if not isinstance(p, (int, float)) or p < 0:
            raise ValueError(f"norm: expected p to be 'fro', inf or a non-negative number, got {p!r}")
        return (self.abs() ** p).sum(dim, keepdim) ** (1.0 / p)

    # ---------------------------------------------------------------- products: ops/arithmetic.py
    def matmul(self, other): return self @ other
    def mm(self, other): return _matrix_product("mm", self, other, 2)
    def bmm(self, other): return _matrix_product("bmm", self, other, 3)


def _matrix_product(name, a, b, ndim):
    """``a @ b`` for exactly ``ndim``-dimensional operands, as ``torch.mm``/``torch.bmm`` demand."""
    if a.ndim != ndim or getattr(b, "ndim", None) != ndim:
        raise ValueError(f"{name}: expected two {ndim}-D tensors, got shapes {tuple(a.shape)} and "
                         f"{tuple(getattr(b, 'shape', ()))}")
    return a @ b

"""The reference backend: readable NumPy for the hot ops, the formulas a lecture shows.

It provides every function of the ``tinynn.backend.Backend`` protocol, as the fast
backends in ``tinynn/kernels`` do; the tests hold the two equal, and
``tinynn.backend.use_kernels("reference")`` runs a whole network on this one.

    conv.py          convolution and its two gradients, loop over kernel offsets
    pool.py          max and average pooling, loop over window offsets
    batchnorm.py     batch statistics and the three-sum backward formula
    elementwise.py   ReLU and erf
    lowbit.py        sparse (CSR) and int8 matrix products
    Adam's update    ``kernels/optim.py``'s ``adam_update_arrays``, NumPy written once for
                     this backend and for CuPy on the GPU (the kernels may not import tinynn)
    matmul.py        the matrix product, NumPy's own
"""
from .matmul import matmul  # noqa: F401

from .batchnorm import batch_norm_backward, batch_norm_forward  # noqa: F401
from .conv import conv2d_backward, conv2d_forward, conv2d_plan  # noqa: F401
from .elementwise import clip, clip_backward, erf, relu, relu_backward  # noqa: F401
from ..kernels.optim import adam_update_arrays as adam_update  # noqa: F401
from .lowbit import (  # noqa: F401
    csr_linear, int8_conv2d, int8_matmul, prepare_int8_weight, quantized_conv2d, quantized_linear,
)
from .pool import (  # noqa: F401
    avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward,
)

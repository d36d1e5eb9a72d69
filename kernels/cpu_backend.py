"""The CPU backend: every function of the ``tinynn.backend.Backend`` protocol, on NumPy
arrays, with Numba kernels for the hot loops and OpenBLAS for the matrix products.

    matrix product   blas.py: OpenBLAS calls shared out over Numba's threads
    convolution      plan.py chooses; conv.py runs it with the primitives below
    pooling          pool.py
    batch norm       batchnorm.py
    ReLU, clip, erf  elementwise.py
    Adam's update    optim.py
    sparse, int8     sparse.py (CSR × dense), quantized.py (uint8 × int8 → int32; VNNI in
                     vnni.py and vnni_conv.py where the CPU has it)
"""
from . import conv, depthwise, im2col, plan, tiled_conv, winograd
from .blas import matmul
from .batchnorm import batch_norm_backward, batch_norm_forward  # noqa: F401
from .elementwise import clip, clip_backward, erf, relu, relu_backward  # noqa: F401
from .optim import adam_update  # noqa: F401
from .quantized import (  # noqa: F401
    int8_conv2d, int8_matmul, prepare_int8_weight, quantized_conv2d, quantized_linear,
)
from .sparse import csr_linear  # noqa: F401
from .pool import (  # noqa: F401
    avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward,
)

PRIMITIVES = conv.Primitives(
    im2col=im2col.im2col, col2im=im2col.col2im, depthwise_forward=depthwise.forward,
    depthwise_backward_input=depthwise.backward_input,
    depthwise_backward_weight=depthwise.backward_weight, winograd=winograd, tiled=tiled_conv, matmul=matmul)

conv2d_plan, conv2d_forward, conv2d_backward = conv.bind(PRIMITIVES, plan.CPU_FEATURES)

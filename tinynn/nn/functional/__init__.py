"""``tinynn.nn.functional``: every layer as a function (PyTorch's ``torch.nn.functional``),
one family per file as in ``nn/modules``: linear, conv, padding, pooling, normalization,
dropout, activation, loss, embedding, rnn (the recurrent layers over a sequence), attention
(layer norm, scaled dot-product attention), sync_batch_norm."""
from .activation import (  # noqa: F401
    relu, relu6, leaky_relu, sigmoid, tanh, silu, swish, mish, gelu, softmax, log_softmax,
    softplus, hardtanh,
)
from .conv import conv2d  # noqa: F401
from .dropout import dropout, dropout2d  # noqa: F401
from .embedding import embedding  # noqa: F401
from .attention import layer_norm, scaled_dot_product_attention  # noqa: F401
from .linear import linear  # noqa: F401
from .loss import (  # noqa: F401
    mse_loss, l1_loss, smooth_l1_loss, huber_loss, cross_entropy, nll_loss, binary_cross_entropy,
    binary_cross_entropy_with_logits, kl_div,
)
from .normalization import batch_norm  # noqa: F401
from .padding import pad  # noqa: F401
from .pooling import max_pool2d, avg_pool2d, adaptive_avg_pool2d  # noqa: F401

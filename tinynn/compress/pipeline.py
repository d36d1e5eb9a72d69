"""A compression recipe run step by step on a trained model, each step measured: what
``tinynn compress`` prints and ``benchmarks/bench_compress.py`` tabulates.

    prune      global magnitude pruning of every Linear/Conv2d weight, then fine-tuning
    share      k-means weight sharing (2^bits values per layer), the centroids fine-tuned
    quantize   post-training static int8 quantisation, calibrated on training batches
    distill    a student trained against a teacher (and, to compare, without one)

Each row reports the non-zero parameters, the bytes of the saved file (pruned and shared
weights stored sparse and deflated: ``tinynn.save(..., sparse=True, compress=True)``), the
median inference latency of one batch, and the test accuracy.
"""
import io
from collections import namedtuple

import numpy as np
from tqdm.auto import tqdm

from .. import quantization
from ..autograd import no_grad
from ..nn.modules.conv import Conv2d
from ..nn.modules.linear import Linear
from ..nn.utils import prune
from ..serialization import save
from ..tensor import Tensor
from ..training import median_latency_ms, train_epoch
from .sharing import share_weights, unshare_weights

__all__ = ["Row", "measure", "prune_model", "share_model", "quantize_model", "format_table"]

Row = namedtuple("Row", "method parameters file_bytes latency_ms accuracy")


def _weighted(model):
    return [m for m in model.modules() if isinstance(m, (Linear, Conv2d)) and "weight" in m._parameters]


def measure(method, model, x_test, y_test, batch=256, repeats=15, compact=True):
    """One table row for ``model`` on the test data."""
    model.eval()
    buffer = io.BytesIO()
    save(model.state_dict(), buffer, sparse=compact, compress=compact)
    parameters = sum(int(np.count_nonzero(np.asarray(t.detach()))) for name, t in model.state_dict().items()
                     if not name.endswith(("_mask", "_scale", "_zero_point", "running_mean", "running_var",
                                           "num_batches_tracked", "columns", "starts")))
    latency = median_latency_ms(model, Tensor(x_test[:batch]), repeats)
    with no_grad():
        predictions = np.concatenate([model(Tensor(x_test[i:i + 512])).numpy().argmax(axis=1)
                                      for i in range(0, len(x_test), 512)])
    return Row(method, parameters, len(buffer.getvalue()), latency,
               float((predictions == y_test).mean()))


def _finetune(model, loader, loss_fn, optimizer, epochs, label):
    for epoch in range(epochs):
        train_epoch(model, loader, loss_fn, optimizer, description=f"{label} {epoch + 1}/{epochs}")


def prune_model(model, amount, loader, loss_fn, make_optimizer, epochs=1):
    """Global L1 pruning of every weight to ``amount`` zeros, fine-tuned, made permanent."""
    layers = _weighted(model)
    prune.global_unstructured([(m, "weight") for m in layers], prune.L1Unstructured, amount=amount)
    _finetune(model, loader, loss_fn, make_optimizer(model.parameters()), epochs, "fine-tune pruned")
    for layer in layers:
        prune.remove(layer, "weight")
    return model


def share_model(model, bits, loader, loss_fn, make_optimizer, epochs=1):
    """k-means sharing of every weight into 2^bits values; centroids fine-tuned, then the
    shared values written back into plain weights."""
    layers = _weighted(model)
    for layer in layers:
        share_weights(layer, "weight", bits)
    _finetune(model, loader, loss_fn, make_optimizer(model.parameters()), epochs, "fine-tune shared")
    for layer in layers:
        unshare_weights(layer, "weight")
    return model


def quantize_model(model, calibration_x, batches=8, batch=128):
    """Static int8: observe the inputs of every layer on calibration batches, then convert."""
    prepared = quantization.prepare(model.eval())
    with no_grad():
        for i in tqdm(range(0, min(len(calibration_x), batches * batch), batch), desc="calibrate",
                      leave=False):
            prepared(Tensor(calibration_x[i:i + batch]))
    return quantization.convert(prepared)


def format_table(rows):
    """A Markdown table, sizes and latencies relative to the first row."""
    base = rows[0]
    lines = ["| method | parameters | file bytes | × smaller | latency ms/batch | × faster | accuracy |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row.method} | {row.parameters:,} | {row.file_bytes:,} | "
                     f"{base.file_bytes / row.file_bytes:.1f} | {row.latency_ms:.2f} | "
                     f"{base.latency_ms / row.latency_ms:.2f} | {row.accuracy:.2%} |")
    return "\n".join(lines)

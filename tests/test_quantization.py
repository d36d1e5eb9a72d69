"""Quantisation: the int8 and CSR kernels equal their references exactly, quantised layers
equal the dequantised formula and stay within the quantisation error of the float model,
fake quantisation's straight-through gradient, the PyTorch-named transforms, and storage."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinynn
import tinynn.nn as nn
from tinynn import quantization as tq
from tinynn import reference
from tinynn.kernels import cpu_backend
from tinynn.serialization import to_csr


@given(m=st.integers(1, 9), n=st.integers(1, 11), k=st.integers(1, 300), seed=st.integers(0, 99))
def test_int8_matmul_kernel_equals_reference_exactly(m, n, k, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (m, k)).astype(np.uint8)
    b = rng.integers(-127, 128, (n, k)).astype(np.int8)
    np.testing.assert_array_equal(cpu_backend.int8_matmul(a, b), reference.int8_matmul(a, b))


@given(seed=st.integers(0, 99), stride=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)), kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)))
def test_int8_conv2d_kernel_equals_reference_exactly(seed, stride, dilation, kernel):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (2, 3, 7, 8)).astype(np.uint8)
    w = rng.integers(-127, 128, (4, 3) + kernel).astype(np.int8)
    out_hw = tuple((s - d * (q - 1) - 1) // t + 1 for s, q, t, d in zip((7, 8), kernel, stride, dilation))
    np.testing.assert_array_equal(cpu_backend.int8_conv2d(x, w, stride, dilation, out_hw),
                                  reference.int8_conv2d(x, w, stride, dilation, out_hw))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(seed=st.integers(0, 99), density=st.floats(0.0, 1.0))
def test_csr_linear_kernel_equals_reference(dtype, seed, density):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((6, 9)).astype(dtype)
    w[rng.random(w.shape) > density] = 0
    x = rng.standard_normal((5, 9)).astype(dtype)
    parts = to_csr(w)
    np.testing.assert_allclose(cpu_backend.csr_linear(x, *parts), reference.csr_linear(x, *parts),
                               rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)
    np.testing.assert_allclose(cpu_backend.csr_linear(x, *parts), x @ w.T, rtol=1e-5, atol=1e-5)


def _error_bound(x, weight, input_scale, weight_scale):
    """|y_int8 - y_float| ≤ Σ_k |w_k| s_x/2 + |x_k| s_c/2 + s_x s_c/4, per output."""
    return np.abs(x) @ (weight_scale[:, None] / 2 * np.ones_like(weight)).T \
        + (np.abs(weight) * input_scale / 2).sum(axis=1) + weight.shape[1] * input_scale * weight_scale / 4


@pytest.mark.parametrize("mode", ["dynamic", "static"])
def test_quantized_linear_is_the_dequantized_formula_and_within_the_error_bound(mode):
    tinynn.manual_seed(0)
    layer = nn.Linear(50, 7)
    x = tinynn.randn(9, 50)
    model = nn.Sequential(layer)
    if mode == "dynamic":
        quantized = tq.quantize_dynamic(model)
    else:
        prepared = tq.prepare(model)
        prepared(x)
        quantized = tq.convert(prepared)
    q_layer = quantized[0]
    with tinynn.no_grad():
        out = q_layer(x).numpy()
    scale, zero_point = tq.affine_qparams(x.numpy().min(), x.numpy().max())
    dequantized_x = tq.dequantize(tq.quantize(x.numpy(), scale, zero_point), scale, zero_point)
    dequantized_w = q_layer.weight.numpy() * q_layer.weight_scale.numpy()[:, None]
    expected = dequantized_x @ dequantized_w.T + layer.bias.detach().numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    float_out = layer(x).detach().numpy()
    bound = _error_bound(x.numpy(), layer.weight.detach().numpy(), scale, q_layer.weight_scale.numpy())
    assert np.all(np.abs(out - float_out) <= bound + 1e-6)


def test_quantized_conv_equals_the_dequantized_convolution_with_padding():
    tinynn.manual_seed(1)
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1)
    x = tinynn.randn(2, 3, 9, 8) + 0.5                      # an asymmetric range: z_x ≠ 0
    quantized = tq.quantize_dynamic(nn.Sequential(conv), {nn.Conv2d})[0]
    scale, zero_point = tq.affine_qparams(x.numpy().min(), x.numpy().max())
    assert zero_point != 0
    dequantized_x = tq.dequantize(tq.quantize(x.numpy(), scale, zero_point), scale, zero_point)
    dequantized_w = quantized.weight.numpy() * quantized.weight_scale.numpy()[:, None, None, None]
    expected = nn.functional.conv2d(tinynn.tensor(dequantized_x), tinynn.tensor(dequantized_w.astype(np.float32)),
                                    conv.bias.detach(), stride=2, padding=1).numpy()
    with tinynn.no_grad():
        np.testing.assert_allclose(quantized(x).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_fake_quantize_rounds_to_the_grid_and_passes_gradients_inside_the_range():
    x = tinynn.tensor([-1.3, -0.26, 0.0, 0.31, 2.0, 5.0], requires_grad=True)
    y = tq.fake_quantize_activation(x, low=-1.0, high=1.55)
    scale, zero_point = tq.affine_qparams(-1.0, 1.55)
    q = np.clip(np.rint(x.detach().numpy() / scale) + zero_point, 0, 255)
    np.testing.assert_allclose(y.detach().numpy(), (q - zero_point) * scale, rtol=1e-6)
    y.sum().backward()
    inside = (np.rint(x.detach().numpy() / scale) + zero_point >= 0) & (np.rint(x.detach().numpy() / scale) + zero_point <= 255)
    np.testing.assert_array_equal(x.grad.numpy(), inside.astype(np.float32))
    assert inside.tolist() == [False, True, True, True, False, False]


def _digits_loader():
    images, labels = tinynn.data.load_digits(8)
    x = images.reshape(len(images), -1).astype(np.float32)
    return x, labels


def test_quantization_aware_training_then_convert_keeps_accuracy(tmp_path):
    x, y = _digits_loader()
    tinynn.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    qat = tq.prepare_qat(model)
    assert isinstance(qat[0], tq.QATLinear) and isinstance(model[0], nn.Linear)      # a copy
    optimizer = tinynn.optim.Adam(qat.parameters(), lr=0.01)
    loader = tinynn.data.DataLoader(tinynn.data.TensorDataset(x[:1400], y[:1400]), 64, shuffle=True)
    for _ in range(8):
        for inputs, labels in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(qat(inputs), labels).backward()
            optimizer.step()
    qat.eval()
    with tinynn.no_grad():
        float_accuracy = (qat(tinynn.tensor(x[1400:])).numpy().argmax(1) == y[1400:]).mean()
        quantized = tq.convert(qat)
        int8_accuracy = (quantized(tinynn.tensor(x[1400:])).numpy().argmax(1) == y[1400:]).mean()
    assert float_accuracy > 0.9 and abs(int8_accuracy - float_accuracy) <= 0.02
    tinynn.save(quantized.state_dict(), tmp_path / "int8.npz")
    tinynn.save(model.state_dict(), tmp_path / "float.npz")
    assert (tmp_path / "int8.npz").stat().st_size < 0.6 * (tmp_path / "float.npz").stat().st_size  # 1 byte a weight; a tiny model pays more headers
    fresh = tq.prepare_qat(model)
    fresh(tinynn.tensor(x[:5]))                  # any ranges: the loaded state replaces them
    again = tq.convert(fresh)
    again.load_state_dict(tinynn.load(tmp_path / "int8.npz"))
    with tinynn.no_grad():
        np.testing.assert_array_equal(again(tinynn.tensor(x[:5])).numpy(), quantized(tinynn.tensor(x[:5])).numpy())


@pytest.mark.parametrize("call,error,pattern", [
    (lambda m: tq.convert(m), ValueError, r"convert: nothing to convert"),
    (lambda m: tq.convert(tq.prepare(m)), RuntimeError, r"no values observed yet; run calibration"),
    (lambda m: tq.prepare(nn.Sequential(nn.ReLU())), ValueError, r"prepare: the model has no nn.Linear"),
    (lambda m: tq.quantize_dynamic(m, dtype=tinynn.float32), ValueError, r"only dtype=tinynn.qint8"),
    (lambda m: tq.QuantizedConv2d(nn.Conv2d(4, 4, 3, groups=2)), ValueError, r"only groups=1"),
    (lambda m: tq.quantize_dynamic(m)(tinynn.randn(2, 4, requires_grad=True)), RuntimeError,
     r"quantised layers are for inference"),
])
def test_bad_quantization_requests_are_clear(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(nn.Sequential(nn.Linear(4, 3)))


@pytest.mark.parametrize("path", ["vnni", "int16"])
@given(rows=st.integers(1, 9), depth=st.integers(1, 150), out=st.integers(1, 11), seed=st.integers(0, 99))
def test_both_int8_kernels_equal_the_reference_exactly(path, rows, depth, out, seed):
    """The AVX-512 VNNI kernels where the CPU has them, the int16 kernels everywhere:
    the integer product and the whole quantised Linear (quantise, product, dequantise)."""
    from tinynn.kernels import quantized, vnni
    if path == "vnni" and not vnni.AVAILABLE:
        pytest.skip("this CPU has no AVX-512 VNNI (or Numba does not compile for it)")
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (rows, depth)).astype(np.uint8)
    b = rng.integers(-127, 128, (out, depth)).astype(np.int8)
    x = (rng.standard_normal((rows, depth)) * 2).astype(np.float32)
    weight_scale = rng.uniform(0.001, 0.1, out).astype(np.float32)
    bias = rng.standard_normal(out).astype(np.float32)
    old = vnni.AVAILABLE
    vnni.AVAILABLE = path == "vnni"
    try:
        np.testing.assert_array_equal(quantized.int8_matmul(a, b), reference.int8_matmul(a, b))
        np.testing.assert_allclose(
            quantized.quantized_linear(x, 0.03, 117, quantized.prepare_int8_weight(b), weight_scale, bias),
            reference.quantized_linear(x, 0.03, 117, reference.prepare_int8_weight(b), weight_scale, bias),
            rtol=1e-6, atol=1e-6)
    finally:
        vnni.AVAILABLE = old


@pytest.mark.parametrize("path", ["vnni windows", "vnni channels", "int16"])
@given(n=st.integers(1, 3), c=st.integers(1, 7), extra=st.tuples(st.integers(0, 9), st.integers(0, 9)),
       k=st.integers(1, 40), kernel=st.tuples(st.integers(1, 6), st.integers(1, 9)),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)), dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       pads=st.tuples(*[st.integers(0, 3)] * 4), float64=st.booleans(), bias=st.booleans(), seed=st.integers(0, 99))
def test_both_quantized_convolutions_equal_the_reference_bit_for_bit(path, n, c, extra, k, kernel, stride, dilation,
                                                                      pads, float64, bias, seed):
    """The implicit-GEMM VNNI convolution (windows read in place from the padded image, in
    tiles of 8 outputs × 16 channels or, at stride 1, 16 outputs × 8 channels; K over several
    tiles, KW padded to groups of 4) and the int16 column kernel, against quantise → pad →
    the convolution formula → dequantise."""
    from tinynn.kernels import quantized, vnni, vnni_conv
    if path.startswith("vnni") and not vnni.AVAILABLE:
        pytest.skip("this CPU has no AVX-512 VNNI (or Numba does not compile for it)")
    padding = (pads[:2], pads[2:])
    hw = tuple(max(1, d * (q - 1) + 1 - sum(p)) + e for q, d, p, e in zip(kernel, dilation, padding, extra))
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, c) + hw) * 3).astype(np.float64 if float64 else np.float32)  # some clamp
    weight = rng.integers(-127, 128, (k, c) + kernel).astype(np.int8)
    weight_scale = rng.uniform(0.001, 0.1, k).astype(np.float32)
    b = rng.standard_normal(k).astype(np.float32) if bias else None
    args = (weight_scale, b, stride, padding, dilation)
    if path == "vnni windows":
        assume(stride[1] == 1)
    old = vnni.AVAILABLE, vnni_conv._window_tiles_pay
    vnni.AVAILABLE = path.startswith("vnni")
    vnni_conv._window_tiles_pay = lambda width, channels, step: path == "vnni windows"
    try:
        ours = quantized.quantized_conv2d(x, 0.02, 117, quantized.prepare_int8_weight(weight), *args)
    finally:
        vnni.AVAILABLE, vnni_conv._window_tiles_pay = old
    np.testing.assert_array_equal(ours, reference.quantized_conv2d(x, 0.02, 117, reference.prepare_int8_weight(weight),
                                                                   *args))


@pytest.mark.parametrize("make_layer, shape", [(lambda: nn.Linear(40, 9), (5, 40)),
                                               (lambda: nn.Conv2d(3, 5, 3), (2, 3, 8, 8))])
def test_a_quantized_layer_prepares_its_weight_once_and_again_after_it_changes(monkeypatch, make_layer, shape):
    """The packed weight is kept between calls, and remade when load_state_dict writes a new one."""
    from tinynn.device import CPU
    cpu_backend = tinynn.backend.for_device(CPU)
    tinynn.manual_seed(0)
    layer = tq.quantize_dynamic(nn.Sequential(make_layer()), {nn.Linear, nn.Conv2d})[0]
    calls = []
    original = cpu_backend.prepare_int8_weight
    monkeypatch.setattr(cpu_backend, "prepare_int8_weight", lambda w: calls.append(1) or original(w))
    x = tinynn.randn(*shape)
    with tinynn.no_grad():
        first = layer(x).numpy()
        assert np.array_equal(layer(x).numpy(), first) and len(calls) == 1
        state = layer.state_dict()
        state["weight"] = tinynn.tensor(-state["weight"].numpy())
        layer.load_state_dict(state)
        flipped = layer(x).numpy()
    assert len(calls) == 2
    bias = layer.bias.numpy().reshape((-1,) + (1,) * (len(shape) - 2))
    np.testing.assert_allclose(flipped - bias, -(first - bias), rtol=1e-4, atol=1e-4)

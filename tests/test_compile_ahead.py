"""The helper process that compiles backward kernels ahead (``kernels/ahead.py``): it asks
for exactly the types the backward pass calls with, fills the cache the backward kernel
then loads from, starts only on a cold cache, and a failure or a switch-off only means the
kernel compiles in this process as before."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import tinynn
import tinynn.nn.functional as F
from tinynn.kernels import ahead, batchnorm, depthwise, elementwise, im2col, pool, tiled_conv, winograd

AHEAD_KERNELS = [kernel for module in (batchnorm, depthwise, elementwise, im2col, pool, tiled_conv, winograd)
                 for kernel in vars(module).values() if isinstance(kernel, ahead.AheadKernel)]


def _one_step_through_every_backward_kernel():
    """A float32 training step whose layers the planner sends to every kernel asked for ahead:
    Winograd (16 channels, 20×20), depthwise planar (20 wide) and channels last (5 wide),
    register tiles (10×10), im2col (stride 2, 32 channels), batch norm, ReLU and ReLU6 on ≥ 64k values,
    max and average pooling."""
    rng = np.random.default_rng(0)

    def parameter(*shape):
        return tinynn.tensor(rng.standard_normal(shape).astype(np.float32) * 0.1, requires_grad=True)

    x = tinynn.tensor(rng.standard_normal((12, 16, 20, 20)).astype(np.float32), requires_grad=True)
    h = F.conv2d(x, parameter(16, 16, 3, 3), padding=1)
    h = F.relu(F.batch_norm(h, None, None, parameter(16), parameter(16), training=True))
    h = F.relu6(F.conv2d(h, parameter(16, 1, 3, 3), padding=1, groups=16))
    h = F.conv2d(F.max_pool2d(h, 2), parameter(16, 16, 3, 3), padding=1)
    h = F.conv2d(F.avg_pool2d(h, 2), parameter(16, 1, 3, 3), padding=1, groups=16)
    F.conv2d(h, parameter(32, 16, 3, 3), stride=2).sum().backward()
    return x.grad


def test_every_kernel_is_asked_for_with_the_types_it_is_called_with(monkeypatch):
    """A request with other types than the backward call's would compile the wrong signature:
    after a step, each kernel's requests are among the signatures this process runs."""
    for kernel in AHEAD_KERNELS:
        monkeypatch.setattr(kernel, "seen", set())
        monkeypatch.setattr(kernel, "requested", set())
    assert np.isfinite(_one_step_through_every_backward_kernel().numpy()).all()
    for kernel in AHEAD_KERNELS:
        name = kernel.dispatcher.py_func.__qualname__
        assert kernel.requested, f"{name} was never asked for: the step no longer reaches it"
        assert kernel.requested <= set(kernel.dispatcher.overloads), \
            f"{name}: asked for {kernel.requested}, called with {list(kernel.dispatcher.overloads)}"


_SCRIPT = textwrap.dedent("""
    import sys, time
    import numba
    import numpy as np
    from tinynn.kernels import ahead, elementwise, winograd
    assert ahead._HELPER.process is None, "importing started a helper"
    if sys.argv[1] == "bad request":     # types the kernel cannot compile for: the helper fails
        elementwise._relu_backward.compile_ahead(np.zeros((2, 2), np.int8), "text")
    if sys.argv[1] == "busy helper":     # a float64 Winograd kernel keeps the helper busy for seconds
        grad, d = np.zeros((1, 1, 4, 4)), np.zeros((36, 1, 1))
        winograd._gradient_transform.compile_ahead(grad, 1, 1, 1, d)
    x = np.linspace(-1, 1, 2 ** 16, dtype=np.float32)
    y = elementwise.relu(x)                       # asks for relu_backward's float32 signature
    kernel = elementwise._relu_backward
    if kernel.pending and sys.argv[1] != "busy helper":     # let the helper finish first
        types = next(t for t in kernel.requested if t[0] == numba.typeof(x))    # not the bad one
        deadline = time.monotonic() + 120
        while not ahead._in_cache(kernel.dispatcher, types) and time.monotonic() < deadline:
            time.sleep(0.05)
    grad = elementwise.relu_backward(np.ones_like(x), y)
    stats = kernel.dispatcher.stats
    print(ahead._HELPER.sent, sum(stats.cache_hits.values()), sum(stats.cache_misses.values()),
          int(grad.sum()) == int((x > 0).sum()))
""")


def _run(tmp_path, mode="", **env):
    """(requests sent, cache hits, cache misses, gradient right) of relu_backward's first call
    in a fresh process whose Numba cache is ``tmp_path``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), **env)
    done = subprocess.run([sys.executable, "-c", _SCRIPT, mode], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    sent, hits, misses, right = done.stdout.split()
    return int(sent), int(hits), int(misses), right == "True"


def test_the_helper_compiles_into_the_cache_and_only_when_it_is_cold(tmp_path):
    assert _run(tmp_path) == (1, 1, 0, True)        # the helper compiled it, this process loaded it
    assert _run(tmp_path) == (0, 1, 0, True)        # warm cache: no helper at all


def test_a_request_the_helper_has_not_started_is_taken_back(tmp_path):
    """Needed while the helper compiles another kernel, relu_backward compiles here at once
    (a cache miss) instead of waiting for its turn in the helper."""
    assert _run(tmp_path, "busy helper") == (2, 0, 1, True)


def test_a_failed_or_switched_off_helper_leaves_the_kernel_to_this_process(tmp_path):
    assert _run(tmp_path / "off", TINYNN_COMPILE_AHEAD="0") == (0, 0, 1, True)
    sent, hits, misses, right = _run(tmp_path / "bad", "bad request")
    assert sent == 2 and right          # the bad request failed in the helper; the good one was served
    assert (hits, misses) == (1, 0)


def test_a_kernel_without_a_cache_is_never_sent_to_the_helper():
    """With nothing to hand over (no cache=True), a request stays in this process."""
    from numba import int64, njit
    kernel = ahead.AheadKernel(njit(lambda value: value + 1))
    sent = ahead._HELPER.sent
    kernel.compile_ahead(int64)
    assert kernel.requested == {(int64,)} and not kernel.pending and ahead._HELPER.sent == sent
    assert kernel(1) == 2


_ADAM_SCRIPT = textwrap.dedent("""
    import numpy as np
    from tinynn import reference
    from tinynn.kernels import ahead, cpu_backend, optim
    rng = np.random.default_rng(0)
    ours = [rng.standard_normal(100).astype(np.float32) for _ in range(3)] + [rng.random(100).astype(np.float32)]
    theirs = [a.copy() for a in ours]
    cpu_backend.adam_update(*ours, None, 0.01, 0.9, 0.999, 1e-8, 1)   # asks the helper, runs NumPy
    reference.adam_update(*theirs, None, 0.01, 0.9, 0.999, 1e-8, 1)
    stats = optim._adam_span.dispatcher.stats
    compiled_here = sum(stats.cache_misses.values())
    ahead.finish()
    cpu_backend.adam_update(*ours, None, 0.01, 0.9, 0.999, 1e-8, 2)   # the kernel, from the cache
    reference.adam_update(*theirs, None, 0.01, 0.9, 0.999, 1e-8, 2)
    print(ahead._HELPER.sent, compiled_here, sum(stats.cache_hits.values()),
          all(np.array_equal(a, b) for a, b in zip(ours, theirs)))
""")


def test_adam_runs_numpys_formula_while_the_helper_compiles_its_kernel(tmp_path):
    """On an empty cache the first Adam step neither compiles here nor waits: NumPy's formula
    gives the kernel's bits meanwhile; after ``finish`` the kernel loads from the cache."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", _ADAM_SCRIPT], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "0", "1", "True"]

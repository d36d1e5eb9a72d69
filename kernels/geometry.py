"""Index arithmetic shared by the CPU and the CUDA kernels: which outputs of a row, and
which taps of a window, fall inside the input.

Plain Python on integers, so that each device compiles the same function: the CPU
modules wrap them in ``njit(inline="always")``, the CUDA modules in
``cuda.jit(device=True)``.  A window of output i starts at input index
``i·stride - pad`` and its tap t reads ``i·stride - pad + t·dilation``.
"""


def valid_range(out, stride, offset, size):
    """The outputs z in [lo, hi) whose input index z·stride + offset lies in [0, size);
    0 ≤ lo ≤ hi ≤ out, so that loops over [0, lo) and [hi, out) stay inside the row even
    when the padding covers all of it."""
    lo = 0 if offset >= 0 else min(out, (stride - 1 - offset) // stride)
    hi = min(out, (size - 1 - offset) // stride + 1) if size > offset else 0
    return lo, max(lo, hi)


def tap_range(i, stride, pad, dilation, kernel, size):
    """The taps t in [lo, hi) of window i whose input index i·stride - pad + t·dilation
    lies in [0, size)."""
    start = i * stride - pad
    lo = 0 if start >= 0 else (dilation - 1 - start) // dilation
    hi = min(kernel, (size - 1 - start) // dilation + 1) if size > start else 0
    return lo, max(lo, hi)


def average_window(i, j, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, h, w,
                   count_include_pad, divisor_override):
    """Output (i, j)'s average-pooling window: (top, bottom, left, right) clipped to the
    input, and PyTorch's divisor |window|: the override, the window clipped to the padded
    input (count_include_pad), or the window clipped to the input."""
    top, left = i * stride_h - pad_h, j * stride_w - pad_w
    bottom, right = min(top + kernel_h, h + pad_h), min(left + kernel_w, w + pad_w)
    padded_area = (bottom - top) * (right - left)
    top, left, bottom, right = max(top, 0), max(left, 0), min(bottom, h), min(right, w)
    if divisor_override > 0:
        divisor = divisor_override
    elif count_include_pad:
        divisor = padded_area
    else:
        divisor = (bottom - top) * (right - left)
    return top, bottom, left, right, divisor

"""Bad input across the public API: every case is a clear error naming the operation, what
it expected and what it got; none is a silent wrong answer or an error from deep inside
NumPy.  (Version counters are in test_autograd.py, the CLI's flags in test_cli.py.)"""
import gzip
import io
import json
import os
import struct
import zipfile

import numpy as np
import pytest

import tinynn
import tinynn.nn as nn
import tinynn.nn.functional as F
from tinynn import data, keras

W = tinynn.randn(3, requires_grad=True)
T = tinynn.ones(2, 3)

# Each was accepted before and gave a silently wrong or surprising result.
SILENT = [
    (lambda: tinynn.optim.SGD(W), TypeError, r"SGD: params should be an iterable .* single tensor"),
    (lambda: tinynn.optim.SGD([W, W]), ValueError, r"SGD: parameter 1 of group 0 .* already"),
    (lambda: tinynn.optim.Adam([{"params": [W]}, {"params": [W]}]), ValueError, r"group 1 .* already"),
    (lambda: tinynn.optim.RMSprop([W], alpha=-0.5), ValueError, r"RMSprop: expected alpha >= 0"),
    (lambda: tinynn.optim.Adagrad([W], lr_decay=-1), ValueError, r"Adagrad: expected lr_decay >= 0"),
    (lambda: tinynn.optim.Adagrad([W], initial_accumulator_value=-1), ValueError,
     r"expected initial_accumulator_value >= 0"),
    (lambda: tinynn.optim.SGD([W], lr=float("nan")), ValueError, r"SGD: expected a number for lr, got NaN"),
    (lambda: tinynn.tensor("abc"), TypeError, r"tensor: expected numbers .* dtype <U3"),
    (lambda: tinynn.tensor(None), TypeError, r"tensor: expected numbers .* dtype object"),
    (lambda: tinynn.tensor([object()]), TypeError, r"tensor: expected numbers .* dtype object"),
    (lambda: tinynn.tensor([1 + 2j]), TypeError, r"tensor: expected numbers .* complex128"),
    (lambda: tinynn.tensor(np.array(["a", "b"])), TypeError, r"tensor: expected numbers"),
    (lambda: tinynn.randn(2.5), TypeError, r"randn: expected integer sizes, got \(2.5,\)"),
    (lambda: T.reshape(-2, 3), ValueError, r"reshape: expected sizes >= 0 and at most one -1"),
    (lambda: T.reshape(-1, -1), ValueError, r"reshape: expected sizes >= 0 and at most one -1"),
    (lambda: T.flatten(0, 5), IndexError, r"flatten: dim 5 out of range .* 2 dimensions"),
    (lambda: nn.Linear(3, 2)(tinynn.ones(4, 3, dtype=tinynn.float64)), TypeError,
     r"linear: input dtype float64 does not match weight dtype float32"),
    (lambda: nn.Linear(3, 2)(tinynn.ones(4, 3, dtype=tinynn.int64)), TypeError,
     r"linear: input dtype int64 does not match weight dtype float32"),
    (lambda: nn.MaxPool2d(2, stride=0)(tinynn.ones(1, 1, 4, 4)), ValueError,
     r"max_pool2d: expected stride >= 1, got \(0, 0\)"),
    (lambda: nn.AvgPool2d(2, stride=0)(tinynn.ones(1, 1, 4, 4)), ValueError,
     r"avg_pool2d: expected stride >= 1"),
    (lambda: F.binary_cross_entropy(tinynn.tensor([0.5, float("nan")]), tinynn.tensor([1.0, 0.0])),
     ValueError, r"binary_cross_entropy: expected input probabilities in \[0, 1\].*got nan"),
    (lambda: data.random_split(range(4), [5, -1]), ValueError,
     r"random_split: expected non-negative lengths"),
    (lambda: data.random_split(range(4), [2.5, 1.5]), ValueError, r"must sum to the dataset size"),
    (lambda: tinynn.ones(2).to(dtype=str), TypeError, r"to: expected a numeric dtype"),
    (lambda: nn.BatchNorm2d(0), ValueError, r"BatchNorm2d: expected num_features to be a positive int"),
]

# Each failed before, but deep inside NumPy (or with a message that named nothing).
UNCLEAR = [
    (lambda: tinynn.tensor([[1, 2], [3]]), ValueError, r"tensor: could not read list data .* same length"),
    (lambda: T == tinynn.ones(4), ValueError, r"equal: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    (lambda: T < np.ones((3, 2)), ValueError, r"less: shapes \(2, 3\) and \(3, 2\)"),
    (lambda: tinynn.where(tinynn.ones(4) > 0, T, T), ValueError, r"where: shapes \(4,\) and \(2, 3\)"),
    (lambda: T.clone().add_(tinynn.ones(4)), ValueError, r"add_: expected a value broadcastable to .*\(2, 3\)"),
    (lambda: tinynn.ones(3, dtype=tinynn.int64).add_(0.5), TypeError,
     r"add_: cannot write a float64 result into the int64 tensor"),
    (lambda: T.clone().__setitem__((5, 0), 1.0), IndexError, r"setitem: index 5 is out of bounds .*\(2, 3\)"),
    (lambda: T.clone().__setitem__(0, tinynn.ones(4)), ValueError,
     r"setitem: cannot assign a value of shape \(4,\) to tensor\[0\]"),
    (lambda: T.transpose(0, 4), IndexError, r"transpose: dim 4 out of range"),
    (lambda: tinynn.cat([T, T], dim=3), IndexError, r"cat: dim 3 out of range"),
    (lambda: tinynn.cat([T, tinynn.ones(2, 4)], dim=0), ValueError, r"cat: expected tensors with equal shapes"),
    (lambda: nn.Conv2d(3, 4, kernel_size=0), ValueError, r"Conv2d: expected kernel_size >= 1"),
    (lambda: nn.Conv2d(3, 4, 3, padding=-1), ValueError, r"Conv2d: expected padding >= 0"),
    (lambda: nn.Conv2d(3.0, 4, 3), ValueError, r"Conv2d: expected in_channels to be a positive int"),
    (lambda: nn.Linear(2.5, 3), ValueError, r"Linear: expected in_features to be a positive int"),
    (lambda: F.linear(T, tinynn.ones(4, 3), tinynn.ones(3)), ValueError,
     r"linear: expected a bias of shape \(4,\), got \(3,\)"),
    (lambda: tinynn.arange(0, 5, 0), ValueError, r"arange: expected a non-zero step"),
    (lambda: tinynn.arange(0, 5, -1), ValueError, r"arange: expected a non-zero step that goes"),
    (lambda: tinynn.zeros(2, -1), ValueError, r"zeros: expected non-negative sizes, got \(2, -1\)"),
    (lambda: tinynn.eye(-2), ValueError, r"eye: expected non-negative sizes"),
    (lambda: tinynn.randint(5, 5, (2,)), ValueError, r"randint: expected low < high"),
    (lambda: tinynn.full((2,), "a"), TypeError, r"full: expected a number for fill_value, got 'a'"),
    (lambda: tinynn.device("tpu"), ValueError, r"device: expected 'cpu', 'cuda' or 'cuda:N', got 'tpu'"),
    (lambda: tinynn.ones(2).to("cuda:x"), ValueError, r"got 'cuda:x'"),
    (lambda: keras.models.Sequential([keras.layers.MaxPooling2D((2, 2), input_shape=(28, 28))]),
     ValueError, r"MaxPooling2D: expected an input shape \(height, width, channels\)"),
    (lambda: keras.models.Sequential([keras.layers.Dense(3, input_shape=(-4,))]), ValueError,
     r"Dense: expected input_shape to be a tuple of positive ints"),
    (lambda: keras.models.Sequential([keras.layers.Flatten(input_shape=(4, 4)),
                                      keras.layers.Conv2D(3, (3, 3))]),
     ValueError, r"Conv2D: expected an input shape \(height, width, channels\) .* got \(16,\)"),
]


@pytest.mark.parametrize("call,error,pattern", SILENT + UNCLEAR,
                         ids=[f"case{i}" for i in range(len(SILENT + UNCLEAR))])
def test_bad_input_is_a_clear_error(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


@pytest.fixture
def compiled_model():
    model = keras.models.Sequential([keras.layers.Dense(3, input_shape=(4,))])
    model.compile(loss="mse", optimizer="sgd")
    return model


@pytest.mark.parametrize("x,y,error,pattern", [
    (None, np.ones((3, 3)), ValueError, r"fit: expected x, an array .* got None"),
    (np.ones((3, 4)), None, ValueError, r"fit: expected y, an array .* got None"),
    (np.array([["a"] * 4] * 3), np.ones((3, 3)), TypeError, r"fit: expected x .*encode strings"),
    (np.ones((3, 4)), np.ones((2, 3)), ValueError, r"fit: x has 3 samples but y has 2"),
])
def test_keras_fit_refuses_missing_or_non_numeric_data(compiled_model, x, y, error, pattern):
    with pytest.raises(error, match=pattern):
        compiled_model.fit(x, y, verbose=0)


# ------------------------------------------------------------------ data files
def _idx_bytes(array, code=0x08):
    return struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) \
        + array.astype(">u1").tobytes()


def _write_mnist(folder, images, labels, compress=True):
    for stem, array in (("t10k-images-idx3-ubyte", images), ("t10k-labels-idx1-ubyte", labels)):
        raw = _idx_bytes(array)
        (folder / (stem + ".gz" if compress else stem)).write_bytes(gzip.compress(raw) if compress else raw)


def test_swapped_mnist_files_are_refused(tmp_path):
    images, labels = np.zeros((5, 28, 28), np.uint8), np.arange(5, dtype=np.uint8)
    _write_mnist(tmp_path, labels, images)            # each file under the other's name
    with pytest.raises(ValueError, match=r"mnist: expected images of shape \(N, 28, 28\) .* swapped"):
        data.load_mnist(tmp_path)


@pytest.mark.parametrize("damage,pattern", [
    (lambda raw: raw[:len(raw) // 2], r"read_idx: .* is damaged \((EOFError|BadGzipFile)"),
    (lambda raw: raw[:10] + b"\xff" * 40 + raw[50:], r"read_idx: .* is damaged"),
])
def test_corrupt_or_truncated_gzip_idx_is_named(tmp_path, damage, pattern):
    _write_mnist(tmp_path, np.zeros((5, 28, 28), np.uint8), np.arange(5, dtype=np.uint8))
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=pattern):
        data.load_mnist(tmp_path)


def test_wrong_magic_and_truncated_header_are_named(tmp_path):
    path = tmp_path / "x.idx"
    path.write_bytes(b"\x01\x02\x03\x04" + bytes(10))
    with pytest.raises(ValueError, match=r"read_idx: .* is not an IDX file \(bad magic number"):
        data.read_idx(path)
    path.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(ValueError, match=r"read_idx: .* is truncated inside its header"):
        data.read_idx(path)


@pytest.mark.parametrize("size,pattern", [(3073 * 2 + 5, r"holds 6151 bytes, not a whole number"),
                                          (0, r"holds 0 bytes")])
def test_cifar_files_of_the_wrong_size_are_named(tmp_path, size, pattern):
    (tmp_path / "test_batch.bin").write_bytes(bytes(size))
    with pytest.raises(ValueError, match=rf"load_cifar10: .*test_batch.bin {pattern}"):
        data.load_cifar10(tmp_path, "test")


# ------------------------------------------------------------------ archives
def _npy(array_bytes_header, payload):
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(array_bytes_header)) + array_bytes_header + payload


def _header(descr, shape):
    text = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    return text + b" " * (63 - len(text) % 64) + b"\n"


def _archive(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)


def _structure(node):
    text = json.dumps(node).encode()
    return _npy(_header("|u1", (len(text),)), text)


@pytest.mark.parametrize("members,pattern", [
    ({"__tinynn_structure__.npy": _structure({"tensor": 5})}, r"refers to array 5, which is missing"),
    ({"__tinynn_structure__.npy": _structure({"bogus": 1})}, r"malformed 'bogus' node"),
    ({"__tinynn_structure__.npy": _structure(json.loads("[" * 100 + "]" * 100))}, r"malformed node"),
    ({"__tinynn_structure__.npy": _structure(
        json.loads('{"list": [' * 100 + '{"value": 1}' + "]}" * 100))}, r"nested deeper than 64"),
    ({"a0.npy": _npy(_header("<f8", (10 ** 12,)), bytes(8))},
     r"a0.npy declares shape \(1000000000000,\) of float64 \(8000000000000 bytes\) but stores 8"),
    ({"a0.npy": _npy(_header("|O", (1,)), bytes(8))}, r"a0.npy holds Python objects"),
    ({"a0.npy": b"not an array"}, r"a0.npy has no valid .npy header"),
    ({"notes.txt": b"hello"}, r"holds files other than .npy arrays"),
    ({"__tinynn_structure__.npy": _structure({"csr": {"packed": 0, "parts": [["<f4", 10 ** 9], ["|u1", 0],
                                                                              ["|u1", 0]], "shape": [2, 2]}}),
      "a0.npy": _npy(_header("|u1", (4,)), bytes(4))}, r"sparse array's values do not fit its packed bytes"),
    ({"__tinynn_structure__.npy": _structure({"csr": {"packed": 0, "parts": [["|O", 1], ["|u1", 1],
                                                                              ["|u1", 2]], "shape": [2, 2]}}),
      "a0.npy": _npy(_header("|u1", (11,)), bytes(11))}, r"sparse array's values do not fit"),
    ({"__tinynn_structure__.npy": _structure({"csr": {"packed": 0, "parts": [["<f4", 1], ["|u1", 1],
                                                                              ["|u1", 2]], "shape": [2, 2]}}),
      "a0.npy": _npy(_header("|u1", (7,)), bytes(4) + bytes([5, 1, 0]))}, r"has inconsistent parts"),
    ({"__tinynn_structure__.npy": _structure({"small": [0, "<f8", [4], True]}),
      "__tinynn_small__.npy": _npy(_header("|u1", (16,)), bytes(16))}, r"small array \(float64, shape \[4\]\) does not fit"),
    ({"__tinynn_structure__.npy": _structure({"small": [0, "|O", [1], True]}),
      "__tinynn_small__.npy": _npy(_header("|u1", (16,)), bytes(16))}, r"small array \(object"),
    ({"__tinynn_structure__.npy": _structure({"small": [0, "<f4", [-1], False]}),
      "__tinynn_small__.npy": _npy(_header("|u1", (16,)), bytes(16))}, r"small array .* does not fit"),
    ({"__tinynn_structure__.npy": _structure({"small": [0, "<f4"]})}, r"malformed 'small' node"),
    ({"__tinynn_structure__.npy": _structure({"small": [0, "<f4", [1], False]})}, r"does not fit the shared bytes"),
])
def test_damaged_or_hostile_archives_are_refused_before_allocating(tmp_path, members, pattern):
    path = tmp_path / "bad.npz"
    _archive(path, members)
    with pytest.raises(ValueError, match=rf"load: .*bad.npz is not a valid tinynn archive: .*{pattern}"):
        tinynn.load(path)


def test_a_structure_too_deep_for_json_is_refused(tmp_path):
    path = tmp_path / "bad.npz"
    text = b'{"list": [' * 100_000 + b'{"value": 1}' + b"]}" * 100_000
    _archive(path, {"__tinynn_structure__.npy": _npy(_header("|u1", (len(text),)), text)})
    with pytest.raises(ValueError, match="nested too deeply|nested deeper"):
        tinynn.load(path)


def test_pickles_and_broken_zips_are_refused(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"\x80\x04\x95 pickled")
    with pytest.raises(ValueError, match=r"it looks like a pickle file\); tinynn never unpickles"):
        tinynn.load(path)
    path.write_bytes(b"PK\x03\x04" + bytes(30))
    with pytest.raises(ValueError, match="the zip archive is damaged"):
        tinynn.load(path)


def test_load_reads_a_file_descriptor_without_closing_it(tmp_path):
    path = tmp_path / "m.npz"
    tinynn.save({"w": tinynn.ones(2)}, path)
    descriptor = os.open(path, os.O_RDONLY)
    try:
        assert tinynn.load(descriptor)["w"].tolist() == [1.0, 1.0]
        os.fstat(descriptor)                          # still open: raises OSError if closed
    finally:
        os.close(descriptor)
    buffer = io.BytesIO()
    tinynn.save({"w": tinynn.ones(2)}, buffer)
    buffer.seek(0)
    assert tinynn.load(buffer)["w"].tolist() == [1.0, 1.0] and not buffer.closed


# ------------------------------------------------------------------ nothing lost
def test_a_save_that_fails_halfway_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    tinynn.save({"w": tinynn.ones(3)}, path)
    good = path.read_bytes()

    def write_half_then_fail(handle, **arrays):
        handle.write(b"PK\x03\x04 half an archive")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", write_half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        tinynn.save({"w": tinynn.zeros(3)}, path)
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]    # no temporary left


def test_every_writer_is_atomic(tmp_path, monkeypatch):
    """Keras save, save_weights and ModelCheckpoint all go through the atomic writer."""
    model = keras.models.Sequential([keras.layers.Dense(2, input_shape=(3,))])
    model.compile(loss="mse", optimizer="sgd")
    path = tmp_path / "keras.npz"
    model.save(path)
    good = path.read_bytes()
    monkeypatch.setattr(np, "savez", lambda handle, **arrays: (_ for _ in ()).throw(OSError("disk")))
    for write in (model.save, model.save_weights):
        with pytest.raises(OSError, match="disk"):
            write(path)
        assert path.read_bytes() == good
    checkpoint = keras.callbacks.ModelCheckpoint(str(path))
    checkpoint.set_model(model)
    with pytest.raises(OSError, match="disk"):
        checkpoint.on_epoch_end(0, {"val_loss": 1.0})
    assert path.read_bytes() == good


def test_writers_into_a_missing_folder_fail_at_once(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"save: cannot write .* the folder .* does not exist"):
        tinynn.save({"w": tinynn.ones(1)}, tmp_path / "missing" / "m.npz")
    with pytest.raises(FileNotFoundError, match=r"ModelCheckpoint: cannot write"):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "missing" / "best.npz"))


def test_integer_like_sizes_are_accepted_as_in_pytorch():
    """Strict about what is not an integer, not about how an integer is given."""
    assert tinynn.ones(6).reshape(tinynn.tensor(2), np.int64(3)).shape == (2, 3)
    assert tinynn.zeros(tinynn.tensor(3)).shape == (3,)
    with pytest.raises(TypeError, match=r"reshape: expected integer sizes, got \(True,\)"):
        tinynn.ones(1).reshape(True)


def test_small_arrays_share_one_member_and_round_trip(tmp_path):
    """Biases, scales and 0-d values go into one archive member (each member costs ~0.2 KB of
    zip and .npy headers); a tied small parameter is stored once; every dtype and shape comes back."""
    import zipfile as zf
    tinynn.manual_seed(0)
    model = tinynn.models.LeNet5()
    shared = tinynn.nn.Parameter(tinynn.randn(3))
    state = dict(model.state_dict(), tied_a=shared, tied_b=shared, step=tinynn.tensor(7),
                 flags=np.array([True, False]), fortran=np.asfortranarray(np.arange(6.0).reshape(2, 3)))
    path = tmp_path / "m.npz"
    tinynn.save(state, path)
    with zf.ZipFile(path) as archive:
        names = sorted(archive.namelist())
    big = [k for k, v in state.items() if np.asarray(v.detach() if hasattr(v, "detach") else v).nbytes > 1024]
    assert names == sorted([f"a{i}.npy" for i in range(len(big))] + ["__tinynn_small__.npy", "__tinynn_structure__.npy"])
    loaded = tinynn.load(path)
    for key, value in state.items():
        expected = np.asarray(value.detach() if hasattr(value, "detach") else value)
        got = loaded[key].numpy() if isinstance(loaded[key], tinynn.Tensor) else loaded[key]
        assert got.dtype == expected.dtype and got.shape == expected.shape and np.array_equal(got, expected), key
    assert isinstance(loaded["tied_a"], tinynn.Tensor) and isinstance(loaded["flags"], np.ndarray)

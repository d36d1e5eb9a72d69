"""Data loading: IDX (gzip and raw), CIFAR-10's binary format, checksums, offline errors,
DataLoader batching and random_split."""
import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

import tinynn
from tinynn import data
from tinynn.data import datasets


def _write_idx(path, array, compress):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    (gzip.open if compress else open)(path, "wb").write(payload)


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_reader_handles_gzip_and_raw_idx(tmp_path, compress):
    images = np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256
    labels = np.array([3, 1, 4])
    suffix = ".gz" if compress else ""
    _write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", images, compress)
    _write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", labels, compress)
    x, y = data.load_mnist(tmp_path, "test")
    assert x.shape == (3, 1, 28, 28) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 0] * 255, images, atol=1e-4)
    assert y.tolist() == [3, 1, 4] and y.dtype == np.int64


def test_bundled_mnist_files_are_the_official_ones():
    import hashlib
    for name, expected in data.datasets.MNIST_MD5["mnist"].items():
        if name.startswith("t10k"):
            digest = hashlib.md5((data.datasets.BUNDLED_MNIST_DIR / name).read_bytes()).hexdigest()
            assert digest == expected, name


def test_real_mnist_test_set_loads():
    from tinynn.cli import DEFAULT_MNIST_DIR
    assert DEFAULT_MNIST_DIR == data.datasets.BUNDLED_MNIST_DIR
    assert Path(tinynn.__file__).parent in DEFAULT_MNIST_DIR.parents     # not beside the checkout
    x, y = data.load_mnist(DEFAULT_MNIST_DIR)
    assert x.shape == (10000, 1, 28, 28) and np.bincount(y).min() > 800
    assert y[:5].tolist() == [7, 2, 1, 0, 4]


def test_missing_directory_and_bad_files_are_explained(tmp_path):
    with pytest.raises(data.DatasetNotFoundError, match=r"no t10k-images-idx3-ubyte\[.gz\] in .*download=True"):
        data.load_mnist(tmp_path / "nowhere")
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"not an idx file")
    with pytest.raises(ValueError, match="is not an IDX file"):
        data.read_idx(tmp_path / "t10k-images-idx3-ubyte")


def test_download_offline_and_checksum_mismatch(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise OSError("network is unreachable")
    monkeypatch.setattr(datasets.urllib.request, "urlopen", offline)
    with pytest.raises(data.DatasetNotFoundError, match="looks offline"):
        data.load_mnist(tmp_path, download=True)

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return b"tampered bytes"
    monkeypatch.setattr(datasets.urllib.request, "urlopen", lambda url, timeout: Response())
    with pytest.raises(ValueError, match="checksum mismatch"):
        data.load_fashion_mnist(tmp_path, download=True)
    assert not list(tmp_path.glob("*.gz"))          # nothing corrupt was kept


def test_cifar10_binary_reader(tmp_path):
    rng = np.random.default_rng(0)
    records = rng.integers(0, 256, (4, 3073), dtype=np.uint8)
    records[:, 0] = [0, 9, 3, 5]
    for i in range(1, 6):
        records.tofile(tmp_path / f"data_batch_{i}.bin")
    records.tofile(tmp_path / "test_batch.bin")
    x, y = data.load_cifar10(tmp_path, "test")
    assert x.shape == (4, 3, 32, 32) and y.tolist() == [0, 9, 3, 5]
    np.testing.assert_allclose(x[1, 2].reshape(-1) * 255, records[1, 1 + 2048:], atol=1e-3)
    assert len(data.load_cifar10(tmp_path, "train")[0]) == 20
    with pytest.raises(data.DatasetNotFoundError, match="test_batch.bin"):
        data.load_cifar10(tmp_path / "missing", "test")


def test_digits_dataset_and_upsampling():
    x, y = data.load_digits(image_size=32)
    assert x.shape == (1797, 1, 32, 32) and x.max() <= 1.0 and set(y.tolist()) == set(range(10))
    with pytest.raises(ValueError, match="not a multiple"):
        data.upsample(x[:, :, :8, :8], 30)


def test_dataloader_batches_shuffles_with_the_seed_and_drops_last():
    x, y = np.arange(10, dtype=np.float32)[:, None], np.arange(10)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=4)
    assert [len(b[0]) for b in loader] == [4, 4, 2] and len(loader) == 3
    assert len(data.DataLoader(data.TensorDataset(x, y), 4, drop_last=True)) == 2
    tinynn.manual_seed(1)
    first = np.concatenate([b[1].numpy() for b in data.DataLoader(data.TensorDataset(x, y), 4, shuffle=True)])
    tinynn.manual_seed(1)
    again = np.concatenate([b[1].numpy() for b in data.DataLoader(data.TensorDataset(x, y), 4, shuffle=True)])
    assert sorted(first.tolist()) == list(range(10)) and first.tolist() == again.tolist()
    doubled = data.DataLoader(data.TensorDataset(x, y), 5, transform=lambda t: t * 2)
    assert next(iter(doubled))[0].numpy().max() == 8


def test_random_split_and_mismatched_lengths():
    dataset = data.TensorDataset(np.zeros((10, 2)), np.zeros(10))
    a, b = data.random_split(dataset, [0.7, 0.3])
    assert (len(a), len(b)) == (7, 3)
    assert not set(a.indices) & set(b.indices)
    with pytest.raises(ValueError, match="must sum to the dataset size 10"):
        data.random_split(dataset, [5, 6])
    with pytest.raises(ValueError, match=r"equal length.*\[10, 9\]"):
        data.TensorDataset(np.zeros((10, 2)), np.zeros(9))

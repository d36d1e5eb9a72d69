"""Data sets read from files (no pickle anywhere):

- ``load_digits``: scikit-learn's bundled 8×8 handwritten digits (the ``data`` extra); no download.
- ``load_mnist`` / ``load_fashion_mnist``: IDX files (gzip or raw) in a directory, with an
  optional download whose MD5 checksum is verified.
- ``load_cifar10``: the binary version (``data_batch_*.bin``, ``test_batch.bin``).

Every loader returns ``(images, labels)`` as NumPy arrays: images float32 in [0, 1]
with shape (N, C, H, W), labels int64.
"""
import gzip
import hashlib
import os
import struct
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from ..files import atomic_write

# The official MNIST test split, shipped inside the package (mnist/README.md: source, licence).
BUNDLED_MNIST_DIR = Path(__file__).resolve().parent / "mnist"

__all__ = ["load_digits", "load_mnist", "load_fashion_mnist", "load_cifar10", "read_idx",
           "upsample", "DatasetNotFoundError"]


class DatasetNotFoundError(FileNotFoundError):
    pass


def load_digits(image_size=8):
    """scikit-learn's 1,797 digits (8×8, 16 grey levels), optionally upsampled to ``image_size``."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ImportError("load_digits needs scikit-learn: pip install -e \".[data]\"") from None
    bunch = sklearn_digits()
    images = (bunch.images / 16.0).astype(np.float32)[:, None]
    return upsample(images, image_size), bunch.target.astype(np.int64)


def upsample(images, size):
    """Nearest-neighbour upsampling of (N, C, h, w) images to (N, C, size, size) (integer factor)."""
    factor, remainder = divmod(size, images.shape[-1])
    if remainder or factor < 1:
        raise ValueError(f"upsample: {size} is not a multiple of the image side {images.shape[-1]}")
    return images if factor == 1 else images.repeat(factor, axis=2).repeat(factor, axis=3)


_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Read one IDX file (the MNIST format), gzip-compressed or raw."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (EOFError, OSError, zlib.error) as error:      # truncated or corrupt gzip
        raise ValueError(f"read_idx: {path} is damaged ({type(error).__name__}: {error})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file (bad magic number {data[:4]!r})")
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise ValueError(f"read_idx: {path} is truncated inside its header")
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    array = np.frombuffer(data, dtype=_IDX_TYPES[data[2]], offset=4 + 4 * ndim)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"read_idx: {path} holds {array.size} values, its header says {shape}")
    return array.reshape(shape)


MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# MD5 of the gzip files (the values torchvision checks), verified after a download.
# The bundled test files match theirs (tests/test_data.py checks it).
MNIST_MD5 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}
MNIST_MIRRORS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion_mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}


def _find(directory, stem):
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if (directory / name).exists():
            return directory / name
    return None


def _download(url, target, md5):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            data = response.read()
    except OSError as error:
        raise DatasetNotFoundError(f"download of {url} failed ({error}); the machine looks "
                                   f"offline: copy the files into {target.parent} instead") from None
    if hashlib.md5(data).hexdigest() != md5:
        raise ValueError(f"download of {url}: checksum mismatch, the file is corrupt or was altered")
    with atomic_write(target, "download") as handle:
        handle.write(data)


def _load_idx_pair(name, root, split, download):
    if split not in MNIST_FILES:
        raise ValueError(f"{name}: expected split 'train' or 'test', got {split!r}")
    root = Path(os.path.expanduser(str(root)))
    paths = []
    for stem in MNIST_FILES[split]:
        path = _find(root, stem)
        if path is None and download:
            root.mkdir(parents=True, exist_ok=True)
            path = root / (stem + ".gz")
            _download(MNIST_MIRRORS[name] + stem + ".gz", path, MNIST_MD5[name][stem + ".gz"])
        if path is None:
            raise DatasetNotFoundError(
                f"{name}: no {stem}[.gz] in {root} (expected the IDX files of the {split} split); "
                "pass download=True on a machine that is online, or copy the files there")
        paths.append(path)
    images, labels = (read_idx(p) for p in paths)
    if images.ndim != 3 or labels.ndim != 1:
        raise ValueError(f"{name}: expected images of shape (N, 28, 28) in {paths[0].name} and labels "
                         f"of shape (N,) in {paths[1].name}, got {images.shape} and {labels.shape} "
                         "(are the two files swapped or mislabelled?)")
    if len(images) != len(labels):
        raise ValueError(f"{name}: {len(images)} images but {len(labels)} labels in {root}")
    return (images.astype(np.float32) / 255.0)[:, None], labels.astype(np.int64)


def load_mnist(root, split="test", download=False):
    """MNIST from IDX files in ``root`` (``BUNDLED_MNIST_DIR`` holds the test split)."""
    return _load_idx_pair("mnist", root, split, download)


def load_fashion_mnist(root, split="test", download=False):
    return _load_idx_pair("fashion_mnist", root, split, download)


def _cifar_records(path):
    """One CIFAR-10 binary file as (N, 3073) records: 1 label byte + 3·32·32 pixel bytes."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % 3073:
        raise ValueError(f"load_cifar10: {path} holds {raw.size} bytes, not a whole number of "
                         "3,073-byte records (1 label + 32×32×3 pixels); is it the binary version?")
    records = raw.reshape(-1, 3073)
    if records[:, 0].max() > 9:
        raise ValueError(f"load_cifar10: {path} has labels above 9; is it CIFAR-100 or not CIFAR?")
    return records


def load_cifar10(root, split="train"):
    """CIFAR-10's binary version: records of 1 label byte + 3072 pixel bytes (R, G, B planes)."""
    root = Path(os.path.expanduser(str(root)))
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] if split == "train" else ["test_batch.bin"]
    if split not in ("train", "test"):
        raise ValueError(f"load_cifar10: expected split 'train' or 'test', got {split!r}")
    for folder in (root, root / "cifar-10-batches-bin"):
        paths = [folder / n for n in names]
        if all(p.exists() for p in paths):
            break
    else:
        raise DatasetNotFoundError(f"load_cifar10: expected {', '.join(names)} in {root} (the "
                                   "binary version of CIFAR-10, cifar-10-binary.tar.gz, unpacked)")
    records = np.concatenate([_cifar_records(p) for p in paths])
    images = records[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0
    return images, records[:, 0].astype(np.int64)

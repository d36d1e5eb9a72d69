"""Writing files so that a crash never destroys the previous good one.

``atomic_write`` hands out a temporary file in the target's own folder; only when the
writer has finished is it flushed, fsynced and renamed over the target (``os.replace``
is atomic on POSIX and Windows).  A crash, a full disk or an exception halfway leaves
the old file exactly as it was, and the temporary file is removed.
"""
import contextlib
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "check_writable"]


def check_writable(path, op):
    """Fail now, not after an hour of training, when ``path``'s folder does not exist."""
    folder = Path(path).expanduser().resolve().parent
    if not folder.is_dir():
        raise FileNotFoundError(f"{op}: cannot write {path}: the folder {folder} does not exist")
    if Path(path).is_dir():
        raise IsADirectoryError(f"{op}: cannot write {path}: it is a folder")
    return folder


@contextlib.contextmanager
def atomic_write(path, op):
    """``with atomic_write("model.npz", "save") as handle: handle.write(...)``."""
    path = Path(path).expanduser()
    folder = check_writable(path, op)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private (0600); keep the old file's mode, or the usual 0644.
        os.chmod(temporary, stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder):
    """Make the rename itself durable (POSIX; Windows cannot open a folder)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

"""Compile a training step's backward kernels in a helper process while this process
compiles the forward pass's.

On an empty Numba cache a model's first training step is mostly compilation, one kernel
after another on one core (Numba compiles under a process-wide lock): ResNet18 spent 10 of
its 12 s there.  A forward kernel knows which backward kernel will follow it and with what
arguments, so its wrapper asks for that kernel ahead:

    _col2im.compile_ahead(cols, x, kh, kw, ...)     # arguments like the backward call's

One helper process compiles what is asked into the same cache, on the other core; when the
backward pass calls the kernel, Numba loads it from the cache in milliseconds.

Numba's cache index is one file per function that a compile reads, extends and rewrites
without a lock, so two processes must never compile the same function at once.  A kernel
the helper was asked for therefore waits, when it is called here, until the helper says it
is done (compiled, or failed: then it compiles here as before).  The helper starts only for
a kernel that is neither compiled here nor in the cache (a warm cache starts nothing), runs
at a lower priority, reads nothing but its parent's requests, and quits when its parent is
gone or after a minute with nothing to do.  ``TINYNN_COMPILE_AHEAD=0`` switches it off.
"""
import importlib
import os
import pickle
import select
import subprocess
import sys

import numba
from numba._dispatcher import compute_fingerprint

IDLE_SECONDS = 60


class AheadKernel:
    """A Numba kernel (``dispatcher``) that the helper can compile ahead; calling it calls
    the kernel, after the helper has finished with it."""

    def __init__(self, dispatcher):
        self.dispatcher = dispatcher
        self.seen = set()                # cheap keys of the arguments asked with (below)
        self.requested = set()           # their Numba types
        self.pending = set()             # requests the helper has not answered yet

    def __call__(self, *args):
        if self.pending:
            _HELPER.wait(self.pending)
        return self.dispatcher(*args)

    def compile_ahead(self, *arguments):
        """Have the helper compile this kernel for arguments of the types of ``arguments``
        (arrays and scalars like the later call's, or Numba types)."""
        if numba.config.DISABLE_JIT:
            return
        key = tuple(_key(a) for a in arguments)      # every forward call comes here: stay cheap
        if key in self.seen:
            return
        self.seen.add(key)
        types = tuple(a if isinstance(a, numba.types.Type) else numba.typeof(a) for a in arguments)
        self.requested.add(types)
        if types in self.dispatcher.overloads or _in_cache(self.dispatcher, types):
            return
        number = _HELPER.send(self, types)
        if number is not None:
            self.pending.add(number)


def _key(argument):
    """What decides ``argument``'s Numba type, as Numba's dispatcher finds it before each call
    (its type fingerprint, 0.1 µs; ``numba.typeof`` takes 5 µs an array, a third of a ReLU
    on 64k values); a Numba type stands for itself."""
    if isinstance(argument, numba.types.Type):
        return argument
    try:
        return compute_fingerprint(argument)
    except NotImplementedError:                  # no fingerprint for this kind of value
        return numba.typeof(argument)


def _in_cache(dispatcher, types):
    """Whether Numba's cache already holds ``dispatcher`` for ``types``; True where caching is
    off (then a helper has nothing to hand over).  Numba has no public query, so this reads
    the function's index file as ``Dispatcher.compile`` does; should a Numba release rename
    those internals, the answer is True and kernels compile here, as without a helper."""
    try:
        cache = dispatcher._cache
        return cache._index_key(types, dispatcher.targetctx.codegen()) in cache._cache_file._load_index()
    except AttributeError:                       # caching off (NullCache), or other internals
        return True


class _Helper:
    """The helper process, started on the first request, numbering requests as it gets them."""

    def __init__(self):
        self.process = None
        self.sent = 0
        self.answered = set()

    def send(self, kernel, types):
        """Queue one compilation; its number, or None when there is no helper to do it."""
        module = kernel.dispatcher.py_func.__module__
        name = next(n for n, value in vars(sys.modules[module]).items() if value is kernel)
        for _ in range(2):                       # a helper that quit when idle is started again
            if self.process is None and not self._start():
                return None
            self.sent += 1
            try:
                message = pickle.dumps((self.sent, module, name, types))
                self.process.stdin.write(len(message).to_bytes(4, "little") + message)
                self.process.stdin.flush()
                return self.sent
            except OSError:
                self._gone()
        return None

    def wait(self, pending):
        """Read answers until none of ``pending`` is outstanding (removing them from it)."""
        while pending - self.answered and self.process is not None:
            line = self.process.stdout.readline()
            if not line:
                self._gone()
                break
            self.answered.add(int(line))
        pending.clear()

    def _start(self):
        if os.environ.get("TINYNN_COMPILE_AHEAD", "1") == "0":
            return False
        command = [sys.executable, "-c", f"from tinynn.kernels.ahead import serve; serve({os.getpid()})"]
        try:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.DEVNULL)
        except OSError:
            return False
        return True

    def forget(self):
        """In a forked child: the helper and its pipes belong to the parent."""
        self.process = None
        self.answered.update(range(1, self.sent + 1))

    def _gone(self):
        """The helper quit: whatever it was asked and did not answer compiles here."""
        self.process.wait()
        self.forget()


_HELPER = _Helper()
os.register_at_fork(after_in_child=_HELPER.forget)


def serve(parent):
    """The helper's loop: compile each request into the cache and answer with its number."""
    os.nice(10)
    requests = sys.stdin.fileno()
    while os.getppid() == parent and select.select([requests], [], [], IDLE_SECONDS)[0]:
        header = _read(requests, 4)
        if len(header) < 4:                      # the parent closed its end
            return
        number, module, name, types = pickle.loads(_read(requests, int.from_bytes(header, "little")))
        try:
            getattr(importlib.import_module(module), name).dispatcher.compile(types)
        except Exception:                        # noqa: BLE001 — the parent compiles it itself
            pass
        print(number, flush=True)


def _read(fd, size):
    """``size`` bytes from the pipe ``fd``, fewer only at its end."""
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            break
        data += chunk
    return data

"""Compile a training step's backward kernels in a helper process while this process
compiles the forward pass's.

On an empty Numba cache a model's first training step is mostly compilation, one kernel
after another on one core (Numba compiles under a process-wide lock): ResNet18 spent 10 of
its 12 s there.  A forward kernel knows which backward kernel will follow it and with what
arguments, so its wrapper asks for that kernel ahead:

    _col2im.compile_ahead(cols, batch_in_columns, x, kh, kw, ...)   # like the backward call

One helper process compiles what is asked into the same cache, on the other core; when the
backward pass calls the kernel, Numba loads it from the cache in milliseconds.

Numba's cache index is one file per function that a compile reads, extends and rewrites
without a lock, so two processes must never compile the same function at once.  A kernel
the helper was asked for therefore takes its requests back when it is called here: the
helper gives up those it has not started, and this process waits only for the one being
compiled (compiled, or failed: then it compiles here as before).  The helper starts only for
a kernel that is neither compiled here nor in the cache (a warm cache starts nothing), runs
at a lower priority, reads nothing but its parent's requests, and quits when its parent is
gone or after a minute with nothing to do.  ``TINYNN_COMPILE_AHEAD=0`` switches it off.
"""
import collections
import importlib
import os
import pickle
import select
import subprocess
import sys
import threading

import numba
from numba._dispatcher import compute_fingerprint

IDLE_SECONDS = 60


class AheadKernel:
    """A Numba kernel (``dispatcher``) that the helper can compile ahead; calling it calls
    the kernel, after taking its requests back from the helper (``_Helper.wait``)."""

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

    def ready(self, *arguments):
        """Whether a call with ``arguments`` runs at once (compiled here or cached, or no helper
        to compile it); if not, the kernel is asked for ahead, and the caller, which has a
        readable equivalent, runs that instead of compiling here or waiting.  Once the kernel
        runs here, the answer is True at once (4 µs less a call, on 12 arguments): another
        signature then compiles here, as without a helper."""
        if self.dispatcher.overloads and not self.pending:
            return True
        self.compile_ahead(*arguments)
        if self.pending:
            _HELPER.poll()
            self.pending -= _HELPER.answered
        return not self.pending


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
            if self._write((self.sent, module, name, types)):
                return self.sent
        return None

    def _write(self, request):
        """Send one request (a negative number takes that one back); False if the helper is gone."""
        try:
            message = pickle.dumps(request)
            self.process.stdin.write(len(message).to_bytes(4, "little") + message)
            self.process.stdin.flush()
            return True
        except OSError:
            self._gone()
            return False

    def wait(self, pending):
        """Take ``pending`` back: the helper gives up those it has not started (answering with
        their numbers negated) and finishes the one it is compiling; this process compiles
        what was given up when it calls the kernel.  (Waiting for all of them left this
        process idle while the helper compiled requests queued before them: MobileNetV2's
        first step 9.4 → 8.7 s.)  Removes them all from ``pending``."""
        outstanding = pending - self.answered
        for number in outstanding:
            self._write((-number, None, None, None))
        while outstanding - self.answered and self.process is not None:
            self._read_answer()
        pending.clear()

    def poll(self):
        """Read the answers that have arrived, without waiting for more."""
        while self.process is not None and select.select([self.process.stdout], [], [], 0)[0]:
            self._read_answer()

    def finish(self):
        """Wait until the helper has answered every request sent."""
        while len(self.answered) < self.sent and self.process is not None:
            self._read_answer()

    def _read_answer(self):
        line = self.process.stdout.readline()
        if line:
            self.answered.add(abs(int(line)))
        else:
            self._gone()

    def _start(self):
        if os.environ.get("TINYNN_COMPILE_AHEAD", "1") == "0":
            return False
        command = [sys.executable, "-c", f"from tinynn.kernels.ahead import serve; serve({os.getpid()})"]
        try:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.DEVNULL, bufsize=0)
            # unbuffered, so that poll()'s select sees every answer not yet read (a request,
            # a few hundred bytes, is written whole: below the pipe's atomic size)
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


def finish():
    """Wait until the helper has compiled everything asked of it (``tinynn.warm_up``: the
    cache is complete when it returns)."""
    _HELPER.finish()


def serve(parent):
    """The helper's loop: compile each request into the cache and answer with its number.
    A thread reads the requests meanwhile, so that one taken back before it was started is
    answered (with its number negated) while another compiles."""
    os.nice(10)
    queue = _Queue()
    threading.Thread(target=_receive, args=(queue,), daemon=True).start()
    while os.getppid() == parent:
        request = queue.next(IDLE_SECONDS)
        if request is None:                      # idle for a minute, or the parent closed its end
            return
        number, module, name, types = request
        try:
            getattr(importlib.import_module(module), name).dispatcher.compile(types)
        except Exception:                        # noqa: BLE001 — the parent compiles it itself
            pass
        queue.answer(number)


class _Queue:
    """The helper's requests not started yet, shared by its reading and compiling threads."""

    def __init__(self):
        self.requests = collections.deque()
        self.closed = False
        self.changed = threading.Condition()

    def put(self, request):
        with self.changed:
            number = request[0]
            if number > 0:
                self.requests.append(request)
            elif any(queued[0] == -number for queued in self.requests):     # taken back
                self.requests = collections.deque(r for r in self.requests if r[0] != -number)
                self.answer(number)
            self.changed.notify()

    def close(self):
        with self.changed:
            self.closed = True
            self.changed.notify()

    def next(self, timeout):
        with self.changed:
            self.changed.wait_for(lambda: self.requests or self.closed, timeout)
            return self.requests.popleft() if self.requests else None

    def answer(self, number):
        with self.changed:
            print(number, flush=True)


def _receive(queue):
    requests = sys.stdin.fileno()
    while True:
        header = _read(requests, 4)
        if len(header) < 4:                      # the parent closed its end
            queue.close()
            return
        queue.put(pickle.loads(_read(requests, int.from_bytes(header, "little"))))


def _read(fd, size):
    """``size`` bytes from the pipe ``fd``, fewer only at its end."""
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            break
        data += chunk
    return data

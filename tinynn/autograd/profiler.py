"""Where a step spends its time, op by op: the wall time of every Function's forward and
backward, summed per op (PyTorch's ``torch.autograd.profiler.profile``, much reduced).

    with tinynn.autograd.profiler.profile() as prof:
        loss = loss_fn(model(x), y); loss.backward()
    print(prof.table())

Time between ops (Python, the optimiser, allocation) is what ``total`` has and the rows do
not: the table's last line says how much.
"""
import time
from collections import defaultdict

__all__ = ["profile"]

_active = []


class profile:  # noqa: N801  (PyTorch's name)
    def __init__(self):
        self.records = defaultdict(lambda: [0, 0.0])          # (op, pass) -> [calls, seconds]
        self.total = 0.0

    def __enter__(self):
        _active.append(self)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc_info):
        self.total += time.perf_counter() - self._start
        _active.remove(self)

    def rows(self):
        """[(op, pass, calls, seconds)], the most expensive first."""
        return sorted(((op, kind, calls, seconds) for (op, kind), (calls, seconds) in self.records.items()),
                      key=lambda row: -row[3])

    def table(self, row_limit=15):
        lines = [f"{'op':<28}{'pass':<10}{'calls':>7}{'ms':>10}{'share':>8}"]
        for op, kind, calls, seconds in self.rows()[:row_limit]:
            lines.append(f"{op:<28}{kind:<10}{calls:>7}{seconds * 1e3:>10.2f}{seconds / self.total:>8.0%}")
        in_ops = sum(seconds for _, _, _, seconds in self.rows())
        lines.append(f"{'outside ops':<45}{(self.total - in_ops) * 1e3:>10.2f}"
                     f"{(self.total - in_ops) / self.total:>8.0%}")
        return "\n".join(lines)


def timed(name, kind, function, *args, **kwargs):
    """``function(*args, **kwargs)``, its time added to every active profile under (name, kind)."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    seconds = time.perf_counter() - start
    for prof in _active:
        record = prof.records[(name, kind)]
        record[0] += 1
        record[1] += seconds
    return result

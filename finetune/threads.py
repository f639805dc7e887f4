"""The number of torch CPU threads: set for one block of work, or following the CPUs left free."""

from __future__ import annotations

import contextlib
import threading


@contextlib.contextmanager
def torch_threads(n: int):
    """Use ``n`` torch CPU threads inside the block (0 = leave torch's setting)."""
    import torch

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class CpuShare:
    """The CPUs that long work in a driver thread may use now: ``cpus`` less those kept ``busy``
    elsewhere (the engine's worker processes). The engine lowers ``busy`` as its last tasks
    finish; the work reads :meth:`threads` between its steps (:func:`current_cpu_share`)."""

    def __init__(self, cpus: int, busy: int = 0) -> None:
        self.cpus = cpus
        self.busy = busy

    def set_busy(self, n: int) -> None:
        self.busy = max(0, n)

    def threads(self) -> int:
        return max(1, self.cpus - self.busy)


_state = threading.local()


@contextlib.contextmanager
def following(share: CpuShare):
    """Inside the block, this thread's work follows ``share``: torch threads set to its count now,
    and long work reads :func:`current_cpu_share` between its steps (the encoder, before each
    batch, starts another encoding thread for each CPU that became free)."""
    import torch

    before = torch.get_num_threads()
    _state.share = share
    torch.set_num_threads(share.threads())
    try:
        yield
    finally:
        _state.share = None
        torch.set_num_threads(before)


def current_cpu_share() -> CpuShare | None:
    """This thread's :class:`CpuShare` inside :func:`following`, else None."""
    return getattr(_state, "share", None)

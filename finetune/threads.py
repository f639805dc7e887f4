"""The number of torch CPU threads, set for one block of work."""

from __future__ import annotations

import contextlib


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
